// `moat scan [--json] [FILE...]`: the egress filter's detectors over files (or stdin), for checking
// a log or an artifact before it leaves the machine. Files are streamed through the same
// StreamScanner a run's output goes through, so a big file is never read whole; byte offsets are
// mapped to line and column (1-based; the column counts bytes) from the newlines seen so far.
// Exit: 0 nothing found, 1 something found, 2 a file could not be read (the others are still
// scanned) or another error.
import type { Command } from 'commander';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { entropyDetector, formatDetector } from '../../main/egress/detect';
import { StreamScanner, type Finding } from '../../main/egress/stream';

export interface ScanFinding {
  file: string;
  line: number;
  column: number;
  detector: Finding['detector'];
  rule: string;
  severity: Finding['severity'];
  preview: string;
}

export function registerScan(program: Command): void {
  program
    .command('scan')
    .description('scan files (or stdin) for secrets, as the egress filter does; exit 1 if any is found')
    .argument('[files...]', 'files to scan (- or none: stdin)')
    .option('--json', 'one JSON object per finding per line: file, line, column, detector, rule, severity, preview')
    .action(async (files: string[], opts: { json?: boolean }) => {
      process.exitCode = await scanCommand(files.length ? files : ['-'], Boolean(opts.json));
    });
}

async function scanCommand(files: string[], json: boolean): Promise<number> {
  let found = 0;
  let failed = 0;
  for (const file of files) {
    try {
      const input = file === '-' ? process.stdin : createReadStream(file);
      await scanStream(file, input, (f) => {
        found++;
        if (json) process.stdout.write(JSON.stringify(f) + '\n');
        else process.stdout.write(`${f.file}:${f.line}:${f.column}: ${f.severity} ${f.rule} ${f.preview}\n`);
      });
    } catch (err) {
      failed++;
      process.stderr.write(`moat: scan: ${file}: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  if (!json || failed) {
    const unread = failed ? `, ${failed} could not be read` : '';
    process.stderr.write(`moat: scan: ${found} finding(s) in ${files.length} input(s)${unread}\n`);
  }
  return failed ? 2 : found ? 1 : 0;
}

/** Scans one stream, reporting each finding with its line and column. */
export async function scanStream(file: string, input: Readable, report: (f: ScanFinding) => void): Promise<void> {
  const pending: Finding[] = [];
  const scanner = new StreamScanner({
    detectors: [formatDetector(), entropyDetector()],
    // Only findings are wanted; nothing is released, so nothing is copied for output.
    policy: 'block',
    onFinding: (f) => pending.push(f),
  });
  const lines = new LineIndex();
  const drain = (): void => {
    for (const f of pending.splice(0)) {
      const { line, column } = lines.at(f.offset);
      report({ file, line, column, detector: f.detector, rule: f.rule, severity: f.severity, preview: f.preview });
    }
    lines.forget(scanner.windowStart('stdout'));
  };
  for await (const chunk of input) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    lines.add(buf);
    scanner.push('stdout', buf);
    drain();
  }
  scanner.flush();
  drain();
}

/** Newline offsets of the part of the stream findings can still point into, plus a count of those before. */
class LineIndex {
  private newlines: number[] = [];
  private head = 0;
  private linesBefore = 0;
  private lastForgotten = -1;
  private end = 0;

  add(buf: Buffer): void {
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) this.newlines.push(this.end + i);
    this.end += buf.length;
  }

  at(offset: number): { line: number; column: number } {
    let lo = this.head;
    let hi = this.newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.newlines[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    const lineStart = lo > this.head ? this.newlines[lo - 1]! + 1 : this.lastForgotten + 1;
    return { line: this.linesBefore + (lo - this.head) + 1, column: offset - lineStart + 1 };
  }

  /** Drops newlines before `offset` (no finding can point there any more). */
  forget(offset: number): void {
    while (this.head < this.newlines.length && this.newlines[this.head]! < offset) {
      this.lastForgotten = this.newlines[this.head++]!;
      this.linesBefore++;
    }
    if (this.head > 4096 && this.head * 2 > this.newlines.length) {
      this.newlines = this.newlines.slice(this.head);
      this.head = 0;
    }
  }
}
