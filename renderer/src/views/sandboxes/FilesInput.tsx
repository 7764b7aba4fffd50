// Program arguments, files given to the program under /work, and artifacts to bring back out.
import { useEditorStore } from '../../stores/editor';
import { formatBytes } from '../../lib/format';

/** A picked file's bytes as base64 (chunked: String.fromCharCode takes a bounded argument list). */
async function fileBase64(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

export function FilesInput() {
  const args = useEditorStore((s) => s.args);
  const files = useEditorStore((s) => s.files);
  const artifacts = useEditorStore((s) => s.artifacts);
  const setArgs = useEditorStore((s) => s.setArgs);
  const setFiles = useEditorStore((s) => s.setFiles);
  const setArtifacts = useEditorStore((s) => s.setArtifacts);
  const count = files.length + (args.trim() ? 1 : 0) + (artifacts.trim() ? 1 : 0);

  const add = async (list: FileList | null): Promise<void> => {
    if (!list) return;
    const picked = await Promise.all(
      [...list].map(async (f) => ({ path: f.name, data: await fileBase64(f), size: f.size, executable: false })),
    );
    const names = new Set(picked.map((p) => p.path));
    setFiles([...useEditorStore.getState().files.filter((f) => !names.has(f.path)), ...picked]);
  };

  return (
    <details className="files-input" open={count > 0}>
      <summary>
        Arguments, files and artifacts <span className="muted small">{count === 0 ? '(none)' : `${files.length} file(s) in`}</span>
      </summary>
      <label className="small">
        Program arguments, one per line
        <textarea data-testid="args-input" value={args} rows={2} spellCheck={false} onChange={(e) => setArgs(e.target.value)} />
      </label>
      <label className="small">
        Files in (written under /work before the program starts)
        <input data-testid="files-input" type="file" multiple onChange={(e) => void add(e.target.files)} />
      </label>
      {files.length > 0 && (
        <ul className="files-list" data-testid="files-list">
          {files.map((f, i) => (
            <li key={f.path}>
              <input
                aria-label={`Path of ${f.path} under /work`}
                value={f.path}
                onChange={(e) => setFiles(files.map((x, j) => (j === i ? { ...x, path: e.target.value } : x)))}
              />
              <span className="muted small"> {formatBytes(f.size)} </span>
              <label className="small">
                <input
                  type="checkbox"
                  checked={f.executable}
                  onChange={(e) => setFiles(files.map((x, j) => (j === i ? { ...x, executable: e.target.checked } : x)))}
                />{' '}
                executable
              </label>{' '}
              <button type="button" className="link" onClick={() => setFiles(files.filter((_, j) => j !== i))}>
                remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <label className="small">
        Artifacts: paths under /work to bring out after the program exits, one per line
        <textarea
          data-testid="artifacts-input"
          value={artifacts}
          rows={2}
          spellCheck={false}
          placeholder="out/result.json"
          onChange={(e) => setArtifacts(e.target.value)}
        />
      </label>
    </details>
  );
}
