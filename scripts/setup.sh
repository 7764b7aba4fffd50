#!/usr/bin/env bash
# Sets this machine up for Moat. Idempotent: a second run only checks, and prints nothing but the
# final line unless it had something to do.
#
#   bash scripts/setup.sh          what running the app needs: Docker + gVisor (runsc), the
#                                  templates' images, node_modules, the built app
#   bash scripts/setup.sh --test   that, plus what the tests need (sshd, gnome-keyring, dbus,
#                                  chromium, …) and the local images built from Debian packages
#
# On Debian as root it installs what is missing with apt; elsewhere it prints what to install and
# does the rest. Env:
#   MOAT_DOCKER_DAEMON_JSON  daemon config to merge the runsc runtime into (/etc/docker/daemon.json)
#   MOAT_CACHE_DIR           image build cache (/var/cache/moat as root): outside the clone, so CI
#                            machines and fresh clones reuse downloaded .debs
#   MOAT_DEBIAN_MIRROR       Debian mirror for image builds (default: the one apt uses here)
#   MOAT_RETRY_ELECTRON=1    retry the Electron download even if it failed before
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

TEST=0
for arg in "$@"; do
  case "$arg" in
    --test) TEST=1 ;;
    -h | --help)
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
      exit 0
      ;;
    *)
      echo "setup: unknown option: $arg (usage: bash scripts/setup.sh [--test])" >&2
      exit 2
      ;;
  esac
done

T0=$(date +%s.%N)
say() { echo "setup: $*"; }
warn() { echo "setup: $*" >&2; }

# Runs a command with its output in a temp file; shows the tail only when it fails.
quietly() {
  local out rc=0
  out=$(mktemp)
  "$@" >"$out" 2>&1 || rc=$?
  if [ "$rc" != 0 ]; then
    tail -n 30 "$out" >&2
    warn "failed (exit $rc): $*"
  fi
  rm -f "$out"
  return "$rc"
}

IS_ROOT=0
[ "$(id -u)" = 0 ] && IS_ROOT=1
IS_DEBIAN=0
[ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1 && IS_DEBIAN=1

command -v node >/dev/null 2>&1 || {
  warn "Node.js 20 (>= 20.19) is needed first: https://nodejs.org/ (or your distribution's nodejs package)"
  exit 1
}
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" -ge 20 ] || {
  warn "Node.js $(node -v) is too old: Moat needs Node 20 (>= 20.19)"
  exit 1
}

# ---------------------------------------------------------------------------------------------
# System packages: "package:probe", the probe a command on the PATH or an absolute path. Probing
# for the command rather than the package leaves alone a Docker installed another way (docker-ce).
# gcc + libc6-dev: the static forwarder inside sandboxes with network egress (scripts/build-netfwd.sh)
BASE_PKGS=(docker.io:dockerd runsc:runsc debootstrap:debootstrap gcc:gcc libc6-dev:/usr/include/stdio.h)
TEST_PKGS=(
  openssh-server:sshd
  gnome-keyring:gnome-keyring-daemon
  dbus:dbus-daemon
  dbus-daemon:dbus-run-session
  dbus-x11:dbus-launch
  chromium:chromium
  fonts-liberation:/usr/share/fonts/truetype/liberation
  iproute2:ip
  procps:pkill
  ca-certificates:/etc/ssl/certs/ca-certificates.crt
  shellcheck:shellcheck # lints the scripts Moat generates to prepare remote hosts
)
OPTIONAL_PKGS=(xvfb:Xvfb) # nice to have (a virtual display); its absence is not an error

have() { case "$1" in /*) [ -e "$1" ] ;; *) command -v "$1" >/dev/null 2>&1 ;; esac }
missing_of() {
  local entry
  for entry in "$@"; do have "${entry#*:}" || echo "${entry%%:*}"; done
}

# Without a service manager, package scripts that start their service (docker.io, ssh, dbus) can
# fail the install (`invoke-rc.d … || exit 1`): a temporary policy-rc.d says "no starts" (101),
# as in container images; this script starts dockerd itself.
POLICY_RC_D=/usr/sbin/policy-rc.d
POLICY_CREATED=0
cleanup_policy() { if [ "$POLICY_CREATED" = 1 ]; then rm -f "$POLICY_RC_D"; POLICY_CREATED=0; fi; }
trap cleanup_policy EXIT

APT_UPDATED=0
apt_install() {
  if [ "$APT_UPDATED" = 0 ]; then
    say "apt-get update"
    quietly apt-get -o DPkg::Lock::Timeout=300 update
    APT_UPDATED=1
  fi
  say "installing $* (apt)"
  if [ ! -d /run/systemd/system ] && [ ! -e "$POLICY_RC_D" ]; then
    printf '#!/bin/sh\n# written by moat scripts/setup.sh for the duration of an apt install\nexit 101\n' >"$POLICY_RC_D"
    chmod 755 "$POLICY_RC_D"
    POLICY_CREATED=1
  fi
  local rc=0
  DEBIAN_FRONTEND=noninteractive quietly apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "$@" || rc=$?
  cleanup_policy
  return "$rc"
}

WANT=("${BASE_PKGS[@]}")
[ "$TEST" = 1 ] && WANT+=("${TEST_PKGS[@]}")
mapfile -t MISSING < <(missing_of "${WANT[@]}")
mapfile -t MISSING_OPT < <([ "$TEST" = 1 ] && missing_of "${OPTIONAL_PKGS[@]}" || true)
if [ "${#MISSING[@]}" -gt 0 ] || [ "${#MISSING_OPT[@]}" -gt 0 ]; then
  if [ "$IS_DEBIAN" = 1 ] && [ "$IS_ROOT" = 1 ]; then
    [ "${#MISSING[@]}" -gt 0 ] && apt_install "${MISSING[@]}"
    if [ "${#MISSING_OPT[@]}" -gt 0 ]; then
      apt_install "${MISSING_OPT[@]}" || warn "optional ${MISSING_OPT[*]} not installed; continuing"
    fi
  elif [ "${#MISSING[@]}" -gt 0 ]; then
    if [ "$IS_DEBIAN" = 1 ]; then
      warn "missing: ${MISSING[*]}. Install them as root: sudo apt-get install -y --no-install-recommends ${MISSING[*]}"
      warn "(or run sudo bash scripts/setup.sh$([ "$TEST" = 1 ] && echo ' --test')); continuing with what can be done"
    else
      warn "missing (Debian package names): ${MISSING[*]}. Not a Debian system: install the equivalents:"
      warn "  Docker Engine: https://docs.docker.com/engine/install/  gVisor runsc: https://gvisor.dev/docs/user_guide/install/"
      warn "  debootstrap (only to build images where no registry is reachable); continuing with what can be done"
    fi
  fi
fi

# ---------------------------------------------------------------------------------------------
# Docker daemon: register gVisor's runsc as a runtime, make sure the daemon runs and knows it.
#
# runtimeArgs --network=none: Moat's sandboxes never have a network (they run with NetworkMode
# none), so the sandbox's own network stack is not needed, and without it runsc also works on
# hosts where its networking fails to start (nested VMs, restricted kernels).
# A second runtime, runsc-egress, adds --host-uds=open: runs with an allowlist use it to reach the
# one unix socket of Moat's filtering proxy mounted into the sandbox (still no network device).
DAEMON_JSON=${MOAT_DOCKER_DAEMON_JSON:-/etc/docker/daemon.json}
RUNSC=$(command -v runsc || true)
JSON_CHANGED=0
if [ -n "$RUNSC" ]; then
  json_dir=$(dirname "$DAEMON_JSON")
  CAN_WRITE_JSON=0
  if [ -e "$DAEMON_JSON" ]; then
    [ -w "$DAEMON_JSON" ] && [ -w "$json_dir" ] && CAN_WRITE_JSON=1
  elif [ -d "$json_dir" ]; then
    [ -w "$json_dir" ] && CAN_WRITE_JSON=1
  else
    [ "$IS_ROOT" = 1 ] && CAN_WRITE_JSON=1
  fi
  # Prints "changed" or "unchanged"; never rewrites other keys; refuses to touch invalid JSON.
  RESULT=$(
    node - "$DAEMON_JSON" "$RUNSC" "$CAN_WRITE_JSON" <<'JS'
const fs = require('node:fs');
const path = require('node:path');
const [file, runsc, canWrite] = process.argv.slice(2);
let conf = {};
let existed = false;
try {
  const text = fs.readFileSync(file, 'utf8');
  existed = true;
  conf = text.trim() ? JSON.parse(text) : {};
} catch (err) {
  if (err.code !== 'ENOENT') {
    console.error(`setup: ${file} is not valid JSON (${err.message}); fix it, then run setup again`);
    process.exit(1);
  }
}
if (typeof conf !== 'object' || conf === null || Array.isArray(conf)) {
  console.error(`setup: ${file} does not hold a JSON object; fix it, then run setup again`);
  process.exit(1);
}
const before = JSON.stringify(conf);
const runtimes = (conf.runtimes && typeof conf.runtimes === 'object') ? conf.runtimes : {};
const prev = runtimes.runsc && typeof runtimes.runsc === 'object' ? runtimes.runsc : {};
const args = (Array.isArray(prev.runtimeArgs) ? prev.runtimeArgs : []).filter((a) => !/^--network(=|$)/.test(a));
runtimes.runsc = { ...prev, path: runsc, runtimeArgs: [...args, '--network=none'] };
const prevEgress = runtimes['runsc-egress'] && typeof runtimes['runsc-egress'] === 'object' ? runtimes['runsc-egress'] : {};
const egressArgs = (Array.isArray(prevEgress.runtimeArgs) ? prevEgress.runtimeArgs : []).filter((a) => !/^--(network|host-uds)(=|$)/.test(a));
runtimes['runsc-egress'] = { ...prevEgress, path: runsc, runtimeArgs: [...egressArgs, '--network=none', '--host-uds=open'] };
conf.runtimes = runtimes;
if (JSON.stringify(conf) === before) {
  console.log('unchanged');
  process.exit(0);
}
if (canWrite !== '1') {
  console.error(`setup: ${file} needs the runsc runtime; as root, merge in: ${JSON.stringify({ runtimes: { runsc: runtimes.runsc, 'runsc-egress': runtimes['runsc-egress'] } })}`);
  console.log('unwritable');
  process.exit(0);
}
fs.mkdirSync(path.dirname(file), { recursive: true });
if (existed) fs.copyFileSync(file, `${file}.moat-backup`);
const tmp = `${file}.moat-tmp`;
fs.writeFileSync(tmp, JSON.stringify(conf, null, 2) + '\n', { mode: 0o644 });
fs.renameSync(tmp, file);
console.log('changed');
JS
  )
  if [ "$RESULT" = changed ]; then
    JSON_CHANGED=1
    say "registered runsc ($RUNSC, --network=none) in $DAEMON_JSON"
    say "registered runsc-egress ($RUNSC, --network=none --host-uds=open) in $DAEMON_JSON"
  fi
else
  warn "runsc (gVisor) is not installed: sandboxes cannot run under gVisor until it is"
fi

DOCKER_UP=0
if command -v docker >/dev/null 2>&1; then
  WAS_RUNNING=0
  bash scripts/dockerd.sh status && WAS_RUNNING=1
  if [ "$WAS_RUNNING" = 0 ]; then
    if [ "$IS_ROOT" = 1 ] && command -v dockerd >/dev/null 2>&1; then
      bash scripts/dockerd.sh start
    elif [ -S /var/run/docker.sock ] && [ ! -w /var/run/docker.sock ]; then
      warn "no permission to use the Docker socket: sudo usermod -aG docker $(id -un), then log in again"
    else
      warn "the Docker daemon does not answer (docker info); start it as root: sudo bash scripts/dockerd.sh start"
    fi
  fi
  bash scripts/dockerd.sh status && DOCKER_UP=1
fi

has_runsc_runtime() { docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc"'; }
has_egress_runtime() { docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc-egress"'; }
# Only when the live daemon uses the config file we edited.
if [ "$DOCKER_UP" = 1 ] && [ -n "$RUNSC" ] && [ "$DAEMON_JSON" = /etc/docker/daemon.json ]; then
  if [ "$JSON_CHANGED" = 1 ] || ! has_runsc_runtime || ! has_egress_runtime; then
    if [ "$IS_ROOT" = 1 ]; then
      bash scripts/dockerd.sh reload # SIGHUP: dockerd re-reads its runtimes, running containers stay
      for _ in $(seq 1 20); do
        has_runsc_runtime && has_egress_runtime && break
        sleep 0.5
      done
      if ! has_runsc_runtime || ! has_egress_runtime; then
        say "runsc not listed after a reload: restarting dockerd"
        bash scripts/dockerd.sh restart
      fi
      has_runsc_runtime || {
        warn "dockerd does not list the runsc runtime; check $DAEMON_JSON and docker info"
        exit 1
      }
      has_egress_runtime || warn "dockerd does not list the runsc-egress runtime: runs with network egress will be refused; check $DAEMON_JSON"
    else
      warn "the Docker daemon does not list runsc yet; as root: bash scripts/dockerd.sh reload"
    fi
  fi
fi

# The forwarder inside sandboxes with network egress: a static binary in the cache (outside the
# clone), rebuilt when its source changes; build-netfwd.sh says so on stderr when it builds.
if command -v gcc >/dev/null 2>&1; then
  bash scripts/build-netfwd.sh >/dev/null || warn "the egress forwarder did not build: runs with network egress will be refused"
else
  warn "gcc is not installed: the egress forwarder cannot be built (runs with network egress will be refused)"
fi

# ---------------------------------------------------------------------------------------------
# node_modules, and the Electron binary when it can be had.
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  # Only `npm ci`: it installs exactly the committed lock and never rewrites it, so a fresh clone
  # stays clean. A lock it refuses is a bad commit, fixed by committing a good lock, not here: an
  # `npm install` fallback would rewrite package-lock.json in the clone (and a lock made through a
  # registry mirror that omits other platforms' optional packages is one npm ci refuses).
  NPM_LOG=$(mktemp "${TMPDIR:-/tmp}/moat-npm-ci.XXXXXX")
  if ! ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm ci --no-audit --no-fund >"$NPM_LOG" 2>&1; then
    if grep -q 'in sync' "$NPM_LOG"; then
      grep -E 'Missing:|Invalid:' "$NPM_LOG" | head -20 >&2 || true
      warn "npm ci refused package-lock.json: it does not match package.json (above). Update it with"
      warn "\`npm install\` against a registry with every platform's packages (registry.npmjs.org) and commit it."
    else
      tail -20 "$NPM_LOG" >&2
      warn "npm ci failed"
    fi
    warn "full log: $NPM_LOG"
    exit 1
  fi
  rm -f "$NPM_LOG"
fi

ELECTRON_MARK=node_modules/.moat-electron-unavailable
electron_ok() {
  [ -f node_modules/electron/path.txt ] && [ -e "node_modules/electron/dist/$(cat node_modules/electron/path.txt)" ]
}
if [ -d node_modules/electron ] && ! electron_ok; then
  # One try per installed electron version (a failed download is remembered, so offline re-runs
  # stay fast); MOAT_RETRY_ELECTRON=1 tries again.
  if [ -f "$ELECTRON_MARK" ] && [ "$ELECTRON_MARK" -nt node_modules/.package-lock.json ] && [ "${MOAT_RETRY_ELECTRON:-}" != 1 ]; then
    say 'Electron binary unavailable (offline?): Moat will run as the headless host (`moat serve`)'
  else
    say "fetching the Electron binary"
    if (cd node_modules/electron && env -u ELECTRON_SKIP_BINARY_DOWNLOAD timeout 120 node install.js) >/dev/null 2>&1 && electron_ok; then
      rm -f "$ELECTRON_MARK"
      say "Electron binary installed"
    else
      touch "$ELECTRON_MARK"
      say 'Electron binary unavailable (offline?): Moat will run as the headless host (`moat serve`)'
    fi
  fi
fi

# ---------------------------------------------------------------------------------------------
# Images: the official ones when present or pullable; else (and always for the tests, which use
# them) the local builds from Debian packages. Skipped in a second when they are up to date.
if [ "$DOCKER_UP" = 1 ]; then
  # --smoke: then checks that a gVisor sandbox starts here (docker run --runtime=runsc, ~1 s).
  IMAGE_ARGS=(--quiet --smoke)
  [ "$TEST" = 1 ] || IMAGE_ARGS+=(--if-missing)
  if ! node --import tsx scripts/build-images.ts "${IMAGE_ARGS[@]}"; then
    # Without root the build cannot run; the message above says what to do. Go on with the rest.
    [ "$IS_ROOT" = 1 ] && exit 1
    warn "continuing without the images"
  fi
else
  warn "Docker is not reachable: skipping the images (run setup again once it is)"
fi

# ---------------------------------------------------------------------------------------------
if [ -f scripts/build.mjs ]; then
  quietly npm run build
  BUILT="app built"
else
  say "scripts/build.mjs not there yet: skipping npm run build"
  BUILT="app not built"
fi

say "ready ($BUILT; $(node -p "((Date.now() / 1000 - $T0)).toFixed(1)") s)"
