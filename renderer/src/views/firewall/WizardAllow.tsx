// Wizard step 3: what to let in, and from where. SSH is always offered (and ticked): it is how you
// and Moat reach the instance. Each item defaults to "My address" only.
import { useShallow } from 'zustand/react/shallow';
import { PRESET_IDS, PRESETS, type AllowChoices, type AllowItemId, type SourceChoice } from '../../lib/lockWizard';
import { useLockWizardStore } from '../../stores/lockWizard';

function Sources({ item, choice, myAddress }: { item: AllowItemId; choice: SourceChoice; myAddress: string }) {
  const setChoices = useLockWizardStore((s) => s.setChoices);
  const update = (patch: Partial<SourceChoice>) =>
    setChoices((c): AllowChoices =>
      item === 'custom'
        ? { ...c, custom: { ...c.custom, ...patch } }
        : { ...c, presets: { ...c.presets, [item]: { ...c.presets[item], ...patch } } },
    );
  return (
    <div className="allow-sources">
      <span className="muted small">from</span>
      <label className="checkbox">
        <input
          type="checkbox"
          data-testid={`wizard-from-me-${item}`}
          checked={choice.fromMe}
          onChange={(e) => update({ fromMe: e.target.checked })}
        />
        <span>
          My address <span className="mono small muted">{myAddress || '(none given)'}</span>
        </span>
      </label>
      <label className="inline-field">
        <span className="small">and</span>
        <input
          data-testid={`wizard-from-cidrs-${item}`}
          value={choice.cidrs}
          onChange={(e) => update({ cidrs: e.target.value })}
          placeholder="10.0.0.0/8, 198.51.100.4"
          aria-label={`Other addresses or networks allowed to reach ${item === 'custom' ? 'the other ports' : PRESETS[item].label}, comma-separated`}
          spellCheck={false}
          autoComplete="off"
          className="cidrs-input"
        />
      </label>
    </div>
  );
}

export function WizardAllow() {
  const { choices, me, problems, setChoices } = useLockWizardStore(
    useShallow((s) => ({ choices: s.choices, me: s.me, problems: s.problems, setChoices: s.setChoices })),
  );
  const myAddress = [me.ipv4.trim(), me.ipv6.trim()].filter(Boolean).join(', ');
  return (
    <fieldset className="wizard-fieldset">
      <legend>What to allow in</legend>
      <p className="muted small">Everything not ticked here is closed. Outbound traffic is left as it is.</p>
      <ul className="allow-list">
        {PRESET_IDS.map((id) => {
          const c = choices.presets[id];
          const p = PRESETS[id];
          return (
            <li key={id} className={c.on ? 'allow-item on' : 'allow-item'}>
              <label className="checkbox">
                <input
                  type="checkbox"
                  data-testid={`wizard-allow-${id}`}
                  checked={c.on}
                  onChange={(e) =>
                    setChoices((x) => ({ ...x, presets: { ...x.presets, [id]: { ...x.presets[id], on: e.target.checked } } }))
                  }
                />
                <span>
                  <strong>{p.label}</strong> <span className="mono">{p.port}</span> — <span className="muted">{p.description}</span>
                </span>
              </label>
              {c.on && <Sources item={id} choice={c} myAddress={myAddress} />}
            </li>
          );
        })}
        <li className={choices.custom.text.trim() ? 'allow-item on' : 'allow-item'}>
          <label className="field field-wide">
            <span>Other ports (comma-separated: a port, a range, udp:PORT or icmp)</span>
            <input
              data-testid="wizard-custom"
              value={choices.custom.text}
              onChange={(e) => setChoices((x) => ({ ...x, custom: { ...x.custom, text: e.target.value } }))}
              placeholder="9000, 8000-8100, udp:60000"
              spellCheck={false}
              autoComplete="off"
            />
          </label>
          <Sources item="custom" choice={choices.custom} myAddress={myAddress} />
        </li>
      </ul>
      {!choices.presets.ssh.on && (
        <div className="warn-text small" data-testid="wizard-no-ssh">
          Without SSH, neither you nor Moat can connect to the instance.
        </div>
      )}
      {problems.length > 0 && (
        <ul className="wizard-problems" role="alert">
          {problems.map((p, i) => (
            <li key={i} data-testid="wizard-problem" data-item={p.item ?? ''}>
              {p.message}
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}
