// The code a past run executed, read-only, with a way to bring it back into the editor.
import type { RunRecord } from '../../../../shared/types';
import { CodeEditor } from '../../components/CodeEditor';
import { useEditorStore } from '../../stores/editor';

export function RunCode({ run }: { run: RunRecord }) {
  const template = useEditorStore((s) => s.templates.find((t) => t.id === run.template));
  const loadCode = useEditorStore((s) => s.loadCode);
  const code = run.code ?? '';
  return (
    <details className="run-code">
      <summary>
        Code of this run
        <button
          type="button"
          className="link-button"
          data-testid="load-into-editor"
          disabled={!template}
          title={template ? undefined : `Template ${run.template} is no longer available`}
          onClick={(e) => {
            e.preventDefault();
            loadCode(run.template, code);
          }}
        >
          load into editor
        </button>
      </summary>
      <CodeEditor value={code} language={template?.language ?? 'shell'} readOnly label={`Code of run ${run.id}`} className="readonly" />
    </details>
  );
}
