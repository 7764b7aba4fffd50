// `moat mcp` driven by the official SDK's client over stdio, against the real Docker engine with
// gVisor: the tools are listed with their schemas; run_code runs Python and returns its output
// through the egress filter (a fake AWS key built at run time comes back redacted, never raw);
// files in are read by the program and artifacts come back (text, base64 bytes, redacted, missing,
// too-large), bad files and artifacts refused; a
// run past its time limit ends `timeout` (a successful call that says so); invalid requests (an
// unknown template, a negative timeout) are refused with a useful message; list_templates; and when
// the client closes stdin the server removes its sandboxes (warm pool included) and exits.
// In-process, without the engine: a request Moat refuses comes back as isError with Moat's fix.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { createMcpServer, type McpRunner } from '../app/cli/mcp';
import { MoatError } from '../shared/errors';
import type { RunRecord } from '../shared/types';
import { RunStore } from '../main/store/runs';
import { DockerEngine } from '../main/sandbox/docker-engine';
import { LABEL_MANAGED, LABEL_OWNER } from '../main/sandbox/labels';
import { TEMPLATES } from '../main/sandbox/templates';
import { engineUnavailableReason, skipUnlessReady, tempDir } from './helpers/engine';

const ROOT = join(import.meta.dirname, '..');
const skip = skipUnlessReady(await engineUnavailableReason(), 'moat mcp over stdio');

// Built at run time inside the sandbox, so the code never holds it whole.
const AWS = 'AKIA' + 'Z3QW7RT5YH2KX4LM';

/** `moat mcp` as a user starts it. */
function serverCommand(): string[] {
  return [join(ROOT, 'bin', 'moat.js'), 'mcp'];
}

type Server = Awaited<ReturnType<typeof startServer>>;
let dir: ReturnType<typeof tempDir>;
let server: Server;
let client: Client;

/** A `moat mcp` process on `dataDir`, with a connected client; its stderr is collected. */
async function startServer(dataDir: string): Promise<{ client: Client; transport: StdioClientTransport; stderr: () => string }> {
  let err = '';
  const t = new StdioClientTransport({
    command: process.execPath,
    args: serverCommand(),
    cwd: ROOT,
    env: { ...(process.env as Record<string, string>), MOAT_DATA_DIR: dataDir },
    stderr: 'pipe',
  });
  t.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const c = new Client({ name: 'moat-test', version: '0.0.0' });
  await c.connect(t);
  return { client: c, transport: t, stderr: () => err };
}

before(async () => {
  if (skip) return;
  dir = tempDir('moat-mcp-');
  server = await startServer(dir.path);
  client = server.client;
});

after(async () => {
  if (skip) return;
  dir.cleanup();
});

/** The text of a tool result's content. */
function textOf(r: CallToolResult): string {
  return r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

async function call(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args }, undefined, { timeout: 180_000 })) as CallToolResult;
}

/** A refusal either way the protocol allows: an isError result, or an invalid-params error. */
async function refusal(name: string, args: Record<string, unknown>): Promise<string> {
  try {
    const r = await call(name, args);
    assert.equal(r.isError, true, `expected a refusal, got: ${textOf(r)}`);
    return textOf(r);
  } catch (err) {
    assert.ok(err instanceof McpError, String(err));
    return err.message;
  }
}

test('lists run_code and list_templates with their input schemas', { skip, timeout: 30_000 }, async () => {
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name).sort();
  assert.deepEqual(names, ['list_templates', 'run_code']);
  const run = tools.find((t) => t.name === 'run_code')!;
  assert.ok(run.description && run.description.length > 40);
  const props = run.inputSchema.properties as Record<string, { enum?: string[] }>;
  for (const k of ['template', 'code', 'stdin', 'env', 'allowNet', 'limits', 'files', 'artifacts', 'artifactBytes'])
    assert.ok(k in props, `run_code has ${k}`);
  assert.deepEqual(
    props.template!.enum,
    TEMPLATES.map((t) => t.id),
  );
  assert.deepEqual(run.inputSchema.required?.slice().sort(), ['code', 'template']);
  assert.ok(run.outputSchema, 'run_code declares its structured output');
});

test('run_code runs Python and returns its output through the egress filter', { skip, timeout: 180_000 }, async () => {
  const r = await call('run_code', {
    template: 'python',
    code: 'import sys\nprint("hello from mcp")\nprint("key", "AKIA" + "Z3QW7RT5YH2KX4LM")\nprint(sys.stdin.read().upper(), file=sys.stderr)\n',
    stdin: 'piped in',
  });
  const text = textOf(r);
  assert.equal(r.isError, false, text + server.stderr());
  const s = r.structuredContent as Record<string, unknown> & { egress: { findings: number } };
  assert.equal(s.endReason, 'exited', text);
  assert.equal(s.exitCode, 0);
  assert.equal(s.ended, 'exited 0');
  assert.equal(s.template, 'python');
  assert.equal(s.runtime, 'runsc');
  assert.match(s.stdout as string, /hello from mcp/);
  assert.match(s.stdout as string, /\[REDACTED:aws-access-key-id\]/);
  assert.match(s.stderr as string, /PIPED IN/);
  assert.ok(s.egress.findings >= 1);
  assert.equal(typeof s.durationMs, 'number');
  assert.equal(s.truncated, false);
  assert.equal(s.clipped, false);
  assert.match(text, /hello from mcp/);
  assert.match(text, /\[REDACTED:aws-access-key-id\]/);
  assert.match(text, /ended: exited 0/);
  assert.ok(!JSON.stringify(r).includes(AWS), 'the raw key is nowhere in the result');
});

test('a run past its time limit ends timeout, as a successful call', { skip, timeout: 180_000 }, async () => {
  const started = Date.now();
  const r = await call('run_code', {
    template: 'python',
    code: 'import time\nprint("sleeping", flush=True)\ntime.sleep(30)\n',
    limits: { timeoutMs: 1000 },
  });
  assert.equal(r.isError, false, textOf(r));
  const s = r.structuredContent as Record<string, unknown>;
  assert.equal(s.endReason, 'timeout');
  assert.equal(s.exitCode, null);
  assert.match(s.ended as string, /timeout after 1000 ms/);
  assert.match(textOf(r), /timeout/);
  assert.ok(Date.now() - started < 25_000, 'it did not wait for the sleep');
});

test('invalid requests are refused with a useful message', { skip, timeout: 60_000 }, async () => {
  const badTemplate = await refusal('run_code', { template: 'cobol', code: 'DISPLAY "HI"' });
  assert.match(badTemplate, /template/);
  assert.match(badTemplate, /python/);
  const badTimeout = await refusal('run_code', { template: 'python', code: 'print(1)', limits: { timeoutMs: -5 } });
  assert.match(badTimeout, /timeoutMs/);
  const noCode = await refusal('run_code', { template: 'python' });
  assert.match(noCode, /code/);
  const unknownTool = await refusal('format_disk', {});
  assert.match(unknownTool, /format_disk/);
  // The server still answers afterwards.
  const ok = await call('run_code', { template: 'shell', code: 'echo still here' });
  assert.equal((ok.structuredContent as { stdout: string }).stdout, 'still here\n');
});

type ArtifactOut = { path: string; size: number; status: string; text?: string; base64?: string; redacted?: boolean; findings?: number };

test(
  'run_code writes files in for the program and brings its artifacts back (text as text, bytes as base64)',
  { skip, timeout: 180_000 },
  async () => {
    const r = await call('run_code', {
      template: 'python',
      code: [
        'import os',
        'data = open("data/in.txt").read()',
        'raw = open("blob.bin", "rb").read()',
        'os.makedirs("out", exist_ok=True)',
        'open("out/result.txt", "w").write(data.upper() + str(len(raw)))',
        'open("out/bytes.bin", "wb").write(bytes(reversed(raw)))',
        'print("run.sh executable:", os.access("run.sh", os.X_OK))',
      ].join('\n'),
      files: [
        { path: 'data/in.txt', text: 'read by the program ' },
        { path: 'blob.bin', base64: Buffer.from([0, 255, 1, 254]).toString('base64') },
        { path: 'run.sh', text: 'echo hi', executable: true },
      ],
      artifacts: ['out/result.txt', 'out/bytes.bin', 'never/written.txt'],
    });
    const text = textOf(r);
    assert.equal(r.isError, false, text + server.stderr());
    const s = r.structuredContent as { endReason: string; stdout: string; stderr: string; artifacts: ArtifactOut[] };
    assert.equal(s.endReason, 'exited', text);
    assert.equal(s.stdout, 'run.sh executable: True\n', s.stderr);
    const byPath = new Map(s.artifacts.map((a) => [a.path, a]));
    const result = byPath.get('out/result.txt')!;
    assert.equal(result.status, 'saved');
    assert.equal(result.text, 'READ BY THE PROGRAM 4');
    assert.equal(result.base64, undefined);
    const bytes = byPath.get('out/bytes.bin')!;
    assert.equal(bytes.status, 'saved');
    assert.equal(bytes.text, undefined, 'not UTF-8: base64, not text');
    assert.deepEqual([...Buffer.from(bytes.base64!, 'base64')], [254, 1, 255, 0]);
    assert.equal(byPath.get('never/written.txt')!.status, 'missing');
    assert.match(text, /--- artifact out\/result.txt: 21 bytes ---\nREAD BY THE PROGRAM 4/);
    assert.match(text, /artifact never\/written.txt: missing/);
  },
);

test('an artifact holding a secret comes back redacted; one past the cap is too-large', { skip, timeout: 180_000 }, async () => {
  const r = await call('run_code', {
    template: 'python',
    code: [
      'open("creds.txt", "w").write("aws_access_key_id = " + "AKIA" + "Z3QW7RT5YH2KX4LM" + "\\n")',
      'open("big.txt", "w").write("x" * 5000)',
    ].join('\n'),
    artifacts: ['creds.txt', 'big.txt'],
    artifactBytes: 4096,
  });
  const text = textOf(r);
  assert.equal(r.isError, false, text + server.stderr());
  const s = r.structuredContent as { endReason: string; artifacts: ArtifactOut[] };
  assert.equal(s.endReason, 'exited', text);
  const creds = s.artifacts.find((a) => a.path === 'creds.txt')!;
  assert.equal(creds.status, 'saved');
  assert.equal(creds.redacted, true);
  assert.ok((creds.findings ?? 0) >= 1);
  assert.match(creds.text!, /^aws_access_key_id = \[REDACTED:aws-access-key-id\]/);
  const big = s.artifacts.find((a) => a.path === 'big.txt')!;
  assert.equal(big.status, 'too-large');
  assert.equal(big.size, 5000);
  assert.equal(big.text, undefined);
  assert.match(text, /big.txt: too large \(5000 bytes/);
  assert.ok(!JSON.stringify(r).includes(AWS), 'the raw key is nowhere in the result');
});

test(
  'files and artifacts are checked: content given twice, a path outside /work, a cap over the limit',
  { skip, timeout: 60_000 },
  async () => {
    const both = await refusal('run_code', { template: 'python', code: 'pass', files: [{ path: 'a.txt', text: 'x', base64: 'eA==' }] });
    assert.match(both, /a\.txt: give text or base64/);
    const neither = await refusal('run_code', { template: 'python', code: 'pass', files: [{ path: 'a.txt' }] });
    assert.match(neither, /give text or base64/);
    const outside = await refusal('run_code', { template: 'python', code: 'pass', artifacts: ['../etc/passwd'] });
    assert.match(outside, /artifacts/);
    const badB64 = await refusal('run_code', { template: 'python', code: 'pass', files: [{ path: 'a.bin', base64: 'not base64!' }] });
    assert.match(badB64, /base64/);
    const cap = await refusal('run_code', { template: 'python', code: 'pass', artifacts: ['a'], artifactBytes: 1 << 30 });
    assert.match(cap, /artifactBytes/);
  },
);

test('list_templates gives id, label, language and image', { skip, timeout: 30_000 }, async () => {
  const r = await call('list_templates', {});
  assert.equal(r.isError ?? false, false, textOf(r));
  const { templates } = r.structuredContent as { templates: { id: string; label: string; language: string; image: string | null }[] };
  assert.deepEqual(templates.map((t) => t.id).sort(), TEMPLATES.map((t) => t.id).sort());
  const py = templates.find((t) => t.id === 'python')!;
  assert.equal(py.language, 'python');
  assert.ok(py.label.length > 0);
  assert.ok(py.image, 'the python image is on this machine (runs above used it)');
  assert.match(textOf(r), /python: /);
});

/** Containers made by the process `pid` (its owner label), warm pool included. */
async function containersOf(pid: number): Promise<string[]> {
  const all = await new DockerEngine().docker.listContainers({ all: true, filters: { label: [`${LABEL_MANAGED}=true`] } });
  return all.filter((c) => c.Labels?.[LABEL_OWNER]?.startsWith(`${hostname()}:${pid}:`)).map((c) => c.Id);
}

async function until(what: string, ok: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Last of the shared server: closing the client ends stdin; the server removes every sandbox it
// made and exits (the SDK client sends SIGTERM after 2 s, SIGKILL 2 s later: a kill would leave them).
test('closing the client stops the server and removes its sandboxes', { skip, timeout: 60_000 }, async () => {
  const pid = server.transport.pid!;
  assert.ok(pid > 0);
  // The warm pool (pool: true): sandboxes of this server exist until it stops.
  await until('the server keeps warm sandboxes', async () => (await containersOf(pid)).length > 0, 20_000);
  await client.close();
  await until('the server exited', () => !alive(pid));
  assert.deepEqual(await containersOf(pid), [], `no sandbox of the server is left (stderr: ${server.stderr()})`);
  assert.equal(server.stderr(), '', 'nothing on stderr');
});

test(
  'a cancelled call cancels its run; SIGTERM mid-run stops the server and removes its sandboxes',
  { skip, timeout: 90_000 },
  async () => {
    const d = tempDir('moat-mcp-');
    const s = await startServer(d.path);
    const pid = s.transport.pid!;
    try {
      const runs = (): RunRecord[] => {
        const store = new RunStore(d.path);
        try {
          return store.list();
        } finally {
          store.close();
        }
      };
      // Cancelled by the client (notifications/cancelled): the run ends `cancelled`, not at its timeout.
      const abort = new AbortController();
      const call1 = s.client.callTool({ name: 'run_code', arguments: { template: 'shell', code: 'echo up; sleep 60' } }, undefined, {
        signal: abort.signal,
        timeout: 120_000,
      });
      await until('the run is running', () => runs().some((r) => r.status === 'running'));
      abort.abort();
      await assert.rejects(call1);
      await until('the run ended cancelled', () => runs().some((r) => r.endReason === 'cancelled'), 20_000);

      // SIGTERM while a run is going: the run is cancelled, every sandbox removed, the process exits.
      const call2 = s.client.callTool(
        { name: 'run_code', arguments: { template: 'python', code: 'import time\ntime.sleep(60)\n' } },
        undefined,
        {
          timeout: 120_000,
        },
      );
      call2.catch(() => {});
      await until('the second run is running', () => runs().filter((r) => r.status === 'running').length === 1);
      process.kill(pid, 'SIGTERM');
      await until('the server exited', () => !alive(pid));
      assert.deepEqual(await containersOf(pid), [], `no sandbox of the server is left (stderr: ${s.stderr()})`);
      assert.ok(
        runs().every((r) => r.status === 'finished'),
        'no run is left unfinished',
      );
    } finally {
      await s.client.close().catch(() => {});
      d.cleanup();
    }
  },
);

// --- In process, no engine needed ---------------------------------------------------------------

async function inProcess(runner: Partial<McpRunner>): Promise<Client> {
  const server = createMcpServer({
    run: () => Promise.reject(new Error('not used')),
    templates: () => Promise.resolve([]),
    close: () => Promise.resolve(),
    ...runner,
  });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const c = new Client({ name: 'moat-test', version: '0.0.0' });
  await c.connect(b);
  return c;
}

test('a request Moat refuses is an isError result with its message and fix', async () => {
  const c = await inProcess({
    run: () =>
      Promise.reject(
        new MoatError('GVISOR_UNAVAILABLE', 'This Docker engine has no gVisor (runsc) runtime.', 'Run `bash scripts/setup.sh`.'),
      ),
  });
  const r = (await c.callTool({ name: 'run_code', arguments: { template: 'python', code: 'print(1)' } })) as CallToolResult;
  assert.equal(r.isError, true);
  assert.match(textOf(r), /^GVISOR_UNAVAILABLE: This Docker engine has no gVisor/);
  assert.match(textOf(r), /Fix: Run `bash scripts\/setup.sh`/);
  await c.close();
});

test('an unexpected failure says only that it is internal (details in the log)', async () => {
  const logged: string[] = [];
  const server = createMcpServer(
    {
      run: () => Promise.reject(new Error('socket hang up at /secret/path')),
      templates: () => Promise.resolve([]),
      close: () => Promise.resolve(),
    },
    (m) => logged.push(m),
  );
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const c = new Client({ name: 'moat-test', version: '0.0.0' });
  await c.connect(b);
  const r = (await c.callTool({ name: 'run_code', arguments: { template: 'shell', code: 'true' } })) as CallToolResult;
  assert.equal(r.isError, true);
  assert.match(textOf(r), /^INTERNAL: /);
  assert.ok(!textOf(r).includes('/secret/path'));
  assert.ok(logged.some((l) => l.includes('socket hang up')));
  await c.close();
});

test('limits and env are passed to the runner as a RunRequest', async () => {
  let seen: unknown;
  const c = await inProcess({
    run: (req) => {
      seen = req;
      return Promise.reject(new MoatError('ENGINE_UNAVAILABLE', 'no engine'));
    },
  });
  await c.callTool({
    name: 'run_code',
    arguments: {
      template: 'shell',
      code: 'echo $A',
      stdin: 'x',
      env: [{ name: 'A', value: 'b', secret: true }],
      allowNet: ['pypi.org:443'],
      limits: { timeoutMs: 5000, memoryMb: 256 },
    },
  });
  assert.deepEqual(seen, {
    template: 'shell',
    code: 'echo $A',
    stdin: 'x',
    env: [{ name: 'A', value: 'b', secret: true }],
    allowNet: ['pypi.org:443'],
    limits: { timeoutMs: 5000, memoryMb: 256 },
  });
  await c.close();
});

test('a long output is cut in the result (clipped), the run record untouched', async () => {
  const record = {
    id: 'r1',
    template: 'shell',
    image: 'img',
    runtime: { name: 'runsc', gvisor: true },
    runcOptIn: false,
    argv: [],
    limits: { timeoutMs: 1000, memoryMb: 64, cpus: 1, processes: 16, outputBytes: 4 << 20, onOutputLimit: 'stop' as const },
    warm: true,
    status: 'finished' as const,
    endReason: 'exited' as const,
    exitCode: 0,
    createdAt: 0,
    durationMs: 5,
    stdoutBytes: 3 << 20,
    stderrBytes: 0,
    truncated: false,
  };
  const c = await inProcess({ run: () => Promise.resolve({ record, stdout: 'x'.repeat(3 << 20), stderr: 'e' }) });
  const r = (await c.callTool({ name: 'run_code', arguments: { template: 'shell', code: 'yes' } })) as CallToolResult;
  const s = r.structuredContent as { stdout: string; stderr: string; clipped: boolean; ended: string };
  assert.equal(s.clipped, true);
  assert.equal(s.ended, 'exited 0');
  assert.ok(s.stdout.length < (1 << 20) + 100);
  assert.match(s.stdout, /\[\.\.\. 2097152 more characters, in Moat's history\]$/);
  assert.equal(s.stderr, 'e');
  assert.match(textOf(r), /history has run r1 whole/);
  await c.close();
});

test('with a daemon owning the data directory, the calls run on it (its pid owns the runs)', { skip, timeout: 180_000 }, async () => {
  const d = tempDir('moat-mcp-daemon-');
  const moat = (args: string[]): string =>
    execFileSync(process.execPath, [join(ROOT, 'bin', 'moat.js'), ...args], {
      cwd: ROOT,
      env: { ...process.env, MOAT_DATA_DIR: d.path },
      encoding: 'utf8',
      timeout: 120_000,
    });
  moat(['daemon', 'start']);
  const s = await startServer(d.path);
  try {
    const daemonPid = (JSON.parse(readFileSync(join(d.path, 'owner.lock'), 'utf8')) as { pid: number }).pid;
    const r = await s.client.callTool({ name: 'run_code', arguments: { template: 'python', code: 'print("via the daemon")' } });
    const out = r.structuredContent as { runId: string; stdout: string; endReason: string };
    assert.equal(out.endReason, 'exited', JSON.stringify(r));
    assert.equal(out.stdout, 'via the daemon\n');
    const history = JSON.parse(moat(['history', '--json'])) as { id: string; owner?: string }[];
    const rec = history.find((h) => h.id === out.runId);
    assert.ok(rec?.owner?.split(':')[1] === String(daemonPid), `run owner ${rec?.owner}, daemon pid ${daemonPid}`);
  } finally {
    await s.client.close();
    moat(['daemon', 'stop']);
    d.cleanup();
  }
});
