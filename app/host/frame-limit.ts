// The largest WebSocket frame the host accepts, derived from the request size limits in
// shared/types.ts, so that every valid request gets through and is answered (INVALID_REQUEST if it
// is not valid) instead of closing the connection. Only frames no valid request can fill are cut.
//
// A frame is JSON text. JSON.stringify writes a string's UTF-8 bytes through unchanged except for
// escapes, and the longest escape is a control byte: one byte becomes six (\u0001). A lone
// surrogate (3 bytes counted) becomes six too, `"` and `\` become two. So a string of n bytes
// costs at most 6n bytes plus its quotes on the wire.
import {
  ALLOW_ENTRY_MAX_BYTES,
  ALLOW_MAX_ITEMS,
  ARTIFACT_MAX_BYTES,
  ARTIFACTS_MAX_ITEMS,
  ARGV_MAX_BYTES,
  ARGV_MAX_ITEMS,
  CODE_MAX_BYTES,
  ENV_MAX_BYTES,
  ENV_MAX_ITEMS,
  FILES_MAX_BYTES,
  FILES_MAX_ITEMS,
  STDIN_MAX_BYTES,
  WORK_PATH_MAX_BYTES,
  type RunRequest,
} from '../../shared/types';

/** The most bytes JSON.stringify writes for one UTF-8 byte of a string: a control byte is `\u00XX`. */
export const JSON_ESCAPE_FACTOR = 6;

/** The longest text JSON.stringify gives any finite number (25 characters). */
const LONGEST_NUMBER = -1.2345678901234567e-6;

/**
 * A sandbox.run call frame with every field present at its longest, except the sized strings,
 * which are empty (their quotes counted). Typed as a Record over RunRequest's keys, so a field
 * added to the schema does not compile until it is added here.
 */
export function runFrameSkeleton(): { type: 'call'; id: number; method: 'sandbox.run'; params: Record<string, unknown> } {
  const params: Record<keyof RunRequest, unknown> = {
    template: 'x'.repeat(32),
    code: '',
    stdin: '',
    stdinBase64: undefined, // exclusive with stdin, and shorter on the wire (base64 is never escaped)
    argv: undefined, // exclusive with code: counted below as the larger of the two
    args: undefined, // only with code: counted with it below
    // Every file at its longest path (nothing in a path is escaped), executable; the data is counted below.
    files: Array.from({ length: FILES_MAX_ITEMS }, () => ({ path: 'a'.repeat(WORK_PATH_MAX_BYTES), data: '', executable: false })),
    artifacts: Array.from({ length: ARTIFACTS_MAX_ITEMS }, () => 'a'.repeat(WORK_PATH_MAX_BYTES)),
    artifactBytes: ARTIFACT_MAX_BYTES,
    limits: {
      timeoutMs: LONGEST_NUMBER,
      memoryMb: LONGEST_NUMBER,
      cpus: LONGEST_NUMBER,
      processes: LONGEST_NUMBER,
      outputBytes: LONGEST_NUMBER,
      onOutputLimit: 'truncate',
    },
    allowRunc: false,
    warm: false,
    keep: false,
    // At its longest, printable ASCII only, every character one JSON escapes (`\"`).
    target: '"'.repeat(200),
    image: 'a'.repeat(255),
    // Every variable's skeleton, its shortest name and an empty value; the values are counted below.
    env: Array.from({ length: ENV_MAX_ITEMS }, (_, i) => ({ name: shortestEnvName(i), value: '', secret: false })),
    egressFilter: false,
    egressPolicy: 'redact',
    // The longest valid entry: `*.` and a 253-character name, with a port (nothing in it is escaped).
    allowNet: Array.from({ length: ALLOW_MAX_ITEMS }, () => 'a'.repeat(LONGEST_ALLOW_ENTRY)),
  };
  return { type: 'call', id: LONGEST_NUMBER, method: 'sandbox.run', params };
}

/** The longest valid allowNet entry: `*.` + a 253-character domain + `:65535`. */
const LONGEST_ALLOW_ENTRY = Math.min(ALLOW_ENTRY_MAX_BYTES, 2 + 253 + 6);

/** The i-th shortest distinct environment variable name (A..Z, a..z, _, then two characters). */
export function shortestEnvName(i: number): string {
  const first = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_';
  const next = first + '0123456789';
  if (i < first.length) return first[i]!;
  const j = i - first.length;
  return first[Math.floor(j / next.length)]! + next[j % next.length]!;
}

/** Env names and values share ENV_MAX_BYTES: the frame is largest when the names are shortest and the values fill the rest. */
function envValuesWireBytes(): number {
  const names = Array.from({ length: ENV_MAX_ITEMS }, (_, i) => shortestEnvName(i)).join('').length;
  return JSON_ESCAPE_FACTOR * (ENV_MAX_BYTES - names);
}

/** Wire bytes of the longest valid argv: each word quoted, commas between, brackets around. */
function argvWireBytes(): number {
  return JSON_ESCAPE_FACTOR * ARGV_MAX_BYTES + 2 * ARGV_MAX_ITEMS + (ARGV_MAX_ITEMS - 1) + 2;
}

/**
 * Base64 of the files' data: FILES_MAX_BYTES decoded in all, each file padded to whole groups of
 * three bytes (at most two more per file), four characters per group, none of them escaped.
 */
function filesWireBytes(): number {
  return 4 * Math.floor((FILES_MAX_BYTES + 2 * FILES_MAX_ITEMS) / 3);
}

/** The largest frame a valid request can take: see the top of this file. */
export function maxRequestFrameBytes(): number {
  const skeleton = Buffer.byteLength(JSON.stringify(runFrameSkeleton()));
  const code = JSON_ESCAPE_FACTOR * CODE_MAX_BYTES;
  // `"argv":` and its comma replace nothing in the skeleton, so they count with it; args (with
  // code only) have the same limits as argv.
  const argv = argvWireBytes() + Buffer.byteLength('"argv":,');
  const args = argvWireBytes() + Buffer.byteLength('"args":,');
  return skeleton + Math.max(code + args, argv) + JSON_ESCAPE_FACTOR * STDIN_MAX_BYTES + envValuesWireBytes() + filesWireBytes();
}
