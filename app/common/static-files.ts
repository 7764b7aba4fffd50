// Maps a URL path to a file of the built renderer, for both the headless host and the Electron
// app protocol. Everything that could step outside the directory is refused here, once.
import fs from 'node:fs/promises';
import path from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
};

export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export type StaticLookup = { kind: 'file'; file: string; size: number } | { kind: 'not-found' } | { kind: 'bad-request' };

/**
 * `pathname` is the still percent-encoded path of the request URL. Decoding happens exactly once
 * here, and every segment is checked after decoding, so `%2e%2e`, `..%2f` and friends are caught
 * the same way as a literal `..`. Dot-files are refused too (nothing in a Vite build needs them).
 * The resolved path, and its realpath (symlinks), must both stay inside `root`.
 */
export async function lookupStaticFile(root: string, pathname: string): Promise<StaticLookup> {
  if (!pathname.startsWith('/')) return { kind: 'bad-request' };
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { kind: 'bad-request' };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { kind: 'bad-request' };
  const segments = decoded.split('/');
  if (segments.some((s) => s.startsWith('.'))) return { kind: 'not-found' };
  if (decoded.endsWith('/')) decoded += 'index.html';

  let rootReal: string;
  try {
    rootReal = await fs.realpath(root);
  } catch {
    return { kind: 'not-found' };
  }
  const candidate = path.resolve(rootReal, '.' + decoded);
  if (!isInside(rootReal, candidate)) return { kind: 'bad-request' };
  try {
    const real = await fs.realpath(candidate);
    if (!isInside(rootReal, real)) return { kind: 'not-found' };
    const st = await fs.stat(real);
    if (!st.isFile()) return { kind: 'not-found' };
    return { kind: 'file', file: real, size: st.size };
  } catch {
    return { kind: 'not-found' };
  }
}

function isInside(root: string, p: string): boolean {
  return p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}
