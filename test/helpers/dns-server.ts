// A tiny DNS server for tests (UDP on 127.0.0.1): answers A and AAAA queries from a map, NXDOMAIN
// for names it does not know, and counts the queries it saw.
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';

export interface TestDns {
  /** "127.0.0.1:PORT", for Resolver.setServers / MOAT_EGRESS_DNS. */
  server: string;
  port: number;
  queries: string[];
  close(): Promise<void>;
}

function v6Bytes(a: string): Buffer {
  const [head, tail] = a.includes('::') ? a.split('::') : [a, ''];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const words = [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  words.forEach((w, i) => b.writeUInt16BE(parseInt(w, 16), i * 2));
  return b;
}

/** `records`: name (lowercase, no trailing dot) → addresses (IPv4 and IPv6 mixed). */
export async function startTestDns(records: Record<string, string[]>): Promise<TestDns> {
  const sock = createSocket('udp4');
  const queries: string[] = [];
  sock.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    let p = 12;
    const labels: string[] = [];
    while (p < msg.length && msg[p] !== 0) {
      const len = msg[p]!;
      labels.push(msg.subarray(p + 1, p + 1 + len).toString('latin1'));
      p += 1 + len;
    }
    p += 1;
    const qtype = msg.readUInt16BE(p);
    const qEnd = p + 4;
    const name = labels.join('.').toLowerCase();
    queries.push(`${name}/${qtype === 1 ? 'A' : qtype === 28 ? 'AAAA' : qtype}`);
    const known = Object.prototype.hasOwnProperty.call(records, name);
    const answers = (records[name] ?? []).filter((a) => (qtype === 1 ? isIP(a) === 4 : qtype === 28 ? isIP(a) === 6 : false));
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2);
    header.writeUInt16BE(known ? 0x8180 : 0x8183, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const rrs = answers.map((a) => {
      const rdata = isIP(a) === 4 ? Buffer.from(a.split('.').map(Number)) : v6Bytes(a);
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0);
      rr.writeUInt16BE(qtype, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(5, 6);
      rr.writeUInt16BE(rdata.length, 10);
      return Buffer.concat([rr, rdata]);
    });
    sock.send(Buffer.concat([header, msg.subarray(12, qEnd), ...rrs]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
  const port = sock.address().port;
  return {
    server: `127.0.0.1:${port}`,
    port,
    queries,
    close: () => new Promise((res) => sock.close(() => res())),
  };
}
