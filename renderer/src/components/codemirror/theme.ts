// Dark editor theme and syntax colours matching the app's palette (styles/base.css).
import { HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { EditorView } from '@codemirror/view';
import { tags as t } from '@lezer/highlight';

const palette = {
  bg: '#11151c',
  gutterBg: '#0d1117',
  fg: '#d6dde6',
  muted: '#5f6b7a',
  caret: '#7cc4ff',
  selection: '#264f78',
  activeLine: '#161c25',
};

const editorTheme = EditorView.theme(
  {
    '&': { color: palette.fg, backgroundColor: palette.bg, height: '100%', fontSize: '13px' },
    '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.55' },
    '.cm-content': { caretColor: palette.caret, padding: '8px 0' },
    '&.cm-focused': { outline: 'none' },
    '&.cm-focused .cm-cursor': { borderLeftColor: palette.caret },
    '&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, .cm-content ::selection': {
      backgroundColor: palette.selection,
    },
    '.cm-gutters': { backgroundColor: palette.gutterBg, color: palette.muted, border: 'none', borderRight: '1px solid #1f2733' },
    '.cm-activeLine': { backgroundColor: palette.activeLine },
    '.cm-activeLineGutter': { backgroundColor: palette.activeLine, color: '#9aa7b6' },
    '.cm-matchingBracket': { backgroundColor: '#2b3a4d', outline: '1px solid #3d5470' },
    '.cm-foldPlaceholder': { backgroundColor: '#1f2733', border: 'none', color: palette.muted },
  },
  { dark: true },
);

const highlight = HighlightStyle.define(
  [
    { tag: [t.keyword, t.controlKeyword, t.moduleKeyword, t.operatorKeyword], color: '#c792ea' },
    { tag: [t.definitionKeyword, t.modifier], color: '#c792ea' },
    { tag: [t.string, t.special(t.string), t.character], color: '#a5d6a7' },
    { tag: [t.number, t.bool, t.null, t.atom], color: '#f7b267' },
    { tag: [t.comment, t.lineComment, t.blockComment], color: '#6a7889', fontStyle: 'italic' },
    { tag: [t.function(t.variableName), t.function(t.propertyName)], color: '#82aaff' },
    { tag: [t.definition(t.variableName), t.definition(t.function(t.variableName))], color: '#7fdbca' },
    { tag: [t.className, t.typeName, t.namespace], color: '#ffcb6b' },
    { tag: [t.variableName, t.propertyName], color: '#d6dde6' },
    { tag: [t.special(t.variableName), t.self], color: '#ff8f8f' },
    { tag: [t.standard(t.variableName), t.standard(t.name)], color: '#82aaff' },
    { tag: t.attributeName, color: '#f7b267' },
    { tag: [t.operator, t.punctuation, t.bracket], color: '#93a1b3' },
    { tag: [t.meta, t.processingInstruction], color: '#89ddff' },
    { tag: t.invalid, color: '#ff5370' },
  ],
  { themeType: 'dark' },
);

export const darkEditorTheme = [editorTheme, syntaxHighlighting(highlight)];
