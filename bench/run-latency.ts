// `npm run bench`: run -> exit latency of `print(1)` in Python, side by side in one run:
//   (a) the Docker CLI: docker run --rm --runtime=<gvisor> <image> python3 -c 'print(1)'
//   (b) Moat cold (no pool)      (c) Moat warm (pool)
// plus Moat's idle RSS (the headless host process) and the footprint of one idle warm sandbox.
// Remote, through a real sshd on 127.0.0.1 in front of the same engine (one SSH connection, the
// Docker API over streamlocal channels):
//   (d) Moat remote warm (the host's own pool)   (e) docker -H ssh://... run --runtime=<gvisor>
// Prints JSON and writes it to bench/results/latest.json. Goals: warm p50 <= 0.3 x (a) p50;
// remote warm p50 <= 1.5 x local warm p50 and <= 0.3 x (e) p50.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { DockerEngine } from '../main/sandbox/docker-engine';
import { resolveImage } from '../main/sandbox/images';
import { findTemplate } from '../main/sandbox/templates';
import { toSample } from '../main/metrics/container-stats';
import { FileVault } from '../main/credentials/file-vault';
import { startServices, tempDir } from '../test/helpers/engine';
import { startSshd } from '../test/helpers/sshd';

const exec = promisify(execFile);
const N = Number(process.env.BENCH_RUNS ?? 20);
const GOAL_RATIO = 0.3;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return Math.round(s[i]! * 10) / 10;
}
const summary = (xs: number[]) => ({ runs: xs.length, p50_ms: percentile(xs, 50), p95_ms: percentile(xs, 95), min_ms: percentile(xs, 0) });

function rssKbOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** Host processes whose command line names the container (runsc sandbox, gofer, shim). */
function hostRssKbOfContainer(id: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.includes(id)) total += rssKbOf(Number(entry));
    } catch {
      // process ended
    }
  }
  return total;
}

async function main(): Promise<void> {
  const engine = new DockerEngine();
  const state = await engine.refresh();
  if (!state.connected || !state.gvisorRuntime) throw new Error(`engine not ready: ${state.error ?? 'no gVisor runtime'}`);
  const template = findTemplate('python')!;
  const { image } = await resolveImage(engine.docker, template, { preferOfficial: true });
  if (!image) throw new Error('no python image: run `moat images build`');
  const runtime = state.gvisorRuntime;

  // (a) Docker CLI.
  const cli: number[] = [];
  for (let i = 0; i < N + 1; i++) {
    const t0 = performance.now();
    const { stdout } = await exec('docker', ['run', '--rm', `--runtime=${runtime}`, image, 'python3', '-c', 'print(1)']);
    if (stdout !== '1\n') throw new Error(`docker run printed ${JSON.stringify(stdout)}`);
    if (i > 0) cli.push(performance.now() - t0); // first one warms the page cache
  }

  // (b) Moat cold and (c) Moat warm: from the API call to the recorded end of the run.
  const measure = async (pool: boolean): Promise<{ total: number[]; firstOutput: number[] }> => {
    const services = await startServices({ pool });
    const total: number[] = [];
    const firstOutput: number[] = [];
    try {
      for (let i = 0; i < N + 1; i++) {
        if (pool && !(await services.sandboxes.poolReady(60_000))) throw new Error('pool did not fill');
        let first = 0;
        let elapsed = 0;
        const t0 = performance.now();
        // The user sees the result when the run is recorded as finished; removing the used
        // sandbox happens after that and is not part of the latency.
        const off = services.onEvent((e, p) => {
          if (e === 'run.output' && first === 0) first = performance.now() - t0;
          if (e === 'run.updated' && (p as { status: string }).status === 'finished' && elapsed === 0) elapsed = performance.now() - t0;
        });
        const rec = await services.sandboxes.run({ template: 'python', code: 'print(1)', warm: pool });
        const done = (await services.sandboxes.whenDone(rec.id))!;
        off();
        if (done.endReason !== 'exited' || done.exitCode !== 0 || done.warm !== pool) throw new Error(`bad run: ${JSON.stringify(done)}`);
        if (i > 0) {
          total.push(elapsed);
          firstOutput.push(first);
        }
      }
    } finally {
      await services.dispose();
    }
    return { total, firstOutput };
  };
  const cold = await measure(false);
  const warm = await measure(true);

  // (d) Moat remote warm and (e) the Docker CLI over SSH, through the same loopback sshd.
  const sshd = await startSshd();
  const remoteWarm: number[] = [];
  const cliSsh: number[] = [];
  try {
    const vaultDir = tempDir('moat-bench-vault-');
    const vault = await FileVault.open(join(vaultDir.path, 'keys.enc'), 'bench', { N: 1024, r: 8, p: 1 });
    const services = await startServices({ pool: true, vault });
    try {
      const added = await services.handlers['hosts.add']({
        name: 'bench',
        url: sshd.url,
        privateKey: sshd.privateKey,
        trustFingerprint: sshd.fingerprint(),
      });
      if (added.status !== 'added') throw new Error('the loopback host was not added');
      const remote = await services.targets.manager('bench');
      for (let i = 0; i < N + 1; i++) {
        if (!(await remote.poolReady(60_000))) throw new Error('remote pool did not fill');
        let elapsed = 0;
        const t0 = performance.now();
        const off = services.onEvent((e, p) => {
          if (e === 'run.updated' && (p as { status: string }).status === 'finished' && elapsed === 0) elapsed = performance.now() - t0;
        });
        const rec = await remote.run({ template: 'python', code: 'print(1)', warm: true });
        const done = (await remote.whenDone(rec.id))!;
        off();
        if (done.endReason !== 'exited' || done.exitCode !== 0 || !done.warm || done.target !== 'ssh:bench')
          throw new Error(`bad remote run: ${JSON.stringify(done)}`);
        if (i > 0) remoteWarm.push(elapsed);
      }
    } finally {
      await services.dispose();
      vaultDir.cleanup();
    }
    // The Docker CLI's own SSH transport runs ssh(1) for every command: give it the key and the
    // pinned host key in a config of its own.
    const home = tempDir('moat-bench-ssh-');
    try {
      mkdirSync(join(home.path, '.ssh'), { mode: 0o700 });
      writeFileSync(join(home.path, '.ssh', 'known_hosts'), `[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey()}\n`);
      writeFileSync(
        join(home.path, '.ssh', 'config'),
        `Host 127.0.0.1\n  Port ${sshd.port}\n  User ${sshd.user}\n  IdentityFile ${sshd.keyFile}\n  IdentitiesOnly yes\n  UserKnownHostsFile ${join(home.path, '.ssh', 'known_hosts')}\n  StrictHostKeyChecking yes\n`,
        { mode: 0o600 },
      );
      // ssh(1) reads ~/.ssh from the password database, not $HOME: a wrapper first in PATH hands it
      // this config instead.
      const config = join(home.path, '.ssh', 'config');
      mkdirSync(join(home.path, 'bin'));
      writeFileSync(join(home.path, 'bin', 'ssh'), `#!/bin/sh\nexec /usr/bin/ssh -F ${config} "$@"\n`, { mode: 0o755 });
      const env = { ...process.env, PATH: `${join(home.path, 'bin')}:${process.env.PATH ?? ''}` };
      for (let i = 0; i < N + 1; i++) {
        const t0 = performance.now();
        const { stdout } = await exec(
          'docker',
          ['-H', `ssh://${sshd.user}@127.0.0.1:${sshd.port}`, 'run', '--rm', `--runtime=${runtime}`, image, 'python3', '-c', 'print(1)'],
          { env },
        );
        if (stdout !== '1\n') throw new Error(`docker -H ssh:// run printed ${JSON.stringify(stdout)}`);
        if (i > 0) cliSsh.push(performance.now() - t0);
      }
    } finally {
      home.cleanup();
    }
  } finally {
    await sshd.close();
  }

  // Idle footprints: the headless host (what a user leaves running), and one idle warm sandbox.
  const host = spawn(process.execPath, ['bin/moat.js', 'serve', '--port', '0'], {
    env: { ...process.env, MOAT_DATA_DIR: join('/tmp', `moat-bench-${process.pid}`) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    // stdout is a pipe here, so the host names its URL file instead of printing the token.
    host.stdout.on('data', (d: Buffer) => d.toString().includes('Moat is running') && resolve());
    host.once('exit', (c) => reject(new Error(`moat serve exited ${c}`)));
    setTimeout(() => reject(new Error('moat serve did not start within 60 s')), 60_000).unref();
  });
  const poolDeadline = Date.now() + 60_000;
  let warmIds: string[] = [];
  while (Date.now() < poolDeadline) {
    warmIds = (await engine.listManaged()).filter((c) => c.labels['moat.pool'] && c.state === 'running').map((c) => c.id);
    if (warmIds.length >= 2) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  await new Promise((r) => setTimeout(r, 3000));
  const hostRssKb = rssKbOf(host.pid!);
  const oneWarm = warmIds[0]!;
  const raw = (await engine.docker.getContainer(oneWarm).stats({ stream: false })) as Parameters<typeof toSample>[1];
  const warmCgroupBytes = toSample('bench', raw)?.memoryBytes ?? 0;
  const warmHostRssKb = hostRssKbOfContainer(oneWarm);
  host.kill('SIGTERM');
  await new Promise((r) => host.once('exit', r));

  const a = summary(cli);
  const c = summary(warm.total);
  const d = summary(remoteWarm);
  const e = summary(cliSsh);
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: (await import('node:os')).cpus().length, docker: state.version, runtime, image },
    runs_per_case: N,
    run_to_exit: {
      a_docker_cli: a,
      b_moat_cold: summary(cold.total),
      c_moat_warm: c,
      d_moat_remote_warm_ssh: d,
      e_docker_cli_over_ssh: e,
    },
    first_output: { b_moat_cold: summary(cold.firstOutput), c_moat_warm: summary(warm.firstOutput) },
    goal: {
      warm_p50_over_cli_p50: Math.round((c.p50_ms / a.p50_ms) * 1000) / 1000,
      target_at_most: GOAL_RATIO,
      met: c.p50_ms <= GOAL_RATIO * a.p50_ms,
    },
    remote_goal: {
      remote_warm_p50_over_local_warm_p50: Math.round((d.p50_ms / c.p50_ms) * 1000) / 1000,
      target_at_most_local: 1.5,
      remote_warm_p50_over_cli_ssh_p50: Math.round((d.p50_ms / e.p50_ms) * 1000) / 1000,
      target_at_most_cli: GOAL_RATIO,
      met: d.p50_ms <= 1.5 * c.p50_ms && d.p50_ms <= GOAL_RATIO * e.p50_ms,
    },
    idle: {
      moat_serve_rss_mib: Math.round(hostRssKb / 102.4) / 10,
      warm_sandbox_cgroup_memory_mib: Math.round(warmCgroupBytes / 104857.6) / 10,
      warm_sandbox_host_rss_mib: Math.round(warmHostRssKb / 102.4) / 10,
    },
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/latest.json', JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
