// Domain types with their zod schemas side by side. Every request is parsed with these at the
// boundary; responses and events are typed by them.
import * as z from 'zod';
import { AllowEntry, EgressPolicy, EgressRecord, EnvRecord, EnvVar } from './egress';

export const TemplateId = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'template id: lowercase letters, digits, -');

export const OutputPolicy = z.enum(['stop', 'truncate']);
export type OutputPolicy = z.infer<typeof OutputPolicy>;

/** The highest `processes` limit (see Limits.processes). */
export const MAX_PROCESSES = 256;

export const Limits = z.object({
  /** Wall-clock limit from start to exit. */
  timeoutMs: z
    .number()
    .int()
    .min(100)
    .max(24 * 3600 * 1000),
  /** Memory, and memory+swap (no swap). */
  memoryMb: z
    .number()
    .int()
    .min(32)
    .max(256 * 1024),
  cpus: z.number().min(0.1).max(256),
  /**
   * Processes (and threads) the program may have: a clean fork error past it. At most 256: each
   * process costs gVisor about 5 host tasks (up to 25 in a fork bomb), and 8 sandboxes at 256 were
   * measured to stay within a 2-core machine's default 32768 host PIDs (see profile.ts).
   */
  processes: z.number().int().min(8).max(MAX_PROCESSES),
  /** Bytes of stdout+stderr Moat keeps for one run. */
  outputBytes: z
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024),
  /** What happens when the output cap is reached: stop the sandbox, or keep it running and drop the rest. */
  onOutputLimit: OutputPolicy,
});
export type Limits = z.infer<typeof Limits>;

export const DEFAULT_LIMITS: Limits = {
  timeoutMs: 30_000,
  // 1 GiB: under gVisor each forked Python process costs about 4.7 MB of the sandbox's memory, so
  // a program forking up to the default 128 processes meets its fork error before the OOM killer.
  memoryMb: 1024,
  cpus: 1,
  processes: 128,
  outputBytes: 1024 * 1024,
  onOutputLimit: 'stop',
};

/**
 * Request sizes are counted in UTF-8 bytes, the unit of everything that carries them (the host's
 * WebSocket frame limit, the sandbox's files), not in UTF-16 characters, which undercount by up
 * to 3x. The UI, the schema and the host's frame limit all read these.
 */
export const CODE_MAX_BYTES = 1024 * 1024;
export const STDIN_MAX_BYTES = 1024 * 1024;
/** argv: at most this many words, each at most ARG_MAX_BYTES, all together at most ARGV_MAX_BYTES. */
export const ARGV_MAX_ITEMS = 1024;
export const ARG_MAX_BYTES = 64 * 1024;
export const ARGV_MAX_BYTES = 1024 * 1024;
/** env: at most this many variables, names and values together at most ENV_MAX_BYTES. */
export const ENV_MAX_ITEMS = 256;
export const ENV_MAX_BYTES = 256 * 1024;
/** allowNet: at most this many entries (each at most ALLOW_ENTRY_MAX_BYTES). */
export const ALLOW_MAX_ITEMS = 256;
export const ALLOW_ENTRY_MAX_BYTES = 300;
/** files: at most this many input files, FILES_MAX_BYTES decoded in all; artifacts: at most ARTIFACTS_MAX_ITEMS paths. */
export const FILES_MAX_ITEMS = 64;
export const FILES_MAX_BYTES = 8 * 1024 * 1024;
export const ARTIFACTS_MAX_ITEMS = 64;
/** A path under /work (files and artifacts): relative, plain characters, no `..` or empty parts. */
export const WORK_PATH_MAX_BYTES = 255;
/** artifactBytes: the default and the highest cap on all of a run's artifacts together. */
export const ARTIFACT_DEFAULT_BYTES = 16 * 1024 * 1024;
export const ARTIFACT_MAX_BYTES = 64 * 1024 * 1024;

/** Bytes that base64 text of `n` characters decodes to (no whitespace; `=` padding allowed). */
export function base64DecodedLength(b64: string): number {
  const pad = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return Math.floor((b64.length * 3) / 4) - pad;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A path relative to /work: `out/result.txt`, never absolute, never `..`. */
export const WorkPath = z
  .string()
  .min(1)
  .max(WORK_PATH_MAX_BYTES)
  .regex(/^[A-Za-z0-9._@+=,-]+(?:\/[A-Za-z0-9._@+=,-]+)*$/, 'a path under /work: letters, digits, . _ @ + = , - and / between parts')
  .refine((p) => !p.split('/').some((part) => part === '.' || part === '..'), 'a path under /work cannot have . or .. parts');

/** One file given to the program: written under /work before it starts. */
export const InputFile = z
  .object({
    path: WorkPath,
    /** Its bytes, base64. */
    data: z.string().regex(BASE64, 'base64 (no line breaks)'),
    /** Mode 755 instead of 644. */
    executable: z.boolean().optional(),
  })
  .strict();
export type InputFile = z.infer<typeof InputFile>;

/** Bytes of `s` in UTF-8, as TextEncoder and Buffer count them (a lone surrogate is U+FFFD, 3 bytes). */
export function utf8ByteLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i += 1;
    } else n += 3;
  }
  return n;
}

function checkSize(n: number, limit: number, ctx: z.RefinementCtx): void {
  if (n <= limit) return;
  const unit = limit % (1024 * 1024) === 0 ? `${limit / (1024 * 1024)} MiB` : `${limit / 1024} KiB`;
  ctx.addIssue({ code: 'custom', message: `too large: ${n} bytes (UTF-8), the limit is ${unit} (${limit} bytes)` });
}

function maxUtf8Bytes(limit: number) {
  return (s: string, ctx: z.RefinementCtx): void => checkSize(utf8ByteLength(s), limit, ctx);
}

export const RunRequest = z
  .object({
    template: TemplateId,
    /** Source to run with the template's interpreter. */
    code: z.string().superRefine(maxUtf8Bytes(CODE_MAX_BYTES)).optional(),
    /** Text the program reads on standard input (default: none, stdin is /dev/null). */
    stdin: z.string().superRefine(maxUtf8Bytes(STDIN_MAX_BYTES)).optional(),
    /** Standard input as bytes, base64 (instead of stdin, for input that is not UTF-8 text). */
    stdinBase64: z
      .string()
      .regex(BASE64, 'base64 (no line breaks)')
      .superRefine((s, ctx) => checkSize(base64DecodedLength(s), STDIN_MAX_BYTES, ctx))
      .optional(),
    /** With code: the program's arguments (sys.argv[1:], "$@"). Same limits as argv. */
    args: z
      .array(z.string().superRefine(maxUtf8Bytes(ARG_MAX_BYTES)))
      .max(ARGV_MAX_ITEMS)
      .superRefine((words, ctx) => checkSize(utf8ByteLength(words.join('')), ARGV_MAX_BYTES, ctx))
      .optional(),
    /** Files written under /work before the program starts. */
    files: z
      .array(InputFile)
      .max(FILES_MAX_ITEMS)
      .refine((fs) => new Set(fs.map((f) => f.path)).size === fs.length, 'each file path once')
      .superRefine((fs, ctx) =>
        checkSize(
          fs.reduce((n, f) => n + base64DecodedLength(f.data), 0),
          FILES_MAX_BYTES,
          ctx,
        ),
      )
      .optional(),
    /** Files under /work brought back out after the program exits (scanned by the egress filter). */
    artifacts: z
      .array(WorkPath)
      .max(ARTIFACTS_MAX_ITEMS)
      .refine((ps) => new Set(ps).size === ps.length, 'each artifact path once')
      .optional(),
    /** The most bytes of all artifacts together (default 16 MiB, at most 64 MiB); a file past it is reported, not brought out. */
    artifactBytes: z.number().int().min(0).max(ARTIFACT_MAX_BYTES).optional(),
    /** A command to run instead of code (argv, no shell unless you ask for one). */
    argv: z
      .array(z.string().superRefine(maxUtf8Bytes(ARG_MAX_BYTES)))
      .min(1)
      .max(ARGV_MAX_ITEMS)
      .superRefine((words, ctx) => checkSize(utf8ByteLength(words.join('')), ARGV_MAX_BYTES, ctx))
      .optional(),
    limits: Limits.partial().optional(),
    /** Run under runc with the same hardening when the engine has no gVisor runtime. */
    allowRunc: z.boolean().optional(),
    /** Use a warm sandbox if one matches (default true). */
    warm: z.boolean().optional(),
    /**
     * Keep the run's code, stdin and output on disk (default true). false ("do not keep", for
     * sensitive code or input): only the run's summary is recorded.
     */
    keep: z.boolean().optional(),
    /**
     * Run in this local image instead of the template's (it must have a POSIX /bin/sh and work as
     * an unprivileged user); the template still says how the code is run.
     */
    image: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._/:@-]{0,254}$/, 'an image name like debian:bookworm or registry/name:tag')
      .optional(),
    /** Where to run: 'local' (default), a host's name, or an instance reference whose host was added. */
    target: z
      .string()
      .regex(/^[\x21-\x7e]{1,200}$/, 'a target is a host name or an instance reference (printable, no spaces)')
      .optional(),
    /** Environment variables for the program; those marked secret are looked for in its output and never stored. */
    env: z
      .array(EnvVar)
      .max(ENV_MAX_ITEMS)
      .refine((vars) => new Set(vars.map((v) => v.name)).size === vars.length, 'each environment variable once')
      .superRefine((vars, ctx) => checkSize(utf8ByteLength(vars.map((v) => v.name + v.value).join('')), ENV_MAX_BYTES, ctx))
      .optional(),
    /** Scan the output for secrets (default true; false is recorded with the run). */
    egressFilter: z.boolean().optional(),
    /** What a finding does (default: Settings egressPolicy). */
    egressPolicy: EgressPolicy.optional(),
    /** Network destinations the run may reach through Moat's egress proxy (default none: no network). */
    allowNet: z.array(AllowEntry).max(ALLOW_MAX_ITEMS).optional(),
  })
  .strict()
  .refine((r) => (r.code === undefined) !== (r.argv === undefined), {
    message: 'give exactly one of code or argv',
  })
  .refine((r) => r.args === undefined || r.code !== undefined, { message: 'args go with code (with argv, put them in argv)' })
  .refine((r) => r.stdin === undefined || r.stdinBase64 === undefined, { message: 'give stdin or stdinBase64, not both' });
export type RunRequest = z.infer<typeof RunRequest>;

export const RunStatus = z.enum(['queued', 'starting', 'running', 'finished']);
export type RunStatus = z.infer<typeof RunStatus>;

/**
 * How a run ended. `exited` only when the program's exit was seen (the bootstrap's marker);
 * `process-limit` when the sandbox's PID backstop killed the whole sandbox.
 */
/** `secret-found`: stopped at the first critical finding of the egress filter (policy `stop`). */
/** `compile-error`: a compiled template's compiler failed (or passed its own time limit); the program never ran. */
export const EndReason = z.enum([
  'exited',
  'compile-error',
  'timeout',
  'oom',
  'cancelled',
  'output-limit',
  'process-limit',
  'secret-found',
  'failed',
]);
export type EndReason = z.infer<typeof EndReason>;

export const Runtime = z.object({
  /** The engine's runtime name, e.g. "runsc" or "runc". */
  name: z.string(),
  gvisor: z.boolean(),
});
export type Runtime = z.infer<typeof Runtime>;

/**
 * What became of one requested artifact: `saved` (brought out; `redacted` when the egress filter
 * replaced secrets in it), `too-large` (past the run's artifactBytes, left in the sandbox),
 * `missing` (no such regular file when the program ended), `withheld` (egress policy block and
 * something was found), `incomplete` (the run ended before it was brought out).
 */
export const ArtifactInfo = z.object({
  path: z.string(),
  /** Its size in the sandbox in bytes (-1 when missing or unknown). */
  size: z.number().int(),
  status: z.enum(['saved', 'too-large', 'missing', 'withheld', 'incomplete']),
  /** Judged binary (not text): scanned and alerted on, never rewritten. */
  binary: z.boolean().optional(),
  /** Egress-filter findings in it. */
  findings: z.number().int().optional(),
  redacted: z.boolean().optional(),
});
export type ArtifactInfo = z.infer<typeof ArtifactInfo>;

export const RunRecord = z.object({
  id: z.string(),
  template: TemplateId,
  image: z.string(),
  runtime: Runtime,
  /** true when the user opted in to runc for this run. */
  runcOptIn: z.boolean(),
  /** The code and stdin the run was given (left out of runs.list; runs.get has them). */
  code: z.string().optional(),
  stdin: z.string().optional(),
  argv: z.array(z.string()),
  limits: Limits,
  warm: z.boolean(),
  status: RunStatus,
  endReason: EndReason.optional(),
  exitCode: z.number().int().nullable(),
  /** Human-readable reason for failed runs. */
  error: z.string().optional(),
  createdAt: z.number(),
  startedAt: z.number().optional(),
  endedAt: z.number().optional(),
  durationMs: z.number().optional(),
  stdoutBytes: z.number(),
  stderrBytes: z.number(),
  /** Output past the cap was dropped. */
  truncated: z.boolean(),
  /** Peak figures seen by the stats sampler. */
  peakMemoryBytes: z.number().optional(),
  /** Highest task count seen in the sandbox's PID cgroup (program plus gVisor's own threads). */
  peakTasks: z.number().optional(),
  /** The Moat process that runs it (host:pid:start), to tell its own live runs from a crash's. */
  owner: z.string().optional(),
  /** false when the run was not kept: no code, stdin, output or samples were stored for it. */
  keep: z.boolean().optional(),
  /** Where it ran: the engine's id (`ssh:<host>`); absent for the local engine. */
  target: z.string().optional(),
  /** Its environment: names, and the values of variables not marked secret. */
  env: z.array(EnvRecord).optional(),
  /** The egress filter's settings and results for this run. */
  egress: EgressRecord.optional(),
  /** Files the run was given (paths and sizes; their bytes are not stored). */
  files: z.array(z.object({ path: z.string(), size: z.number().int(), executable: z.boolean().optional() })).optional(),
  /** stdin was given as bytes (stdinBase64): its size; the bytes are not stored. */
  stdinBytes: z.number().int().optional(),
  /** The artifacts asked for and what became of each (runs.get has their bytes). */
  artifacts: z.array(ArtifactInfo).optional(),
});
export type RunRecord = z.infer<typeof RunRecord>;

export const StreamName = z.enum(['stdout', 'stderr']);
export type StreamName = z.infer<typeof StreamName>;

export const OutputChunk = z.object({
  runId: z.string(),
  stream: StreamName,
  /** UTF-8 text (invalid sequences replaced). */
  data: z.string(),
});
export type OutputChunk = z.infer<typeof OutputChunk>;

export const StatsSample = z.object({
  runId: z.string(),
  t: z.number(),
  /** 100 = one full core. */
  cpuPercent: z.number(),
  memoryBytes: z.number(),
  memoryLimitBytes: z.number(),
  /** Tasks in the sandbox's cgroup (under gVisor: the sandbox's own host threads). */
  pids: z.number(),
});
export type StatsSample = z.infer<typeof StatsSample>;

/** A run's stored output: text, and where the bytes were not valid UTF-8, the exact bytes too. */
export const StoredChunk = z.object({
  stream: StreamName,
  /** UTF-8 text (invalid sequences replaced). */
  data: z.string(),
  /** Present when `data` is not exactly the program's bytes: those bytes, base64. */
  base64: z.string().optional(),
});
export type StoredChunk = z.infer<typeof StoredChunk>;

export const RunDetail = z.object({
  run: RunRecord,
  output: z.array(StoredChunk),
  /** The artifacts brought out (status saved: `base64` holds their bytes, as filtered). */
  artifacts: z.array(ArtifactInfo.extend({ base64: z.string().optional() })).optional(),
  /** Resource samples recorded while it ran (thinned to at most a few thousand). */
  stats: z.array(StatsSample),
});
export type RunDetail = z.infer<typeof RunDetail>;

/** The editor's language for a template (plain text where the editor has no mode for it). */
export const TemplateLanguage = z.enum(['python', 'shell', 'javascript', 'c', 'cpp', 'rust', 'go', 'text']);
export type TemplateLanguage = z.infer<typeof TemplateLanguage>;

/**
 * A template the user defines in $MOAT_DATA_DIR/templates.json ({"templates": [...]}): the image
 * must be present locally (a build or `docker pull`/`docker import` of one), have a POSIX /bin/sh
 * and work as user 65534. An id of a built-in template is ignored (the built-in wins).
 */
export const UserTemplate = z
  .object({
    id: TemplateId,
    label: z.string().min(1).max(80),
    image: z.string().regex(/^[a-z0-9][a-z0-9._/:@-]{0,254}$/, 'an image name like debian:bookworm or registry/name:tag'),
    /** argv the code file's path is appended to, e.g. ["ruby"]. */
    interpreter: z.array(z.string().min(1).max(4096)).min(1).max(64),
    /** File name the code is written to in /work, e.g. main.rb. */
    codeFile: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/, 'a plain file name like main.rb'),
    /** A shell line a warm sandbox runs while it waits (loads the interpreter into the file cache). */
    warmup: z.string().max(4096).optional(),
    language: TemplateLanguage.default('text'),
    sample: z
      .string()
      .max(64 * 1024)
      .default(''),
  })
  .strict();
export type UserTemplate = z.infer<typeof UserTemplate>;

export const UserTemplatesFile = z.object({ templates: z.array(UserTemplate).max(100) }).strict();

export const Template = z.object({
  id: TemplateId,
  label: z.string(),
  /** Editor language. */
  language: TemplateLanguage,
  /** Defined in the user's templates file. */
  user: z.boolean().optional(),
  sample: z.string(),
  /** Image that will be used, and where it came from. */
  image: z.string().nullable(),
  imageSource: z.enum(['official', 'local-build', 'missing']),
});
export type Template = z.infer<typeof Template>;

export const SystemStatus = z.object({
  engine: z.object({
    connected: z.boolean(),
    version: z.string().optional(),
    error: z.string().optional(),
    /** How to get the engine back, when it is not connected. */
    fix: z.string().optional(),
  }),
  gvisor: z.object({
    available: z.boolean(),
    runtime: z.string().optional(),
    /** How to get gVisor when it is missing. */
    fix: z.string().optional(),
  }),
  pool: z.object({ enabled: z.boolean(), warm: z.number(), target: z.number() }),
  liveRuns: z.number(),
});
export type SystemStatus = z.infer<typeof SystemStatus>;

/**
 * How much run history is kept: a finished run is removed once it is older than maxAgeDays, or
 * when newer runs already fill maxRuns or maxBytes (its stored code, stdin and output).
 */
export const Retention = z.object({
  maxAgeDays: z.number().int().min(1).max(3650),
  maxRuns: z.number().int().min(1).max(1_000_000),
  maxBytes: z
    .number()
    .int()
    .min(1024 * 1024)
    .max(2 ** 40),
});
export type Retention = z.infer<typeof Retention>;

export const DEFAULT_RETENTION: Retention = {
  maxAgeDays: 30,
  maxRuns: 10_000,
  maxBytes: 1024 * 1024 * 1024,
};

/**
 * An API base URL for a provider: https, or plain http only to this machine (a local proxy or a
 * test fake), because the API key travels in every request.
 */
export const ProviderApiUrl = z
  .string()
  .max(2048)
  .refine((v) => {
    try {
      const u = new URL(v);
      if (u.username || u.password) return false;
      if (u.protocol === 'https:') return true;
      return u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
    } catch {
      return false;
    }
  }, 'an https:// URL (http:// only for 127.0.0.1, localhost or [::1]), without credentials');

export const ProviderApiUrls = z.object({ lambda: ProviderApiUrl, linode: ProviderApiUrl });
export type ProviderApiUrls = z.infer<typeof ProviderApiUrls>;

export const DEFAULT_PROVIDER_API_URLS: ProviderApiUrls = {
  lambda: 'https://cloud.lambda.ai/api/v1',
  linode: 'https://api.linode.com/v4',
};

/**
 * Where Moat asks "what is my public address?" for the firewall wizard (plain-text answers, like
 * api.ipify.org). The answer is only a suggestion: the wizard always lets the user edit it.
 * MOAT_ADDRESS_URL and MOAT_ADDRESS6_URL override these.
 */
export const AddressDetectUrls = z.object({ ipv4: ProviderApiUrl, ipv6: ProviderApiUrl });
export type AddressDetectUrls = z.infer<typeof AddressDetectUrls>;

export const DEFAULT_ADDRESS_DETECT_URLS: AddressDetectUrls = {
  ipv4: 'https://api.ipify.org',
  ipv6: 'https://api6.ipify.org',
};

export const Settings = z.object({
  defaultLimits: Limits,
  /** Warm sandboxes kept per template for the default limits when idle. 0 turns the pool off. */
  warmPoolSize: z.number().int().min(0).max(8),
  /**
   * The most warm sandboxes per template when runs come in faster (a harness, a batch): the pool
   * grows to the recent peak of concurrent runs, up to this, and falls back to warmPoolSize after
   * a few idle minutes.
   */
  maxWarmPool: z.number().int().min(0).max(32),
  /** Prefer official registry images over local builds when both are present. */
  preferOfficialImages: z.boolean(),
  /** Sandboxes running at once; further runs wait, in order, as "queued". */
  maxConcurrentRuns: z.number().int().min(1).max(256),
  /** Run history retention (by age, count and stored size). */
  retention: Retention,
  /** Provider API base URLs; MOAT_LAMBDA_API_URL and MOAT_LINODE_API_URL override them. */
  providerApiUrls: ProviderApiUrls,
  /** The public-address detection endpoints of the firewall wizard. */
  addressDetectUrls: AddressDetectUrls,
  /** What an egress-filter finding does in runs that do not say (redact and alert by default). */
  egressPolicy: EgressPolicy,
  /** Destinations each template's runs may reach (added by "allow for this template"). */
  templateAllowNet: z.record(z.string(), z.array(AllowEntry).max(256)),
});
export type Settings = z.infer<typeof Settings>;

export const DEFAULT_SETTINGS: Settings = {
  defaultLimits: DEFAULT_LIMITS,
  warmPoolSize: 1,
  maxWarmPool: 4,
  preferOfficialImages: true,
  maxConcurrentRuns: 8,
  retention: DEFAULT_RETENTION,
  providerApiUrls: DEFAULT_PROVIDER_API_URLS,
  addressDetectUrls: DEFAULT_ADDRESS_DETECT_URLS,
  egressPolicy: 'redact',
  templateAllowNet: {},
};
