// Templates: what a user picks in the UI or with `moat run --template`. Each maps to an official
// image (pulled where a registry is reachable) and to a local image that `moat images build` makes
// from Debian packages for machines that reach no registry.

export interface TemplateDef {
  id: string;
  label: string;
  language: 'python' | 'shell';
  /** Official image, pulled when a registry is reachable. */
  officialImage: string;
  /** Image built locally from Debian packages by `moat images build`. */
  localImage: string;
  /** Debian packages the local build installs on top of the minimal base. */
  debianPackages: string[];
  /** File the code is written to, inside the sandbox's work dir. */
  codeFile: string;
  /** How code is run: argv with the code file appended. */
  interpreter: string[];
  /** Shell lines a sandbox runs when it starts, before its program arrives (interpreter set-up). */
  prepare?: string[];
  /** Run by a warm sandbox while it waits, so the interpreter is in the sandbox's file cache. */
  warmup?: string;
  sample: string;
}

export const TEMPLATES: readonly TemplateDef[] = [
  {
    id: 'python',
    label: 'Python 3',
    language: 'python',
    officialImage: 'python:3.12-slim',
    localImage: 'moat-local/python:3-bookworm',
    debianPackages: ['python3'],
    codeFile: 'main.py',
    interpreter: ['python3'],
    // Line-buffered, not unbuffered: output still streams line by line, but `-u` makes stdout a
    // raw FileIO whose short writes Python drops silently (seen under gVisor: 200 MB written,
    // 5 MB delivered). sitecustomize keeps the user's program and its tracebacks untouched.
    prepare: [
      'mkdir -p /tmp/.moat-py || exit 125',
      "printf '%s\\n' 'import sys' 'sys.stdout.reconfigure(line_buffering=True)' > /tmp/.moat-py/sitecustomize.py || exit 125",
      'export PYTHONPATH=/tmp/.moat-py',
    ],
    warmup: 'python3 -c pass >/dev/null 2>&1',
    sample: 'import sys, time\n\nfor i in range(5):\n    print(f"tick {i}")\n    time.sleep(0.2)\nprint("done", file=sys.stderr)\n',
  },
  {
    id: 'shell',
    label: 'POSIX shell',
    language: 'shell',
    officialImage: 'debian:bookworm-slim',
    localImage: 'moat-local/shell:bookworm',
    debianPackages: [],
    codeFile: 'main.sh',
    interpreter: ['sh'],
    sample: 'echo "hello from $(uname -sr)"\nid\nfor i in 1 2 3; do echo "tick $i"; sleep 0.3; done\necho done >&2\n',
  },
];

export function findTemplate(id: string): TemplateDef | undefined {
  return TEMPLATES.find((t) => t.id === id);
}
