// The sentinel (main/sandbox/sentinel.ts) against the real engine: a Moat process that dies
// (SIGKILL, no chance to clean up) has its sandboxes removed by it within seconds, and only its
// own; a Moat that ends in order (stop) leaves the sentinel nothing to do. Each case has a control
// sandbox of another owner beside it, which must survive, so that the test cannot pass because
// everything is removed.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { DockerEngine } from '../main/sandbox/docker-engine';
import { resolveImage } from '../main/sandbox/images';
import { LABEL_MANAGED, LABEL_OWNER } from '../main/sandbox/labels';
import { findTemplate } from '../main/sandbox/templates';
import { engineUnavailableReason, skipUnlessReady } from './helpers/engine';

const skip = skipUnlessReady(await engineUnavailableReason(), 'the sentinel tests');
const SENTINEL = new URL('../main/sandbox/sentinel.ts', import.meta.url).pathname;

describe('the sentinel removes a dead Moat process’s sandboxes', { skip }, () => {
  const engine = new DockerEngine();
  const made: string[] = [];

  after(async () => {
    for (const id of made) await engine.remove(id).catch(() => {});
  });

  /** A running gVisor sandbox labelled as `owner`'s (a stand-in for a run). */
  async function sandbox(owner: string): Promise<string> {
    await engine.refresh();
    const template = findTemplate('shell')!;
    const { image } = await resolveImage(engine.docker, template, { preferOfficial: false });
    assert.ok(image, 'the shell image is present');
    const id = await engine.create({
      Image: image,
      Cmd: ['sleep', '600'],
      Labels: { [LABEL_MANAGED]: 'true', [LABEL_OWNER]: owner },
      HostConfig: { Runtime: engine.current.gvisorRuntime!, NetworkMode: 'none' },
    });
    made.push(id);
    await engine.start(id);
    return id;
  }

  /** A stand-in Moat process: starts a sentinel for `owner`, then waits (or stops it on "stop"). */
  async function moatProcess(owner: string): Promise<ChildProcess> {
    const code = [
      `import { startSentinel } from ${JSON.stringify(SENTINEL)};`,
      `const s = startSentinel('/var/run/docker.sock', ${JSON.stringify(owner)});`,
      `process.stdin.on('data', () => { s.stop(); process.exit(0); });`,
      `console.log('ready');`,
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (c) => reject(new Error(`the stand-in exited (${c})`)));
    });
    return child;
  }

  async function exists(id: string): Promise<boolean> {
    return (await engine.inspect(id)) !== null;
  }

  async function until(what: string, f: () => Promise<boolean>, ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (!(await f())) {
      if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  test('killed with SIGKILL: its running sandboxes are removed within seconds; another owner’s are not', async () => {
    const owner = `sentinel-test:${randomBytes(4).toString('hex')}:1`;
    const ours = [await sandbox(owner), await sandbox(owner)];
    const control = await sandbox(`${owner}-other`);
    const moat = await moatProcess(owner);
    moat.kill('SIGKILL');
    await until('the dead owner’s sandboxes are gone', async () => !(await exists(ours[0]!)) && !(await exists(ours[1]!)), 15_000);
    assert.equal((await engine.inspect(control))?.running, true, 'control: another owner’s sandbox still runs');
  });

  test('an orderly end (stop) leaves everything to Moat: nothing is removed', async () => {
    const owner = `sentinel-test:${randomBytes(4).toString('hex')}:1`;
    const ours = await sandbox(owner);
    const moat = await moatProcess(owner);
    moat.stdin!.end('stop\n');
    await new Promise((r) => moat.once('exit', r));
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal((await engine.inspect(ours))?.running, true, 'still running after an orderly end');
  });
});
