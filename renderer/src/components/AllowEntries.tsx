// A list of allowed network destinations with remove buttons, and an "add" input whose entry is
// checked by the caller (`add` returns the problem, or null when it was added). Used by the run
// form's allowlist and by each template's allowlist in Settings; `testId` prefixes the test ids.
import { useId, useState } from 'react';

interface Props {
  entries: string[];
  /** Shown when there are no entries. */
  empty: string;
  /** Adds an entry; returns why it cannot be added, or null. */
  add: (text: string) => string | null;
  remove: (entry: string) => void;
  /** Accessible name of the input, and of each remove button (`Remove <entry><removeSuffix>`). */
  inputLabel: string;
  removeSuffix?: string;
  placeholder: string;
  disabled?: boolean;
  /** Prefix of the test ids: `<testId>-entry`, `-input`, `-add`, `-error`, `-remove`, `-list`. */
  testId: string;
  children?: React.ReactNode;
}

export function AllowEntries({
  entries,
  empty,
  add,
  remove,
  inputLabel,
  removeSuffix = '',
  placeholder,
  disabled,
  testId,
  children,
}: Props) {
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const errorId = useId();
  const submit = () => {
    const p = add(text);
    setProblem(p);
    if (!p) setText('');
  };
  return (
    <>
      {entries.length === 0 ? (
        <div className="muted small">{empty}</div>
      ) : (
        <ul className="allow-list" data-testid={`${testId}-list`}>
          {entries.map((e) => (
            <li key={e} data-testid={`${testId}-entry`} data-entry={e}>
              <code>{e}</code>
              <button
                type="button"
                className="icon-button"
                aria-label={`Remove ${e}${removeSuffix}`}
                data-testid={`${testId}-remove`}
                disabled={disabled}
                onClick={() => remove(e)}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className={problem ? 'allow-add invalid' : 'allow-add'}>
        <input
          type="text"
          className="mono"
          data-testid={`${testId}-input`}
          aria-label={inputLabel}
          placeholder={placeholder}
          spellCheck={false}
          value={text}
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? errorId : undefined}
          onChange={(e) => {
            setText(e.target.value);
            setProblem(null);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              submit();
            }
          }}
        />
        <button type="button" data-testid={`${testId}-add`} onClick={submit} disabled={disabled}>
          Add
        </button>
      </div>
      {children}
      {problem && (
        <div id={errorId} className="field-error" data-testid={`${testId}-error`} role="alert">
          {problem}
        </div>
      )}
    </>
  );
}
