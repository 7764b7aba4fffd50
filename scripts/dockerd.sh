#!/usr/bin/env bash
# Start, stop, restart or reload the Docker daemon, with whatever manages it on this machine:
# systemd when it runs the machine, else the SysV init script (`service docker`), else a plain
# `nohup dockerd` (containers, CI VMs and WSL without a service manager).
#
#   bash scripts/dockerd.sh start     start it unless `docker info` answers; wait (30 s) until it does
#   bash scripts/dockerd.sh stop      stop it and wait until the socket no longer answers
#   bash scripts/dockerd.sh restart
#   bash scripts/dockerd.sh reload    SIGHUP: re-read daemon.json (runtimes included), no restart
#   bash scripts/dockerd.sh kill      SIGKILL it (a crash: containers are not stopped first); for tests
#   bash scripts/dockerd.sh status    exit 0 when `docker info` answers
#
# Env: MOAT_DOCKERD_LOG (default /var/log/moat-dockerd.log) for the nohup case.
set -euo pipefail
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

LOG=${MOAT_DOCKERD_LOG:-/var/log/moat-dockerd.log}
PIDFILE=/var/run/docker.pid
WAIT_S=30

say() { echo "dockerd: $*"; }
die() {
  echo "dockerd: $*" >&2
  exit 1
}

answering() { timeout 10 docker info >/dev/null 2>&1; }
has_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }
has_sysv() { [ -x /etc/init.d/docker ] && command -v service >/dev/null 2>&1 && ! has_systemd; }
need_root() { [ "$(id -u)" = 0 ] || die "$1 needs root: sudo bash scripts/dockerd.sh $1"; }

dockerd_pid() {
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q dockerd "/proc/$pid/comm" 2>/dev/null; then
    echo "$pid"
    return 0
  fi
  # No (valid) pid file: the oldest dockerd process, by its exact name.
  pid=$(pgrep -o -x dockerd 2>/dev/null || true)
  [ -z "$pid" ] || echo "$pid"
}

wait_answering() { # $1: seconds; $2: pid to watch (optional)
  local i
  for ((i = 0; i < $1 * 2; i++)); do
    answering && return 0
    if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then return 1; fi
    sleep 0.5
  done
  return 1
}

start() {
  if answering; then
    say "already running"
    return 0
  fi
  need_root start
  command -v dockerd >/dev/null 2>&1 || die "dockerd is not installed (Debian: apt-get install docker.io; or run bash scripts/setup.sh)"
  local pid
  # A daemon that is starting (or another start racing with this one): give it the full wait.
  pid=$(dockerd_pid)
  if [ -n "$pid" ]; then
    if wait_answering "$WAIT_S" "$pid"; then
      say "running (pid $pid)"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null && die "dockerd (pid $pid) does not answer after ${WAIT_S} s; try: bash scripts/dockerd.sh restart"
  fi
  if has_systemd; then
    if systemctl start docker >/dev/null 2>&1 && wait_answering "$WAIT_S"; then
      say "started (systemd)"
      return 0
    fi
    die "systemctl start docker did not bring the daemon up: see journalctl -u docker"
  fi
  if has_sysv; then
    # The init script gives up early in some containers/VMs (ulimit, cgroups): then nohup below.
    if service docker start >/dev/null 2>&1 && wait_answering "$WAIT_S"; then
      say "started (service docker start; log /var/log/docker.log)"
      return 0
    fi
  fi
  mkdir -p "$(dirname "$LOG")"
  if command -v setsid >/dev/null 2>&1; then
    setsid nohup dockerd >>"$LOG" 2>&1 </dev/null &
  else
    nohup dockerd >>"$LOG" 2>&1 </dev/null &
  fi
  pid=$!
  if wait_answering "$WAIT_S" "$pid"; then
    say "started (nohup dockerd, pid $pid, log $LOG)"
    return 0
  fi
  # Ours exited: fine if another start won the race (ours then fails on the pid file).
  local other
  other=$(dockerd_pid)
  if [ -n "$other" ] && [ "$other" != "$pid" ] && wait_answering "$WAIT_S" "$other"; then
    say "running (pid $other, started concurrently)"
    return 0
  fi
  echo "dockerd: did not come up within ${WAIT_S} s; last lines of $LOG:" >&2
  tail -n 15 "$LOG" >&2 || true
  exit 1
}

stop() {
  need_root stop
  if has_systemd; then
    # docker.socket too: with socket activation, the next client would start the daemon again.
    systemctl stop docker.socket docker.service >/dev/null 2>&1 || true
  fi
  local pid i
  pid=$(dockerd_pid || true)
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < WAIT_S * 2; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "pid $pid still alive after ${WAIT_S} s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
    fi
  fi
  wait_silent "stopped" "the daemon still answers after stop (managed elsewhere?)"
}

# Waits (10 s) until the socket no longer answers: says $1, or dies with $2.
wait_silent() {
  local i
  for ((i = 0; i < 20; i++)); do
    answering || {
      say "$1"
      return 0
    }
    sleep 0.5
  done
  die "$2"
}

# SIGKILL, as a crash or the OOM killer would: no shutdown, containers are not stopped first.
kill_daemon() {
  need_root kill
  local pid
  pid=$(dockerd_pid || true)
  [ -n "$pid" ] || die "no dockerd process to kill"
  kill -KILL "$pid"
  wait_silent "killed (pid $pid)" "the daemon still answers after SIGKILL (managed elsewhere?)"
}

reload() {
  need_root reload
  if has_systemd && systemctl is-active --quiet docker 2>/dev/null; then
    systemctl reload docker
  else
    local pid
    pid=$(dockerd_pid || true)
    [ -n "$pid" ] || die "no dockerd process to reload"
    kill -HUP "$pid"
  fi
  say "reloaded (daemon.json re-read)"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart)
    stop
    start
    ;;
  reload) reload ;;
  kill) kill_daemon ;;
  status) answering ;;
  *)
    echo "usage: bash scripts/dockerd.sh start|stop|restart|reload|kill|status" >&2
    exit 2
    ;;
esac
