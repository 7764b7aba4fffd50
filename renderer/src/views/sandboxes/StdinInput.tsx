// Optional standard input for the program (a harness's test input, say); empty means /dev/null.
import { useMemo } from 'react';
import { utf8ByteLength } from '../../../../shared/types';
import { useEditorStore } from '../../stores/editor';
import { SizeError } from './SizeError';

export function StdinInput() {
  const stdin = useEditorStore((s) => s.stdin);
  const setStdin = useEditorStore((s) => s.setStdin);
  const bytes = useMemo(() => utf8ByteLength(stdin), [stdin]);
  return (
    <details className="stdin-input" open={stdin !== ''}>
      <summary>
        Standard input <span className="muted small">{stdin === '' ? '(none: /dev/null)' : `${bytes} bytes`}</span>
      </summary>
      <textarea
        data-testid="stdin-input"
        value={stdin}
        spellCheck={false}
        rows={4}
        placeholder="Text the program reads on stdin"
        onChange={(e) => setStdin(e.target.value)}
      />
      <SizeError field="stdin" text={stdin} />
    </details>
  );
}
