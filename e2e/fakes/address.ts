// A stand-in for the public-address endpoints (api.ipify.org and friends) for tests: answers
// GET /v4 and /v6 with the addresses given, in plain text, on 127.0.0.1. Set MOAT_ADDRESS_URL and
// MOAT_ADDRESS6_URL to its urls. An address left out answers 503, like an endpoint that is down.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AddressFake {
  url4: string;
  url6: string;
  /** What the endpoints answer; change it while the server runs. */
  answers: { ipv4: string | null; ipv6: string | null };
  close(): Promise<void>;
}

export async function startAddressFake(answers: AddressFake['answers']): Promise<AddressFake> {
  const state = { ...answers };
  const server = createServer((req, res) => {
    const a = req.url === '/v4' ? state.ipv4 : req.url === '/v6' ? state.ipv6 : undefined;
    if (a === undefined) res.writeHead(404).end();
    else if (a === null) res.writeHead(503).end('unavailable');
    else res.writeHead(200, { 'content-type': 'text/plain' }).end(`${a}\n`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url4: `${base}/v4`,
    url6: `${base}/v6`,
    answers: state,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
