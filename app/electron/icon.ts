// Moat's icon, drawn from code: a keep (a light square on dark ground) inside a moat (a blue ring), and for the
// tray a red dot when something needs the user. One function serves the tray (drawn at run time,
// so there is no image file to find inside or outside app.asar) and the packages' icon
// (build/icon.png, written by scripts/icons.ts). No 'electron' import.

export interface IconOptions {
  /** The red "needs you" dot in the corner. */
  attention?: boolean;
}

type RGBA = [number, number, number, number];

const WATER: RGBA = [47, 111, 235, 255];
const KEEP: RGBA = [236, 240, 247, 255];
const ALERT: RGBA = [229, 57, 53, 255];
const GROUND: RGBA = [27, 36, 51, 255];
const CLEAR: RGBA = [0, 0, 0, 0];

/** Which colour a point (in 0..1 icon coordinates) has. */
function colourAt(x: number, y: number, o: IconOptions): RGBA {
  if (o.attention) {
    const dx = x - 0.8;
    const dy = y - 0.2;
    if (dx * dx + dy * dy <= 0.2 * 0.2) return ALERT;
  }
  const dx = x - 0.5;
  const dy = y - 0.5;
  const r = Math.sqrt(dx * dx + dy * dy);
  if (Math.abs(dx) <= 0.2 && Math.abs(dy) <= 0.2) {
    // Battlements: two notches cut in the keep's top edge.
    const notch = dy < -0.12 && Math.floor((dx + 0.2) / (0.4 / 5)) % 2 === 1;
    return notch ? GROUND : KEEP;
  }
  if (r < 0.34) return GROUND;
  if (r <= 0.48) return WATER;
  return CLEAR;
}

/**
 * size x size pixels, RGBA, row by row, 4x4 supersampled so edges are smooth at tray sizes.
 * Alpha is straight (not premultiplied).
 */
export function drawIcon(size: number, o: IconOptions = {}): Uint8Array {
  if (!Number.isInteger(size) || size < 8 || size > 1024) throw new RangeError(`icon size must be an integer 8..1024, got ${size}`);
  const out = new Uint8Array(size * size * 4);
  const S = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const c = colourAt((px + (sx + 0.5) / S) / size, (py + (sy + 0.5) / S) / size, o);
          r += c[0] * c[3];
          g += c[1] * c[3];
          b += c[2] * c[3];
          a += c[3];
        }
      }
      const i = (py * size + px) * 4;
      out[i] = a ? Math.round(r / a) : 0;
      out[i + 1] = a ? Math.round(g / a) : 0;
      out[i + 2] = a ? Math.round(b / a) : 0;
      out[i + 3] = Math.round(a / (S * S));
    }
  }
  return out;
}

/** The same pixels as BGRA with premultiplied alpha: what nativeImage.createFromBitmap takes. */
export function toBitmap(rgba: Uint8Array): Buffer {
  const out = Buffer.alloc(rgba.length);
  for (let i = 0; i < rgba.length; i += 4) {
    const a = rgba[i + 3]!;
    out[i] = Math.round((rgba[i + 2]! * a) / 255);
    out[i + 1] = Math.round((rgba[i + 1]! * a) / 255);
    out[i + 2] = Math.round((rgba[i]! * a) / 255);
    out[i + 3] = a;
  }
  return out;
}
