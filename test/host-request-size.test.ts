// Request sizes over the headless host's WebSocket, against the real host and services (Docker +
// gVisor): the largest valid request, written with JSON's worst-case escaping (every byte a control
// byte, six bytes on the wire), is accepted and runs; one byte over a limit is refused with
// INVALID_REQUEST on a connection that stays open; only a frame no valid request can fill closes
// the socket, and the UI's transport then says the request was too large.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import {
  ALLOW_MAX_ITEMS,
  ARG_MAX_BYTES,
  ARTIFACT_MAX_BYTES,
  ARTIFACTS_MAX_ITEMS,
  ARGV_MAX_BYTES,
  ARGV_MAX_ITEMS,
  CODE_MAX_BYTES,
  ENV_MAX_BYTES,
  ENV_MAX_ITEMS,
  FILES_MAX_BYTES,
  FILES_MAX_ITEMS,
  RunRequest,
  WORK_PATH_MAX_BYTES,
  STDIN_MAX_BYTES,
} from '../shared/types';
import { shortestEnvName } from '../app/host/frame-limit';
import { createClient } from '../shared/client';
import { MoatError } from '../shared/errors';
import { MAX_PAYLOAD_BYTES, startHost, type Host } from '../app/host/server';
import { CLOSE_TOO_LARGE, WebSocketTransport, type ConnectionState } from '../renderer/src/transport/websocket';
import { engineUnavailableReason, skipUnlessReady, startServices } from './helpers/engine';

const skip = skipUnlessReady(await engineUnavailableReason(), 'request size tests');

/** Escaped by JSON.stringify as \u0001: the worst case, six bytes on the wire per byte. */
const CTRL = '\u0001';
const PROGRAM = 'import sys\nprint(len(sys.stdin.buffer.read()))\n#';
/** Valid Python of exactly CODE_MAX_BYTES: the program, then a comment of control bytes. */
const LARGEST_CODE = PROGRAM + CTRL.repeat(CODE_MAX_BYTES - Buffer.byteLength(PROGRAM));
const LARGEST_STDIN = CTRL.repeat(STDIN_MAX_BYTES);
/** Exactly ARGV_MAX_ITEMS words and ARGV_MAX_BYTES bytes: a command that counts its arguments. */
function largestArgv(): string[] {
  const head = ['sh', '-c', 'echo "$#"', 'sh'];
  const headBytes = Buffer.byteLength(head.join(''));
  const n = ARGV_MAX_ITEMS - head.length;
  const each = Math.floor((ARGV_MAX_BYTES - headBytes) / n);
  const words = Array.from({ length: n }, () => CTRL.repeat(each));
  words[0] += CTRL.repeat(ARGV_MAX_BYTES - headBytes - each * n);
  return [...head, ...words];
}

/** The largest valid environment: ENV_MAX_ITEMS variables, shortest names, control-byte values filling ENV_MAX_BYTES. */
function largestEnv(): { name: string; value: string; secret: boolean }[] {
  const names = Array.from({ length: ENV_MAX_ITEMS }, (_, i) => shortestEnvName(i));
  const room = ENV_MAX_BYTES - names.join('').length;
  const each = Math.floor(room / names.length);
  return names.map((name, i) => ({ name, value: CTRL.repeat(each + (i === 0 ? room - each * names.length : 0)), secret: false }));
}

/** The longest valid allowlist: `*.` + a 253-character name + a port, ALLOW_MAX_ITEMS times. */
function largestAllowNet(): string[] {
  const domain = ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(61)].join('.');
  return Array.from({ length: ALLOW_MAX_ITEMS }, () => `*.${domain}:65535`);
}

/** The largest files: FILES_MAX_ITEMS files of the longest distinct paths, FILES_MAX_BYTES in all, each a byte past a multiple of three (most padding). */
function largestFiles(): { path: string; data: string; executable: boolean }[] {
  const n = FILES_MAX_ITEMS;
  const each = 3 * Math.floor(FILES_MAX_BYTES / n / 3) - 2;
  const sizes = Array.from({ length: n }, () => each);
  sizes[0] = each + FILES_MAX_BYTES - each * n;
  return sizes.map((size, i) => ({
    path: String(i).padStart(2, '0') + 'a'.repeat(WORK_PATH_MAX_BYTES - 2),
    data: Buffer.alloc(size, 7).toString('base64'),
    executable: false,
  }));
}

/** The longest artifact paths, ARTIFACTS_MAX_ITEMS of them. */
function largestArtifacts(): string[] {
  return Array.from({ length: ARTIFACTS_MAX_ITEMS }, (_, i) => String(i).padStart(2, '0') + 'a'.repeat(WORK_PATH_MAX_BYTES - 2));
}

/** Program arguments at their largest: as argv, without its command words. */
function largestArgs(): string[] {
  const n = ARGV_MAX_ITEMS;
  const each = Math.floor(ARGV_MAX_BYTES / n);
  return Array.from({ length: n }, () => CTRL.repeat(each));
}

function frame(id: number, params: unknown): string {
  return JSON.stringify({ type: 'call', id, method: 'sandbox.run', params });
}

let real: Awaited<ReturnType<typeof startServices>>;
let host: Host;
let tmp: string;

before(async () => {
  if (skip) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'moat-size-test-'));
  real = await startServices();
  host = await startHost({ services: real, staticDir: tmp, log: () => {} });
});

after(async () => {
  await host?.close();
  await real?.dispose();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

interface Result {
  type: 'result';
  id: number | null;
  envelope: { ok: boolean; result?: { runId?: string }; error?: { code: string; message: string } };
}

/** A raw client: sends text as given, collects results, remembers how the socket closed. */
async function connect(): Promise<{
  ws: WebSocket;
  send(text: string, id: number): Promise<Result>;
  closed(): number | undefined;
}> {
  const ws = new WebSocket(`ws://127.0.0.1:${host.port}/api?token=${host.token}`, {
    origin: `http://127.0.0.1:${host.port}`,
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const results = new Map<number | null, Result>();
  let closeCode: number | undefined;
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as Result;
    if (msg.type === 'result') results.set(msg.id, msg);
  });
  ws.on('close', (code) => (closeCode = code));
  return {
    ws,
    closed: () => closeCode,
    async send(text, id) {
      ws.send(text);
      const deadline = Date.now() + 30_000;
      while (!results.has(id)) {
        if (closeCode !== undefined) throw new Error(`socket closed (${closeCode}) before the result`);
        if (Date.now() > deadline) throw new Error('no result within 30 s');
        await new Promise((r) => setTimeout(r, 10));
      }
      return results.get(id)!;
    },
  };
}

test('the frame limit is the largest valid request with worst-case escaping, derived from the limits', { skip }, () => {
  // Every other field at its longest too: the environment and the allowlist.
  const egress = { env: largestEnv(), egressFilter: false, egressPolicy: 'redact', allowNet: largestAllowNet(), image: 'a'.repeat(255) };
  const io = { files: largestFiles(), artifacts: largestArtifacts(), artifactBytes: ARTIFACT_MAX_BYTES };
  const codeParams = { template: 'python', code: LARGEST_CODE, args: largestArgs(), stdin: LARGEST_STDIN, ...egress, ...io };
  const argvParams = { template: 'shell', argv: largestArgv(), stdin: LARGEST_STDIN, ...egress, ...io };
  assert.ok(RunRequest.safeParse(codeParams).success, JSON.stringify(RunRequest.safeParse(codeParams).error?.issues.slice(0, 3)));
  assert.ok(RunRequest.safeParse(argvParams).success, 'the largest argv request is valid');
  const codeFrame = Buffer.byteLength(frame(-1.2345678901234567e-6, codeParams));
  const argvFrame = Buffer.byteLength(frame(1, argvParams));
  assert.equal(Buffer.byteLength(LARGEST_CODE), CODE_MAX_BYTES);
  assert.equal(Buffer.byteLength(largestArgv().join('')), ARGV_MAX_BYTES);
  assert.equal(Buffer.byteLength(largestArgs().join('')), ARGV_MAX_BYTES);
  assert.equal(
    largestFiles().reduce((n, f) => n + Buffer.from(f.data, 'base64').length, 0),
    FILES_MAX_BYTES,
  );
  assert.ok(largestArgv().every((w) => Buffer.byteLength(w) <= ARG_MAX_BYTES));
  assert.ok(codeFrame <= MAX_PAYLOAD_BYTES, `code frame ${codeFrame} > ${MAX_PAYLOAD_BYTES}`);
  assert.ok(argvFrame <= MAX_PAYLOAD_BYTES, `argv frame ${argvFrame} > ${MAX_PAYLOAD_BYTES}`);
  // Not a loose guess: the fields besides code, argv and stdin account for the rest.
  assert.ok(MAX_PAYLOAD_BYTES - Math.max(codeFrame, argvFrame) < 1024, `${MAX_PAYLOAD_BYTES} vs ${Math.max(codeFrame, argvFrame)}`);
});

test(
  'the largest valid request (1 MiB of control bytes as code and as stdin) is accepted over the WebSocket and runs',
  { skip },
  async () => {
    const c = await connect();
    try {
      const text = frame(1, { template: 'python', code: LARGEST_CODE, stdin: LARGEST_STDIN });
      assert.ok(Buffer.byteLength(text) > 6 * (CODE_MAX_BYTES + STDIN_MAX_BYTES) - 1024, 'six wire bytes per byte of code and stdin');
      const res = await c.send(text, 1);
      assert.equal(res.envelope.ok, true, JSON.stringify(res.envelope.error));
      const runId = res.envelope.result!.runId!;
      const run = (await real.sandboxes.whenDone(runId))!;
      assert.equal(run.endReason, 'exited', run.error);
      assert.equal(run.exitCode, 0);
      const detail = await real.handlers['runs.get']({ id: runId });
      assert.equal(detail.output.map((o) => o.data).join(''), `${STDIN_MAX_BYTES}\n`, 'every stdin byte reached the program');
      assert.equal(c.closed(), undefined);
    } finally {
      c.ws.close();
    }
  },
);

test('the largest valid argv (1024 words, 1 MiB of control bytes) is accepted and runs', { skip }, async () => {
  const c = await connect();
  try {
    const argv = largestArgv();
    const res = await c.send(frame(2, { template: 'shell', argv }), 2);
    assert.equal(res.envelope.ok, true, JSON.stringify(res.envelope.error));
    const run = (await real.sandboxes.whenDone(res.envelope.result!.runId!))!;
    assert.equal(run.endReason, 'exited', run.error);
    const detail = await real.handlers['runs.get']({ id: run.id });
    assert.equal(detail.output.map((o) => o.data).join(''), `${argv.length - 4}\n`);
  } finally {
    c.ws.close();
  }
});

test('one byte over a limit is refused with INVALID_REQUEST naming the field; the connection stays open', { skip }, async () => {
  const c = await connect();
  try {
    const runsBefore = (await real.handlers['runs.list']({ limit: 1000 })).length;
    // Two-byte characters: under the old character limits, over the byte limits.
    const over = (limit: number) => 'é'.repeat(limit / 2) + 'x';
    const argv = largestArgv();
    argv[4] += 'x';
    const cases: Array<{ params: unknown; field: RegExp }> = [
      { params: { template: 'python', code: over(CODE_MAX_BYTES) }, field: /code: too large: 1048577 bytes/ },
      { params: { template: 'python', code: 'print(1)', stdin: over(STDIN_MAX_BYTES) }, field: /stdin: too large: 1048577 bytes/ },
      { params: { template: 'shell', argv }, field: /argv: too large: 1048577 bytes/ },
      { params: { template: 'shell', argv: ['echo', 'é'.repeat(ARG_MAX_BYTES / 2) + 'x'] }, field: /argv\.1: too large: 65537 bytes/ },
    ];
    let id = 10;
    for (const k of cases) {
      const res = await c.send(frame(++id, k.params), id);
      assert.equal(res.envelope.ok, false);
      assert.equal(res.envelope.error?.code, 'INVALID_REQUEST');
      assert.match(res.envelope.error?.message ?? '', k.field);
    }
    assert.equal(c.closed(), undefined, 'the connection stays open');
    const status = await c.send(JSON.stringify({ type: 'call', id: 99, method: 'system.status' }), 99);
    assert.equal(status.envelope.ok, true, 'and usable');
    assert.equal((await real.handlers['runs.list']({ limit: 1000 })).length, runsBefore, 'nothing ran');
  } finally {
    c.ws.close();
  }
});

test("a frame over the limit closes the socket with 1009 and the UI's transport says the request was too large", { skip }, async () => {
  // The renderer's own transport, over `ws` standing in for the browser's WebSocket (which sends
  // its page's Origin by itself).
  const origin = `http://127.0.0.1:${host.port}`;
  const saved = globalThis.WebSocket;
  globalThis.WebSocket = class extends WebSocket {
    constructor(url: string) {
      super(url, { origin });
    }
  } as unknown as typeof globalThis.WebSocket;
  const transport = new WebSocketTransport(`ws://127.0.0.1:${host.port}/api?token=${host.token}`, {
    initialMs: 60_000,
    maxMs: 60_000,
    healthyAfterMs: 60_000,
  });
  const states: ConnectionState[] = [];
  transport.onStateChange((s) => states.push(s));
  try {
    transport.start();
    const client = createClient(transport);
    assert.equal((await client['system.status']()).engine.connected, true, 'positive control: calls go through');

    const err = await client['sandbox.run']({ template: 'python', code: 'x'.repeat(MAX_PAYLOAD_BYTES) }).catch((e: unknown) => e);
    assert.ok(err instanceof MoatError, String(err));
    assert.equal(err.code, 'INVALID_REQUEST');
    assert.match(err.message, /request too large/i);
    assert.doesNotMatch(err.message, /connection to moat lost/i);
    const last = states.at(-1);
    assert.equal(last?.phase, 'waiting');
    assert.equal(last?.phase === 'waiting' && last.tooLarge, true, 'the banner can say why');
    assert.equal(CLOSE_TOO_LARGE, 1009);
  } finally {
    transport.stop();
    globalThis.WebSocket = saved;
  }
});
