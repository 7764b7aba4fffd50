// Building the templates' images from Debian packages (debootstrap into a folder, trimmed, then
// `docker import`), for machines that reach no container registry: `moat images build`.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as fsc, existsSync, readFileSync, statSync } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type Dockerode from 'dockerode';
import type { TemplateDef } from '../templates';
import { debianMirror } from './apt-sources';
import { DEBIAN_SUITE, MIRROR_ENV, RECIPE_LABEL, defaultCacheDir, importChanges, recipeHash, splitImageRef, uniqSorted } from './recipe';
import { errText, inspectOrNull } from './resolve';

const DEBOOTSTRAP_TIMEOUT_MS = 20 * 60_000;
const SBIN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

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
  // Templates that share an image (C and C++) build it once; templates without packages of their
  // own to install (a user's, naming an image of theirs) are not built.
  const seen = new Set<string>();
  const unique = templates.filter((t) => !t.user && !seen.has(t.localImage) && seen.add(t.localImage));
  for (const t of unique) {
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
  return unique.map((t) => results.find((r) => r.template === t.id)!).filter(Boolean);
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
