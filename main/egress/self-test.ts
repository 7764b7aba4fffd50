// The egress self-test as a service: runs the probe program (net/selftest.ts) in a sandbox with a
// policy, then reports declared against enforced per probe. The run is an ordinary run (history,
// alerts for what the proxy refused) on this machine's engine, with the python template, whose
// effective allowlist (the one given plus the templates') is what the report declares against.
//
// Probe targets: derived from the allowlist (defaultProbeTargets), or, for tests that must keep
// every target on loopback or in network namespaces they create, MOAT_EGRESS_TEST_TARGETS (JSON
// ProbeTargets).
import { MoatError } from '../../shared/errors';
import type { EgressTestReport } from '../../shared/egress';
import type { SandboxManager } from '../sandbox/manager';
import type { RunStore } from '../store/runs';
import { buildReport, defaultProbeTargets, probeSource, type ProbeTargets } from './net/selftest';

export function probeTargetsFor(allowNet: string[], env: NodeJS.ProcessEnv = process.env): ProbeTargets {
  const given = env.MOAT_EGRESS_TEST_TARGETS;
  if (!given) return defaultProbeTargets(allowNet);
  try {
    return JSON.parse(given) as ProbeTargets;
  } catch {
    throw new MoatError('INVALID_REQUEST', 'MOAT_EGRESS_TEST_TARGETS is not valid JSON.');
  }
}

export async function runEgressSelfTest(o: {
  manager: SandboxManager;
  store: RunStore;
  allowNet: string[];
  /** The template whose allowlist counts too (its entries are added to the run's). */
  templateAllowNet: string[];
  protectedPorts: number[];
}): Promise<EgressTestReport> {
  const allowNet = [...new Set([...o.allowNet, ...o.templateAllowNet])];
  const targets = probeTargetsFor(allowNet);
  const rec = await o.manager.run({
    template: 'python',
    code: probeSource(targets),
    ...(allowNet.length ? { allowNet } : {}),
    limits: { timeoutMs: 120_000 },
  });
  const done = await o.manager.whenDone(rec.id);
  if (!done) throw new MoatError('INTERNAL', 'The self-test run was not recorded.');
  const stdout = o.store
    .readOutput(done.id)
    .output.filter((c) => c.stream === 'stdout')
    .map((c) => c.data)
    .join('');
  if (done.endReason !== 'exited') {
    throw new MoatError(
      'RUN_FAILED',
      `The self-test run ${done.id} did not finish: ${done.endReason}${done.error ? ` (${done.error})` : ''}.`,
    );
  }
  // Declared against the allowlist the run really had (its own, its template's).
  return buildReport(done.id, done.egress?.allowNet ?? allowNet, stdout, targets, { protectedPorts: o.protectedPorts });
}
