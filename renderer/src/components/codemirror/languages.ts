// Editor language per template language.
import { python } from '@codemirror/lang-python';
import { StreamLanguage } from '@codemirror/language';
import { shell } from '@codemirror/legacy-modes/mode/shell';
import type { Extension } from '@codemirror/state';
import type { Template } from '../../../../shared/types';

export type EditorLanguage = Template['language'];

const pythonSupport = python();
const shellLanguage = StreamLanguage.define(shell);

export function languageExtension(language: EditorLanguage): Extension {
  return language === 'python' ? pythonSupport : shellLanguage;
}
