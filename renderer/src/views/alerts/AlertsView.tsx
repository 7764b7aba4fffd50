// The Alerts view: what the egress filter found in runs' output and which connections it refused,
// filtered; the selected alert's details and actions; acknowledge what is shown; suppressed rules.
import { useEffect, useMemo } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { ErrorNotice } from '../../components/ErrorNotice';
import { ALERTS_PAGE, counterText, rulesIn } from '../../lib/alerts';
import { useAlertsStore } from '../../stores/alerts';
import { useNavStore } from '../../stores/nav';
import { useRunsStore } from '../../stores/runs';
import { AlertDetail } from './AlertDetail';
import { AlertFilters } from './AlertFilters';
import { AlertsTable } from './AlertsTable';
import { Suppressions } from './Suppressions';

export function AlertsView() {
  const s = useAlertsStore(
    useShallow((x) => ({
      alerts: x.alerts,
      loaded: x.loaded,
      loading: x.loading,
      error: x.error,
      filter: x.filter,
      selectedId: x.selectedId,
      suppressions: x.suppressions,
      busy: x.busy,
      notice: x.notice,
      counts: x.counts,
    })),
  );
  const { open, setFilter, select, ack, suppress, unsuppress, allowForTemplate, dismiss } = useAlertsStore(
    useShallow((x) => ({
      open: x.open,
      setFilter: x.setFilter,
      select: x.select,
      ack: x.ack,
      suppress: x.suppress,
      unsuppress: x.unsuppress,
      allowForTemplate: x.allowForTemplate,
      dismiss: x.dismiss,
    })),
  );
  const selectRun = useRunsStore((x) => x.select);
  const show = useNavStore((x) => x.show);
  useEffect(() => open(), [open]);

  const rules = useMemo(() => rulesIn(s.alerts), [s.alerts]);
  const selected = s.alerts.find((a) => a.id === s.selectedId) ?? null;
  const unacked = s.alerts.filter((a) => !a.acknowledged).map((a) => a.id);
  const suppressedRules = new Set(s.suppressions.map((x) => x.rule));
  const openRun = (runId: string) => {
    void selectRun(runId);
    show('sandboxes');
  };

  return (
    <div className="page alerts" data-testid="alerts-view">
      <section className="panel" aria-label="Alerts">
        <div className="panel-header">
          <h2>Alerts</h2>
          <div className="header-actions">
            {s.counts && (
              <span className="muted small" data-testid="alerts-unacked" data-count={s.counts.unacknowledged}>
                {counterText(s.counts.unacknowledged)} not acknowledged
              </span>
            )}
            <button
              type="button"
              data-testid="alerts-ack-shown"
              onClick={() => void ack(unacked)}
              disabled={s.busy || unacked.length === 0}
            >
              Acknowledge {unacked.length === s.alerts.length ? 'all shown' : `${unacked.length} shown`}
            </button>
          </div>
        </div>
        <AlertFilters filter={s.filter} rules={rules} onChange={setFilter} />
        <p className="muted small form-note">
          The newest {ALERTS_PAGE} alerts the filters give, and those raised since. Secrets are never shown: only a masked preview.
        </p>
        {s.notice && (
          <div className="notice" data-testid="alerts-notice" role="status">
            {s.notice}
            <button type="button" className="icon-button" aria-label="Dismiss" onClick={dismiss}>
              ×
            </button>
          </div>
        )}
        {s.error && <ErrorNotice error={s.error} testId="alerts-error" onDismiss={dismiss} />}
        <AlertsTable
          alerts={s.alerts}
          selectedId={s.selectedId}
          onSelect={select}
          empty={!s.loaded ? (s.error ? '' : 'Loading…') : 'No alert matches the filters.'}
        />
        {s.loading && s.loaded && <div className="busy">Reading…</div>}
      </section>
      {selected && (
        <AlertDetail
          key={selected.id}
          alert={selected}
          busy={s.busy}
          suppressed={suppressedRules.has(selected.rule)}
          onAck={() => void ack([selected.id])}
          onOpenRun={() => openRun(selected.runId)}
          onSuppress={(reason) => void suppress(selected.rule, reason)}
          onAllow={(entry) => void allowForTemplate(selected.template, entry)}
        />
      )}
      <Suppressions list={s.suppressions} busy={s.busy} onUnsuppress={(rule) => void unsuppress(rule)} />
    </div>
  );
}
