// The contract between the sandbox manager and the network side of the egress filter. A run whose
// allowlist is not empty gets an EgressNet: Moat's filtering proxy listening on a unix socket on the
// host, that socket (alone) bind-mounted into the sandbox, and a forwarder inside the sandbox that
// offers it on loopback as an HTTP proxy (CONNECT and plain HTTP) and a SOCKS5 proxy. The sandbox
// still has no network device: it runs under the egress runtime (runsc with --network=none and
// --host-uds=open), which lets it connect to that one socket.
import type { AllowRule } from '../../../shared/egress';

export interface RefusedConnection {
  /** The name or address the program asked for. */
  destination: string;
  port: number;
  /** Why, for the alert: "not in the allowlist", "resolves to 127.0.0.1 (loopback)", "TLS server name x does not match y", ... */
  reason: string;
}

export interface EgressNetOptions {
  runId: string;
  /** Parsed allow entries (parseAllowEntry); never empty. */
  allow: AllowRule[];
  /** DNS servers the proxy resolves with ("ip" or "ip:port"); default: MOAT_EGRESS_DNS, else the system's. */
  dnsServers?: string[];
  /** Ports of Moat's own listeners on this machine: refused on every local address whatever the rules say. */
  protectedPorts?: number[];
  onRefused(ev: RefusedConnection): void;
  /** Diagnostics (never payload bytes). */
  log?(msg: string): void;
}

export interface EgressNet {
  /** The proxy's unix socket on this machine (a remote engine bridges it to its host: SandboxEngine.bridgeEgress). */
  socketPath: string;
  /** Added to the sandbox's HostConfig.Mounts: the socket's directory and the forwarder binary, read-only where possible. */
  mounts: { Type: 'bind'; Source: string; Target: string; ReadOnly: boolean }[];
  /** Shell lines the run's script runs before the program: start the forwarder, export the proxy variables. */
  prelude: string[];
  /** Connections refused so far. */
  refused(): number;
  /** Stops the proxy, closes its connections and removes the socket. Idempotent. */
  close(): Promise<void>;
}

/** What a remote engine provides for a run's egress: the same mounts, with paths on its host. */
export interface EgressBridge {
  mounts: EgressNet['mounts'];
  close(): Promise<void>;
}

/** Docker runtime name Moat registers for runs with network egress. */
export const EGRESS_RUNTIME = 'runsc-egress';
