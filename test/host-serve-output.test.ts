// `moat serve` with stdout that is not a terminal (a pipe here; a log file in real life): the
// access token must stay out of stdout, and the URL goes to an owner-only file in the data
// directory whose path stdout names. The URL from that file must work (positive control).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { URL_FILE_NAME } from '../app/host/url-file';

const ROOT = path.resolve(import.meta.dirname, '..');

test('serve with a non-terminal stdout keeps the token out of it and writes the URL to a 0600 file', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'moat-serve-test-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/cli/main.ts', 'serve', '--no-pool'], {
    cwd: ROOT,
    env: { ...process.env, MOAT_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    // The last line serve prints is the engine's state.
    const deadline = Date.now() + 60_000;
    while (!/Engine: .*\n/.test(stdout)) {
      if (child.exitCode !== null) assert.fail(`serve exited early (${child.exitCode}): ${stdout}${stderr}`);
      if (Date.now() > deadline) assert.fail(`serve printed no status within 60 s: ${stdout}${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }

    const file = path.join(dataDir, URL_FILE_NAME);
    assert.ok(stdout.includes(file), `stdout names the file: ${stdout}`);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600, 'owner-only');
    const url = fs.readFileSync(file, 'utf8').trim();
    const m = /^http:\/\/127\.0\.0\.1:(\d+)\/#token=([A-Za-z0-9_-]{43})$/.exec(url);
    assert.ok(m, `the file holds the URL: ${url}`);
    const [, port, token] = m;
    assert.ok(!stdout.includes(token!), 'the token is not on stdout');
    assert.ok(!stderr.includes(token!), 'nor on stderr');
    assert.ok(stdout.includes(`http://127.0.0.1:${port}/`), 'the URL without its token is');

    // Positive control: the token from the file opens the API.
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api?token=${token}`, { origin: `http://127.0.0.1:${port}` });
    try {
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      ws.send(JSON.stringify({ type: 'call', id: 1, method: 'system.status' }));
      const reply = await new Promise<{ id: number; envelope: { ok: boolean } }>((resolve) =>
        ws.once('message', (d) => resolve(JSON.parse(d.toString()) as { id: number; envelope: { ok: boolean } })),
      );
      assert.equal(reply.id, 1);
      assert.equal(reply.envelope.ok, true);
    } finally {
      ws.close();
    }

    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal(fs.existsSync(file), false, 'a clean stop removes the file: its token is dead');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
