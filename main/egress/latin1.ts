// The bytes behind a latin1 view, for the detectors' byte loops. The stream scanner hands the
// detectors `buf.toString('latin1')` (character i = byte i) and says which bytes those are
// (withLatin1View), so a loop over every character reads the bytes, about a third faster in V8
// than charCodeAt on the string. Text from anywhere else (detectAll called on a string, as the
// tests do) is copied into bytes once per text, each character above 0xff as 0: no keyword or
// token character is above 0xff, and 0 is neither, so the loops see what the string would show.

const NONE = new Uint8Array(0);
let viewText: string | null = null;
let viewBytes: Uint8Array = NONE;
/** Whether viewBytes are the text's characters exactly (none above 0xff). */
let viewExact = false;
let scratch = new Uint8Array(4096);
const SCRATCH_MAX = 1 << 20;

/** Runs `fn` with `bytes` known as the latin1 bytes of `text` (bytes[i] = text.charCodeAt(i)). */
export function withLatin1View<T>(text: string, bytes: Uint8Array, fn: () => T): T {
  viewText = text;
  viewBytes = bytes;
  viewExact = true;
  try {
    return fn();
  } finally {
    // The bytes are the caller's buffer, reused after this: never read them for a later text.
    viewText = null;
    viewBytes = NONE;
  }
}

/** The bytes of `text` when they are its characters exactly (a latin1 view), else null. */
export function latin1View(text: string): Uint8Array | null {
  return text === viewText && viewExact ? viewBytes : null;
}

/** The bytes of `text` for the byte loops: the caller's, inside withLatin1View, else a copy. */
export function latin1Bytes(text: string): Uint8Array {
  if (text === viewText) return viewBytes;
  const n = text.length;
  // A reused buffer for the usual window sizes; a bigger text gets its own (not kept after it).
  if (scratch.length < n && n <= SCRATCH_MAX) scratch = new Uint8Array(Math.min(SCRATCH_MAX, Math.max(n, 2 * scratch.length)));
  const b = n <= scratch.length ? scratch : new Uint8Array(n);
  let wide = false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) wide = true;
    b[i] = c > 0xff ? 0 : c;
  }
  viewText = text;
  viewBytes = b.subarray(0, n);
  viewExact = !wide;
  return viewBytes;
}
