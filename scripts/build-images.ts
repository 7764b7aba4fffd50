// Builds the templates' local images from Debian packages (see main/sandbox/images.ts).
//
//   node --import tsx scripts/build-images.ts [--force] [--if-missing] [--template ID]...
//                                             [--cache-dir DIR] [--mirror URL]
//
// --if-missing  (what `scripts/setup.sh` uses) leaves a template alone when its official image or
//               an up-to-date local build is present, tries a short pull of the official image
//               when neither is, and builds only what is still missing.
// Env: MOAT_CACHE_DIR (default /var/cache/moat as root, ~/.cache/moat otherwise),
//      MOAT_DEBIAN_MIRROR (default: the Debian mirror in the machine's apt configuration).
import Dockerode from 'dockerode';
import { parseArgs } from 'node:util';
import { TEMPLATES, type TemplateDef } from '../main/sandbox/templates';
import { RECIPE_LABEL, buildLocalImages, ensureImage, recipeHash, resolveImage } from '../main/sandbox/images';

const log = (line: string) => console.log(`images: ${line}`);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      force: { type: 'boolean', default: false },
      'if-missing': { type: 'boolean', default: false },
      template: { type: 'string', multiple: true },
      'cache-dir': { type: 'string' },
      mirror: { type: 'string' },
    },
  });
  let templates: readonly TemplateDef[] = TEMPLATES;
  if (values.template?.length) {
    const unknown = values.template.filter((id) => !TEMPLATES.some((t) => t.id === id));
    if (unknown.length) throw new Error(`unknown template(s): ${unknown.join(', ')} (known: ${TEMPLATES.map((t) => t.id).join(', ')})`);
    templates = TEMPLATES.filter((t) => values.template!.includes(t.id));
  }

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
    if (!templates.length) return 0;
  }

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
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`images: error: ${err.message}`);
    process.exit(1);
  },
);
