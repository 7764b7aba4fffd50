// The egress filter for one run's output: the detectors (known formats, high entropy, and the
// run's own secrets echoed back) in a StreamScanner between the sandbox's streams and everything
// that shows, stores or returns them. Rules the user suppressed are dropped before merging, so
// they are neither redacted nor alerted. The policy decides what a finding does:
//   redact: output released with secrets replaced by [REDACTED:<rule>] (the default);
//   block:  output held back until the run ends, then released only if nothing was found (at
//           most `capBytes` is held; a flood past it stops the run as the output cap would);
//   stop:   redact, and stop the run at the first critical finding (end reason `secret-found`).
import type { EgressPolicy } from '../../shared/egress';
import type { StreamName } from '../../shared/types';
import { contextDetector } from './context';
import { entropyDetector, formatDetector } from './detect';
import { StreamScanner, type Finding, type Released } from './stream';
import type { Detector } from './types';

export interface RunFilterOptions {
  policy: EgressPolicy;
  /** Values the run was given as secrets, and the keys Moat holds: found when echoed back. */
  secrets: string[];
  suppressed: ReadonlySet<string>;
  /** Output bytes the run may keep (limits.outputBytes): bounds what `block` holds. */
  capBytes: number;
  onFinding(f: Finding): void;
  /** Called once the last output has been scanned (after flush). */
  onEnd?(): void;
}

// Made on first use: a process whose runs are scanned in the scan worker (filter-worker.ts) builds
// them there, and here only when it scans an artifact (a few MB it need not hold otherwise).
let shared: { formats: Detector; entropy: Detector } | null = null;
const detectors = (): { formats: Detector; entropy: Detector } => (shared ??= { formats: formatDetector(), entropy: entropyDetector() });

/** Drops a detector's matches of suppressed rules. */
function without(d: Detector, suppressed: ReadonlySet<string>): Detector {
  if (suppressed.size === 0) return d;
  return {
    kind: d.kind,
    maxMatchLength: d.maxMatchLength,
    find: (text) => d.find(text).filter((m) => !suppressed.has(m.rule)),
    ...(d.holdFor ? { holdFor: (t: string) => d.holdFor!(t) } : {}),
  };
}

export class RunFilter {
  readonly policy: EgressPolicy;
  findings = 0;
  critical = 0;
  /** `block`: the output was withheld. */
  blocked = false;
  /** The first critical finding (for the stop reason). */
  firstCritical: Finding | null = null;
  private readonly scanner: StreamScanner;
  private stopHandler: ((why: 'secret-found' | 'output-limit') => void) | null = null;
  private held: Released[] = [];
  private heldBytes = 0;
  private overflow = false;

  constructor(private readonly o: RunFilterOptions) {
    this.policy = o.policy;
    const secrets = o.secrets.filter((s) => s.length > 0);
    const { formats, entropy } = detectors();
    this.scanner = new StreamScanner({
      detectors: [formats, entropy, ...(secrets.length ? [contextDetector(secrets)] : [])].map((d) => without(d, o.suppressed)),
      // The scanner redacts in every policy; holding and stopping are decided here.
      policy: 'redact',
      onFinding: (f) => {
        this.findings++;
        if (f.severity === 'critical') {
          this.critical++;
          if (!this.firstCritical) {
            this.firstCritical = f;
            if (this.policy === 'stop') this.stopHandler?.('secret-found');
          }
        }
        o.onFinding(f);
      },
    });
  }

  /** The runner's stop: called at most once per reason. */
  onStop(fn: (why: 'secret-found' | 'output-limit') => void): void {
    this.stopHandler = fn;
  }

  push(stream: StreamName, chunk: Buffer): Released[] {
    // `block` past the cap: what comes now is dropped, so it is not scanned either.
    if (this.overflow) return [];
    return this.pass(this.scanner.push(stream, chunk));
  }

  flushDue(now?: number): Released[] {
    return this.pass(this.scanner.flushDue(now));
  }

  nextDueAt(): number | null {
    return this.scanner.nextDueAt();
  }

  /** End of the run's output: everything still held, or nothing when `block` found something. */
  flush(): Released[] {
    const tail = this.pass(this.scanner.flush());
    this.o.onEnd?.();
    if (this.policy !== 'block') return tail;
    const out = this.held;
    this.held = [];
    this.heldBytes = 0;
    if (this.findings > 0) {
      this.blocked = true;
      return [];
    }
    return out;
  }

  private pass(released: Released[]): Released[] {
    if (this.policy !== 'block') return released;
    for (const r of released) {
      if (this.overflow) break;
      if (this.heldBytes + r.data.length > this.o.capBytes + 1) {
        // Held up to the cap (and one byte, so the output sink sees it passed); the rest is dropped.
        const room = this.o.capBytes + 1 - this.heldBytes;
        if (room > 0) this.held.push({ stream: r.stream, data: r.data.subarray(0, room) });
        this.heldBytes += Math.max(0, room);
        this.overflow = true;
        this.stopHandler?.('output-limit');
        break;
      }
      this.held.push(r);
      this.heldBytes += r.data.length;
    }
    return [];
  }
}
