// The hardened sandbox profile: every container Moat creates goes through `hardenedCreateOptions`.
// Loosening any of this is a visible, explicit choice elsewhere (e.g. runc opt-in), never a default.
import type Dockerode from 'dockerode';
import type { Limits } from '../../shared/types';
import { bootstrapArgv } from './bootstrap';
import type { TemplateDef } from './templates';
import { ownerLabels } from './labels';

/** Size caps of the writable tmpfs mounts; the root filesystem itself is read-only. */
export const TMPFS_MB = { tmp: 64, work: 256 } as const;

/**
 * gVisor's sandbox runs its own host threads (about 40 idle) inside the container's PID cgroup, and
 * exceeding that limit kills the whole sandbox. So the cgroup PID limit is a backstop set well above
 * the program's own limit, which is RLIMIT_NPROC: that gives the program a clean fork error instead.
 */
export function pidsLimitFor(limits: Limits): number {
  return Math.max(256, limits.processes * 2 + 128);
}

export interface ProfileInput {
  template: TemplateDef;
  image: string;
  runtime: string;
  limits: Limits;
  runId: string | null;
  /** Pool key when the container is created for the warm pool. */
  poolKey?: string;
}

export function hardenedCreateOptions(p: ProfileInput): Dockerode.ContainerCreateOptions {
  const memoryBytes = p.limits.memoryMb * 1024 * 1024;
  const labels: Record<string, string> = { ...ownerLabels() };
  if (p.runId) labels['moat.run'] = p.runId;
  if (p.poolKey) labels['moat.pool'] = p.poolKey;
  return {
    Image: p.image,
    Cmd: bootstrapArgv(p.template, { warm: p.poolKey !== undefined }),
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
        '/work': `rw,nosuid,nodev,size=${TMPFS_MB.work}m,mode=1777`,
      },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      Memory: memoryBytes,
      MemorySwap: memoryBytes,
      NanoCpus: Math.round(p.limits.cpus * 1e9),
      PidsLimit: pidsLimitFor(p.limits),
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
      Mounts: [],
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
