// Templates and the run form: which template, the code typed for each template, the limits form,
// the runc opt-in and "don't keep". Building the RunRequest lives here so the form's rules sit in one place.
import { create } from 'zustand';
import type { ParamsOf } from '../../../shared/api';
import type { ErrorPayload } from '../../../shared/errors';
import { DEFAULT_LIMITS, type Limits, type Template } from '../../../shared/types';
import { api } from '../transport/client';
import { toDisplayError } from '../lib/errors';
import { sizeProblem } from '../lib/requestSize';
import { formFromLimits, limitsFromForm, type EditedFields, type LimitField, type LimitsForm } from '../lib/limits';
import { egressRequestPart, useEgressFormStore } from './egressForm';

export type RunRequestParams = ParamsOf<'sandbox.run'>;

export type BuildResult = { ok: true; request: RunRequestParams } | { ok: false; message: string };

interface EditorStore {
  templates: Template[];
  templatesLoaded: boolean;
  loadError: ErrorPayload | null;
  selectedId: string | null;
  /** Code per template id; starts as the template's sample. */
  code: Record<string, string>;
  defaults: Limits;
  limits: LimitsForm;
  edited: EditedFields;
  allowRunc: boolean;
  /** "Don't keep": the run's code, stdin and output stay out of history; only its summary is recorded. */
  dontKeep: boolean;
  /** Text given to the program on stdin; empty means none (/dev/null). */
  stdin: string;
  /** Where the next run goes: 'local' (this machine) or a host's name. */
  target: string;
  /** The program's arguments, one per line (empty lines dropped). */
  args: string;
  /** Files given to the program under /work (picked in the form, read as base64). */
  files: { path: string; data: string; size: number; executable: boolean }[];
  /** Paths under /work to bring out after the run, one per line. */
  artifacts: string;
  setArgs(args: string): void;
  setFiles(files: EditorStore['files']): void;
  setArtifacts(artifacts: string): void;
  init(): void;
  setTarget(target: string): void;
  setStdin(stdin: string): void;
  selectTemplate(id: string): void;
  setCode(templateId: string, code: string): void;
  setLimit(field: LimitField, value: string): void;
  resetLimits(): void;
  setAllowRunc(allow: boolean): void;
  setDontKeep(dontKeep: boolean): void;
  /** Puts a past run's code into the editor under its template. */
  loadCode(templateId: string, code: string): void;
  /** The sandbox.run params for the current form, or why there are none. */
  buildRequest(gvisorAvailable: boolean): BuildResult;
}

export const useEditorStore = create<EditorStore>()((set, get) => ({
  templates: [],
  templatesLoaded: false,
  loadError: null,
  selectedId: null,
  code: {},
  defaults: DEFAULT_LIMITS,
  limits: formFromLimits(DEFAULT_LIMITS),
  edited: {},
  allowRunc: false,
  dontKeep: false,
  stdin: '',
  target: 'local',
  args: '',
  files: [],
  artifacts: '',

  setArgs(args) {
    set({ args });
  },

  setFiles(files) {
    set({ files });
  },

  setArtifacts(artifacts) {
    set({ artifacts });
  },

  init() {
    void loadTemplates();
    void loadDefaults();
  },

  selectTemplate(id) {
    if (get().templates.some((t) => t.id === id)) set({ selectedId: id });
  },

  setCode(templateId, code) {
    set((s) => ({ code: { ...s.code, [templateId]: code } }));
  },

  setLimit(field, value) {
    set((s) => ({ limits: { ...s.limits, [field]: value }, edited: { ...s.edited, [field]: true } }));
  },

  resetLimits() {
    set((s) => ({ limits: formFromLimits(s.defaults), edited: {} }));
  },

  setTarget(target) {
    set({ target });
  },

  setStdin(stdin) {
    set({ stdin });
  },

  setAllowRunc(allowRunc) {
    set({ allowRunc });
  },

  setDontKeep(dontKeep) {
    set({ dontKeep });
  },

  loadCode(templateId, code) {
    set((s) => ({ selectedId: templateId, code: { ...s.code, [templateId]: code } }));
  },

  buildRequest(gvisorAvailable) {
    const s = get();
    const template = s.selectedId;
    if (!template) return { ok: false, message: 'Pick a template first.' };
    const code = s.code[template] ?? '';
    if (code.trim() === '') return { ok: false, message: 'There is no code to run.' };
    const tooLarge = sizeProblem('code', code) ?? sizeProblem('stdin', s.stdin);
    if (tooLarge) return { ok: false, message: tooLarge };
    const parsed = limitsFromForm(s.limits, s.edited);
    if (!parsed.ok) return { ok: false, message: Object.values(parsed.errors).join('. ') + '.' };
    const egress = egressRequestPart(useEgressFormStore.getState());
    if (!egress.ok) return egress;
    const request: RunRequestParams = { template, code, ...egress.part };
    if (s.stdin !== '') request.stdin = s.stdin;
    const args = lines(s.args);
    if (args.length > 0) request.args = args;
    if (s.files.length > 0)
      request.files = s.files.map((f) => ({ path: f.path, data: f.data, ...(f.executable ? { executable: true } : {}) }));
    const artifacts = lines(s.artifacts);
    if (artifacts.length > 0) request.artifacts = artifacts;
    if (Object.keys(parsed.limits).length > 0) request.limits = parsed.limits;
    // The opt-in only exists while this machine's engine lacks gVisor; it is never sent otherwise
    // (nor to another target, whose engine that status says nothing about).
    if (s.target === 'local' && !gvisorAvailable && s.allowRunc) request.allowRunc = true;
    if (s.dontKeep) request.keep = false;
    if (s.target !== 'local') request.target = s.target;
    return { ok: true, request };
  },
}));

/** The non-empty lines of a text box, trimmed of their line ends. */
function lines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l !== '');
}

async function loadTemplates(): Promise<void> {
  try {
    const templates = await api()['templates.list']();
    useEditorStore.setState((s) => {
      const code = { ...s.code };
      for (const t of templates) if (code[t.id] === undefined) code[t.id] = t.sample;
      const keep = s.selectedId !== null && templates.some((t) => t.id === s.selectedId);
      return {
        templates,
        templatesLoaded: true,
        loadError: null,
        code,
        selectedId: keep ? s.selectedId : (templates[0]?.id ?? null),
      };
    });
  } catch (err) {
    useEditorStore.setState({ loadError: toDisplayError(err) });
  }
}

async function loadDefaults(): Promise<void> {
  try {
    const settings = await api()['settings.get']();
    useEditorStore.setState((s) => {
      // Fields the user already changed keep their value.
      const fresh = formFromLimits(settings.defaultLimits);
      const limits = { ...fresh };
      for (const field of Object.keys(s.edited) as LimitField[]) if (s.edited[field]) limits[field] = s.limits[field];
      return { defaults: settings.defaultLimits, limits };
    });
  } catch {
    // The built-in defaults are already in the form; main applies its own when fields are unsent.
  }
}

/** Re-reads templates and settings (after a reconnect). Code typed so far is kept. */
export function reloadEditorData(): void {
  void loadTemplates();
  void loadDefaults();
}
