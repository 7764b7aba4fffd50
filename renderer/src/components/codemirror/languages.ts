// Editor language per template language: Python's own package, the rest from the legacy modes
// (already a dependency); plain text for a user template's language the editor does not know.
import { python } from '@codemirror/lang-python';
import { StreamLanguage } from '@codemirror/language';
import { c, cpp } from '@codemirror/legacy-modes/mode/clike';
import { go } from '@codemirror/legacy-modes/mode/go';
import { javascript } from '@codemirror/legacy-modes/mode/javascript';
import { rust } from '@codemirror/legacy-modes/mode/rust';
import { shell } from '@codemirror/legacy-modes/mode/shell';
import type { Extension } from '@codemirror/state';
import type { Template } from '../../../../shared/types';

export type EditorLanguage = Template['language'];

const LANGUAGES: Record<EditorLanguage, () => Extension> = {
  python: () => python(),
  shell: () => StreamLanguage.define(shell),
  javascript: () => StreamLanguage.define(javascript),
  c: () => StreamLanguage.define(c),
  cpp: () => StreamLanguage.define(cpp),
  rust: () => StreamLanguage.define(rust),
  go: () => StreamLanguage.define(go),
  text: () => [],
};

const made = new Map<EditorLanguage, Extension>();

export function languageExtension(language: EditorLanguage): Extension {
  let ext = made.get(language);
  if (!ext) {
    ext = (LANGUAGES[language] ?? LANGUAGES.text)();
    made.set(language, ext);
  }
  return ext;
}
