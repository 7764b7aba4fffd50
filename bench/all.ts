// `npm run bench`: every benchmark, one after the other (never side by side: they share the two
// cores), each in its own process; prints one JSON object keyed by benchmark and writes it to
// bench/results/all.json. Each benchmark also writes its own file under bench/results/.
//   latency           bench/run-latency.ts: run -> exit, local and remote, against the Docker CLI
//   egressThroughput  bench/egress-throughput.ts: the scanner on a 200 MB mixed stream, in process
//   egressE2e         bench/egress-e2e.ts: 64 MiB out of a real sandbox, filter on against off
//   cliStart          bench/cli-start.ts: moat --version and --help, the bundle against tsx
//   harness           bench/harness.ts: 150+ self-checking programs: docker run, moat run through a daemon, moat batch
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';

const benches: [string, string][] = [
  ['latency', 'bench/run-latency.ts'],
  ['egressThroughput', 'bench/egress-throughput.ts'],
  ['egressE2e', 'bench/egress-e2e.ts'],
  ['cliStart', 'bench/cli-start.ts'],
  ['harness', 'bench/harness.ts'],
];
const only = process.argv.slice(2);
const out: Record<string, unknown> = {};
let failed = false;
for (const [name, file] of benches) {
  if (only.length && !only.includes(name)) continue;
  process.stderr.write(`bench: ${name} (${file})\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
  });
  try {
    out[name] = JSON.parse(r.stdout);
  } catch {
    failed = true;
    out[name] = { error: `exit ${r.status}`, stdout: r.stdout.slice(-2000) };
  }
}
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/all.json', JSON.stringify(out, null, 2) + '\n');
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
process.exitCode = failed ? 1 : 0;
