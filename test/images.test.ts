// Images: mirror detection and recipe hashing (pure), and the local build against the real engine
// (skipped locally, with the reason, when no Docker engine answers; under CI that fails).
//   node --import tsx --test test/images.test.ts
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Dockerode from 'dockerode';
import {
  IMAGE_CHANGES,
  MIRROR_ENV,
  RECIPE_LABEL,
  buildLocalImages,
  debianMirror,
  ensureImage,
  importChanges,
  mirrorFromAptSources,
  parseDeb822Sources,
  parseOneLineSources,
  recipeHash,
  resolveImage,
  splitImageRef,
  type BuildResult,
} from '../main/sandbox/images';
import { TEMPLATES, type TemplateDef } from '../main/sandbox/templates';
import { skipUnlessReady } from './helpers/engine';

// Made-up hosts only: real mirror names come from the machine's apt configuration at run time.
const DEB822 = `Types: deb
# a comment
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

describe('apt sources parsing', () => {
  test('deb822: the entry whose Suites include the release', () => {
    assert.equal(mirrorFromAptSources([{ name: 'debian.sources', text: DEB822 }], 'bookworm'), 'http://mirror.example/debian');
    assert.equal(
      mirrorFromAptSources([{ name: 'debian.sources', text: DEB822 }], 'bookworm-security'),
      'http://mirror.example/debian-security',
    );
    assert.equal(mirrorFromAptSources([{ name: 'debian.sources', text: DEB822 }], 'trixie'), null);
  });

  test('deb822: disabled, deb-src-only and folded fields', () => {
    const text = `Types: deb
URIs: http://off.example/debian
Suites: bookworm
Components: main
Enabled: no

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm
Components: main

Types: deb
URIs:
 http://folded.example/debian/
Suites: bookworm
Components: main contrib
`;
    const entries = parseDeb822Sources(text);
    assert.equal(entries.length, 3);
    assert.equal(entries[0]!.enabled, false);
    assert.equal(mirrorFromAptSources([{ name: 'x.sources', text }], 'bookworm'), 'http://folded.example/debian');
  });

  test('one-line format, with options and comments', () => {
    const text = `# deb http://commented.example/debian bookworm main
deb-src http://src.example/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://one.example/debian/ bookworm main non-free-firmware
deb http://one.example/debian-security bookworm-security main
`;
    const entries = parseOneLineSources(text);
    assert.equal(entries.length, 3);
    assert.deepEqual(entries[1]!.components, ['main', 'non-free-firmware']);
    assert.equal(mirrorFromAptSources([{ name: 'sources.list', text }], 'bookworm'), 'http://one.example/debian');
  });

  test('a third-party repository reusing the suite name loses to the Debian archive', () => {
    const thirdParty = 'deb [signed-by=/usr/share/keyrings/vendor.gpg] https://vendor.example/apt bookworm main\n';
    const debian = 'deb http://mirror.example/debian bookworm main\n';
    const files = [
      { name: '/etc/apt/sources.list.d/a-vendor.list', text: thirdParty },
      { name: '/etc/apt/sources.list.d/b-debian.list', text: debian },
    ];
    assert.equal(mirrorFromAptSources(files, 'bookworm'), 'http://mirror.example/debian');
    // Alone, it is still better than nothing; a non-"main" repository never qualifies.
    assert.equal(mirrorFromAptSources([files[0]!], 'bookworm'), 'https://vendor.example/apt');
    assert.equal(
      mirrorFromAptSources(
        [
          {
            name: 'd.list',
            text: 'deb https://d.example/linux/debian bookworm stable\n',
          },
        ],
        'bookworm',
      ),
      null,
    );
    // Transports debootstrap cannot use are skipped.
    assert.equal(
      mirrorFromAptSources(
        [
          {
            name: 'm.list',
            text: 'deb mirror+file:/etc/apt/mirrors.txt bookworm main\n',
          },
        ],
        'bookworm',
      ),
      null,
    );
  });

  test('debianMirror: explicit option, then env override, then apt config files, else a clear error', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'moat-apt-'));
    try {
      mkdirSync(path.join(dir, 'sources.list.d'));
      writeFileSync(path.join(dir, 'sources.list.d', 'debian.sources'), DEB822);
      writeFileSync(path.join(dir, 'sources.list.d', 'ignored.list.disabled'), 'deb http://no.example/debian bookworm main\n');
      assert.equal(debianMirror({ aptDir: dir, env: {} }), 'http://mirror.example/debian');
      assert.equal(
        debianMirror({
          aptDir: dir,
          env: { [MIRROR_ENV]: 'http://override.example/debian/' },
        }),
        'http://override.example/debian',
      );
      assert.equal(
        debianMirror({
          aptDir: dir,
          env: { [MIRROR_ENV]: 'http://env.example/debian' },
          mirror: 'http://opt.example/debian',
        }),
        'http://opt.example/debian',
      );

      writeFileSync(path.join(dir, 'sources.list'), 'deb http://first.example/debian bookworm main\n');
      assert.equal(debianMirror({ aptDir: dir, env: {} }), 'http://first.example/debian', 'sources.list is read first');

      const empty = mkdtempSync(path.join(os.tmpdir(), 'moat-apt-empty-'));
      try {
        assert.throws(() => debianMirror({ aptDir: empty, env: {} }), new RegExp(MIRROR_ENV));
      } finally {
        rmSync(empty, { recursive: true, force: true });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** One template per local image (C and C++ share one): what a build builds, in template order. */
const BUILDS = TEMPLATES.filter((t, i) => TEMPLATES.findIndex((u) => u.localImage === t.localImage) === i);

describe('recipe', () => {
  test('hash is stable and ignores package order and duplicates', () => {
    const a = recipeHash({ debianPackages: ['python3', 'curl'] });
    assert.match(a, /^[0-9a-f]{64}$/);
    assert.equal(recipeHash({ debianPackages: ['python3', 'curl'] }), a);
    assert.equal(recipeHash({ debianPackages: ['curl', 'python3', 'curl'] }), a);
  });

  test('hash changes with the packages and the suite', () => {
    const base = recipeHash({ debianPackages: ['python3'] });
    assert.notEqual(recipeHash({ debianPackages: ['python3', 'curl'] }), base);
    assert.notEqual(recipeHash({ debianPackages: [] }), base);
    assert.notEqual(recipeHash({ debianPackages: ['python3'] }, 'trixie'), base);
    const ids = BUILDS.map((t) => recipeHash(t));
    assert.equal(new Set(ids).size, ids.length, 'each image has its own recipe');
    for (const t of TEMPLATES) {
      const owner = BUILDS.find((b) => b.localImage === t.localImage)!;
      assert.equal(recipeHash(t), recipeHash(owner), `${t.id} shares ${t.localImage} with ${owner.id}: same packages`);
    }
  });

  test('import changes carry the config and the label', () => {
    const ch = importChanges('abc');
    for (const c of ['WORKDIR /work', 'ENV PYTHONDONTWRITEBYTECODE=1', 'ENV HOME=/work', 'ENV LANG=C.UTF-8', 'USER 65534:65534']) {
      assert.ok(ch.includes(c), c);
    }
    assert.equal(ch.length, IMAGE_CHANGES.length + 1);
    assert.ok(ch.includes(`LABEL ${RECIPE_LABEL}=abc`));
  });

  test('splitImageRef', () => {
    assert.deepEqual(splitImageRef('moat-local/python:3-bookworm'), {
      repo: 'moat-local/python',
      tag: '3-bookworm',
    });
    assert.deepEqual(splitImageRef('localhost:5000/x'), {
      repo: 'localhost:5000/x',
      tag: 'latest',
    });
    assert.deepEqual(splitImageRef('debian'), {
      repo: 'debian',
      tag: 'latest',
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Against the real engine

const docker = new Dockerode();
const engineDown = await Promise.race([
  docker.ping().then(
    () => null,
    (e: Error) => `Docker engine not reachable (${e.message})`,
  ),
  new Promise<string>((r) => setTimeout(() => r('Docker engine did not answer within 3 s'), 3000).unref()),
]);
const engineSkip = skipUnlessReady(engineDown, 'image tests against the engine');
const isRoot = process.getuid?.() === 0;
const canBuild = isRoot && ['/usr/sbin/debootstrap', '/usr/bin/debootstrap', '/sbin/debootstrap'].some((p) => existsSync(p));
const buildSkip = engineSkip || skipUnlessReady(canBuild ? null : 'building needs root and debootstrap', 'image build tests');

async function runUnderRunsc(image: string, cmd: string[]): Promise<{ code: number; out: string }> {
  const c = await docker.createContainer({
    Image: image,
    Cmd: cmd,
    Tty: true,
    Labels: { 'moat.test': 'images' },
    HostConfig: { Runtime: 'runsc', NetworkMode: 'none' },
  });
  try {
    await c.start();
    const r = (await c.wait()) as { StatusCode: number };
    // As a stream: a non-streamed answer that looks like JSON ("1") is parsed by docker-modem.
    const stream = await c.logs({ stdout: true, stderr: true, follow: true });
    let out = '';
    for await (const chunk of stream as AsyncIterable<Buffer>) out += chunk.toString('utf8');
    return { code: r.StatusCode, out: out.replace(/\r/g, '') };
  } finally {
    await c.remove({ force: true }).catch(() => {});
  }
}

describe('local images (real engine)', { skip: buildSkip }, () => {
  let first: BuildResult[] = [];
  const lines: string[] = [];

  before(async () => {
    first = await buildLocalImages(docker, TEMPLATES, {
      log: (l) => lines.push(l),
    });
  });

  test('every template has its local image, with the recipe label and the sandbox config', async () => {
    assert.deepEqual(
      first.map((r) => r.template),
      BUILDS.map((t) => t.id),
    );
    for (const t of TEMPLATES) {
      const info = await docker.getImage(t.localImage).inspect();
      assert.equal(info.Config.Labels?.[RECIPE_LABEL], recipeHash(t), t.id);
      assert.equal(info.Config.WorkingDir, '/work');
      assert.equal(info.Config.User, '65534:65534');
      assert.ok(info.Config.Env?.includes('HOME=/work'));
      assert.ok(info.Config.Env?.includes('PYTHONDONTWRITEBYTECODE=1'));
    }
  });

  test('runs under runsc: python3 and sh, /work writable by the sandbox user', async () => {
    const info = await docker.info();
    assert.ok(Object.keys(info.Runtimes ?? {}).includes('runsc'), 'the engine has no runsc runtime: run `bash scripts/setup.sh`');
    const py = TEMPLATES.find((t) => t.id === 'python')!;
    const sh = TEMPLATES.find((t) => t.id === 'shell')!;
    const a = await runUnderRunsc(py.localImage, ['python3', '-c', 'print(1)']);
    assert.deepEqual(a, { code: 0, out: '1\n' });
    const b = await runUnderRunsc(sh.localImage, ['sh', '-c', 'echo ok']);
    assert.deepEqual(b, { code: 0, out: 'ok\n' });
    const c = await runUnderRunsc(sh.localImage, ['sh', '-c', 'cd && pwd && test -d /work && echo hi > /work/f && cat /work/f && id -u']);
    assert.deepEqual(c, { code: 0, out: '/work\nhi\n65534\n' });
  });

  test('a second build is near-instant and skips every template', async () => {
    const t0 = Date.now();
    const again = await buildLocalImages(docker, TEMPLATES, { log: () => {} });
    const ms = Date.now() - t0;
    assert.deepEqual(
      again.map((r) => r.status),
      BUILDS.map(() => 'skipped'),
    );
    assert.deepEqual(
      again.map((r) => r.imageId),
      await Promise.all(BUILDS.map(async (t) => (await docker.getImage(t.localImage).inspect()).Id)),
    );
    assert.ok(ms < 5000, `second build took ${ms} ms`);
  });

  test('resolveImage uses what is present, in the preferred order, without pulling', async () => {
    const t = TEMPLATES.find((x) => x.id === 'shell')!;
    const noOfficial: TemplateDef = {
      ...t,
      officialImage: 'moat-test/absent-official:none',
    };
    assert.deepEqual(await resolveImage(docker, noOfficial, { preferOfficial: true }), {
      image: t.localImage,
      source: 'local-build',
    });
    // "official" present (the local image stands in for it): preferred, it wins; else the local build does.
    const both: TemplateDef = {
      ...t,
      officialImage: t.localImage,
      localImage: TEMPLATES.find((x) => x.id === 'python')!.localImage,
    };
    assert.equal((await resolveImage(docker, both, { preferOfficial: true })).source, 'official');
    assert.equal((await resolveImage(docker, both, { preferOfficial: false })).source, 'local-build');
    const none: TemplateDef = {
      ...t,
      officialImage: 'moat-test/absent-official:none',
      localImage: 'moat-test/absent-local:none',
    };
    assert.deepEqual(await resolveImage(docker, none, { preferOfficial: false }), { image: null, source: 'missing' });
    assert.deepEqual(await ensureImage(docker, none, { preferOfficial: true, pull: false }), { image: null, source: 'missing' });
  });
});

describe('ensureImage pull (real engine)', { skip: engineSkip }, () => {
  test('a failed pull fails fast and says to run `moat images build`', async () => {
    const t: TemplateDef = {
      ...TEMPLATES[0]!,
      officialImage: 'moat-test/definitely-absent-image:none',
      localImage: 'moat-test/absent-local:none',
    };
    const t0 = Date.now();
    await assert.rejects(
      ensureImage(docker, t, {
        preferOfficial: true,
        pull: true,
        timeoutMs: 20_000,
      }),
      /moat images build/,
    );
    assert.ok(Date.now() - t0 < 25_000);
  });
});

describe('build failures clean up (real engine)', { skip: buildSkip }, () => {
  let cacheDir = '';
  const t: TemplateDef = {
    ...TEMPLATES.find((x) => x.id === 'shell')!,
    id: 'cleanup-test',
    localImage: 'moat-test/cleanup:none',
  };
  before(() => {
    cacheDir = mkdtempSync(path.join(os.tmpdir(), 'moat-cache-test-'));
  });
  after(() => rmSync(cacheDir, { recursive: true, force: true }));

  const leftovers = () => ({
    builds: readdirSync(path.join(cacheDir, 'tmp')),
    lock: existsSync(path.join(cacheDir, 'build.lock')),
  });

  test('an unreachable mirror: clear error, temp dir and lock removed, no image', async () => {
    await assert.rejects(
      buildLocalImages(docker, [t], {
        cacheDir,
        mirror: 'http://127.0.0.1:9/debian',
        force: true,
        log: () => {},
      }),
      new RegExp(`debootstrap[\\s\\S]*${MIRROR_ENV}`),
    );
    assert.deepEqual(leftovers(), { builds: [], lock: false });
    await assert.rejects(docker.getImage(t.localImage).inspect());
  });

  test('an aborted build: temp dir and lock removed, no image', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 1500);
    await assert.rejects(
      buildLocalImages(docker, [t], {
        cacheDir,
        force: true,
        log: () => {},
        signal: ac.signal,
      }),
    );
    assert.deepEqual(leftovers(), { builds: [], lock: false });
    await assert.rejects(docker.getImage(t.localImage).inspect());
  });

  test('a build already running (live lock) is refused', async () => {
    writeFileSync(path.join(cacheDir, 'build.lock'), `${process.ppid}\n`);
    try {
      await assert.rejects(buildLocalImages(docker, [t], { cacheDir, force: true, log: () => {} }), /Another image build is running/);
    } finally {
      rmSync(path.join(cacheDir, 'build.lock'), { force: true });
    }
  });
});
