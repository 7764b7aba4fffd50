// The language templates (Node.js, C, C++, Rust, Go) against the real engine under gVisor: each
// runs its sample, and a failing program ends as it should (a compile error for the compiled ones,
// a thrown error for Node). Then `image` (a local image instead of the template's; one without a
// shell is refused with the reason) and a user template from templates.json.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import Dockerode from 'dockerode';
import { MoatError } from '../shared/errors';
import { findTemplate } from '../main/sandbox/templates';
import type { Services } from '../main/services';
import { engineUnavailableReason, myContainers, runToEnd, skipUnlessReady, startServices, tempDir } from './helpers/engine';

const skip = skipUnlessReady(await engineUnavailableReason(), 'language template tests');
const docker = new Dockerode();

/** Why a template's local image is not there (and how to build it), or null. */
async function missingImage(id: string): Promise<string | null> {
  const t = findTemplate(id)!;
  for (const name of [t.localImage, t.officialImage]) {
    try {
      await docker.getImage(name).inspect();
      return null;
    } catch {
      /* not present */
    }
  }
  return `no image for the "${id}" template (build ${t.localImage} with \`sudo node --import tsx scripts/build-images.ts --template ${id}\`)`;
}

interface Case {
  template: string;
  good: string;
  goodOut: RegExp;
  bad: string;
  /** A compile error's message (compiled templates), or the stderr of a failing run. */
  badError?: RegExp;
  badStderr: RegExp;
}

const CASES: Case[] = [
  {
    template: 'node',
    good: 'const os = require("os");\nconsole.log("sum", [1, 2, 3].reduce((a, b) => a + b), os.userInfo().uid);\n',
    goodOut: /^sum 6 65534$/m,
    bad: 'function f() { throw new Error("boom from node"); }\nf();\n',
    badStderr: /Error: boom from node/,
  },
  {
    template: 'c',
    good: '#include <stdio.h>\n#include <math.h>\nint main(void) { printf("c %.1f\\n", sqrt(16.0)); return 0; }\n',
    goodOut: /^c 4\.0$/m,
    bad: 'int main(void) { return undefined_thing; }\n',
    badError: /^compile error: gcc exited with status 1$/,
    badStderr: /undefined_thing/,
  },
  {
    template: 'cpp',
    good: '#include <iostream>\n#include <vector>\nint main() { std::vector<int> v{1, 2, 3}; std::cout << "cpp " << v.size() << "\\n"; }\n',
    goodOut: /^cpp 3$/m,
    bad: 'int main() { std::cout << "no include"; }\n',
    badError: /^compile error: g\+\+ exited with status 1$/,
    badStderr: /cout/,
  },
  {
    template: 'rust',
    good: 'fn main() {\n    let v: Vec<u32> = (1..=4).collect();\n    println!("rust {}", v.iter().sum::<u32>());\n}\n',
    goodOut: /^rust 10$/m,
    bad: 'fn main() {\n    let x: i32 = "not a number";\n}\n',
    badError: /^compile error: rustc exited with status 1$/,
    badStderr: /mismatched types/,
  },
  {
    template: 'go',
    good: 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("go", len([]int{1, 2, 3}))\n}\n',
    goodOut: /^go 3$/m,
    bad: 'package main\n\nfunc main() {\n\tx := 1\n}\n',
    badError: /^compile error: go exited with status [12]$/,
    badStderr: /declared (and|but) not used/,
  },
];

describe('language templates', { skip }, () => {
  let services: Services & { dataDir: string; dispose(): Promise<void> };
  const savedDataDir = process.env.MOAT_DATA_DIR;

  before(async () => {
    services = await startServices();
    // The user's templates file is read from the data directory.
    process.env.MOAT_DATA_DIR = services.dataDir;
  });
  after(async () => {
    if (savedDataDir === undefined) delete process.env.MOAT_DATA_DIR;
    else process.env.MOAT_DATA_DIR = savedDataDir;
    await services.dispose();
  });
  afterEach(async () => {
    assert.deepEqual(await myContainers(), [], 'a sandbox container was left behind');
  });

  for (const c of CASES) {
    describe(c.template, () => {
      let missing: string | null = null;
      before(async () => {
        missing = await missingImage(c.template);
        if (missing) skipUnlessReady(missing, `the ${c.template} template tests`);
      });

      test('runs its sample', async (t) => {
        if (missing) return t.skip(missing);
        const sample = findTemplate(c.template)!.sample;
        const { run, stdout, stderr } = await runToEnd(services, { template: c.template, code: sample });
        assert.equal(run.endReason, 'exited', `${run.error ?? ''} ${stderr}`);
        assert.equal(run.exitCode, 0, stderr);
        assert.match(stdout, /tick 4/);
        assert.match(stderr, /done/);
      });

      test('runs a program', async (t) => {
        if (missing) return t.skip(missing);
        const { run, stdout, stderr } = await runToEnd(services, { template: c.template, code: c.good });
        assert.equal(run.endReason, 'exited', `${run.error ?? ''} ${stderr}`);
        assert.equal(run.exitCode, 0, stderr);
        assert.match(stdout, c.goodOut);
      });

      test(c.badError ? 'a compile error ends the run compile-error' : 'a thrown error exits nonzero', async (t) => {
        if (missing) return t.skip(missing);
        const { run, stdout, stderr } = await runToEnd(services, { template: c.template, code: c.bad });
        assert.match(stderr, c.badStderr);
        if (c.badError) {
          assert.equal(run.endReason, 'compile-error', `${run.endReason} ${run.error ?? ''} ${stderr}`);
          assert.ok((run.exitCode ?? 0) > 0, "the compiler's status");
          assert.ok(run.error?.endsWith(`exited with status ${run.exitCode}`), run.error);
          assert.match(run.error ?? '', c.badError);
          assert.equal(stdout, '');
        } else {
          assert.equal(run.endReason, 'exited');
          assert.equal(run.exitCode, 1);
        }
      });
    });
  }

  test('a compiled program that fails at run time is not a compile error', async (t) => {
    const missing = await missingImage('c');
    if (missing) return t.skip(skipUnlessReady(missing, 'the C run-time failure test'));
    const { run, stderr } = await runToEnd(services, {
      template: 'c',
      code: '#include <stdio.h>\nint main(void) { fprintf(stderr, "bad input\\n"); return 3; }\n',
    });
    assert.equal(run.endReason, 'exited');
    assert.equal(run.exitCode, 3);
    assert.equal(run.error, undefined);
    assert.equal(stderr, 'bad input\n');
    assert.deepEqual(run.argv, ['/work/main']);
  });

  test('rust: cargo builds a project without dependencies offline', async (t) => {
    const missing = await missingImage('rust');
    if (missing) return t.skip(skipUnlessReady(missing, 'the cargo test'));
    const { run, stdout, stderr } = await runToEnd(services, {
      template: 'rust',
      argv: ['sh', '-c', 'cargo new --vcs none --quiet hello && cd hello && cargo build --offline --quiet && ./target/debug/hello'],
    });
    assert.equal(run.endReason, 'exited', stderr);
    assert.equal(run.exitCode, 0, stderr);
    assert.equal(stdout, 'Hello, world!\n');
  });

  describe('image', () => {
    const noShell = 'moat-test/noshell:latest';
    let tmp: ReturnType<typeof tempDir>;
    before(async () => {
      tmp = tempDir();
      // An image of one static file: no /bin/sh.
      mkdirSync(join(tmp.path, 'root'));
      writeFileSync(join(tmp.path, 'root', 'hello.txt'), 'just a file\n');
      const tar = spawnSync('tar', ['-C', join(tmp.path, 'root'), '-cf', join(tmp.path, 'img.tar'), '.']);
      assert.equal(tar.status, 0, String(tar.stderr));
      const { createReadStream } = await import('node:fs');
      const res = await docker.importImage(createReadStream(join(tmp.path, 'img.tar')), { repo: 'moat-test/noshell', tag: 'latest' });
      for await (const _ of res as AsyncIterable<unknown>) {
        /* drain */
      }
    });
    after(async () => {
      await docker
        .getImage(noShell)
        .remove({ force: true })
        .catch(() => {});
      tmp.cleanup();
    });

    test('a local image by name runs the code instead of the template image', async (t) => {
      const missing = await missingImage('python');
      if (missing) return t.skip(skipUnlessReady(missing, 'the local image test'));
      const image = findTemplate('python')!.localImage;
      const { run, stdout, stderr } = await runToEnd(services, {
        template: 'shell',
        image,
        code: 'python3 -c "print(6 * 7)"\nid -u\n',
      });
      assert.equal(run.endReason, 'exited', `${run.error ?? ''} ${stderr}`);
      assert.equal(run.image, image);
      assert.equal(stdout, '42\n65534\n');
    });

    test('an image without a shell is refused with the reason', async () => {
      await assert.rejects(
        () => services.sandboxes.run({ template: 'shell', image: noShell, code: 'echo hi' }),
        (err: unknown) => {
          assert.ok(err instanceof MoatError);
          assert.equal(err.code, 'INVALID_REQUEST');
          assert.match(err.message, /moat-test\/noshell:latest" cannot be used: .*\/bin\/sh/);
          return true;
        },
      );
      // Checked once per image id: the second refusal comes from the cache, just as clear.
      await assert.rejects(() => services.sandboxes.run({ template: 'shell', image: noShell, code: 'echo hi' }), /no \/bin\/sh|\/bin\/sh/);
    });

    test('an image that is not on the engine is refused, never pulled', async () => {
      await assert.rejects(
        () => services.sandboxes.run({ template: 'shell', image: 'moat-test/not-there:nope', code: 'echo hi' }),
        (err: unknown) => {
          assert.ok(err instanceof MoatError);
          assert.equal(err.code, 'IMAGE_UNAVAILABLE');
          assert.match(err.message, /never pulls/);
          return true;
        },
      );
    });
  });

  describe('user templates (templates.json)', () => {
    afterEach(() => rmSync(join(services.dataDir, 'templates.json'), { force: true }));

    test('a template from the file runs; a bad file is reported', async (t) => {
      const missing = await missingImage('python');
      if (missing) return t.skip(skipUnlessReady(missing, 'the user template test'));
      writeFileSync(
        join(services.dataDir, 'templates.json'),
        JSON.stringify({
          templates: [
            {
              id: 'py-mine',
              label: 'My Python',
              image: findTemplate('python')!.localImage,
              interpreter: ['python3', '-S'],
              codeFile: 'prog.py',
              language: 'python',
              warmup: 'python3 -c pass',
            },
          ],
        }),
      );
      const { run, stdout, stderr } = await runToEnd(services, {
        template: 'py-mine',
        code: 'import sys\nprint(sys.argv[0], sys.flags.no_site)\n',
      });
      assert.equal(run.endReason, 'exited', `${run.error ?? ''} ${stderr}`);
      assert.equal(stdout, '/work/prog.py 1\n');
      assert.deepEqual(run.argv, ['python3', '-S', '/work/prog.py']);
      // It is listed with the built-ins, marked as the user's.
      const listed = (await services.handlers['templates.list'](undefined)).find((x) => x.id === 'py-mine');
      assert.equal(listed?.user, true);
      assert.equal(listed?.label, 'My Python');

      // A file that does not validate: no user templates, and the reason with the unknown id.
      await new Promise((r) => setTimeout(r, 20)); // a new mtime
      writeFileSync(join(services.dataDir, 'templates.json'), JSON.stringify({ templates: [{ id: 'py-mine', label: 'x' }] }));
      await assert.rejects(
        () => services.sandboxes.run({ template: 'py-mine', code: 'print(1)' }),
        /Unknown template "py-mine".*templates file was not read: .*templates\.json: templates\.0\.image/,
      );
    });
  });
});
