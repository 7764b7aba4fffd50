// The remote counterpart of sandbox/pids-watch.ts: the sandbox's PID cgroup is on the host, so a
// small sh loop there reads it (builtins only, but for `sleep`) every 50 ms and streams
// "<tasks> <refused forks>" lines back over one exec channel of the host's SSH connection, until
// the cgroup is gone. Under gVisor a sandbox that reaches its PID limit dies within milliseconds,
// and Docker's stats stream (one sample a second) usually misses the evidence; this does not.
import { shQuote } from '../sandbox/bootstrap';
import type { PidsWatch } from '../sandbox/engine';
import type { SshConnection } from './ssh';

/** The host-side loop for one container (its id is checked to be hex before it gets here). */
export function pidsWatchScript(id: string): string {
  const dirs = [
    `/sys/fs/cgroup/pids/docker/${id}`,
    `/sys/fs/cgroup/pids/system.slice/docker-${id}.scope`,
    `/sys/fs/cgroup/system.slice/docker-${id}.scope`,
    `/sys/fs/cgroup/docker/${id}`,
  ];
  return [
    'd=; n=0',
    'while [ -z "$d" ]; do',
    `  for c in ${dirs.join(' ')}; do [ -r "$c/pids.current" ] && d=$c && break; done`,
    '  [ -n "$d" ] && break',
    '  n=$((n+1)); [ "$n" -gt 60 ] && exit 0',
    '  sleep 0.05',
    'done',
    'while read -r cur < "$d/pids.current"; do',
    '  m=0; while read -r k v; do [ "$k" = max ] && m=$v; done < "$d/pids.events"',
    '  echo "$cur $m"',
    '  sleep 0.05',
    'done 2>/dev/null',
  ].join('\n');
}

export function watchRemotePids(conn: SshConnection, id: string): PidsWatch {
  let peak = 0;
  let limitHit = false;
  let stopped = false;
  let close: (() => void) | null = null;
  if (/^[0-9a-f]{12,64}$/.test(id)) {
    conn.execStream(`sh -c ${shQuote(pidsWatchScript(id))}`).then(
      (ch) => {
        if (stopped) return ch.close();
        close = () => ch.close();
        let buf = '';
        ch.on('data', (b: Buffer) => {
          buf += b.toString('latin1');
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const [cur, max] = buf.slice(0, nl).trim().split(' ').map(Number);
            buf = buf.slice(nl + 1);
            if (Number.isFinite(cur)) peak = Math.max(peak, cur!);
            if (Number.isFinite(max) && max! > 0) limitHit = true;
          }
          if (buf.length > 4096) buf = '';
        });
        ch.stderr.resume();
        ch.on('error', () => {});
      },
      () => {}, // no watch: the run falls back to the stats stream's samples
    );
  }
  return {
    get peak() {
      return peak;
    },
    get limitHit() {
      return limitHit;
    },
    stop() {
      stopped = true;
      close?.();
    },
  };
}
