#!/bin/sh
# /usr/bin/moat from the Moat .deb: the `moat` command line. The packaged Electron cannot serve as
# Node (its RunAsNode fuse is off), so: a Node >= 20.19 on PATH runs the CLI bundle next to this
# script (fastest: no Chromium to start); without one, the app binary runs it in `--cli` mode.
here=$(dirname "$(readlink -f "$0")")
cli="$here/dist/cli/moat.mjs"
# `moat run` sent to a running Moat: the native client (native/moat-run.c), which starts in about a
# millisecond; what it does not take it hands back to this script, with MOAT_NATIVE_CLIENT=0.
if [ "${1-}" = run ] && [ "${MOAT_NATIVE_CLIENT-}" != 0 ] && [ -x "$here/moat-run" ]; then
  exec "$here/moat-run" "$0" "$@"
fi
if command -v node >/dev/null 2>&1 &&
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null; then
  exec node "$cli" "$@"
fi
app="$(dirname "$(dirname "$here")")/moat-desktop"
# No window is opened in --cli mode; where there is no display (an SSH session), Chromium is told
# not to look for one.
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  exec "$app" --ozone-platform=headless --cli "$@"
fi
exec "$app" --cli "$@"
