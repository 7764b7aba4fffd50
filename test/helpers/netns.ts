// A test host in a network namespace of our own: the only non-loopback address tests may target.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';

export interface TestHost {
  address: string;
  port: number;
  close(): void;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

/** Creates a namespace reachable from the host over a veth pair, with a TCP server answering "pong". */
export async function createTestHost(): Promise<TestHost> {
  const n = (process.pid % 200) + 20;
  const ns = `moat-t${process.pid}`;
  const hostIf = `mth${process.pid % 100000}`;
  const nsIf = `mtn${process.pid % 100000}`;
  const address = `10.231.${n}.2`;
  let server: ChildProcess | null = null;
  const close = (): void => {
    server?.kill('SIGKILL');
    try {
      ip('netns', 'del', ns);
    } catch {
      // already gone
    }
    try {
      ip('link', 'del', hostIf);
    } catch {
      // deleted with the namespace
    }
  };
  try {
    ip('netns', 'add', ns);
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
    ip('link', 'set', nsIf, 'netns', ns);
    ip('addr', 'add', `10.231.${n}.1/30`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${address}/30`, 'dev', nsIf);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', nsIf, 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    const port = 18080;
    server = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        process.execPath,
        '-e',
        `require('net').createServer(s=>s.end('pong')).listen(${port}, '${address}', ()=>console.log('ready'))`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      server!.stdout!.once('data', () => resolve());
      server!.once('exit', (code) => reject(new Error(`test host server exited (${code})`)));
    });
    return { address, port, close };
  } catch (err) {
    close();
    throw err;
  }
}

/** Connects from the host (the positive control that the target really answers). */
export function fetchPong(address: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: address, port, timeout: 3000 });
    let data = '';
    s.on('data', (d) => (data += d.toString()));
    s.on('end', () => resolve(data));
    s.on('timeout', () => s.destroy(new Error('timeout')));
    s.on('error', reject);
  });
}
