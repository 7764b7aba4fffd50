// Images for the templates: which one a sandbox uses (official registry image or a local build),
// pulling the official one when asked, and building the local ones from Debian packages with
// debootstrap for machines that reach no container registry (`moat images build`).
//
// Everything takes the dockerode client as a parameter; nothing here keeps state between calls.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants as fsc, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Dockerode from 'dockerode';
import type { TemplateDef } from './templates';

export type ImageSource = 'official' | 'local-build' | 'missing';
export interface ResolvedImage {
  image: string | null;
  source: ImageSource;
}

/** Debian release the local images are built from. */
export const DEBIAN_SUITE = 'bookworm';
/** Bump when the build steps below change in a way that changes the image. */
export const RECIPE_VERSION = 1;
/** Image label holding the recipe hash; a build is skipped when it matches. */
export const RECIPE_LABEL = 'moat.image.recipe';
/** Env var that overrides the Debian mirror read from the apt configuration. */
export const MIRROR_ENV = 'MOAT_DEBIAN_MIRROR';

/** Image config set on import (same shape as the official images, plus the sandbox user). */
export const IMAGE_CHANGES: readonly string[] = [
  'WORKDIR /work',
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'ENV PYTHONDONTWRITEBYTECODE=1',
  'ENV HOME=/work',
  'ENV LANG=C.UTF-8',
  'USER 65534:65534',
  'CMD ["/bin/sh"]',
];

const PULL_TIMEOUT_MS = 20_000;
const DEBOOTSTRAP_TIMEOUT_MS = 20 * 60_000;
const SBIN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// ---------------------------------------------------------------------------------------------
// Pure helpers

function uniqSorted(xs: readonly string[]): string[] {
  return [...new Set(xs.map((x) => x.trim()).filter(Boolean))].sort();
}

/** sha256 of everything that decides a local image's content: suite, packages, build steps. */
export function recipeHash(template: Pick<TemplateDef, 'debianPackages'>, suite: string = DEBIAN_SUITE): string {
  const recipe = {
    v: RECIPE_VERSION,
    suite,
    variant: 'minbase',
    packages: uniqSorted(template.debianPackages),
    changes: IMAGE_CHANGES,
  };
  return createHash('sha256').update(JSON.stringify(recipe)).digest('hex');
}

/** The `changes` given to the import: the image config plus the recipe label. */
export function importChanges(recipe: string): string[] {
  return [...IMAGE_CHANGES, `LABEL ${RECIPE_LABEL}=${recipe}`];
}

/** "repo/name:tag" → { repo, tag } (a ":" in a registry host:port is not a tag). */
export function splitImageRef(ref: string): { repo: string; tag: string } {
  const at = ref.lastIndexOf(':');
  if (at > ref.lastIndexOf('/')) return { repo: ref.slice(0, at), tag: ref.slice(at + 1) };
  return { repo: ref, tag: 'latest' };
}

export interface AptSource {
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
  signedBy?: string;
  enabled: boolean;
}

/** Parses a deb822 `.sources` file. */
export function parseDeb822Sources(text: string): AptSource[] {
  const out: AptSource[] = [];
  const stanzas = text.split(/\n[ \t]*\n/);
  for (const stanza of stanzas) {
    const fields = new Map<string, string>();
    let last: string | null = null;
    for (const raw of stanza.split('\n')) {
      if (/^\s*#/.test(raw) || raw.trim() === '') continue;
      if (/^[ \t]/.test(raw) && last) {
        fields.set(last, `${fields.get(last) ?? ''}\n${raw.trim()}`);
        continue;
      }
      const m = /^([A-Za-z0-9-]+)\s*:\s*(.*)$/.exec(raw);
      if (!m) continue;
      last = m[1]!.toLowerCase();
      fields.set(last, m[2]!.trim());
    }
    const words = (k: string) => (fields.get(k) ?? '').split(/\s+/).filter(Boolean);
    if (!fields.has('uris')) continue;
    const enabled = !/^(no|false|0)$/i.test(fields.get('enabled') ?? 'yes');
    out.push({
      types: words('types'),
      uris: words('uris'),
      suites: words('suites'),
      components: words('components'),
      signedBy: fields.get('signed-by'),
      enabled,
    });
  }
  return out;
}

/** Parses a one-line-format `sources.list`. */
export function parseOneLineSources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    let rest = line;
    const typeM = /^(deb|deb-src)\s+/.exec(rest);
    if (!typeM) continue;
    rest = rest.slice(typeM[0].length);
    let signedBy: string | undefined;
    const optM = /^\[([^\]]*)\]\s*/.exec(rest);
    if (optM) {
      rest = rest.slice(optM[0].length);
      const sb = /(?:^|\s)signed-by=(\S+)/.exec(optM[1]!);
      if (sb) signedBy = sb[1];
    }
    const [uri, suite, ...components] = rest.split(/\s+/);
    if (!uri || !suite) continue;
    out.push({
      types: [typeM[1]!],
      uris: [uri],
      suites: [suite],
      components,
      signedBy,
      enabled: true,
    });
  }
  return out;
}

/**
 * The Debian mirror for `suite` in the apt configuration: the URI of a `deb` entry for exactly that
 * suite with the `main` component. When several match (third-party repositories sometimes reuse
 * the suite name), a URI whose path ends in /debian signed by the Debian archive keyring wins.
 */
export function mirrorFromAptSources(files: ReadonlyArray<{ name: string; text: string }>, suite: string = DEBIAN_SUITE): string | null {
  let best: { uri: string; score: number } | null = null;
  for (const f of files) {
    const entries = f.name.endsWith('.sources') ? parseDeb822Sources(f.text) : parseOneLineSources(f.text);
    for (const e of entries) {
      if (!e.enabled || !e.types.includes('deb') || !e.suites.includes(suite) || !e.components.includes('main')) continue;
      for (const uri of e.uris) {
        if (!/^(https?|ftp|file):/i.test(uri)) continue; // mirror+file:, cdrom:, tor+… are not for debootstrap
        let score = 0;
        if (/\/debian\/?$/.test(uri)) score += 2;
        if (!e.signedBy || /debian-archive/.test(e.signedBy)) score += 1;
        if (!best || score > best.score) best = { uri: uri.replace(/\/+$/, ''), score };
      }
    }
  }
  return best?.uri ?? null;
}

/** Reads /etc/apt/sources.list and sources.list.d/*.{list,sources} (in apt's order). */
export function readAptSourceFiles(aptDir = '/etc/apt'): Array<{ name: string; text: string }> {
  const files: string[] = [];
  const main = path.join(aptDir, 'sources.list');
  if (existsSync(main)) files.push(main);
  const dDir = path.join(aptDir, 'sources.list.d');
  try {
    for (const n of readdirSync(dDir).sort()) if (/\.(list|sources)$/.test(n)) files.push(path.join(dDir, n));
  } catch {
    /* no sources.list.d */
  }
  const out: Array<{ name: string; text: string }> = [];
  for (const f of files) {
    try {
      out.push({ name: f, text: readFileSync(f, 'utf8') });
    } catch {
      /* unreadable: skip */
    }
  }
  return out;
}

/** The mirror to debootstrap from: explicit value, then $MOAT_DEBIAN_MIRROR, then the apt config. */
export function debianMirror(
  opts: {
    mirror?: string;
    env?: NodeJS.ProcessEnv;
    aptDir?: string;
    suite?: string;
  } = {},
): string {
  const suite = opts.suite ?? DEBIAN_SUITE;
  const explicit = opts.mirror?.trim() || (opts.env ?? process.env)[MIRROR_ENV]?.trim();
  if (explicit) return explicit.replace(/\/+$/, '');
  const found = mirrorFromAptSources(readAptSourceFiles(opts.aptDir), suite);
  if (found) return found;
  throw new Error(
    `No Debian mirror for "${suite}" found in the apt configuration (${opts.aptDir ?? '/etc/apt'}/sources.list{,.d}). ` +
      `Set ${MIRROR_ENV} to a Debian mirror URL (the one apt uses on a Debian machine).`,
  );
}

/** /var/cache/moat for root, else $XDG_CACHE_HOME/moat or ~/.cache/moat. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (process.getuid?.() === 0) return '/var/cache/moat';
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'moat');
}

// ---------------------------------------------------------------------------------------------
// Resolving and pulling

function statusCode(err: unknown): number | undefined {
  return (err as { statusCode?: number } | null)?.statusCode;
}

/** The image's inspect data, or null when the engine does not have it. Other errors propagate. */
async function inspectOrNull(docker: Dockerode, name: string): Promise<Dockerode.ImageInspectInfo | null> {
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

function errText(err: unknown): string {
  const e = err as { json?: { message?: string }; message?: string } | null;
  const msg = e?.json?.message ?? e?.message ?? String(err);
  return msg.replace(/^\(HTTP code \d+\) [a-z ]+ - /, '').replace(/\s+$/, '');
}

// ---------------------------------------------------------------------------------------------
// Building local images

export interface BuildResult {
  template: string;
  image: string;
  status: 'built' | 'skipped';
  recipe: string;
  imageId: string;
  sizeBytes?: number;
  durationMs: number;
}

export interface BuildOptions {
  /** Where downloaded .debs (debs/) and build dirs (tmp/) live; default defaultCacheDir(). */
  cacheDir?: string;
  /** Debian mirror URL; default $MOAT_DEBIAN_MIRROR, then the machine's apt configuration. */
  mirror?: string;
  /** Rebuild even when an image with the same recipe exists. */
  force?: boolean;
  log: (line: string) => void;
  /** Stops a build in progress (its temp dir is still removed). */
  signal?: AbortSignal;
}

/**
 * Builds each template's local image: debootstrap (minbase + the template's packages) into a temp
 * dir, trim it, and import it with the image config and a recipe label. A template whose image
 * already carries the same recipe is skipped, so a second run only inspects. Throws on the first
 * failure, with what to do; images built before it stay.
 */
export async function buildLocalImages(docker: Dockerode, templates: readonly TemplateDef[], opts: BuildOptions): Promise<BuildResult[]> {
  const results: BuildResult[] = [];
  const todo: Array<{ t: TemplateDef; recipe: string; oldId?: string }> = [];
  for (const t of templates) {
    const t0 = Date.now();
    const recipe = recipeHash(t);
    const cur = await inspectOrNull(docker, t.localImage);
    if (cur && !opts.force && cur.Config?.Labels?.[RECIPE_LABEL] === recipe) {
      results.push({
        template: t.id,
        image: t.localImage,
        status: 'skipped',
        recipe,
        imageId: cur.Id,
        sizeBytes: cur.Size,
        durationMs: Date.now() - t0,
      });
      opts.log(`${t.id}: ${t.localImage} is up to date`);
    } else {
      todo.push({ t, recipe, oldId: cur?.Id });
    }
  }
  if (todo.length === 0) return results;

  const tools = await buildPreconditions();
  const mirror = debianMirror({ mirror: opts.mirror });
  const cacheDir = path.resolve(opts.cacheDir ?? defaultCacheDir());
  const debs = path.join(cacheDir, 'debs');
  const tmpRoot = path.join(cacheDir, 'tmp');
  await fsp.mkdir(debs, { recursive: true });
  await fsp.mkdir(tmpRoot, { recursive: true });

  const release = await takeLock(path.join(cacheDir, 'build.lock'));
  try {
    await sweepStale(tmpRoot, opts.log); // we hold the lock: anything left there is from a dead build
    for (const job of todo) {
      opts.signal?.throwIfAborted();
      results.push(
        await buildOne(docker, job.t, job.recipe, job.oldId, {
          ...opts,
          mirror,
          debs,
          tmpRoot,
          tools,
        }),
      );
    }
  } finally {
    await release();
  }
  // Keep the caller's template order.
  return templates.map((t) => results.find((r) => r.template === t.id)!).filter(Boolean);
}

interface Tools {
  debootstrap: string;
  keyring?: string;
}

async function buildPreconditions(): Promise<Tools> {
  const debootstrap = findExecutable('debootstrap');
  if (!debootstrap) {
    throw new Error(
      'Building local images needs debootstrap, which is not installed. On Debian/Ubuntu: ' +
        '`sudo apt-get install debootstrap` (or run `sudo bash scripts/setup.sh`).',
    );
  }
  if (process.getuid?.() !== 0) {
    throw new Error(
      'Building local images needs root (debootstrap creates device nodes and chroots). Run it as root: ' +
        '`sudo moat images build` (or `sudo bash scripts/setup.sh`), or pull the official images where a registry is reachable.',
    );
  }
  if (!findExecutable('tar')) throw new Error('Building local images needs `tar` (GNU tar), which is not on the PATH.');
  const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
  return { debootstrap, keyring: existsSync(keyring) ? keyring : undefined };
}

function findExecutable(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':'), ...SBIN_PATH.split(':')].filter(Boolean);
  for (const d of dirs) {
    const p = path.join(d, name);
    try {
      const st = statSync(p);
      if (st.isFile() && st.mode & 0o111) return p;
    } catch {
      /* not here */
    }
  }
  return null;
}

async function buildOne(
  docker: Dockerode,
  t: TemplateDef,
  recipe: string,
  oldId: string | undefined,
  o: BuildOptions & {
    mirror: string;
    debs: string;
    tmpRoot: string;
    tools: Tools;
  },
): Promise<BuildResult> {
  const t0 = Date.now();
  const packages = uniqSorted(t.debianPackages);
  const dir = await fsp.mkdtemp(path.join(o.tmpRoot, `build-${process.pid}-`));
  const rootfs = path.join(dir, 'rootfs');
  try {
    o.log(`${t.id}: debootstrap ${DEBIAN_SUITE} minbase${packages.length ? ` + ${packages.join(' ')}` : ''} from ${o.mirror}`);
    const args = ['--variant=minbase', `--cache-dir=${o.debs}`];
    if (packages.length) args.push(`--include=${packages.join(',')}`);
    if (o.tools.keyring) args.push(`--keyring=${o.tools.keyring}`);
    args.push(DEBIAN_SUITE, rootfs, o.mirror);
    await run(o.tools.debootstrap, args, {
      what: 'debootstrap',
      signal: o.signal,
      timeoutMs: DEBOOTSTRAP_TIMEOUT_MS,
      log: path.join(dir, 'debootstrap.log'),
    }).catch((err: Error) => {
      throw new Error(`${t.id}: debootstrap failed (mirror ${o.mirror}; set ${MIRROR_ENV} to use another): ${err.message}`);
    });
    o.log(`${t.id}: debootstrap done in ${secs(Date.now() - t0)}; importing`);
    await trimRootfs(rootfs);
    const imageId = await importRootfs(docker, rootfs, recipe, o.signal);
    const { repo, tag } = splitImageRef(t.localImage);
    await docker.getImage(imageId).tag({ repo, tag });
    if (oldId && oldId !== imageId) {
      // The previous build, now untagged; still in use (a warm sandbox) or tagged elsewhere → keep.
      await docker
        .getImage(oldId)
        .remove({ noprune: false })
        .catch(() => {});
    }
    const info = await inspectOrNull(docker, t.localImage);
    if (info?.Config?.Labels?.[RECIPE_LABEL] !== recipe) throw new Error(`${t.id}: imported image lacks the recipe label`);
    const durationMs = Date.now() - t0;
    o.log(`${t.id}: built ${t.localImage} (${mb(info.Size)}) in ${secs(durationMs)}`);
    return {
      template: t.id,
      image: t.localImage,
      status: 'built',
      recipe,
      imageId,
      sizeBytes: info.Size,
      durationMs,
    };
  } finally {
    await removeBuildDir(dir);
  }
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mb = (b: number | undefined) => `${Math.round((b ?? 0) / 1e6)} MB`;

/** Shrinks the tree: package caches, apt lists, docs, man pages, logs. Makes /work and /tmp 1777. */
async function trimRootfs(rootfs: string): Promise<void> {
  const emptyDirs = [
    'var/cache/apt/archives',
    'var/lib/apt/lists',
    'usr/share/doc',
    'usr/share/man',
    'usr/share/info',
    'usr/share/lintian',
    'usr/share/locale',
    'var/log',
    'tmp',
    'var/tmp',
  ];
  const keep = new Set(['lock', 'partial', 'locale.alias']);
  for (const rel of emptyDirs) {
    const d = await realDirInside(rootfs, rel);
    if (!d) continue;
    for (const name of await fsp.readdir(d)) {
      if (keep.has(name)) continue;
      await fsp.rm(path.join(d, name), { recursive: true, force: true });
    }
  }
  const aptCache = await realDirInside(rootfs, 'var/cache/apt');
  if (aptCache) {
    for (const name of await fsp.readdir(aptCache)) if (name.endsWith('.bin')) await fsp.rm(path.join(aptCache, name), { force: true });
  }
  const debconf = await realDirInside(rootfs, 'var/cache/debconf');
  if (debconf) {
    for (const name of await fsp.readdir(debconf)) if (name.endsWith('-old')) await fsp.rm(path.join(debconf, name), { force: true });
  }
  for (const rel of ['work', 'tmp', 'var/tmp']) {
    const p = path.join(rootfs, rel);
    await fsp.mkdir(p, { recursive: true });
    await fsp.chmod(p, 0o1777);
  }
}

/** `rootfs/rel` when every component is a real directory (never follow a link out of the tree). */
async function realDirInside(rootfs: string, rel: string): Promise<string | null> {
  let cur = rootfs;
  for (const part of rel.split('/')) {
    cur = path.join(cur, part);
    const st = await fsp.lstat(cur).catch(() => null);
    if (!st || !st.isDirectory()) return null;
  }
  return cur;
}

/** Streams `tar` of the tree into the engine's import; returns the new image id. */
async function importRootfs(docker: Dockerode, rootfs: string, recipe: string, signal?: AbortSignal): Promise<string> {
  const tar = spawn(
    'tar',
    ['--numeric-owner', '--exclude=./proc/*', '--exclude=./sys/*', '--exclude=./dev/*', '-C', rootfs, '-cf', '-', '.'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } },
  );
  let tarErr = '';
  tar.stderr!.on('data', (d: Buffer) => {
    if (tarErr.length < 4000) tarErr += d.toString();
  });
  const tarDone = exitOf(tar);
  const onAbort = () => tar.kill('SIGKILL');
  signal?.addEventListener('abort', onAbort, { once: true });
  let imageId: string | null = null;
  try {
    const res = await docker.importImage(tar.stdout!, {
      changes: importChanges(recipe),
      message: `moat images build (recipe ${recipe.slice(0, 12)})`,
      abortSignal: signal,
    });
    imageId = await readImportResult(res);
    const code = await tarDone;
    if (code !== 0) throw new Error(`tar exited with ${code}: ${tarErr.trim().split('\n').slice(-3).join(' / ')}`);
    return imageId;
  } catch (err) {
    tar.kill('SIGKILL');
    if (imageId)
      await docker
        .getImage(imageId)
        .remove()
        .catch(() => {});
    throw new Error(`docker import failed: ${errText(err)}`);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await tarDone.catch(() => {});
  }
}

/** The import endpoint answers with JSON lines: {"status":"sha256:…"} or {"error": …}. */
async function readImportResult(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream as AsyncIterable<Buffer | string>) text += chunk.toString();
  let id: string | null = null;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let obj: {
      status?: string;
      error?: string;
      errorDetail?: { message?: string };
    };
    try {
      obj = JSON.parse(line);
    } catch {
      continue;
    }
    if (obj.error || obj.errorDetail) throw new Error(obj.errorDetail?.message ?? obj.error);
    if (obj.status && /^sha256:[0-9a-f]{64}$/.test(obj.status.trim())) id = obj.status.trim();
  }
  if (!id) throw new Error(`unexpected answer from the engine: ${text.slice(0, 300)}`);
  return id;
}

function exitOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, sig) => resolve(code ?? (sig ? 128 : 1)));
  });
}

/**
 * Runs a command in its own process group, output to a log file (the last lines go in the error).
 * On abort or timeout the whole group is killed and we wait for it to be gone.
 */
async function run(cmd: string, args: string[], o: { what: string; signal?: AbortSignal; timeoutMs: number; log: string }): Promise<void> {
  o.signal?.throwIfAborted();
  const fh = await fsp.open(o.log, fsc.O_CREAT | fsc.O_WRONLY | fsc.O_TRUNC, 0o600);
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, {
      detached: true,
      stdio: ['ignore', fh.fd, fh.fd],
      env: {
        ...process.env,
        PATH: `${process.env.PATH ?? ''}:${SBIN_PATH}`,
        LC_ALL: 'C',
        DEBIAN_FRONTEND: 'noninteractive',
      },
    });
  } finally {
    await fh.close();
  }
  let why: string | null = null;
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  const stop = (reason: string) => {
    why ??= reason;
    killGroup();
  };
  const onAbort = () => stop('aborted');
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => stop(`timed out after ${Math.round(o.timeoutMs / 60000)} min`), o.timeoutMs);
  try {
    const code = await exitOf(child);
    killGroup(); // the leader is gone; no straggler of it may keep writing into the build dir
    if (why) throw new Error(`${o.what} ${why}`);
    if (code !== 0) {
      const tail = (await fsp.readFile(o.log, 'utf8').catch(() => '')).trim().split('\n').slice(-8).join('\n  ');
      throw new Error(`${o.what} exited with ${code}:\n  ${tail}`);
    }
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
  }
}

/** Unmounts anything debootstrap left mounted inside `dir`, then removes it. */
async function removeBuildDir(dir: string): Promise<void> {
  const mounts = mountsUnder(dir);
  for (const m of mounts.sort((a, b) => b.length - a.length)) {
    await new Promise<void>((resolve) => {
      const c = spawn('umount', ['-l', m], { stdio: 'ignore' });
      c.once('error', () => resolve());
      c.once('close', () => resolve());
    });
  }
  if (mountsUnder(dir).length) {
    throw new Error(`build dir ${dir} still has mounts inside; not removing it (unmount them and delete it by hand)`);
  }
  await fsp.rm(dir, { recursive: true, force: true });
}

function mountsUnder(dir: string): string[] {
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return text
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m)
    .map((m) => m.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === dir || m.startsWith(prefix));
}

async function sweepStale(tmpRoot: string, log: (l: string) => void): Promise<void> {
  for (const name of await fsp.readdir(tmpRoot).catch(() => [] as string[])) {
    if (!name.startsWith('build-')) continue;
    log(`removing a stale build dir from an interrupted build: ${name}`);
    await removeBuildDir(path.join(tmpRoot, name)).catch((e: Error) => log(e.message));
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A pid lock file; a lock left by a dead process is taken over. */
async function takeLock(file: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await fsp.open(file, 'wx', 0o644);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return async () => {
        await fsp.rm(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await fsp.readFile(file, 'utf8').catch(() => '')).trim());
      if (pid > 0 && pid !== process.pid && pidAlive(pid)) {
        throw new Error(`Another image build is running (pid ${pid}, lock ${file}); wait for it to finish.`);
      }
      await fsp.rm(file, { force: true });
    }
  }
  throw new Error(`could not take the build lock ${file}`);
}
