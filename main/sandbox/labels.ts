// Every container Moat creates carries these labels, so that containers left behind by a crash
// (kill -9, power loss, a lost daemon connection) are found and removed at the next start, without
// touching the live containers of another Moat process (e.g. `moat serve` while `moat run` runs).
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export const LABEL_MANAGED = 'moat.managed';
export const LABEL_OWNER = 'moat.owner';
/** The engine that made the container ('local', 'ssh:<host>'), stamped by the engine itself. */
export const LABEL_ENGINE = 'moat.engine';

/** Process start time in clock ticks since boot (Linux), to tell a live owner from a reused PID. */
function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may contain spaces and parentheses.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

let cachedOwner: string | null = null;

export function ownerId(): string {
  cachedOwner ??= `${hostname()}:${process.pid}:${processStartTime(process.pid) ?? '0'}`;
  return cachedOwner;
}

export function ownerLabels(): Record<string, string> {
  return { [LABEL_MANAGED]: 'true', [LABEL_OWNER]: ownerId() };
}

/** True when the Moat process that owns a container is still running on this host. */
export function ownerAlive(owner: string | undefined): boolean {
  if (!owner) return false;
  const [host, pidText, start] = owner.split(':');
  if (host !== hostname()) return true; // Another machine's engine user: never ours to judge.
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return owner === ownerId();
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const now = processStartTime(pid);
  return now === null || start === '0' || now === start;
}
