// Which image a sandbox uses for a template: the official one (pulled where a registry is
// reachable) or the local build, both looked up in the engine; nothing here keeps state.
import type Dockerode from 'dockerode';
import type { TemplateDef } from '../templates';
import type { ImageSource, ResolvedImage } from './recipe';

const PULL_TIMEOUT_MS = 20_000;

function statusCode(err: unknown): number | undefined {
  return (err as { statusCode?: number } | null)?.statusCode;
}

/** The image's inspect data, or null when the engine does not have it. Other errors propagate. */
export async function inspectOrNull(docker: Dockerode, name: string): Promise<Dockerode.ImageInspectInfo | null> {
  try {
    return await docker.getImage(name).inspect();
  } catch (err) {
    if (statusCode(err) === 404) return null;
    throw err;
  }
}

/**
 * The image a template's sandboxes use, from what the engine already has (no pulling). With
 * preferOfficial the official image wins when both are present; otherwise the local build does.
 */
export async function resolveImage(docker: Dockerode, template: TemplateDef, opts: { preferOfficial: boolean }): Promise<ResolvedImage> {
  const order: Array<[string, ImageSource]> = [
    [template.officialImage, 'official'],
    [template.localImage, 'local-build'],
  ];
  if (!opts.preferOfficial) order.reverse();
  for (const [image, source] of order) {
    if (await inspectOrNull(docker, image)) return { image, source };
  }
  return { image: null, source: 'missing' };
}

/**
 * Like resolveImage, but when nothing is present and `pull` is set, pulls the official image with
 * a short timeout. A failed pull throws an error that says how to build the local image instead.
 */
export async function ensureImage(
  docker: Dockerode,
  template: TemplateDef,
  opts: {
    preferOfficial: boolean;
    pull: boolean;
    log?: (line: string) => void;
    timeoutMs?: number;
  },
): Promise<ResolvedImage> {
  const found = await resolveImage(docker, template, opts);
  if (found.source !== 'missing' || !opts.pull) return found;
  const image = template.officialImage;
  const timeoutMs = opts.timeoutMs ?? PULL_TIMEOUT_MS;
  opts.log?.(`${template.id}: pulling ${image}…`);
  try {
    await pullWithTimeout(docker, image, timeoutMs);
  } catch (err) {
    throw new Error(
      `Could not pull ${image} for the "${template.id}" template: ${errText(err)}. ` +
        'If no container registry is reachable, build the local images from Debian packages with ' +
        '`moat images build` (needs root and debootstrap; `bash scripts/setup.sh` does it).',
    );
  }
  if (!(await inspectOrNull(docker, image))) throw new Error(`pull of ${image} reported success but the image is not present`);
  opts.log?.(`${template.id}: pulled ${image}`);
  return { image, source: 'official' };
}

async function pullWithTimeout(docker: Dockerode, image: string, timeoutMs: number): Promise<void> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ac.abort();
      reject(new Error(`no answer from the registry within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
  });
  const pull = (async () => {
    const stream = await docker.pull(image, { abortSignal: ac.signal });
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()));
    });
  })();
  pull.catch(() => {}); // after a timeout, the aborted pull's rejection is expected
  try {
    await Promise.race([pull, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function errText(err: unknown): string {
  const e = err as { json?: { message?: string }; message?: string } | null;
  const msg = e?.json?.message ?? e?.message ?? String(err);
  return msg.replace(/^\(HTTP code \d+\) [a-z ]+ - /, '').replace(/\s+$/, '');
}
