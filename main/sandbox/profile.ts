// The hardened sandbox profile: every container Moat creates goes through `hardenedCreateOptions`.
// Loosening any of this is a visible, explicit choice elsewhere (e.g. runc opt-in), never a default.
import type Dockerode from 'dockerode';
import type { Limits } from '../../shared/types';
import { bootstrapArgv } from './bootstrap';
import type { TemplateDef } from './templates';
import { ownerLabels } from './labels';
import { LABEL_SANDBOX } from './tracker';

/** Size caps of the writable tmpfs mounts; the root filesystem itself is read-only. */
export const TMPFS_MB = { tmp: 64, work: 256 } as const;

/**
 * The program's own limit is RLIMIT_NPROC (`processes`): gVisor enforces it on the program's
 * processes and threads, which get a clean fork error (EAGAIN) at the limit. The cgroup PID limit is
 * only a backstop above it, because it counts gVisor's own host threads too, and reaching it kills
 * the whole sandbox. Measured with Debian's runsc 20221219 (ptrace platform), tasks in the cgroup:
 * about 40 idle; +5.4 per forked process at rest and up to +7.8 while forking fast; threads cost
 * next to nothing; a shell fork bomb churning at the limit peaked at 105 (limit 8), 1471 (32),
 * 2222 (64), 3387 (128), 3902 (256) and 4463 (512). 1024 + 40 per process keeps every one of those
 * at most 65% of the backstop. It is capped at 8192 so that a machine with Linux's default
 * pid_max (32768) keeps room for itself; at the highest `processes` setting (256) the measured peak
 * is below half of the cap.
 */
export function pidsLimitFor(limits: Pick<Limits, 'processes'>): number {
  return Math.min(PIDS_BACKSTOP_MAX, 1024 + 40 * limits.processes);
}

export const PIDS_BACKSTOP_MAX = 8192;

export interface ProfileInput {
  template: TemplateDef;
  image: string;
  runtime: string;
  limits: Limits;
  runId: string | null;
  /** Pool key when the container is created for the warm pool. */
  poolKey?: string;
  /** The tracker's key for this container (see tracker.ts). */
  sandboxKey: string;
  /** For a warm sandbox: false skips the template's warm-up (pool.ts spareCpu). */
  warmup?: boolean;
  /** Overrides the PID backstop (pidsLimitFor); a lower one is how the backstop itself is tested. */
  pidsLimit?: number;
  /** Bind mounts a run with network egress needs (its proxy socket's directory, the forwarder); none otherwise. */
  mounts?: { Type: 'bind'; Source: string; Target: string; ReadOnly: boolean }[];
}

export function hardenedCreateOptions(p: ProfileInput): Dockerode.ContainerCreateOptions {
  const memoryBytes = p.limits.memoryMb * 1024 * 1024;
  const labels: Record<string, string> = { ...ownerLabels() };
  if (p.runId) labels['moat.run'] = p.runId;
  if (p.poolKey) labels['moat.pool'] = p.poolKey;
  labels[LABEL_SANDBOX] = p.sandboxKey;
  return {
    Image: p.image,
    Cmd: bootstrapArgv(p.template, { warm: p.poolKey !== undefined && p.warmup !== false }),
    Entrypoint: [],
    User: '65534:65534',
    WorkingDir: '/work',
    Env: ['HOME=/work', 'PYTHONDONTWRITEBYTECODE=1', 'LANG=C.UTF-8', 'PATH=/usr/local/bin:/usr/bin:/bin'],
    Labels: labels,
    NetworkDisabled: true,
    OpenStdin: true,
    // Closing the attach stream's stdin after the script closes the sandbox's stdin (EOF for `sh -s`).
    StdinOnce: true,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    StopSignal: 'SIGKILL',
    HostConfig: {
      Runtime: p.runtime,
      NetworkMode: 'none',
      ReadonlyRootfs: true,
      Tmpfs: {
        '/tmp': `rw,nosuid,nodev,noexec,size=${TMPFS_MB.tmp}m,mode=1777`,
        // exec: Docker makes a tmpfs noexec unless told; compiled templates run their binary from /work.
        '/work': `rw,exec,nosuid,nodev,size=${TMPFS_MB.work}m,mode=1777`,
      },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      Memory: memoryBytes,
      MemorySwap: memoryBytes,
      NanoCpus: Math.round(p.limits.cpus * 1e9),
      PidsLimit: p.pidsLimit ?? pidsLimitFor(p.limits),
      Ulimits: [
        { Name: 'nofile', Soft: 1024, Hard: 1024 },
        { Name: 'nproc', Soft: p.limits.processes, Hard: p.limits.processes },
        { Name: 'core', Soft: 0, Hard: 0 },
      ],
      // A flood must not be copied to the host's disk by Docker's json-file logger; Moat reads
      // the output from the attach stream and keeps only what its cap allows.
      LogConfig: { Type: 'none', Config: {} },
      AutoRemove: false,
      Binds: [],
      Mounts: p.mounts ?? [],
      Devices: [],
      IpcMode: 'private',
      PidMode: '',
      UsernsMode: '',
      ShmSize: 16 * 1024 * 1024,
      RestartPolicy: { Name: 'no' },
      Init: false,
    },
  };
}
