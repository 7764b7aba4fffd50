// Templates: what a user picks in the UI or with `moat run --template`. Each maps to an official
// image (pulled where a registry is reachable) and to a local image that `moat images build` makes
// from Debian packages for machines that reach no registry. Users add their own in
// $MOAT_DATA_DIR/templates.json (see loadUserTemplates); allTemplates() merges them in.
import { readFileSync, statSync } from 'node:fs';
import { defaultDataDir } from '../store/data-dir';
import { BUILTIN_TEMPLATE_IDS } from './template-ids';
import { join } from 'node:path';
import { printfFormat } from './bootstrap';
import { PY_SITE_ZIP, pySiteZip } from './py-site';
import { UserTemplatesFile, type TemplateLanguage } from '../../shared/types';

export interface CompileStep {
  /** The compiler's argv (paths in full: the code is /work/<codeFile>, the output goes to /work). */
  argv: string[];
  /** The compile step's own time limit (it also counts towards the run's). */
  timeoutMs: number;
}

export interface TemplateDef {
  id: string;
  label: string;
  language: TemplateLanguage;
  /** Official image, pulled when a registry is reachable. */
  officialImage: string;
  /** Image built locally from Debian packages by `moat images build`. */
  localImage: string;
  /** Debian packages the local build installs on top of the minimal base. */
  debianPackages: string[];
  /** File the code is written to, inside the sandbox's work dir. */
  codeFile: string;
  /**
   * How code is run: argv with the code file appended; for a template that compiles, the compiled
   * program's argv as is (e.g. ["/work/main"]).
   */
  interpreter: string[];
  /**
   * Compiled languages: run before the program when the run gives code (not argv). The binary must
   * go to /work: /tmp is mounted noexec. A failed compile ends the run `compile-error`.
   */
  compile?: CompileStep;
  /**
   * false: no warm sandboxes are kept for it (the pool keeps warmPoolSize per template otherwise).
   * Off for the compiled templates, where the compile outweighs a sandbox start, and for Node.js,
   * to keep the idle pool at two sandboxes.
   */
  warmPool?: false;
  /** Set on templates read from the user's templates file. */
  user?: boolean;
  /**
   * Shell lines that set the interpreter up (builtins only: each process start costs ~10 ms under
   * gVisor), run at the top of every run's script and before a warm sandbox's warm-up.
   */
  prepare?: string[];
  /** Run by a warm sandbox while it waits, so the interpreter is in the sandbox's file cache. */
  warmup?: string;
  sample: string;
}

/** C and C++ share one image (g++ brings gcc and libc6-dev). */
const GCC_IMAGE = 'moat-local/gcc:bookworm';

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
    // The module is in a zip on PYTHONPATH (py-site.ts), written with printf: no process started.
    prepare: [`printf '${printfFormat(pySiteZip())}' > ${PY_SITE_ZIP} || exit 125`, `export PYTHONPATH=${PY_SITE_ZIP}`],
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
  {
    id: 'node',
    label: 'Node.js',
    language: 'javascript',
    officialImage: 'node:20-bookworm-slim',
    localImage: 'moat-local/node:bookworm',
    debianPackages: ['nodejs'],
    codeFile: 'main.js',
    interpreter: ['node'],
    warmup: 'node -e 0 >/dev/null 2>&1',
    warmPool: false,
    sample: 'for (let i = 0; i < 5; i++) console.log(`tick ${i}`);\nconsole.error(`done (node ${process.version})`);\n',
  },
  {
    id: 'c',
    label: 'C (gcc)',
    language: 'c',
    officialImage: 'gcc:12-bookworm',
    localImage: GCC_IMAGE,
    debianPackages: ['g++'],
    codeFile: 'main.c',
    interpreter: ['/work/main'],
    compile: { argv: ['gcc', '-O2', '-Wall', '-o', '/work/main', '/work/main.c', '-lm'], timeoutMs: 30_000 },
    warmup: 'gcc --version >/dev/null 2>&1',
    warmPool: false,
    sample:
      '#include <stdio.h>\n\nint main(void) {\n    for (int i = 0; i < 5; i++) printf("tick %d\\n", i);\n    fprintf(stderr, "done\\n");\n    return 0;\n}\n',
  },
  {
    id: 'cpp',
    label: 'C++ (g++)',
    language: 'cpp',
    officialImage: 'gcc:12-bookworm',
    localImage: GCC_IMAGE,
    debianPackages: ['g++'],
    codeFile: 'main.cpp',
    interpreter: ['/work/main'],
    compile: { argv: ['g++', '-O2', '-Wall', '-std=c++17', '-o', '/work/main', '/work/main.cpp'], timeoutMs: 60_000 },
    warmup: 'g++ --version >/dev/null 2>&1',
    warmPool: false,
    sample:
      '#include <iostream>\n\nint main() {\n    for (int i = 0; i < 5; i++) std::cout << "tick " << i << std::endl;\n    std::cerr << "done" << std::endl;\n}\n',
  },
  {
    id: 'rust',
    label: 'Rust',
    language: 'rust',
    officialImage: 'rust:1-slim-bookworm',
    localImage: 'moat-local/rust:bookworm',
    // libc6-dev by name: debootstrap does not resolve rustc's virtual dependency libc-dev.
    debianPackages: ['cargo', 'libc6-dev', 'rustc'],
    codeFile: 'main.rs',
    interpreter: ['/work/main'],
    compile: { argv: ['rustc', '-O', '-o', '/work/main', '/work/main.rs'], timeoutMs: 60_000 },
    // The official image keeps the toolchain in /usr/local/cargo; cargo never reaches the network
    // (a project with no dependencies builds with `cargo build --offline`).
    prepare: [
      '[ -d /usr/local/cargo/bin ] && export PATH=/usr/local/cargo/bin:$PATH RUSTUP_HOME=/usr/local/rustup',
      'export CARGO_HOME=/work/.cargo CARGO_NET_OFFLINE=true',
    ],
    warmup: 'rustc --version >/dev/null 2>&1',
    warmPool: false,
    sample: 'fn main() {\n    for i in 0..5 {\n        println!("tick {}", i);\n    }\n    eprintln!("done");\n}\n',
  },
  {
    id: 'go',
    label: 'Go',
    language: 'go',
    officialImage: 'golang:1.22-bookworm',
    localImage: 'moat-local/go:bookworm',
    debianPackages: ['golang-go'],
    codeFile: 'main.go',
    interpreter: ['/work/main'],
    compile: { argv: ['go', 'build', '-o', '/work/main', '/work/main.go'], timeoutMs: 60_000 },
    // The build cache lives in /work (the larger tmpfs); no module is ever fetched (GOPROXY=off),
    // no C toolchain is used (CGO_ENABLED=0).
    prepare: [
      '[ -d /usr/local/go/bin ] && export PATH=/usr/local/go/bin:$PATH',
      'export GOCACHE=/work/.moat-go/cache GOPATH=/work/.moat-go/path GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local GO111MODULE=auto CGO_ENABLED=0',
    ],
    warmup: 'go version >/dev/null 2>&1',
    warmPool: false,
    sample:
      'package main\n\nimport (\n\t"fmt"\n\t"os"\n)\n\nfunc main() {\n\tfor i := 0; i < 5; i++ {\n\t\tfmt.Printf("tick %d\\n", i)\n\t}\n\tfmt.Fprintln(os.Stderr, "done")\n}\n',
  },
];

if (TEMPLATES.map((t) => t.id).join() !== BUILTIN_TEMPLATE_IDS.join()) {
  throw new Error('main/sandbox/template-ids.ts and TEMPLATES disagree');
}

/**
 * The templates a remote host is prepared and checked for (`moat hosts prepare`): the core two. The
 * language templates' images are large (170-730 MB) and optional: a run of one on a host without
 * its image is refused with how to build it.
 */
export const CORE_TEMPLATES: readonly TemplateDef[] = TEMPLATES.filter((t) => t.id === 'python' || t.id === 'shell');

/** Built-in templates, then the user's (templates.json in the data directory; a built-in id wins). */
export function allTemplates(): TemplateDef[] {
  const user = loadUserTemplates().templates.filter((u) => !TEMPLATES.some((t) => t.id === u.id));
  return [...TEMPLATES, ...user];
}

export function findTemplate(id: string): TemplateDef | undefined {
  return allTemplates().find((t) => t.id === id);
}

/** The user's templates file: templates.json in the data directory. */
export function userTemplatesPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(defaultDataDir(env), 'templates.json');
}

let userCache: { key: string; result: { templates: TemplateDef[]; error?: string } } | null = null;

/**
 * The user's templates, read again when the file changes. A file that does not parse or validate
 * gives no templates and the reason (each entry: id, label, image, interpreter, codeFile, and
 * optionally warmup, language, sample).
 */
export function loadUserTemplates(file: string = userTemplatesPath()): { templates: TemplateDef[]; error?: string } {
  let key: string;
  try {
    // No file (the usual case, checked at every run): no exception built for it.
    const st = statSync(file, { throwIfNoEntry: false });
    if (!st) return { templates: [] };
    key = `${file}:${st.mtimeMs}:${st.size}`;
  } catch {
    return { templates: [] };
  }
  if (userCache?.key === key) return userCache.result;
  let result: { templates: TemplateDef[]; error?: string };
  try {
    const parsed = UserTemplatesFile.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw new Error(`${i.path.join('.') || '(top)'}: ${i.message}`);
    }
    result = {
      templates: parsed.data.templates.map((u) => ({
        id: u.id,
        label: u.label,
        language: u.language,
        officialImage: u.image,
        localImage: u.image,
        debianPackages: [],
        codeFile: u.codeFile,
        interpreter: u.interpreter,
        ...(u.warmup ? { warmup: u.warmup } : {}),
        sample: u.sample,
        user: true,
      })),
    };
  } catch (err) {
    result = { templates: [], error: `${file}: ${(err as Error).message}` };
  }
  userCache = { key, result };
  return result;
}
