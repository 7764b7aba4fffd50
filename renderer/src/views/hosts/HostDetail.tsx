// One target in full: what it has (the checklist), preparing it, its live usage and its idle rule.
// This machine is set up by Moat's own setup script, so only its engine state is shown.
import type { Target } from '../../../../shared/remote';
import { PROVIDER_LABELS } from '../../../../shared/providers';
import { engineText } from '../../lib/targets';
import { ChecklistPanel } from './ChecklistPanel';
import { IdleRuleForm } from './IdleRuleForm';
import { PreparePanel } from './PreparePanel';
import { UsagePanel } from './UsagePanel';

export function HostDetail({ target: t }: { target: Target }) {
  return (
    <section className="panel host-detail" data-testid="host-detail" data-name={t.id} aria-label={`Host ${t.id}`}>
      <div className="panel-header">
        <h2>{t.kind === 'local' ? 'This machine' : t.id}</h2>
        <div className="header-actions">
          <span className="muted small">
            {t.instance
              ? `${PROVIDER_LABELS[t.instance.provider] ?? t.instance.provider} instance ${t.instance.account}/${t.instance.name} · `
              : ''}
            {t.kind === 'local' ? '' : `${t.detail} · `}
            {engineText(t)}
          </span>
        </div>
      </div>
      {t.kind === 'local' ? (
        <p className="muted" data-testid="host-local-note">
          This machine&apos;s engine and gVisor runtime are shown in the status bar; <code>bash scripts/setup.sh</code> prepares it. The
          checklist, preparation, usage and idle rule here are for remote hosts.
        </p>
      ) : (
        <>
          <ChecklistPanel target={t.id} />
          <PreparePanel target={t.id} />
          <UsagePanel target={t.id} instance={t.kind === 'instance'} />
          <IdleRuleForm target={t} />
        </>
      )}
    </section>
  );
}
