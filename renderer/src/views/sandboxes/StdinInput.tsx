// Optional standard input for the program (a harness's test input, say); empty means /dev/null.
import { useEditorStore } from '../../stores/editor';

export function StdinInput() {
  const stdin = useEditorStore((s) => s.stdin);
  const setStdin = useEditorStore((s) => s.setStdin);
  return (
    <details className="stdin-input" open={stdin !== ''}>
      <summary>
        Standard input <span className="muted small">{stdin === '' ? '(none: /dev/null)' : `${new Blob([stdin]).size} bytes`}</span>
      </summary>
      <textarea
        data-testid="stdin-input"
        value={stdin}
        spellCheck={false}
        rows={4}
        placeholder="Text the program reads on stdin"
        onChange={(e) => setStdin(e.target.value)}
      />
    </details>
  );
}
