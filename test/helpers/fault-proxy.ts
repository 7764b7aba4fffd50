// A unix socket of the test's own between Moat and the real Docker socket. It forwards, and on
// command delays what the engine sends, answers every new request with a 500, or stops answering
// (new connections hang, data on open ones is held). Clearing the fault forwards again, held data
// first. Nothing about Docker is simulated: every answer that is not an injected fault is the
// real engine's.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Fault = { kind: 'none' } | { kind: 'delay'; ms: number } | { kind: 'error500' } | { kind: 'hang' };

export interface FaultProxy {
  socketPath: string;
  set(fault: Fault): void;
  close(): Promise<void>;
}

const FAULT_BODY = JSON.stringify({ message: 'injected fault: the engine answered 500' });
const FAULT_RESPONSE =
  'HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n' +
  `Content-Length: ${Buffer.byteLength(FAULT_BODY)}\r\nConnection: close\r\n\r\n${FAULT_BODY}`;

export async function startFaultProxy(upstream = '/var/run/docker.sock'): Promise<FaultProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'moat-fault-'));
  const socketPath = join(dir, 'docker.sock');
  let fault: Fault = { kind: 'none' };
  const sockets = new Set<net.Socket>();
  const wakeups = new Set<() => void>();
  /** Requests answered with an injected fault: not forwarded. */
  const dropped = new WeakSet<Buffer>();

  /** Passes chunks from `from` to `to` in order, applying the fault in force when each arrives. */
  function relay(from: net.Socket, to: net.Socket, delayable: boolean): void {
    const queue: Buffer[] = [];
    let busy = false;
    const pump = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      while (queue.length > 0) {
        if (fault.kind === 'hang') {
          await new Promise<void>((r) => wakeups.add(r));
          continue;
        }
        if (fault.kind === 'delay' && delayable) await new Promise((r) => setTimeout(r, (fault as { ms: number }).ms));
        const chunk = queue.shift()!;
        if (!to.destroyed) to.write(chunk);
      }
      busy = false;
    };
    from.on('data', (chunk: Buffer) => {
      if (dropped.has(chunk)) return;
      queue.push(chunk);
      void pump();
    });
    from.on('end', () => {
      const finish = (): void => {
        if (queue.length === 0 && !busy) to.end();
        else setTimeout(finish, 20);
      };
      finish();
    });
  }

  // Half-open both ways: a client that has sent all of its stdin still reads the output.
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    // A kept-alive connection carries request after request: in error500 mode each new request
    // on it is answered with the fault. Attach connections are raw streams once upgraded. (This
    // listener comes before the relay's, so a faulted request is never forwarded.)
    let hijacked = false;
    client.on('data', (chunk: Buffer) => {
      if (hijacked) return;
      const head = chunk.subarray(0, 2048).toString('latin1');
      if (!/^[A-Z]+ \S+ HTTP\/1\.[01]\r\n/.test(head)) return;
      if (/\r\nUpgrade: tcp/i.test(head)) hijacked = true;
      if (fault.kind === 'error500') {
        dropped.add(chunk);
        client.end(FAULT_RESPONSE);
        client.destroySoon();
      }
    });
    if (fault.kind === 'error500') return;
    const connect = (): void => {
      const engine = net.createConnection({ path: upstream, allowHalfOpen: true });
      sockets.add(engine);
      engine.on('close', () => {
        sockets.delete(engine);
        client.destroy();
      });
      engine.on('error', () => client.destroy());
      client.on('close', () => engine.destroy());
      relay(client, engine, false);
      relay(engine, client, true);
    };
    if (fault.kind === 'hang') {
      // Held until the fault clears (the client's own deadline usually gives up first).
      client.pause();
      wakeups.add(() => {
        if (!client.destroyed) {
          connect();
          client.resume();
        }
      });
      return;
    }
    connect();
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));

  return {
    socketPath,
    set(next) {
      fault = next;
      if (next.kind !== 'hang') {
        const wake = [...wakeups];
        wakeups.clear();
        for (const w of wake) w();
      }
    },
    async close() {
      fault = { kind: 'none' };
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
