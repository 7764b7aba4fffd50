// What a host has for Moat's sandboxes, found in one round trip: a single POSIX sh script prints
// sections between per-call random markers (so no command's output can fake one), each with its
// stdout, its stderr and its exit status; the parsing below turns them into facts and the facts
// into the checklist the UI shows. Nothing here changes the host.
//
// Exec is the only seam: SshConnection.exec satisfies it for a remote host, and `sh -c` through
// child_process for this machine (test/prepare-local.test.ts).
import { randomBytes } from 'node:crypto';
import { findGvisorRuntime } from '../sandbox/engine';
import { RECIPE_LABEL, recipeHash } from '../sandbox/images/recipe';
import { CORE_TEMPLATES, type TemplateDef } from '../sandbox/templates';
import {
  GPU_UNVERIFIED,
  NVPROXY_RUNTIME,
  describeNvproxySupport,
  nvproxySupported,
  parseDriverVersion,
  parseGpuList,
  parseSupportedDrivers,
  type Gpu,
} from './nvproxy';

export type Exec = (command: string, opts?: { timeoutMs?: number }) => Promise<{ code: number | null; stdout: string; stderr: string }>;

export type CheckStatus = 'ok' | 'missing' | 'problem' | 'n/a';
export type CheckId =
  'os' | 'privileges' | 'docker' | 'docker-access' | 'daemon-json' | 'runsc' | 'egress-runtime' | 'images' | 'nvidia' | 'nvproxy';

/** The runtime for runs with network egress: runsc with --network=none --host-uds=open (scripts/setup.sh registers it locally). */
export const EGRESS_RUNTIME_NAME = 'runsc-egress';
export const EGRESS_RUNTIME_ARGS: readonly string[] = ['--network=none', '--host-uds=open'];

export interface CheckItem {
  id: CheckId;
  label: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

/** The distributions the providers ship, which Prepare knows how to set up. */
export const SUPPORTED_OS: ReadonlyArray<{ id: string; versionId: string; name: string }> = [
  { id: 'ubuntu', versionId: '22.04', name: 'Ubuntu 22.04' },
  { id: 'ubuntu', versionId: '24.04', name: 'Ubuntu 24.04' },
  { id: 'debian', versionId: '12', name: 'Debian 12' },
];

export const DAEMON_JSON = '/etc/docker/daemon.json';

export interface RuntimeInfo {
  path?: string;
  runtimeArgs?: string[];
  runtimeType?: string;
}

export interface ImageFacts {
  template: string;
  label: string;
  official: { name: string; present: boolean };
  local: { name: string; present: boolean; recipeCurrent: boolean };
}

export interface HostFacts {
  /** The script ran to its end (otherwise the output was cut short and little can be trusted). */
  complete: boolean;
  user: { uid: number | null; name: string; groups: string[] };
  privilege: 'root' | 'sudo' | 'none';
  os: { id: string; versionId: string; prettyName: string; codename: string; supported: boolean };
  arch: string;
  /** Commands found on the PATH (with sbin dirs), name → path. */
  tools: Record<string, string>;
  systemd: boolean;
  docker: {
    installed: boolean;
    clientVersion?: string;
    answering: boolean;
    /** Who could talk to the daemon: the login user itself, only through sudo, or nobody. */
    via: 'user' | 'sudo' | 'none';
    serverVersion?: string;
    runtimes: Record<string, RuntimeInfo>;
    error?: string;
  };
  daemonJson: { state: 'absent' | 'ok' | 'unparsable' | 'unreadable'; runtimes: Record<string, RuntimeInfo>; error?: string };
  runsc: { installed: boolean; path?: string; version?: string; registeredAs?: string };
  images: ImageFacts[];
  nvidia: { smi: boolean; driver?: string; gpus: Gpu[]; toolkit: boolean; error?: string };
  nvproxy: { listed: boolean; supportedDrivers: string[]; supported?: boolean; error?: string };
}

export interface HostChecklist {
  items: CheckItem[];
  facts: HostFacts;
  /** Every item ok or n/a: the host can run Moat's CPU sandboxes as it is. */
  ready: boolean;
}

const TOOLS = [
  'docker',
  'dockerd',
  'runsc',
  'python3',
  'jq',
  'curl',
  'gpg',
  'apt-get',
  'dpkg',
  'systemctl',
  'debootstrap',
  'nvidia-smi',
  'nvidia-container-runtime-hook',
  'nvidia-ctk',
] as const;

// The fields of `docker info` the checklist needs, as one JSON object.
const DOCKER_INFO_FORMAT = '{"ServerVersion":{{json .ServerVersion}},"Runtimes":{{json .Runtimes}}}';

/** Every image name the templates may use, official and local build. */
export function templateImages(templates: readonly TemplateDef[]): string[] {
  return [...new Set(templates.flatMap((t) => [t.officialImage, t.localImage]))];
}

function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The check script. `nonce` makes the markers unguessable to the commands whose output they frame. */
export function checkScript(nonce: string, templates: readonly TemplateDef[] = CORE_TEMPLATES): string {
  if (!/^[A-Za-z0-9]+$/.test(nonce)) throw new Error('nonce must be alphanumeric');
  const images = templateImages(templates)
    .map((i) => `  sec ${shq(`image ${i}`)} dk image inspect --format '{{.Id}} {{json .Config.Labels}}' ${shq(i)}`)
    .join('\n');
  return `M='@@moat-check-${nonce}'
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
export PATH
E=$(mktemp 2>/dev/null || echo "/tmp/moat-check.$$")
trap 'rm -f "$E"' EXIT
rc=0
t() {
  if command -v timeout >/dev/null 2>&1; then timeout "$@"; else shift; "$@"; fi
}
sec() {
  n=$1
  shift
  printf '%s begin %s\\n' "$M" "$n"
  if "$@" 2>"$E"; then rc=0; else rc=$?; fi
  printf '\\n%s stderr %s\\n' "$M" "$n"
  head -c 4000 "$E"
  printf '\\n%s end %s %s\\n' "$M" "$n" "$rc"
}
ids() {
  id -u
  id -un
  id -Gn
}
tools() {
  for c in ${TOOLS.join(' ')}; do
    if p=$(command -v "$c"); then echo "$c $p"; fi
  done
  if [ -d /run/systemd/system ]; then echo "systemd yes"; fi
}
sec id ids
sec os cat /etc/os-release
sec arch uname -m
if [ "$(id -u)" = 0 ]; then
  SUDO=root
elif command -v sudo >/dev/null 2>&1 && t 10 sudo -n true >/dev/null 2>&1; then
  SUDO=sudo
else
  SUDO=none
fi
sec sudo echo "$SUDO"
asroot() {
  if [ "$SUDO" = sudo ]; then sudo -n "$@"; else "$@"; fi
}
sec tools tools
DOCKER_AS=none
if command -v docker >/dev/null 2>&1; then
  sec docker-client docker --version
  sec docker-info t 20 docker info --format '${DOCKER_INFO_FORMAT}'
  if [ "$rc" = 0 ]; then
    DOCKER_AS=user
  elif [ "$SUDO" = sudo ]; then
    sec docker-info-root t 20 sudo -n docker info --format '${DOCKER_INFO_FORMAT}'
    if [ "$rc" = 0 ]; then DOCKER_AS=sudo; fi
  fi
fi
dk() {
  if [ "$DOCKER_AS" = sudo ]; then sudo -n docker "$@"; else docker "$@"; fi
}
if [ -e ${DAEMON_JSON} ]; then
  sec daemon-json asroot head -c 262144 ${DAEMON_JSON}
fi
if command -v runsc >/dev/null 2>&1; then
  sec runsc-version t 20 runsc --version
fi
if [ "$DOCKER_AS" != none ]; then
${images || '  :'}
fi
if command -v nvidia-smi >/dev/null 2>&1; then
  sec nvidia-driver t 30 nvidia-smi --query-gpu=driver_version --format=csv,noheader
  sec nvidia-gpus t 30 nvidia-smi -L
  if command -v runsc >/dev/null 2>&1; then
    sec nvproxy-drivers t 30 runsc nvproxy list-supported-drivers
  fi
fi
sec end-of-check true
`;
}

export interface Section {
  out: string;
  err: string;
  rc: number | null;
}

/** Splits the script's output into its sections; a section cut short has rc null. */
export function parseSections(text: string, nonce: string): Map<string, Section> {
  const marker = `@@moat-check-${nonce} `;
  const sections = new Map<string, Section>();
  let cur: { name: string; out: string[]; err: string[]; inErr: boolean } | null = null;
  const close = (rc: number | null) => {
    if (!cur) return;
    const trim = (lines: string[]) => lines.join('\n').replace(/^\n+|\n+$/g, '');
    sections.set(cur.name, { out: trim(cur.out), err: trim(cur.err), rc });
    cur = null;
  };
  for (const line of text.split('\n')) {
    // A section's output may not end in a newline: the marker then follows it on the same line.
    const at = line.indexOf(marker);
    const before = at >= 0 ? line.slice(0, at) : line;
    if (cur && (at < 0 || before)) (cur.inErr ? cur.err : cur.out).push(before);
    if (at < 0) continue;
    const rest = line.slice(at + marker.length);
    const [kind, ...words] = rest.split(' ');
    if (kind === 'begin') {
      close(null);
      cur = { name: words.join(' '), out: [], err: [], inErr: false };
    } else if (kind === 'stderr' && cur) {
      cur.inErr = true;
    } else if (kind === 'end' && cur) {
      const rc = Number(words[words.length - 1]);
      close(Number.isInteger(rc) ? rc : null);
    }
  }
  close(null);
  return sections;
}

/** /etc/os-release: KEY=value lines, values optionally quoted. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2]!.trim();
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    out[m[1]!] = v.replace(/\\(["$`\\])/g, '$1');
  }
  return out;
}

function asRuntimes(v: unknown): Record<string, RuntimeInfo> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
  const out: Record<string, RuntimeInfo> = {};
  for (const [name, r] of Object.entries(v as Record<string, unknown>)) {
    if (!r || typeof r !== 'object') continue;
    const o = r as Record<string, unknown>;
    out[name] = {
      path: typeof o.path === 'string' ? o.path : undefined,
      runtimeArgs: Array.isArray(o.runtimeArgs) ? o.runtimeArgs.filter((a): a is string => typeof a === 'string') : undefined,
      runtimeType: typeof o.runtimeType === 'string' ? o.runtimeType : undefined,
    };
  }
  return out;
}

function firstLine(s: string): string {
  return (
    s
      .split('\n')
      .find((l) => l.trim())
      ?.trim() ?? ''
  );
}

/** The facts in the script's output. */
export function parseCheckOutput(text: string, nonce: string, templates: readonly TemplateDef[] = CORE_TEMPLATES): HostFacts {
  const s = parseSections(text, nonce);
  const ok = (name: string) => s.get(name)?.rc === 0;

  const idLines = (s.get('id')?.out ?? '').split('\n');
  const uid = /^\d+$/.test(idLines[0]?.trim() ?? '') ? Number(idLines[0]) : null;
  const user = { uid, name: idLines[1]?.trim() ?? '', groups: (idLines[2] ?? '').trim().split(/\s+/).filter(Boolean) };

  const sudoWord = s.get('sudo')?.out.trim();
  const privilege: HostFacts['privilege'] = uid === 0 || sudoWord === 'root' ? 'root' : sudoWord === 'sudo' ? 'sudo' : 'none';

  const rel = parseOsRelease(s.get('os')?.out ?? '');
  const osId = (rel.ID ?? '').toLowerCase();
  const versionId = rel.VERSION_ID ?? '';
  const os = {
    id: osId,
    versionId,
    prettyName: rel.PRETTY_NAME ?? ([rel.NAME, rel.VERSION].filter(Boolean).join(' ') || 'unknown'),
    codename: rel.VERSION_CODENAME ?? '',
    supported: SUPPORTED_OS.some((o) => o.id === osId && o.versionId === versionId),
  };

  const tools: Record<string, string> = {};
  let systemd = false;
  for (const line of (s.get('tools')?.out ?? '').split('\n')) {
    const [name, p] = line.trim().split(/\s+/, 2);
    if (!name || !p) continue;
    if (name === 'systemd') systemd = p === 'yes';
    else tools[name] = p;
  }

  // docker info: as the user, else through sudo.
  const info = ok('docker-info') ? s.get('docker-info')! : ok('docker-info-root') ? s.get('docker-info-root')! : null;
  let serverVersion: string | undefined;
  let runtimes: Record<string, RuntimeInfo> = {};
  let dockerError: string | undefined;
  if (info) {
    try {
      const j = JSON.parse(firstLine(info.out)) as { ServerVersion?: unknown; Runtimes?: unknown };
      serverVersion = typeof j.ServerVersion === 'string' ? j.ServerVersion : undefined;
      runtimes = asRuntimes(j.Runtimes);
    } catch {
      dockerError = `unexpected answer from docker info: ${firstLine(info.out).slice(0, 200)}`;
    }
  } else if (s.has('docker-info')) {
    dockerError =
      firstLine(s.get('docker-info-root')?.err || s.get('docker-info')!.err) || `docker info exited with ${s.get('docker-info')!.rc}`;
  }
  const clientLine = firstLine(s.get('docker-client')?.out ?? '');
  const docker: HostFacts['docker'] = {
    installed: !!tools.docker,
    clientVersion: /version ([^\s,]+)/i.exec(clientLine)?.[1],
    answering: !!info && !dockerError,
    via: info && !dockerError ? (ok('docker-info') ? 'user' : 'sudo') : 'none',
    serverVersion,
    runtimes,
    error: dockerError,
  };

  const dj = s.get('daemon-json');
  let daemonJson: HostFacts['daemonJson'] = { state: 'absent', runtimes: {} };
  if (dj) {
    if (dj.rc !== 0) daemonJson = { state: 'unreadable', runtimes: {}, error: firstLine(dj.err) || `exit ${dj.rc}` };
    else if (!dj.out.trim()) daemonJson = { state: 'ok', runtimes: {} };
    else {
      try {
        const conf = JSON.parse(dj.out) as unknown;
        if (!conf || typeof conf !== 'object' || Array.isArray(conf)) throw new Error('it does not hold a JSON object');
        const rt = (conf as Record<string, unknown>).runtimes;
        if (rt !== undefined && (!rt || typeof rt !== 'object' || Array.isArray(rt))) throw new Error('its "runtimes" is not an object');
        daemonJson = { state: 'ok', runtimes: asRuntimes(rt) };
      } catch (err) {
        daemonJson = { state: 'unparsable', runtimes: {}, error: (err as Error).message };
      }
    }
  }

  const rv = s.get('runsc-version');
  const runsc: HostFacts['runsc'] = {
    installed: !!tools.runsc,
    path: tools.runsc,
    version: rv ? /runsc version (\S+)/.exec(rv.out)?.[1] : undefined,
    registeredAs: findGvisorRuntime(runtimes),
  };

  const images: ImageFacts[] = templates.map((t) => {
    const off = s.get(`image ${t.officialImage}`);
    const loc = s.get(`image ${t.localImage}`);
    let labels: Record<string, string> = {};
    if (loc?.rc === 0) {
      try {
        labels = (JSON.parse(firstLine(loc.out).replace(/^\S+\s+/, '')) as Record<string, string> | null) ?? {};
      } catch {
        /* no labels */
      }
    }
    return {
      template: t.id,
      label: t.label,
      official: { name: t.officialImage, present: off?.rc === 0 },
      local: { name: t.localImage, present: loc?.rc === 0, recipeCurrent: labels[RECIPE_LABEL] === recipeHash(t) },
    };
  });

  const nvidia: HostFacts['nvidia'] = {
    smi: !!tools['nvidia-smi'],
    gpus: [],
    toolkit: !!(tools['nvidia-container-runtime-hook'] || tools['nvidia-ctk']),
  };
  const nd = s.get('nvidia-driver');
  if (nvidia.smi) {
    try {
      nvidia.driver = nd?.rc === 0 ? (parseDriverVersion(nd.out) ?? undefined) : undefined;
    } catch (err) {
      nvidia.error = (err as Error).message;
    }
    if (nd && nd.rc !== 0) nvidia.error = firstLine(nd.out) || firstLine(nd.err) || `nvidia-smi exited with ${nd.rc}`;
    const ng = s.get('nvidia-gpus');
    if (ng?.rc === 0) nvidia.gpus = parseGpuList(ng.out);
  }

  const np = s.get('nvproxy-drivers');
  const nvproxy: HostFacts['nvproxy'] = { listed: false, supportedDrivers: [] };
  if (np) {
    nvproxy.supportedDrivers = np.rc === 0 ? parseSupportedDrivers(np.out) : [];
    nvproxy.listed = nvproxy.supportedDrivers.length > 0;
    if (!nvproxy.listed) nvproxy.error = firstLine(np.err) || firstLine(np.out) || `exit ${np.rc}`;
    if (nvidia.driver && nvproxy.listed) nvproxy.supported = nvproxySupported(nvidia.driver, nvproxy.supportedDrivers);
  }

  return {
    complete: ok('end-of-check'),
    user,
    privilege,
    os,
    arch: firstLine(s.get('arch')?.out ?? ''),
    tools,
    systemd,
    docker,
    daemonJson,
    runsc,
    images,
    nvidia,
    nvproxy,
  };
}

const SUPPORTED_NAMES = SUPPORTED_OS.map((o) => o.name).join(', ');

/** The checklist the UI shows, from the facts. */
export function checklistFromFacts(f: HostFacts): HostChecklist {
  const items: CheckItem[] = [];
  const add = (i: CheckItem) => items.push(i);

  add(
    f.os.supported
      ? { id: 'os', label: 'Operating system', status: 'ok', detail: `${f.os.prettyName} (${f.arch || 'unknown arch'})` }
      : {
          id: 'os',
          label: 'Operating system',
          status: 'problem',
          detail: f.os.id
            ? `${f.os.prettyName} (ID=${f.os.id}, VERSION_ID=${f.os.versionId || '?'}) is not one Moat prepares.`
            : 'No /etc/os-release: the distribution is unknown.',
          fix: `Prepare supports ${SUPPORTED_NAMES}. Set this host up by hand (Docker, gVisor's runsc registered as a Docker runtime), or use one of those images.`,
        },
  );

  add(
    f.privilege === 'root'
      ? { id: 'privileges', label: 'Privileges', status: 'ok', detail: `Logged in as root.` }
      : f.privilege === 'sudo'
        ? { id: 'privileges', label: 'Privileges', status: 'ok', detail: `${f.user.name || 'This user'} has passwordless sudo.` }
        : {
            id: 'privileges',
            label: 'Privileges',
            status: 'problem',
            detail: `${f.user.name || 'This user'} is not root and has no passwordless sudo (\`sudo -n true\` failed), so Moat cannot install anything.`,
            fix: `Log in as root, or give ${f.user.name || 'the user'} passwordless sudo (a line \`${f.user.name || 'USER'} ALL=(ALL) NOPASSWD:ALL\` in /etc/sudoers.d/).`,
          },
  );

  const d = f.docker;
  if (!d.installed)
    add({
      id: 'docker',
      label: 'Docker',
      status: 'missing',
      detail: 'Docker is not installed.',
      fix: 'Prepare installs it (docker.io from the distribution).',
    });
  else if (!d.answering)
    add({
      id: 'docker',
      label: 'Docker',
      status: 'problem',
      detail: `Docker ${d.clientVersion ?? ''} is installed but the daemon does not answer${d.error ? `: ${d.error}` : ''}.`.replace(
        '  ',
        ' ',
      ),
      fix: 'Prepare starts it (`systemctl enable --now docker`).',
    });
  else
    add({
      id: 'docker',
      label: 'Docker',
      status: 'ok',
      detail: `Docker ${d.serverVersion ?? d.clientVersion ?? ''} answers.`.replace('  ', ' '),
    });

  if (f.privilege === 'root' || f.user.uid === 0)
    add({ id: 'docker-access', label: 'Docker socket for this login', status: 'n/a', detail: 'Root reaches the Docker socket.' });
  else if (d.via === 'user')
    add({ id: 'docker-access', label: 'Docker socket for this login', status: 'ok', detail: `${f.user.name} reaches the Docker socket.` });
  else
    add({
      id: 'docker-access',
      label: 'Docker socket for this login',
      status: d.installed ? 'problem' : 'missing',
      detail: `${f.user.name || 'This user'} cannot use the Docker socket, which is how Moat talks to the engine over SSH.`,
      fix: `Prepare adds ${f.user.name || 'the user'} to the docker group (takes effect at the next SSH login; Moat reconnects).`,
    });

  const dj = f.daemonJson;
  if (dj.state === 'unparsable' || dj.state === 'unreadable')
    add({
      id: 'daemon-json',
      label: 'Docker configuration',
      status: 'problem',
      detail: `${DAEMON_JSON} is ${dj.state === 'unreadable' ? 'unreadable' : 'not valid JSON Moat can merge into'}: ${dj.error}.`,
      fix: `Fix ${DAEMON_JSON} by hand (Moat never overwrites a configuration it cannot read), then check again.`,
    });
  else
    add({
      id: 'daemon-json',
      label: 'Docker configuration',
      status: 'ok',
      detail: dj.state === 'absent' ? `No ${DAEMON_JSON} yet.` : `${DAEMON_JSON} is valid JSON.`,
    });

  const r = f.runsc;
  if (!r.installed)
    add({
      id: 'runsc',
      label: 'gVisor (runsc)',
      status: 'missing',
      detail: 'runsc is not installed.',
      fix: "Prepare installs it from gVisor's apt repository.",
    });
  else if (!d.answering)
    add({
      id: 'runsc',
      label: 'gVisor (runsc)',
      status: 'problem',
      detail: `runsc ${r.version ?? ''} is installed; whether Docker knows it cannot be told while the daemon does not answer.`,
    });
  else if (!r.registeredAs)
    add({
      id: 'runsc',
      label: 'gVisor (runsc)',
      status: 'problem',
      detail: `runsc ${r.version ?? ''} is installed (${r.path}) but not registered as a Docker runtime.`,
      fix: `Prepare registers it in ${DAEMON_JSON} (merged with what is there) and reloads dockerd.`,
    });
  else
    add({
      id: 'runsc',
      label: 'gVisor (runsc)',
      status: 'ok',
      detail: `runsc ${r.version ?? ''} is registered as the Docker runtime "${r.registeredAs}".`,
    });

  const egress = d.runtimes[EGRESS_RUNTIME_NAME];
  const egressArgs = egress?.runtimeArgs ?? [];
  if (!r.installed || !d.answering)
    add({
      id: 'egress-runtime',
      label: 'Network egress runtime (runsc-egress)',
      status: 'n/a',
      detail: 'Can be checked once runsc is installed and Docker answers.',
    });
  else if (egress && EGRESS_RUNTIME_ARGS.every((a) => egressArgs.includes(a)))
    add({
      id: 'egress-runtime',
      label: 'Network egress runtime (runsc-egress)',
      status: 'ok',
      detail: `Runtime "${EGRESS_RUNTIME_NAME}" is registered (${egressArgs.join(' ')}).`,
    });
  else
    add({
      id: 'egress-runtime',
      label: 'Network egress runtime (runsc-egress)',
      status: 'missing',
      detail: egress
        ? `Runtime "${EGRESS_RUNTIME_NAME}" is registered without ${EGRESS_RUNTIME_ARGS.join(' ')}.`
        : `Runtime "${EGRESS_RUNTIME_NAME}" (runsc with ${EGRESS_RUNTIME_ARGS.join(' ')}, for runs with an allowlist) is not registered. Runs without network do not need it.`,
      fix: `Prepare registers it in ${DAEMON_JSON} beside runsc and reloads dockerd.`,
    });

  if (!d.answering) add({ id: 'images', label: 'Template images', status: 'n/a', detail: 'Images can be checked once Docker answers.' });
  else {
    const missing = f.images.filter((i) => !i.official.present && !i.local.present);
    const have = f.images
      .filter((i) => i.official.present || i.local.present)
      .map((i) => `${i.label}: ${i.official.present ? i.official.name : i.local.name}`);
    add(
      missing.length === 0
        ? { id: 'images', label: 'Template images', status: 'ok', detail: have.join('; ') }
        : {
            id: 'images',
            label: 'Template images',
            status: 'missing',
            detail: `Missing for ${missing.map((i) => i.label).join(', ')}${have.length ? ` (present: ${have.join('; ')})` : ''}.`,
            fix: 'Prepare pulls the official images, or builds them on the host from Debian packages.',
          },
    );
  }

  const n = f.nvidia;
  if (!n.smi) add({ id: 'nvidia', label: 'NVIDIA GPUs', status: 'n/a', detail: 'No NVIDIA driver (nvidia-smi) on this host.' });
  else if (!n.driver)
    add({
      id: 'nvidia',
      label: 'NVIDIA GPUs',
      status: 'problem',
      detail: `nvidia-smi is installed but reports no driver: ${n.error ?? 'no answer'}.`,
      fix: 'Check the NVIDIA driver on the host (`nvidia-smi`).',
    });
  else
    add({
      id: 'nvidia',
      label: 'NVIDIA GPUs',
      status: 'ok',
      detail: `Driver ${n.driver}; ${n.gpus.length ? n.gpus.map((g) => `GPU ${g.index}: ${g.name}`).join(', ') : 'no GPU listed'}.`,
    });

  if (!n.driver || n.gpus.length === 0) add({ id: 'nvproxy', label: 'GPU sandboxes (nvproxy)', status: 'n/a', detail: 'No GPU.' });
  else if (!r.installed)
    add({
      id: 'nvproxy',
      label: 'GPU sandboxes (nvproxy)',
      status: 'missing',
      detail: 'runsc is needed first.',
      fix: "Prepare installs runsc from gVisor's apt repository.",
    });
  else if (!f.nvproxy.listed)
    add({
      id: 'nvproxy',
      label: 'GPU sandboxes (nvproxy)',
      status: 'problem',
      detail: `This runsc (${r.version ?? 'unknown version'}) cannot list nvproxy's supported drivers (${f.nvproxy.error ?? 'no answer'}): it is too old for GPU sandboxes.`,
      fix: "Prepare with GPU sandboxes installs a current runsc from gVisor's apt repository.",
    });
  else if (!f.nvproxy.supported)
    add({
      id: 'nvproxy',
      label: 'GPU sandboxes (nvproxy)',
      status: 'problem',
      detail: describeNvproxySupport(n.driver, f.nvproxy.supportedDrivers),
      fix: 'Install one of the supported driver versions, or a runsc release that supports this driver; GPU sandboxes are not offered until then.',
    });
  else {
    const registered = !!d.runtimes[NVPROXY_RUNTIME];
    add({
      id: 'nvproxy',
      label: 'GPU sandboxes (nvproxy)',
      status: registered && n.toolkit ? 'ok' : 'missing',
      detail:
        `${describeNvproxySupport(n.driver, f.nvproxy.supportedDrivers)} ` +
        (n.toolkit ? '' : 'The NVIDIA Container Toolkit (needed for `--gpus`) is not installed. ') +
        (registered ? `Runtime "${NVPROXY_RUNTIME}" is registered. ` : `Runtime "${NVPROXY_RUNTIME}" is not registered yet. `) +
        GPU_UNVERIFIED,
      fix: n.toolkit
        ? registered
          ? undefined
          : `Prepare with GPU sandboxes registers "${NVPROXY_RUNTIME}".`
        : 'Install the NVIDIA Container Toolkit (NVIDIA\u2019s apt repository, package nvidia-container-toolkit); Prepare does not install it.',
    });
  }

  // The egress runtime is for runs with an allowlist only: CPU sandboxes run without it.
  return { items, facts: f, ready: items.every((i) => i.status === 'ok' || i.status === 'n/a' || i.id === 'egress-runtime') };
}

export const CHECK_TIMEOUT_MS = 90_000;

/**
 * Checks a host in one round trip. The script runs as the login user (sudo only where a check
 * needs root and sudo is passwordless); it changes nothing. Throws when the output is cut short.
 */
export async function checkHost(exec: Exec, opts: { templates?: readonly TemplateDef[]; timeoutMs?: number } = {}): Promise<HostChecklist> {
  const nonce = randomBytes(8).toString('hex');
  const templates = opts.templates ?? CORE_TEMPLATES;
  const res = await exec(`sh -c ${shq(checkScript(nonce, templates))}`, { timeoutMs: opts.timeoutMs ?? CHECK_TIMEOUT_MS });
  const facts = parseCheckOutput(res.stdout, nonce, templates);
  if (!facts.complete) {
    throw new Error(
      `The host check did not run to its end (exit ${res.code ?? 'none'})${res.stderr.trim() ? `: ${res.stderr.trim().split('\n').slice(-3).join(' / ')}` : ''}.`,
    );
  }
  return checklistFromFacts(facts);
}

export { shq };
