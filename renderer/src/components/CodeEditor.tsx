// CodeMirror 6 in a React component. The view is created once per mount; language and document
// changes from props are applied to it in place. Give it a `key` to start a fresh undo history.
import { Compartment, EditorState, Prec } from '@codemirror/state';
import { EditorView, keymap } from '@codemirror/view';
import { useEffect, useRef } from 'react';
import { languageExtension, type EditorLanguage } from './codemirror/languages';
import { editableSetup, readOnlySetup } from './codemirror/setup';

interface Props {
  value: string;
  language: EditorLanguage;
  readOnly?: boolean;
  onChange?: (value: string) => void;
  /** Mod-Enter (Ctrl/Cmd+Enter) in the editor. */
  onSubmit?: () => void;
  /** Accessible name of the editing area. */
  label: string;
  testId?: string;
  className?: string;
}

export function CodeEditor({ value, language, readOnly = false, onChange, onSubmit, label, testId, className }: Props) {
  const hostRef = useRef<HTMLDivElement>(null);
  const viewRef = useRef<EditorView | null>(null);
  const languageSlot = useRef(new Compartment());
  const onChangeRef = useRef(onChange);
  const onSubmitRef = useRef(onSubmit);
  useEffect(() => {
    onChangeRef.current = onChange;
    onSubmitRef.current = onSubmit;
  }, [onChange, onSubmit]);

  // Created once per mount (and when switching between editable and read-only); value and
  // language changes are dispatched into the same view by the effects below.
  useEffect(() => {
    const host = hostRef.current;
    if (!host) return;
    const view = new EditorView({
      parent: host,
      state: EditorState.create({
        doc: value,
        extensions: [
          readOnly ? readOnlySetup() : editableSetup(),
          Prec.highest(
            keymap.of([
              {
                key: 'Mod-Enter',
                run: () => {
                  onSubmitRef.current?.();
                  return onSubmitRef.current !== undefined;
                },
              },
            ]),
          ),
          languageSlot.current.of(languageExtension(language)),
          EditorView.contentAttributes.of({ 'aria-label': label }),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) onChangeRef.current?.(update.state.doc.toString());
          }),
        ],
      }),
    });
    viewRef.current = view;
    return () => {
      view.destroy();
      viewRef.current = null;
    };
  }, [readOnly]);

  useEffect(() => {
    viewRef.current?.dispatch({ effects: languageSlot.current.reconfigure(languageExtension(language)) });
  }, [language]);

  useEffect(() => {
    const view = viewRef.current;
    if (!view) return;
    const current = view.state.doc.toString();
    if (current !== value) view.dispatch({ changes: { from: 0, to: current.length, insert: value } });
  }, [value]);

  return <div ref={hostRef} className={className ? `code-editor ${className}` : 'code-editor'} data-testid={testId} />;
}
