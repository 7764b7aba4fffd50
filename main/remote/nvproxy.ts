// GPU sandboxes through gVisor's nvproxy: which NVIDIA driver the host runs, whether this runsc
// supports it, and the Docker runtime entry that turns nvproxy on.
//
// nvproxy forwards the sandboxed program's ioctls to the host's NVIDIA driver and must know that
// driver's ABI, so each runsc release supports an explicit list of driver versions
// (`runsc nvproxy list-supported-drivers`). With any other driver a GPU sandbox fails at start with
// an unhelpful EOF, which is why Moat checks the version first and says so plainly.
//
// NOT VERIFIED ON HARDWARE: the tests check the parsing and the generated configuration against
// recorded outputs only; no test machine has an NVIDIA GPU, so no GPU sandbox has been started by
// the tests.

/** The Docker runtime name for GPU sandboxes; CPU sandboxes keep `runsc` (nvproxy off). */
export const NVPROXY_RUNTIME = 'runsc-nvproxy';

export const GPU_UNVERIFIED =
  'GPU sandboxes (gVisor nvproxy) have not been verified on GPU hardware by Moat\u2019s tests: only the driver check and the generated configuration are tested.';

/** A driver version as nvidia-smi prints it: 535.129.03, 550.54.15, 470.82.01, 560.35. */
const DRIVER_RE = /^\d{3,}\.\d+(?:\.\d+)?$/;

export function isDriverVersion(s: string): boolean {
  return DRIVER_RE.test(s);
}

/**
 * The driver version from `nvidia-smi --query-gpu=driver_version --format=csv,noheader` (one line
 * per GPU, all the same on a sane host). Null when there is none; an error when GPUs disagree.
 */
export function parseDriverVersion(out: string): string | null {
  const versions = [
    ...new Set(
      out
        .split('\n')
        .map((l) => l.trim())
        .filter(isDriverVersion),
    ),
  ];
  if (versions.length > 1) throw new Error(`the GPUs report different driver versions (${versions.join(', ')})`);
  return versions[0] ?? null;
}

/** `runsc nvproxy list-supported-drivers`: one version per line; anything else is ignored. */
export function parseSupportedDrivers(out: string): string[] {
  return [
    ...new Set(
      out
        .split('\n')
        .map((l) => l.trim())
        .filter(isDriverVersion),
    ),
  ];
}

export interface Gpu {
  index: number;
  name: string;
  uuid?: string;
}

/** `nvidia-smi -L`: "GPU 0: NVIDIA A10 (UUID: GPU-…)". */
export function parseGpuList(out: string): Gpu[] {
  const gpus: Gpu[] = [];
  for (const line of out.split('\n')) {
    const m = /^GPU (\d+): (.+?)(?: \(UUID: ([^)]+)\))?\s*$/.exec(line.trim());
    if (m) gpus.push({ index: Number(m[1]), name: m[2]!, uuid: m[3] });
  }
  return gpus;
}

/** Exact match: nvproxy knows each driver's ABI by its full version, not by its branch. */
export function nvproxySupported(driver: string, list: readonly string[]): boolean {
  return list.includes(driver.trim());
}

/** The sentence the checklist shows for a driver against a runsc's list. */
export function describeNvproxySupport(driver: string, list: readonly string[]): string {
  if (list.length === 0) return `This runsc lists no supported NVIDIA drivers (too old for nvproxy?).`;
  if (nvproxySupported(driver, list)) return `Driver ${driver} is supported by this runsc's nvproxy.`;
  const branch = driver.split('.')[0]!;
  const same = list.filter((v) => v.startsWith(`${branch}.`));
  return (
    `Driver ${driver} is not supported by this runsc's nvproxy: GPU sandboxes would fail to start (with an unhelpful EOF). ` +
    (same.length
      ? `Supported ${branch} drivers: ${same.join(', ')}.`
      : `Supported: ${list.slice(-6).join(', ')}${list.length > 6 ? ', …' : ''}.`)
  );
}

export interface RuntimeEntry {
  path: string;
  runtimeArgs: string[];
}

/**
 * The daemon.json runtime entry for GPU sandboxes. gVisor documents `--nvproxy` as the flag that
 * enables GPU support, with Docker's own `--gpus` on the container (which needs the NVIDIA
 * Container Toolkit's hook on the host). `--nvproxy-docker` is the older way (runsc injects
 * nvidia-container-runtime-hook itself); current runsc keeps it only for backward compatibility,
 * so it is off unless asked for (an old runsc). `--network=none` as for CPU sandboxes: Moat's
 * sandboxes have no network.
 */
export function nvproxyRuntimeEntry(runscPath: string, opts: { dockerHook?: boolean } = {}): RuntimeEntry {
  const runtimeArgs = ['--network=none', '--nvproxy'];
  if (opts.dockerHook) runtimeArgs.push('--nvproxy-docker');
  return { path: runscPath, runtimeArgs };
}

/** The CPU sandboxes' runtime entry (what scripts/setup.sh registers locally). */
export function runscRuntimeEntry(runscPath: string): RuntimeEntry {
  return { path: runscPath, runtimeArgs: ['--network=none'] };
}
