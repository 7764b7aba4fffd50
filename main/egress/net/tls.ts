// Reading the server name (SNI) from a TLS ClientHello without terminating TLS: the proxy peeks at
// the first bytes a client sends through a tunnel and compares the name it asks the server for
// with the name it asked the proxy for.

export type ClientHelloPeek =
  /** Not a TLS handshake record. */
  | { kind: 'not-tls' }
  /** A TLS handshake so far; more bytes are needed. */
  | { kind: 'incomplete' }
  /** Looks like TLS, but is not a well-formed ClientHello. */
  | { kind: 'malformed'; why: string }
  /** A ClientHello; `sni` when it names a host. */
  | { kind: 'hello'; sni: string | null };

/** Bytes the proxy waits for at most before it calls a ClientHello malformed (TLS allows 2^14 per record; a hello may span records). */
export const MAX_HELLO_BYTES = 64 * 1024;

/** TLS alert record (fatal, access_denied), sent before closing a refused TLS tunnel. */
export const TLS_ACCESS_DENIED_ALERT = Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x31]);

/** Parses the ClientHello at the start of `buf` (it may arrive in several TLS records). */
export function peekClientHello(buf: Buffer): ClientHelloPeek {
  if (buf.length === 0) return { kind: 'incomplete' };
  if (buf[0] !== 0x16) return { kind: 'not-tls' };
  if (buf.length >= 2 && buf[1] !== 0x03) return { kind: 'not-tls' };
  // Reassemble the handshake bytes from consecutive handshake records.
  const parts: Buffer[] = [];
  let have = 0;
  let need = -1;
  let off = 0;
  for (;;) {
    if (need >= 0 && have >= need) break;
    if (off + 5 > buf.length)
      return buf.length > MAX_HELLO_BYTES ? { kind: 'malformed', why: 'ClientHello too large' } : { kind: 'incomplete' };
    if (buf[off] !== 0x16) return { kind: 'malformed', why: 'handshake interrupted by another record type' };
    const len = buf.readUInt16BE(off + 3);
    if (len === 0 || len > 0x4800) return { kind: 'malformed', why: 'bad record length' };
    if (off + 5 + len > buf.length)
      return buf.length > MAX_HELLO_BYTES ? { kind: 'malformed', why: 'ClientHello too large' } : { kind: 'incomplete' };
    parts.push(buf.subarray(off + 5, off + 5 + len));
    have += len;
    off += 5 + len;
    if (need < 0 && have >= 4) {
      const hs = Buffer.concat(parts);
      if (hs[0] !== 0x01) return { kind: 'malformed', why: 'first handshake message is not a ClientHello' };
      need = 4 + hs.readUIntBE(1, 3);
      if (need > MAX_HELLO_BYTES) return { kind: 'malformed', why: 'ClientHello too large' };
    }
  }
  const hs = Buffer.concat(parts).subarray(4, need);
  return parseHelloBody(hs);
}

function parseHelloBody(b: Buffer): ClientHelloPeek {
  const bad = (why: string): ClientHelloPeek => ({ kind: 'malformed', why });
  let p = 2 + 32; // client_version, random
  if (p + 1 > b.length) return bad('truncated');
  p += 1 + b[p]!; // session_id
  if (p + 2 > b.length) return bad('truncated');
  p += 2 + b.readUInt16BE(p); // cipher_suites
  if (p + 1 > b.length) return bad('truncated');
  p += 1 + b[p]!; // compression_methods
  if (p === b.length) return { kind: 'hello', sni: null }; // no extensions
  if (p + 2 > b.length) return bad('truncated');
  const end = p + 2 + b.readUInt16BE(p);
  if (end > b.length) return bad('truncated extensions');
  p += 2;
  let sni: string | null = null;
  let seen = false;
  while (p + 4 <= end) {
    const type = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    const body = p + 4;
    if (body + len > end) return bad('truncated extension');
    if (type === 0x0000) {
      if (seen) return bad('two server_name extensions');
      seen = true;
      if (len < 2) return bad('empty server_name');
      const listEnd = body + 2 + b.readUInt16BE(body);
      if (listEnd > body + len) return bad('bad server_name list');
      let q = body + 2;
      while (q + 3 <= listEnd) {
        const nameType = b[q]!;
        const nameLen = b.readUInt16BE(q + 1);
        if (q + 3 + nameLen > listEnd) return bad('bad server_name entry');
        if (nameType === 0) {
          if (sni !== null) return bad('two host names in server_name');
          const name = b.subarray(q + 3, q + 3 + nameLen).toString('latin1');
          if (!/^[\x21-\x7e]+$/.test(name)) return bad('server name with invalid characters');
          sni = name.toLowerCase().replace(/\.$/, '');
        }
        q += 3 + nameLen;
      }
    }
    p = body + len;
  }
  if (p !== end) return bad('trailing bytes in extensions');
  return { kind: 'hello', sni };
}
