// The mixed output stream of the egress benchmarks (bench/egress-throughput.ts, bench/egress-e2e.ts):
// built in memory from a seeded generator, so every run and both benchmarks get the same bytes: log
// lines, JSON, stack traces, hashes, UUIDs, git SHAs, base64 blobs, lockfile integrity strings, a
// little UTF-8, and a sprinkle of fake (well-formed, never real) secrets, 60 over the stream.
import { AN, B32, DIG, Fake, HEX, LO, URL64 } from '../test/fixtures/egress/fake';

export type StreamName = 'stdout' | 'stderr';
const MB = 1024 * 1024;
/** Values a run is given as secrets in the benchmarks: two of the planted secrets echo them. */
export const CONTEXT_SECRETS = ['mo4t-run-s3cret-Vq9XzL2pT7', 'db-pass:Hx7!kQ2@zW9#'];

// ---- The stream

export interface Planted {
  stream: StreamName;
  /** Byte offset in that stream's payload. */
  offset: number;
  length: number;
  kind: string;
}

export function buildStream(total: number): { payload: { stdout: Buffer; stderr: Buffer }; planted: Planted[] } {
  const f = new Fake(20261130);
  const secretMakers: [string, () => string, (s: string) => string][] = [
    ['aws', () => `AKIA${f.s(B32, 16)}`, (s) => `aws: using access key ${s} for s3 upload\n`],
    ['github', () => `ghp_${f.s(AN, 36)}`, (s) => `remote: Invalid username or password. token=${s}\n`],
    ['slack', () => `xoxb-${f.s(DIG, 12)}-${f.s(DIG, 12)}-${f.s(AN, 24)}`, (s) => `posting to slack with ${s}\n`],
    ['gitlab', () => `glpat-${f.s(URL64, 20)}`, (s) => `git clone https://oauth2:${s}@gitlab.com/acme/app.git\n`],
    ['openai', () => `sk-proj-${f.s(URL64, 64)}`, (s) => `{"level":"debug","msg":"client init","api_key":"${s}"}\n`],
    ['npm', () => `npm_${f.s(AN, 36)}`, (s) => `//registry.npmjs.org/:_authToken=${s}\n`],
    ['postgres', () => `${f.s(AN, 14)}`, (s) => `DATABASE_URL=postgres://app:${s}@db.internal:5432/prod\n`],
    ['jwt', () => f.jwt(), (s) => `set-cookie: session=${s}; HttpOnly\n`],
    ['pem', () => f.pem('RSA PRIVATE KEY', 8), (s) => `cat ~/.ssh/id_rsa\n${s}\n`],
    ['context-plain', () => CONTEXT_SECRETS[0]!, (s) => `echo $MOAT_SECRET -> ${s}\n`],
    ['context-base64', () => Buffer.from(`user=ci;token=${CONTEXT_SECRETS[1]!};x`).toString('base64'), (s) => `X-Debug: ${s}\n`],
  ];
  const gens: [number, () => string][] = [
    [30, () => logLine(f)],
    [20, () => jsonLine(f)],
    [10, () => stackTrace(f)],
    [8, () => gitLine(f)],
    [8, () => dockerLine(f)],
    [8, () => lockLine(f)],
    [6, () => pipLine(f)],
    [4, () => base64Blob(f)],
    [4, () => testLine(f)],
    [2, () => progress(f)],
  ];
  const weight = gens.reduce((n, [w]) => n + w, 0);
  const pick = (): string => {
    let r = f.int(weight);
    for (const [w, g] of gens) if ((r -= w) < 0) return g();
    return gens[0]![1]();
  };
  const streams = { stdout: { parts: [] as Buffer[], len: 0 }, stderr: { parts: [] as Buffer[], len: 0 } };
  const planted: Planted[] = [];
  let produced = 0;
  const every = Math.max(MB, Math.floor(total / 60));
  let nextSecret = every / 2;
  let batch: string[] = [];
  let batchLen = 0;
  const flushBatch = (name: StreamName): void => {
    const b = Buffer.from(batch.join(''), 'utf8');
    streams[name].parts.push(b);
    streams[name].len += b.length;
    produced += b.length;
    batch = [];
    batchLen = 0;
  };
  let secretIndex = 0;
  while (produced < total) {
    // Mostly stdout; stack traces and warnings in stretches of stderr.
    const name: StreamName = f.int(10) === 0 ? 'stderr' : 'stdout';
    const want = 16 * 1024 + f.int(256 * 1024);
    while (batchLen < want) {
      const s = pick();
      batch.push(s);
      batchLen += s.length;
    }
    if (produced + batchLen >= nextSecret) {
      const [kind, make, wrap] = secretMakers[secretIndex++ % secretMakers.length]!;
      const secret = make();
      const line = wrap(secret);
      const lineOff = Buffer.byteLength(batch.join(''), 'utf8');
      const at = streams[name].len + lineOff + Buffer.byteLength(line.slice(0, line.indexOf(secret)), 'utf8');
      planted.push({ stream: name, offset: at, length: Buffer.byteLength(secret), kind });
      batch.push(line);
      batchLen += line.length;
      nextSecret += every;
    }
    flushBatch(name);
  }
  return { payload: { stdout: Buffer.concat(streams.stdout.parts), stderr: Buffer.concat(streams.stderr.parts) }, planted };
}

const LEVELS = ['INFO ', 'DEBUG', 'WARN ', 'INFO ', 'INFO ', 'ERROR'];
const PATHS = ['/api/v1/users', '/api/v1/orders', '/healthz', '/auth/login', '/api/v2/tokens/refresh', '/static/app.js', '/graphql'];
const WORDS =
  'request completed handler cache miss retry connection pool acquired released query rows user session token auth password reset scheduled job worker queue'.split(
    ' ',
  );
const ts = (f: Fake): string =>
  `2026-11-${String(1 + f.int(28)).padStart(2, '0')}T${String(f.int(24)).padStart(2, '0')}:${String(f.int(60)).padStart(2, '0')}:${String(f.int(60)).padStart(2, '0')}.${String(f.int(1000)).padStart(3, '0')}Z`;
const words = (f: Fake, n: number): string => Array.from({ length: n }, () => f.pick(WORDS)).join(' ');

function logLine(f: Fake): string {
  const r = f.int(5);
  if (r === 0)
    return `${ts(f)} ${f.pick(LEVELS)} [worker-${f.int(16)}] ${f.pick(['GET', 'POST', 'PUT'])} ${f.pick(PATHS)}/${f.int(99999)} status=${f.pick([200, 200, 201, 304, 404, 500])} duration=${f.int(900)}ms request_id=${f.uuid()}\n`;
  if (r === 1) return `${ts(f)} ${f.pick(LEVELS)} ${words(f, 4 + f.int(8))} (attempt ${f.int(5)}, tokens_used=${f.int(4000)}, auth=ok)\n`;
  if (r === 2) return `[${ts(f)}] app.${f.pick(['db', 'http', 'cache', 'auth'])}: ${words(f, 6)} in ${f.int(1000) / 10} ms — café ✓\n`;
  if (r === 3) return `${ts(f)} INFO  trace_id=${f.s(HEX, 32)} span_id=${f.s(HEX, 16)} ${words(f, 5)}\n`;
  return `${ts(f)} DEBUG password reset requested for user ${f.int(100000)}; token expires in ${f.int(60)} minutes\n`;
}

function jsonLine(f: Fake): string {
  return `${JSON.stringify({
    level: f.pick(['info', 'debug', 'warn']),
    time: ts(f),
    msg: words(f, 5),
    user_id: f.int(1e6),
    session_id: f.uuid(),
    trace: f.s(HEX, 32),
    etag: `W/"${f.s(HEX, 16)}"`,
    usage: { prompt_tokens: f.int(3000), completion_tokens: f.int(900), total_tokens: f.int(4000) },
    model: f.pick(['gpt-4o-mini', 'claude-sonnet', 'llama-3-8b']),
  })}\n`;
}

function stackTrace(f: Fake): string {
  if (f.int(2) === 0) {
    const frames = Array.from(
      { length: 4 + f.int(8) },
      () =>
        `    at ${f.pick(['Object.<anonymous>', 'Layer.handle', 'next', 'processTicksAndRejections', 'Router.handle'])} (/app/node_modules/${f.pick(['express', 'pg', 'undici', 'ioredis'])}/lib/${f.pick(['router', 'client', 'pool', 'index'])}/index.js:${f.int(900)}:${f.int(80)})`,
    );
    return `TypeError: Cannot read properties of undefined (reading '${f.pick(['token', 'id', 'headers', 'map'])}')\n${frames.join('\n')}\n`;
  }
  const frames = Array.from(
    { length: 3 + f.int(6) },
    () =>
      `  File "/usr/local/lib/python3.11/site-packages/${f.pick(['requests', 'urllib3', 'torch', 'numpy'])}/${f.pick(['adapters', 'connectionpool', 'nn/modules/module', 'core/fromnumeric'])}.py", line ${f.int(2000)}, in ${f.pick(['send', 'urlopen', '_call_impl', 'forward'])}\n    return self._${f.pick(['send', 'request', 'forward'])}(*args, **kwargs)`,
  );
  return `Traceback (most recent call last):\n${frames.join('\n')}\n${f.pick(['ConnectionError', 'KeyError', 'RuntimeError'])}: ${words(f, 4)}\n`;
}

function gitLine(f: Fake): string {
  const r = f.int(3);
  if (r === 0) return `commit ${f.s(HEX, 40)}\nAuthor: Dev ${f.int(99)} <dev${f.int(99)}@example.org>\n\n    ${words(f, 6)}\n`;
  if (r === 1) return `${f.s(HEX, 7)} ${words(f, 5)}\n`;
  return `Merge: ${f.s(HEX, 7)} ${f.s(HEX, 7)}\nindex ${f.s(HEX, 12)}..${f.s(HEX, 12)} 100644\n`;
}

function dockerLine(f: Fake): string {
  const r = f.int(3);
  if (r === 0) return `${f.s(HEX, 12)}: ${f.pick(['Pull complete', 'Already exists', 'Verifying Checksum', 'Download complete'])}\n`;
  if (r === 1) return `Digest: sha256:${f.s(HEX, 64)}\nStatus: Downloaded newer image for ghcr.io/acme/app:${f.int(99)}.${f.int(99)}\n`;
  return ` ---> ${f.s(HEX, 12)}\nStep ${f.int(30)}/30 : RUN pip install -r requirements.txt\n`;
}

function lockLine(f: Fake): string {
  const name = f.pick(['lodash', 'react-dom', '@types/node', 'esbuild', 'typescript', 'zod']);
  if (f.int(2) === 0) {
    return `    "node_modules/${name}": {\n      "version": "${f.int(20)}.${f.int(20)}.${f.int(20)}",\n      "resolved": "https://registry.npmjs.org/${name}/-/${name}-${f.int(9)}.${f.int(9)}.${f.int(9)}.tgz",\n      "integrity": "sha512-${f.b64(64)}"\n    },\n`;
  }
  return `${name}@^${f.int(9)}.${f.int(9)}.0:\n  resolved "https://registry.yarnpkg.com/${name}/-/${name}-${f.int(9)}.${f.int(9)}.0.tgz#${f.s(HEX, 40)}"\n  integrity sha1-${f.b64(20)}\n`;
}

function pipLine(f: Fake): string {
  const pkg = f.pick(['numpy', 'torch', 'requests', 'pydantic', 'fastapi', 'uvicorn']);
  return `Collecting ${pkg}==${f.int(3)}.${f.int(30)}.${f.int(10)}\n  Downloading ${pkg}-${f.int(3)}.${f.int(30)}.${f.int(10)}-cp311-cp311-manylinux_2_17_x86_64.whl (${f.int(900) / 10} MB)\n     ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ ${f.int(200) / 10}/${f.int(200) / 10} MB ${f.int(90)} MB/s eta 0:00:00\n`;
}

function base64Blob(f: Fake): string {
  const r = f.int(3);
  if (r === 0) return `data:image/png;base64,${f.b64(300 + f.int(900))}\n`;
  if (r === 1) return `${f.b64(57 * (4 + f.int(12))).replace(/.{76}/g, '$&\n')}\n`;
  return `{"id":"chatcmpl-${f.s(AN, 29)}","object":"chat.completion","system_fingerprint":"fp_${f.s(HEX, 10)}","b64_json":"${f.b64(200)}"}\n`;
}

function testLine(f: Fake): string {
  return `  ${f.pick(['✓', '✔', 'ok', 'PASS'])} ${words(f, 5)} (${f.int(300)}ms)\n`;
}

function progress(f: Fake): string {
  return `\r[${'#'.repeat(f.int(40)).padEnd(40, '.')}] ${f.int(100)}% ${f.s(LO, 6)}`;
}

/** Docker's non-TTY attach framing: [stream, 0, 0, 0, size u32 BE] + payload, frames of 1..32 KiB per write. */
export function frame(payload: { stdout: Buffer; stderr: Buffer }): Buffer {
  const f = new Fake(7);
  const parts: Buffer[] = [];
  const at = { stdout: 0, stderr: 0 };
  while (at.stdout < payload.stdout.length || at.stderr < payload.stderr.length) {
    const left = (s: StreamName) => payload[s].length - at[s];
    let s: StreamName = f.int(8) === 0 ? 'stderr' : 'stdout';
    if (left(s) === 0) s = s === 'stdout' ? 'stderr' : 'stdout';
    const n = Math.min(left(s), 1 + f.int(32 * 1024));
    const h = Buffer.alloc(8);
    h[0] = s === 'stdout' ? 1 : 2;
    h.writeUInt32BE(n, 4);
    parts.push(h, payload[s].subarray(at[s], at[s] + n));
    at[s] += n;
  }
  return Buffer.concat(parts);
}
