// The strip across the top: engine, gVisor, warm pool, live runs and new alerts at a glance.
import { useShallow } from 'zustand/react/shallow';
import { exposedText } from '../lib/firewall';
import { formatRate, totalBurnRate } from '../lib/money';
import { counterText } from '../lib/alerts';
import { useAlertsStore } from '../stores/alerts';
import { useFirewallStore } from '../stores/firewall';
import { useInstancesStore } from '../stores/instances';
import { useNavStore } from '../stores/nav';
import { useRunsStore } from '../stores/runs';
import { useSystemStore } from '../stores/system';

function EngineStatus() {
  const { status, error } = useSystemStore(useShallow((s) => ({ status: s.status, error: s.error })));
  if (!status) {
    const text = error ? `Engine: status unavailable (${error.message})` : 'Engine: checking…';
    return (
      <span className={error ? 'pill pill-bad' : 'pill'} data-testid="engine-status" data-connected="unknown">
        {text}
      </span>
    );
  }
  const { connected, version, error: engineError } = status.engine;
  return (
    <span
      className={connected ? 'pill pill-good' : 'pill pill-bad'}
      data-testid="engine-status"
      data-connected={String(connected)}
      title={engineError}
    >
      <span className="dot" aria-hidden="true" />
      {connected
        ? `Engine connected${version ? ` · Docker ${version}` : ''}`
        : `Engine unavailable${engineError ? `: ${engineError}` : ''}`}
    </span>
  );
}

function GvisorStatus() {
  const { gvisor, engineUp } = useSystemStore(
    useShallow((s) => ({ gvisor: s.status?.gvisor, engineUp: s.status?.engine.connected ?? false })),
  );
  if (!gvisor) {
    return (
      <span className="pill" data-testid="gvisor-status">
        gVisor: checking…
      </span>
    );
  }
  if (!gvisor.available && !engineUp) {
    // Without an engine there is no runtime list to look at: say so rather than blame gVisor.
    return (
      <span className="pill pill-bad" data-testid="gvisor-status" data-available="false">
        gVisor: unknown (no engine)
      </span>
    );
  }
  if (gvisor.available) {
    return (
      <span className="pill pill-good" data-testid="gvisor-status" data-available="true">
        <span className="dot" aria-hidden="true" />
        gVisor ({gvisor.runtime ?? 'runsc'})
      </span>
    );
  }
  return (
    <span className="pill pill-alarm" data-testid="gvisor-status" data-available="false" title={gvisor.fix}>
      <span className="dot" aria-hidden="true" />
      No gVisor runtime: runs are refused
    </span>
  );
}

function PoolStatus() {
  const pool = useSystemStore((s) => s.status?.pool);
  if (!pool) return null;
  const text = pool.enabled ? `warm ${pool.warm}/${pool.target}` : 'warm pool off';
  return (
    <span className="pill" data-testid="pool-status" title="Pre-started sandboxes ready for the default limits">
      {text}
    </span>
  );
}

function LiveRuns() {
  // Counted from run records (kept current by 'run.updated'), not the slower status snapshot.
  const live = useRunsStore((s) => Object.values(s.runs).filter((r) => r.status !== 'finished').length);
  return (
    <span className={live > 0 ? 'pill pill-active' : 'pill'} data-testid="live-runs">
      {live} live {live === 1 ? 'run' : 'runs'}
    </span>
  );
}

/** Spending across provider accounts, once main has told us (the Instances view asks). */
function BurnRate() {
  const accounts = useInstancesStore((s) => s.list?.accounts);
  const show = useNavStore((s) => s.show);
  if (!accounts || accounts.length === 0) return null;
  const { cents, partial } = totalBurnRate(accounts);
  return (
    <button
      type="button"
      className={cents > 0 ? 'pill pill-active pill-button' : 'pill pill-button'}
      data-testid="status-burn-rate"
      data-cents-per-hour={cents}
      title="What the instances on your provider accounts cost per hour: open Instances"
      onClick={() => show('instances')}
    >
      {partial ? 'at least ' : ''}
      {formatRate(cents)} on instances
    </button>
  );
}

/** Instances a firewall leaves open, once an overview came (at startup when there are accounts). */
function ExposedStatus() {
  const { exposed, error } = useFirewallStore(useShallow((s) => ({ exposed: s.overview?.counts.exposed ?? null, error: s.overviewError })));
  const show = useNavStore((s) => s.show);
  if (exposed === null && !error) return null;
  const count = exposed ?? 0;
  return (
    <button
      type="button"
      className={exposed === null ? 'pill pill-button' : count > 0 ? 'pill pill-bad pill-button' : 'pill pill-good pill-button'}
      data-testid="status-exposed"
      data-count={exposed ?? undefined}
      title={
        exposed === null && error
          ? `Firewall check failed: ${error.message}`
          : 'Instances reachable beyond what a locked firewall allows: open Firewall'
      }
      onClick={() => show('firewall')}
    >
      {exposed === null ? 'firewall: unknown' : exposedText(count)}
    </button>
  );
}

/** Egress-filter alerts not yet acknowledged (live from 'alerts.counts'). */
function AlertsStatus() {
  const counts = useAlertsStore((s) => s.counts);
  const show = useNavStore((s) => s.show);
  if (!counts) return null;
  const n = counts.unacknowledged;
  const critical = counts.bySeverity.critical ?? 0;
  return (
    <button
      type="button"
      className={n === 0 ? 'pill pill-button' : critical > 0 ? 'pill pill-alarm pill-button' : 'pill pill-bad pill-button'}
      data-testid="status-alerts"
      data-count={n}
      title={
        n === 0
          ? 'No unacknowledged egress alerts: open Alerts'
          : `${counterText(n)} not acknowledged${critical > 0 ? `, ${critical} critical` : ''}: open Alerts`
      }
      onClick={() => show('alerts')}
    >
      {n === 0 ? 'no new alerts' : `${counterText(n)} new`}
    </button>
  );
}

export function StatusBar() {
  return (
    <header className="status-bar">
      <div className="brand">Moat</div>
      <div className="status-items">
        <EngineStatus />
        <GvisorStatus />
        <PoolStatus />
        <LiveRuns />
        <BurnRate />
        <ExposedStatus />
        <AlertsStatus />
      </div>
    </header>
  );
}

/** The loud strips under the status bar while runs cannot start, or would be refused. */
export function SystemAlerts() {
  const status = useSystemStore((s) => s.status);
  if (!status) return null;
  if (!status.engine.connected) {
    return (
      <div className="banner banner-alarm" role="alert" data-testid="engine-alert">
        <strong>Container engine unavailable: runs cannot start.</strong>
        {status.engine.error && <span className="banner-hint">{status.engine.error}</span>}
        {status.engine.fix && <span className="banner-hint">Fix: {status.engine.fix}</span>}
      </div>
    );
  }
  if (status.gvisor.available) return null;
  return (
    <div className="banner banner-alarm" role="alert" data-testid="gvisor-alert">
      <strong>No gVisor runtime: runs are refused.</strong> The container engine has no <code>runsc</code> runtime, so sandboxes would only
      have runc&apos;s weaker isolation.
      {status.gvisor.fix && <span className="banner-hint">Fix: {status.gvisor.fix}</span>}
    </div>
  );
}
