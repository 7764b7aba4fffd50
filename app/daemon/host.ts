// Owning a data directory: the claim (owner.ts) plus the CLI socket (socket-server.ts). Used by
// `moat daemon run`, and by `moat serve` and the app so that `moat run` goes to them too.
import type { OwnerKind, OwnerInfo } from './owner';
import { claimOwnership, socketPathFor } from './owner';
import { startSocketServer, type SocketServices } from './socket-server';

export interface OwnerHandle {
  /** false: another live process owns the directory (`info` says which); nothing is served. */
  owned: boolean;
  info: OwnerInfo;
  /** Stops serving the socket and gives up the claim (a no-op when not owned). */
  close(): Promise<void>;
}

export async function startOwner(opts: {
  services: SocketServices;
  dataDir: string;
  kind: OwnerKind;
  onShutdown?: () => void;
  log?: (msg: string) => void;
}): Promise<OwnerHandle> {
  const claim = claimOwnership(opts.dataDir, opts.kind);
  if (!claim.owned) return { owned: false, info: claim.info, close: async () => {} };
  try {
    const server = await startSocketServer({
      services: opts.services,
      socketPath: socketPathFor(opts.dataDir),
      info: claim.info,
      ...(opts.onShutdown ? { onShutdown: opts.onShutdown } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    });
    let closed = false;
    return {
      owned: true,
      info: claim.info,
      async close() {
        if (closed) return;
        closed = true;
        try {
          await server.close();
        } finally {
          claim.release();
        }
      },
    };
  } catch (err) {
    claim.release();
    throw err;
  }
}

/** `moat serve`: owns the directory and serves the CLI socket when nobody else does, else says who does. */
export async function startOwnerSocket(services: SocketServices, dataDir: string, kind: OwnerKind = 'serve'): Promise<OwnerHandle> {
  try {
    const h = await startOwner({ services, dataDir, kind });
    if (!h.owned)
      process.stderr.write(
        `moat: note: another Moat (${h.info.kind}, pid ${h.info.pid}) owns ${dataDir}; \`moat run\` goes to it, not to this one\n`,
      );
    return h;
  } catch (err) {
    process.stderr.write(`moat: note: not serving the CLI socket: ${err instanceof Error ? err.message : String(err)}\n`);
    return { owned: false, info: { owner: '?', pid: 0, kind, socket: socketPathFor(dataDir), startedAt: 0 }, close: async () => {} };
  }
}
