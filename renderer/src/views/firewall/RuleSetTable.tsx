// One rule set in force: its inbound and its outbound rules as tables, in the provider's order,
// each with the policy for everything the rules do not match.
import type { Rule, RuleSet } from '../../../../shared/firewall';
import { policyText, portsText, protocolText, RULESET_KINDS, rulesOf, sourceItems } from '../../lib/firewall';

function RuleRows({ rules, direction }: { rules: readonly Rule[]; direction: Rule['direction'] }) {
  const who = direction === 'inbound' ? 'Sources' : 'Destinations';
  return (
    <table className="data-table rule-table" data-testid={`rules-${direction}`}>
      <thead>
        <tr>
          <th>Action</th>
          <th>Protocol</th>
          <th>Ports</th>
          <th>{who}</th>
          <th>Label</th>
        </tr>
      </thead>
      <tbody>
        {rules.length === 0 ? (
          <tr className="empty-row">
            <td colSpan={5}>No {direction} rules.</td>
          </tr>
        ) : (
          rules.map((r, i) => <RuleRow key={i} rule={r} />)
        )}
      </tbody>
    </table>
  );
}

export function RuleRow({ rule: r, mark }: { rule: Rule; mark?: 'added' | 'removed' | 'kept' }) {
  const sources = sourceItems(r);
  return (
    <tr data-testid={mark ? 'diff-row' : 'rule-row'} data-mark={mark} className={mark ? `diff-${mark}` : undefined}>
      {mark && (
        <td className="diff-mark" aria-label={mark}>
          {mark === 'added' ? '+' : mark === 'removed' ? '−' : ''}
        </td>
      )}
      {mark && <td>{r.direction}</td>}
      <td className={r.action === 'deny' ? 'bad-text' : undefined}>{r.action}</td>
      <td className="mono">{protocolText(r)}</td>
      <td className="mono">{portsText(r)}</td>
      <td className="mono small rule-sources">
        {sources.length === 0
          ? '-'
          : sources.map((s) => (
              <div key={s.text} className={s.world ? 'warn-text' : undefined}>
                {s.text}
              </div>
            ))}
      </td>
      <td className="small">{r.label || <span className="muted">-</span>}</td>
    </tr>
  );
}

export function RuleSetTable({ ruleSet: rs, drifted }: { ruleSet: RuleSet; drifted: boolean }) {
  return (
    <div className="ruleset" data-testid="ruleset-table" data-kind={rs.kind} data-id={rs.id} data-enabled={String(rs.enabled)}>
      <div className="ruleset-head">
        <strong>{rs.label || rs.id}</strong>
        <span className="muted small">
          {RULESET_KINDS[rs.kind]}
          {rs.region ? ` · ${rs.region}` : ''}
        </span>
        {rs.kind === 'lambda-global' && (
          <span className="badge tone-warn" data-testid="ruleset-account-wide">
            account-wide: applies to every instance on {rs.account}
          </span>
        )}
        {!rs.enabled && (
          <span className="badge tone-bad" data-testid="ruleset-disabled">
            disabled: not enforced
          </span>
        )}
        {drifted && (
          <span className="badge tone-warn" data-testid="ruleset-drifted">
            changed outside Moat
          </span>
        )}
      </div>
      {rs.appliesTo.length > 1 && rs.kind !== 'lambda-global' && (
        <div className="muted small">Shared by {rs.appliesTo.length} instances.</div>
      )}
      <div className="ruleset-direction">
        <h3>Inbound</h3>
        <RuleRows rules={rulesOf(rs, 'inbound')} direction="inbound" />
        <div className="policy" data-testid="policy-inbound" data-policy={rs.inboundPolicy}>
          {policyText(rs.inboundPolicy)}
        </div>
      </div>
      <div className="ruleset-direction">
        <h3>Outbound</h3>
        <RuleRows rules={rulesOf(rs, 'outbound')} direction="outbound" />
        <div className="policy" data-testid="policy-outbound" data-policy={rs.outboundPolicy}>
          {policyText(rs.outboundPolicy)}
        </div>
      </div>
    </div>
  );
}
