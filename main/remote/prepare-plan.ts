// What "Prepare" does to a host, as ordered POSIX sh scripts, one per step. Every script first
// checks whether its goal already holds and then does nothing ("already-done"); only otherwise does
// it act, and then it checks again. So running a plan twice is harmless, and a check-only plan
// (`checkOnly`) runs the same checks and reports what it would change without changing anything:
// it never writes daemon.json, never reloads or starts dockerd, never installs.
//
// Each script prints, as its last line, `@@moat-step already-done|would-change|changed`.
//
// Refused outright (PrepareRefusedError): a distribution other than those the providers ship, a
// login that is neither root nor has passwordless sudo, a daemon.json Moat cannot parse, and GPU
// sandboxes where there is no GPU or the driver is one nvproxy does not support.
import { MoatError } from '../../shared/errors';
import { DEBIAN_SUITE, importChanges, recipeHash } from '../sandbox/images/recipe';
import { CORE_TEMPLATES, type TemplateDef } from '../sandbox/templates';
import {
  DAEMON_JSON,
  EGRESS_RUNTIME_ARGS,
  EGRESS_RUNTIME_NAME,
  SUPPORTED_OS,
  shq,
  type HostChecklist,
  type HostFacts,
} from './prepare-check';
import { NVPROXY_RUNTIME, describeNvproxySupport, nvproxyRuntimeEntry, runscRuntimeEntry, type RuntimeEntry } from './nvproxy';

export type PrepareRefusal =
  'CHECK_INCOMPLETE' | 'UNSUPPORTED_OS' | 'UNSUPPORTED_ARCH' | 'NO_PRIVILEGES' | 'DAEMON_JSON' | 'NO_GPU' | 'NVPROXY_UNSUPPORTED';

export class PrepareRefusedError extends MoatError {
  constructor(
    readonly reason: PrepareRefusal,
    message: string,
    fix?: string,
  ) {
    super('INVALID_REQUEST', message, fix);
    this.name = 'PrepareRefusedError';
  }
}

export type StepId =
  | 'base-packages'
  | 'docker'
  | 'docker-running'
  | 'docker-access'
  | 'runsc'
  | 'nvproxy-driver'
  | 'daemon-json'
  | 'dockerd-reload'
  | `image-${string}`;

export interface PrepStep {
  id: StepId;
  label: string;
  /** POSIX sh, `set -eu`; checks before it acts. */
  script: string;
  /** What to run over the connection: the script under `sh -c`, through `sudo -n` for a non-root login. */
  command: string;
  timeoutMs: number;
  /** Whether the checklist says this step has something to do (the script decides for itself). */
  needed: boolean;
  /** After this step changes something, the SSH login must be made again (new group membership). */
  reconnectAfter?: boolean;
}

export interface PrepPlan {
  steps: PrepStep[];
  checkOnly: boolean;
  runAs: 'root' | 'sudo';
  /** Things the user should know that do not stop the plan. */
  warnings: string[];
}

export type ImageMode = 'pull' | 'build' | 'none';

export interface PlanOptions {
  /** Register the GPU runtime (runsc-nvproxy) too. */
  nvproxy?: boolean;
  /** Also pass `--nvproxy-docker` (only for an old runsc that needs it; see nvproxy.ts). */
  nvproxyDockerHook?: boolean;
  /** Template images: pulled from the registry, built on the host from Debian packages, or left alone. */
  images: ImageMode;
  /** Where Docker comes from when it is missing: the distribution's docker.io (default) or Docker's repository. */
  docker?: 'distro' | 'docker-repo';
  /** Run every check, change nothing. */
  checkOnly?: boolean;
  templates?: readonly TemplateDef[];
  /** Debian mirror for image builds on the host. */
  debianMirror?: string;
  /** Tests point the merge at another file; Prepare always uses /etc/docker/daemon.json. */
  daemonJsonPath?: string;
}

export const STEP_MARK = '@@moat-step';
export const GVISOR_KEY_URL = 'https://gvisor.dev/archive.key';
export const GVISOR_REPO = 'https://storage.googleapis.com/gvisor/releases';
export const DEFAULT_DEBIAN_MIRROR = 'https://deb.debian.org/debian';

const MIN = 60_000;

// Helpers a step may use; each script carries only those it calls (shellcheck flags dead code).
const HELPERS: ReadonlyArray<[RegExp, string]> = [
  [/(^|[\s(])t \d/m, 't() {\n  if command -v timeout >/dev/null 2>&1; then timeout "$@"; else shift; "$@"; fi\n}'],
  [/\bapt_update\b/, 'apt_update() {\n  apt-get -q -o DPkg::Lock::Timeout=300 update\n}'],
  [/\bapt_install\b/, 'apt_install() {\n  apt-get -q -y -o DPkg::Lock::Timeout=300 install --no-install-recommends "$@"\n}'],
];

function header(mode: 'check' | 'apply', body: string): string {
  const helpers = HELPERS.filter(([re]) => re.test(body)).map(([, fn]) => `${fn}\n`);
  return `set -eu
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
export PATH
DEBIAN_FRONTEND=noninteractive
export DEBIAN_FRONTEND
MODE=${mode}
result() {
  printf '%s %s\\n' '${STEP_MARK}' "$1"
}
${helpers.join('')}`;
}

/** A step's script: header, the done-check, then (apply mode only) the action and the check again. */
function stepScript(
  mode: 'check' | 'apply',
  o: { isDone: string; would: string; act: string; helpers?: string; verifyOnly?: boolean },
): string {
  // A verify-only step has nothing to do but check: its act reports why and fails.
  const after = o.verifyOnly
    ? ''
    : `if ! is_done; then
  echo ${shq(`still not done after trying to ${o.would}`)} >&2
  exit 1
fi
result changed
`;
  const body = `${o.helpers ? `${o.helpers.trimEnd()}\n` : ''}is_done() {
${indent(o.isDone)}
}
if is_done; then
  result already-done
  exit 0
fi
if [ "$MODE" = check ]; then
  echo ${shq(`would ${o.would}`)}
  result would-change
  exit 0
fi
${o.act.trimEnd()}
${after}`;
  return header(mode, body) + body;
}

function indent(s: string): string {
  return s
    .trimEnd()
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n');
}

/**
 * The daemon.json merge, as a sh script around an embedded python3 program (python3 is on every
 * supported distribution; the base-packages step makes sure). It reads the file, refuses anything
 * but a JSON object (exit 3, file untouched), sets only the named entries under "runtimes" (an
 * entry's other keys and runtimeArgs of its own are kept; the flags Moat owns are replaced), and
 * in apply mode writes a copy beside the file, fsyncs it and renames it over the original (atomic),
 * after keeping the original as daemon.json.moat-backup-TIMESTAMP. Prints `unchanged`,
 * `would-change` (check mode) or `changed`. The runsc path is `runscPath`, else `command -v runsc`.
 */
export function daemonJsonMergeScript(mode: 'check' | 'apply', opts: MergeOptions): string {
  return `set -eu
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
export PATH
${mergeFunction(opts)}
merge ${mode}
`;
}

export interface MergeOptions {
  file: string;
  nvproxy?: boolean;
  nvproxyDockerHook?: boolean;
  runscPath?: string;
}

/** `merge check|apply`: a sh function around the embedded python3 program (see above). */
function mergeFunction(opts: MergeOptions): string {
  const runsc = '@RUNSC@';
  const runtimes: Record<string, RuntimeEntry> = { runsc: runscRuntimeEntry(runsc), [EGRESS_RUNTIME_NAME]: egressRuntimeEntry(runsc) };
  if (opts.nvproxy) runtimes[NVPROXY_RUNTIME] = nvproxyRuntimeEntry(runsc, { dockerHook: opts.nvproxyDockerHook });
  const runscValue = opts.runscPath ? shq(opts.runscPath) : '"$(command -v runsc || echo /usr/bin/runsc)"';
  return `merge() {
  if ! command -v python3 >/dev/null 2>&1; then
    echo ${shq(`python3 is needed to merge ${opts.file} safely, and is not installed`)} >&2
    return 1
  fi
  RUNSC=${runscValue}
  python3 - ${shq(opts.file)} "$1" "$RUNSC" ${shq(JSON.stringify(runtimes))} <<'PY'
${MERGE_PY}
PY
}`;
}

/**
 * The runtime for runs with network egress: as runsc, plus --host-uds=open, which lets the sandbox
 * connect to the one unix socket of Moat's filtering proxy mounted into it (it still has no network
 * device). Default runs never use it (findGvisorRuntime skips runtimes with --host-uds).
 */
export function egressRuntimeEntry(runscPath: string): RuntimeEntry {
  return { path: runscPath, runtimeArgs: [...EGRESS_RUNTIME_ARGS] };
}

// Flags Moat sets on its runtimes; any other runtimeArgs the user gave are kept. --host-uds is
// owned too: only the egress runtime gets it, never runsc itself.
const OWNED_FLAGS = ['--network', '--nvproxy', '--nvproxy-docker', '--host-uds'];

const MERGE_PY = `import json, os, sys, time
path, mode, runsc, wanted_text = sys.argv[1:5]
owned = ${JSON.stringify(OWNED_FLAGS)}
wanted = json.loads(wanted_text)
for entry in wanted.values():
    if entry["path"] == "@RUNSC@":
        entry["path"] = runsc
def refuse(why):
    sys.stderr.write("%s: %s; Moat will not rewrite it. Fix it by hand, then prepare again.\\n" % (path, why))
    sys.exit(3)
try:
    with open(path, "rb") as f:
        raw = f.read()
    existed = True
except FileNotFoundError:
    raw, existed = b"", False
try:
    conf = json.loads(raw.decode("utf-8")) if raw.strip() else {}
except (ValueError, UnicodeDecodeError) as e:
    refuse("not valid JSON (%s)" % e)
if not isinstance(conf, dict):
    refuse("it does not hold a JSON object")
runtimes = conf.get("runtimes", {})
if not isinstance(runtimes, dict):
    refuse('its "runtimes" is not an object')
before = json.dumps(conf, sort_keys=True)
for name, entry in wanted.items():
    prev = runtimes.get(name)
    if prev is not None and not isinstance(prev, dict):
        refuse('its runtime "%s" is not an object' % name)
    new = dict(prev or {})
    args = new.get("runtimeArgs") or []
    if not isinstance(args, list):
        refuse('the runtimeArgs of runtime "%s" are not a list' % name)
    kept = [a for a in args if not any(a == f or (isinstance(a, str) and a.startswith(f + "=")) for f in owned)]
    new["path"] = entry["path"]
    new["runtimeArgs"] = kept + entry["runtimeArgs"]
    runtimes[name] = new
conf["runtimes"] = runtimes
if json.dumps(conf, sort_keys=True) == before:
    print("unchanged")
    sys.exit(0)
if mode != "apply":
    print("would-change")
    sys.exit(0)
d = os.path.dirname(path) or "."
os.makedirs(d, exist_ok=True)
st_mode = 0o644
if existed:
    st_mode = os.stat(path).st_mode & 0o777
    backup = "%s.moat-backup-%s" % (path, time.strftime("%Y%m%d%H%M%S"))
    with open(backup, "wb") as b:
        b.write(raw)
        b.flush()
        os.fsync(b.fileno())
    print("backup: " + backup)
tmp = "%s.moat-tmp-%d" % (path, os.getpid())
try:
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, st_mode)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(conf, indent=2) + "\\n")
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, st_mode)
    os.replace(tmp, path)
except BaseException:
    try:
        os.unlink(tmp)
    except OSError:
        pass
    raise
dfd = os.open(d, os.O_RDONLY)
try:
    os.fsync(dfd)
finally:
    os.close(dfd)
print("changed")`;

// Whether the live daemon's runtimes match daemon.json's for the given names.
const LIVE_MATCHES_PY = `import json, sys
names = sys.argv[1].split(",")
live = json.loads(sys.argv[2] or "{}")
try:
    with open(sys.argv[3]) as f:
        conf = json.load(f).get("runtimes", {})
except FileNotFoundError:
    conf = {}
def norm(e):
    return {"path": (e or {}).get("path"), "runtimeArgs": (e or {}).get("runtimeArgs") or []}
ok = all(n in live and n in conf and norm(live[n]) == norm(conf[n]) for n in names)
sys.exit(0 if ok else 1)`;

function osName(f: HostFacts): string {
  return f.os.prettyName || `${f.os.id} ${f.os.versionId}`;
}

function refuseUnlessPreparable(c: HostChecklist, opts: PlanOptions): void {
  const f = c.facts;
  if (!f.complete)
    throw new PrepareRefusedError(
      'CHECK_INCOMPLETE',
      'The host check did not finish, so Moat does not know this host well enough to change it.',
      'Check the host again.',
    );
  if (!f.os.supported)
    throw new PrepareRefusedError(
      'UNSUPPORTED_OS',
      `${osName(f)} is not a distribution Moat prepares (ID=${f.os.id || '?'}, VERSION_ID=${f.os.versionId || '?'}).`,
      `Prepare supports ${SUPPORTED_OS.map((o) => o.name).join(', ')}. Elsewhere install Docker and gVisor by hand and register runsc in ${DAEMON_JSON}.`,
    );
  if (f.privilege === 'none')
    throw new PrepareRefusedError(
      'NO_PRIVILEGES',
      `${f.user.name || 'The login user'} is neither root nor allowed passwordless sudo, so nothing can be installed.`,
      `Log in as root, or allow ${f.user.name || 'the user'} passwordless sudo, then check again.`,
    );
  if (f.daemonJson.state === 'unparsable' || f.daemonJson.state === 'unreadable')
    throw new PrepareRefusedError(
      'DAEMON_JSON',
      `${DAEMON_JSON} on the host is ${f.daemonJson.state === 'unreadable' ? 'unreadable' : 'not a JSON object Moat can merge into'}: ${f.daemonJson.error}.`,
      `Fix ${DAEMON_JSON} by hand (Moat never overwrites a configuration it cannot read), then check again.`,
    );
  if (!f.runsc.installed && !['x86_64', 'aarch64'].includes(f.arch))
    throw new PrepareRefusedError(
      'UNSUPPORTED_ARCH',
      `gVisor publishes runsc for x86_64 and aarch64 only; this host is ${f.arch || 'of unknown architecture'}.`,
    );
  if (opts.nvproxy) {
    if (!f.nvidia.driver || f.nvidia.gpus.length === 0)
      throw new PrepareRefusedError(
        'NO_GPU',
        'GPU sandboxes were asked for, but this host has no NVIDIA GPU with a working driver (nvidia-smi).',
      );
    if (f.nvproxy.listed && !f.nvproxy.supported)
      throw new PrepareRefusedError(
        'NVPROXY_UNSUPPORTED',
        describeNvproxySupport(f.nvidia.driver, f.nvproxy.supportedDrivers),
        'Install a supported driver version, or prepare without GPU sandboxes.',
      );
  }
}

const USER_RE = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/;

/** The ordered steps that make the host ready; throws PrepareRefusedError where Moat will not touch it. */
export function planPreparation(checklist: HostChecklist, opts: PlanOptions): PrepPlan {
  refuseUnlessPreparable(checklist, opts);
  const f = checklist.facts;
  const mode = opts.checkOnly ? 'check' : 'apply';
  const runAs = f.privilege === 'root' ? 'root' : 'sudo';
  const file = opts.daemonJsonPath ?? DAEMON_JSON;
  const templates = opts.templates ?? CORE_TEMPLATES;
  const warnings: string[] = [];
  const steps: PrepStep[] = [];
  const add = (s: Omit<PrepStep, 'command'>) =>
    steps.push({ ...s, command: runAs === 'root' ? `sh -c ${shq(s.script)}` : `sudo -n sh -c ${shq(s.script)}` });

  const pkgs = ['ca-certificates:/etc/ssl/certs/ca-certificates.crt', 'curl:curl', 'gnupg:gpg', 'python3:python3'];
  if (opts.images === 'build')
    pkgs.push('debootstrap:debootstrap', 'debian-archive-keyring:/usr/share/keyrings/debian-archive-keyring.gpg');
  const probe = (p: string) => (p.startsWith('/') ? `[ -e ${p} ]` : `command -v ${p} >/dev/null 2>&1`);
  add({
    id: 'base-packages',
    label: 'Base packages',
    needed: pkgs.some((p) => {
      const what = p.split(':')[1]!;
      return what.startsWith('/') ? true : !f.tools[what];
    }),
    timeoutMs: 10 * MIN,
    script: stepScript(mode, {
      isDone: pkgs.map((p) => probe(p.split(':')[1]!)).join(' &&\n'),
      would: `install the missing ones of: ${pkgs.map((p) => p.split(':')[0]).join(' ')}`,
      helpers: `missing() {\n${pkgs.map((p) => `  ${probe(p.split(':')[1]!)} || echo ${p.split(':')[0]}`).join('\n')}\n}`,
      act: `PKGS=$(missing)\napt_update\n# shellcheck disable=SC2086 # one word per package\napt_install $PKGS`,
    }),
  });

  const dockerRepo = opts.docker === 'docker-repo';
  add({
    id: 'docker',
    label: dockerRepo ? "Docker (Docker's repository)" : 'Docker (docker.io)',
    needed: !f.docker.installed,
    timeoutMs: 15 * MIN,
    script: stepScript(mode, {
      isDone: 'command -v dockerd >/dev/null 2>&1 && command -v docker >/dev/null 2>&1',
      would: dockerRepo ? "install docker-ce from Docker's apt repository" : 'install docker.io from the distribution',
      act: dockerRepo
        ? `install -m 0755 -d /etc/apt/keyrings
curl -fsSL -o /etc/apt/keyrings/docker.asc.tmp ${shq(`https://download.docker.com/linux/${f.os.id}/gpg`)}
chmod a+r /etc/apt/keyrings/docker.asc.tmp
mv /etc/apt/keyrings/docker.asc.tmp /etc/apt/keyrings/docker.asc
ARCH=$(dpkg --print-architecture)
echo "deb [arch=$ARCH signed-by=/etc/apt/keyrings/docker.asc] ${`https://download.docker.com/linux/${f.os.id}`} ${f.os.codename} stable" >/etc/apt/sources.list.d/docker.list
apt_update
apt_install docker-ce docker-ce-cli containerd.io`
        : `apt_update
apt_install docker.io`,
    }),
  });
  if (dockerRepo && !/^[a-z]+$/.test(f.os.codename))
    throw new PrepareRefusedError('UNSUPPORTED_OS', `No release codename in /etc/os-release (${f.os.codename || 'empty'}).`);

  add({
    id: 'docker-running',
    label: 'Docker daemon running',
    needed: !f.docker.answering,
    timeoutMs: 2 * MIN,
    script: stepScript(mode, {
      isDone: 't 20 docker info >/dev/null 2>&1',
      would: 'start the Docker daemon and enable it at boot',
      act: `if [ -d /run/systemd/system ]; then
  systemctl enable --now docker
else
  service docker start
fi
i=0
while [ "$i" -lt 30 ] && ! is_done; do
  sleep 1
  i=$((i + 1))
done`,
    }),
  });

  if (runAs === 'sudo') {
    if (!USER_RE.test(f.user.name))
      throw new PrepareRefusedError(
        'NO_PRIVILEGES',
        `The login user's name (${JSON.stringify(f.user.name)}) is not one Moat can pass to usermod.`,
      );
    add({
      id: 'docker-access',
      label: `Docker socket for ${f.user.name}`,
      needed: f.docker.via !== 'user',
      reconnectAfter: true,
      timeoutMs: MIN,
      script: stepScript(mode, {
        isDone: `id -nG ${shq(f.user.name)} | tr ' ' '\\n' | grep -qx docker`,
        would: `add ${f.user.name} to the docker group (effective at the next SSH login)`,
        act: `getent group docker >/dev/null 2>&1 || groupadd docker\nusermod -aG docker ${shq(f.user.name)}`,
      }),
    });
  }

  const nvproxyCheck = `runsc nvproxy list-supported-drivers 2>/dev/null | grep -Eq '^[0-9]{3,}[.][0-9]+'`;
  add({
    id: 'runsc',
    label: "gVisor (runsc) from gVisor's repository",
    needed: !f.runsc.installed || (!!opts.nvproxy && !f.nvproxy.listed),
    timeoutMs: 10 * MIN,
    script: stepScript(mode, {
      isDone: opts.nvproxy ? `command -v runsc >/dev/null 2>&1 &&\n${nvproxyCheck}` : 'command -v runsc >/dev/null 2>&1',
      would: opts.nvproxy
        ? "install or upgrade runsc from gVisor's apt repository (for nvproxy)"
        : "install runsc from gVisor's apt repository",
      act: `KEYRING=/usr/share/keyrings/gvisor-archive-keyring.gpg
TMPD=$(mktemp -d)
trap 'rm -rf "$TMPD"' EXIT
curl -fsSL -o "$TMPD/archive.key" ${GVISOR_KEY_URL}
gpg --batch --yes --dearmor -o "$TMPD/keyring.gpg" "$TMPD/archive.key"
install -m 0644 "$TMPD/keyring.gpg" "$KEYRING"
ARCH=$(dpkg --print-architecture)
echo "deb [arch=$ARCH signed-by=$KEYRING] ${GVISOR_REPO} release main" >/etc/apt/sources.list.d/gvisor.list
apt_update
apt_install runsc`,
    }),
  });

  if (opts.nvproxy) {
    const driver = f.nvidia.driver!;
    if (!/^[0-9.]+$/.test(driver)) throw new PrepareRefusedError('NO_GPU', `Unexpected driver version ${JSON.stringify(driver)}.`);
    add({
      id: 'nvproxy-driver',
      label: `NVIDIA driver ${driver} supported by nvproxy`,
      needed: !f.nvproxy.supported,
      timeoutMs: MIN,
      script: stepScript(mode, {
        isDone: `runsc nvproxy list-supported-drivers 2>/dev/null | grep -qx ${shq(driver)}`,
        verifyOnly: true,
        would: `stop here unless the runsc installed by then lists driver ${driver}`,
        act: `echo ${shq(`NVIDIA driver ${driver} is not supported by this runsc's nvproxy (runsc nvproxy list-supported-drivers): GPU sandboxes would fail to start. Install a supported driver, or prepare without GPU sandboxes.`)} >&2\nexit 1`,
      }),
    });
    if (!f.nvidia.toolkit)
      warnings.push(
        "The NVIDIA Container Toolkit is not installed: Docker's --gpus, which GPU sandboxes use, needs it (package nvidia-container-toolkit from NVIDIA's repository).",
      );
  }

  const names = ['runsc', EGRESS_RUNTIME_NAME, ...(opts.nvproxy ? [NVPROXY_RUNTIME] : [])];
  add({
    id: 'daemon-json',
    label: `Register ${names.join(' and ')} in ${file}`,
    needed:
      !f.daemonJson.runtimes.runsc ||
      !f.daemonJson.runtimes[EGRESS_RUNTIME_NAME] ||
      (!!opts.nvproxy && !f.daemonJson.runtimes[NVPROXY_RUNTIME]),
    timeoutMs: MIN,
    script: stepScript(mode, {
      helpers: mergeFunction({ file, nvproxy: opts.nvproxy, nvproxyDockerHook: opts.nvproxyDockerHook }),
      isDone:
        '# a daemon.json it cannot merge stops the step (exit 3), in check mode too\nOUT=$(merge check) || exit 3\necho "$OUT"\n[ "$OUT" = unchanged ]',
      would: `merge ${names.join(', ')} into ${file} (other settings kept, a backup beside it)`,
      act: 'merge apply',
    }),
  });

  add({
    id: 'dockerd-reload',
    label: 'Docker knows the runtimes (dockerd reloaded)',
    needed: !f.docker.runtimes.runsc || !f.docker.runtimes[EGRESS_RUNTIME_NAME] || (!!opts.nvproxy && !f.docker.runtimes[NVPROXY_RUNTIME]),
    timeoutMs: 2 * MIN,
    script: stepScript(mode, {
      helpers: `LIVE_PY=${shq(LIVE_MATCHES_PY)}`,
      isDone: `LIVE=$(t 20 docker info --format '{{json .Runtimes}}' 2>/dev/null) || return 1\npython3 -c "$LIVE_PY" ${shq(names.join(','))} "$LIVE" ${shq(file)}`,
      would: 'reload dockerd (SIGHUP: running containers keep running) so that it reads the runtimes',
      act: `if [ -d /run/systemd/system ]; then
  systemctl reload docker
else
  PID=$(cat /var/run/docker.pid 2>/dev/null || pidof dockerd)
  kill -HUP "$PID"
fi
i=0
while [ "$i" -lt 20 ] && ! is_done; do
  sleep 1
  i=$((i + 1))
done
if ! is_done; then
  echo 'dockerd did not pick up the runtimes after a reload; restart it (systemctl restart docker; running containers stop unless live-restore is on)' >&2
  exit 1
fi`,
    }),
  });

  if (opts.images !== 'none') {
    for (const t of templates) {
      const have = f.images.find((i) => i.template === t.id);
      add({
        id: `image-${t.id}`,
        label: opts.images === 'pull' ? `Image for ${t.label} (pull ${t.officialImage})` : `Image for ${t.label} (build ${t.localImage})`,
        needed: !have || (!have.official.present && !have.local.present),
        timeoutMs: (opts.images === 'build' ? 30 : 15) * MIN,
        script: stepScript(mode, {
          isDone: `t 20 docker image inspect ${shq(t.officialImage)} >/dev/null 2>&1 ||\nt 20 docker image inspect ${shq(t.localImage)} >/dev/null 2>&1`,
          would: opts.images === 'pull' ? `pull ${t.officialImage}` : `build ${t.localImage} from Debian packages`,
          act:
            opts.images === 'pull'
              ? `docker pull ${shq(t.officialImage)}`
              : buildImageAction(t, opts.debianMirror ?? DEFAULT_DEBIAN_MIRROR),
        }),
      });
    }
  }

  return { steps, checkOnly: !!opts.checkOnly, runAs, warnings };
}

/**
 * The same recipe as `moat images build` (main/sandbox/images/build.ts), in sh, on the host:
 * debootstrap minbase + the template's packages, the same trimming, then `docker import` with the
 * same image config and recipe label, so the result is the image Moat builds locally.
 */
function buildImageAction(t: TemplateDef, mirror: string): string {
  if (!/^https?:\/\/[A-Za-z0-9.:/_~-]+$/.test(mirror)) throw new Error(`invalid Debian mirror URL: ${mirror}`);
  const packages = [...new Set(t.debianPackages)].sort();
  const include = packages.length ? ` --include=${packages.join(',')}` : '';
  const changes = importChanges(recipeHash(t))
    .map((c) => `--change ${shq(c)}`)
    .join(' ');
  const trim = [
    'var/cache/apt/archives',
    'var/lib/apt/lists',
    'usr/share/doc',
    'usr/share/man',
    'usr/share/info',
    'usr/share/lintian',
    'usr/share/locale',
    'var/log',
    'tmp',
    'var/tmp',
  ];
  return `WORK=$(mktemp -d /var/tmp/moat-build.XXXXXX)
cleanup() {
  awk -v p="$WORK/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r | while IFS= read -r m; do
    umount -l "$m" || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
R="$WORK/rootfs"
debootstrap --variant=minbase${include} --keyring=/usr/share/keyrings/debian-archive-keyring.gpg ${DEBIAN_SUITE} "$R" ${shq(mirror)}
for d in ${trim.join(' ')}; do
  if [ -d "$R/$d" ] && [ ! -L "$R/$d" ]; then
    find "$R/$d" -mindepth 1 -maxdepth 1 ! -name lock ! -name partial ! -name locale.alias -exec rm -rf {} +
  fi
done
rm -f "$R"/var/cache/apt/*.bin "$R"/var/cache/debconf/*-old
for d in work tmp var/tmp; do
  mkdir -p "$R/$d"
  chmod 1777 "$R/$d"
done
tar --numeric-owner --exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' -C "$R" -cf "$WORK/rootfs.tar" .
docker import ${changes} --message ${shq(`moat prepare (recipe ${recipeHash(t).slice(0, 12)})`)} "$WORK/rootfs.tar" ${shq(t.localImage)}`;
}
