// Builds the templates' local images from Debian packages (see main/sandbox/images.ts).
//
//   node --import tsx scripts/build-images.ts [--force] [--if-missing] [--template ID]...
//                                             [--cache-dir DIR] [--mirror URL] [--quiet] [--smoke]
//
// --if-missing  (what `scripts/setup.sh` uses) leaves a template alone when its official image or
//               an up-to-date local build is present, tries a short pull of the official image
//               when neither is, and builds only what is still missing.
// --quiet       no line for templates that are already up to date.
// --smoke       then starts one sandbox under runsc (`sh -c 'echo …'`, network none, the sandbox
//               user) to check that gVisor works on this machine; fails when it does not.
// Env: MOAT_CACHE_DIR (default /var/cache/moat as root, ~/.cache/moat otherwise),
//      MOAT_DEBIAN_MIRROR (default: the Debian mirror in the machine's apt configuration).
import Dockerode from 'dockerode';
import { parseArgs } from 'node:util';
import { TEMPLATES, type TemplateDef } from '../main/sandbox/templates';
import { RECIPE_LABEL, buildLocalImages, ensureImage, recipeHash, resolveImage } from '../main/sandbox/images';

let quiet = false;
const log = (line: string) => {
  if (quiet && line.endsWith(' is up to date')) return;
  console.log(`images: ${line}`);
};

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      force: { type: 'boolean', default: false },
      'if-missing': { type: 'boolean', default: false },
      template: { type: 'string', multiple: true },
      'cache-dir': { type: 'string' },
      mirror: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
    },
  });
  quiet = values.quiet;
  let templates: readonly TemplateDef[] = TEMPLATES;
  if (values.template?.length) {
    const unknown = values.template.filter((id) => !TEMPLATES.some((t) => t.id === id));
    if (unknown.length) throw new Error(`unknown template(s): ${unknown.join(', ')} (known: ${TEMPLATES.map((t) => t.id).join(', ')})`);
    templates = TEMPLATES.filter((t) => values.template!.includes(t.id));
  }
  const selected = templates;

  const docker = new Dockerode();
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(
      `the Docker engine is not reachable (${(err as Error).message}); start it with \`bash scripts/dockerd.sh start\` (as root)`,
    );
  }

  if (values['if-missing'] && !values.force) {
    const toBuild: TemplateDef[] = [];
    for (const t of templates) {
      const found = await resolveImage(docker, t, { preferOfficial: true });
      if (found.source === 'official') continue;
      if (found.source === 'local-build') {
        const info = await docker.getImage(t.localImage).inspect();
        if (info.Config?.Labels?.[RECIPE_LABEL] !== recipeHash(t)) toBuild.push(t); // stale recipe
        continue;
      }
      try {
        await ensureImage(docker, t, { preferOfficial: true, pull: true, log });
      } catch (err) {
        log(`${t.id}: ${(err as Error).message.split('. ')[0]}; building ${t.localImage} instead`);
        toBuild.push(t);
      }
    }
    templates = toBuild;
  }
  if (templates.length) await build(docker, templates, values);
  if (values.smoke) return smoke(docker, selected);
  return 0;
}

async function build(
  docker: Dockerode,
  templates: readonly TemplateDef[],
  values: { force?: boolean; 'cache-dir'?: string; mirror?: string },
): Promise<void> {
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) process.exit(130);
    log(`${sig}: stopping the build and cleaning up (again to quit at once)`);
    ac.abort(new Error(`interrupted by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const t0 = Date.now();
  const results = await buildLocalImages(docker, templates, {
    cacheDir: values['cache-dir'] ?? process.env.MOAT_CACHE_DIR ?? undefined,
    mirror: values.mirror,
    force: values.force,
    log,
    signal: ac.signal,
  });
  const built = results.filter((r) => r.status === 'built');
  if (built.length) log(`built ${built.map((r) => r.image).join(', ')} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

/** Starts one throwaway sandbox under runsc: 0 when it prints what it should. */
async function smoke(docker: Dockerode, templates: readonly TemplateDef[]): Promise<number> {
  const info = await docker.info();
  if (!Object.keys(info.Runtimes ?? {}).includes('runsc')) {
    console.error(
      'images: warning: the Docker engine has no runsc runtime, so sandboxes cannot run under gVisor (run `bash scripts/setup.sh` as root)',
    );
    return 0;
  }
  let image: string | null = null;
  for (const t of templates) {
    image = (await resolveImage(docker, t, { preferOfficial: true })).image;
    if (image) break;
  }
  if (!image) return 0; // nothing to try it with; the build step already said why
  const c = await docker.createContainer({
    Image: image,
    Entrypoint: ['sh'],
    Cmd: ['-c', 'echo sandbox-ok'],
    User: '65534:65534',
    Labels: { 'moat.setup-smoke': '1' },
    HostConfig: { Runtime: 'runsc', NetworkMode: 'none' },
  });
  try {
    await c.start();
    const res = (await Promise.race([
      c.wait(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no exit within 60 s')), 60_000).unref()),
    ])) as { StatusCode: number };
    const stream = await c.logs({ stdout: true, stderr: true, follow: true });
    let raw = Buffer.alloc(0);
    for await (const chunk of stream as AsyncIterable<Buffer>) raw = Buffer.concat([raw, chunk]);
    const out = demux(raw).trim();
    if (res.StatusCode !== 0 || out !== 'sandbox-ok') {
      throw new Error(`exit ${res.StatusCode}, output: ${out || '(none)'}`);
    }
    return 0;
  } catch (err) {
    console.error(`images: error: a gVisor sandbox does not work here (docker run --runtime=runsc ${image}): ${(err as Error).message}`);
    return 1;
  } finally {
    await c.remove({ force: true }).catch(() => {});
  }
}

/** Docker's multiplexed log stream (8-byte frame headers) → text. */
function demux(buf: Buffer): string {
  let out = '';
  let i = 0;
  while (i + 8 <= buf.length) {
    const len = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + len).toString('utf8');
    i += 8 + len;
  }
  return out;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`images: error: ${err.message}`);
    process.exit(1);
  },
);
