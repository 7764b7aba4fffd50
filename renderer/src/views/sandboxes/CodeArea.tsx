import { useCallback } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { CodeEditor } from '../../components/CodeEditor';
import { useEditorStore } from '../../stores/editor';
import { SizeError } from './SizeError';
import { useRunAction } from './useRunAction';

export function CodeArea() {
  const { template, code, setCode } = useEditorStore(
    useShallow((s) => ({
      template: s.templates.find((t) => t.id === s.selectedId),
      code: s.selectedId ? (s.code[s.selectedId] ?? '') : '',
      setCode: s.setCode,
    })),
  );
  const run = useRunAction();
  const templateId = template?.id;
  const onChange = useCallback((value: string) => templateId && setCode(templateId, value), [templateId, setCode]);

  if (!template) return <div className="code-area code-area-empty">Loading templates…</div>;
  return (
    <div className="code-area">
      {/* One editor per template, so undo never crosses from one template's code into another's. */}
      <CodeEditor
        key={template.id}
        value={code}
        language={template.language}
        onChange={onChange}
        onSubmit={run}
        label={`${template.label} code`}
        testId="editor"
      />
      <SizeError field="code" text={code} />
      <div className="hint">
        {template.language === 'python' ? 'Python' : 'Shell'} · <kbd>Ctrl</kbd>+<kbd>Enter</kbd> runs
      </div>
    </div>
  );
}
