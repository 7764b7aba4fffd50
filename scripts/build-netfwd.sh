#!/usr/bin/env bash
# Builds moat-netfwd, the forwarder that runs inside sandboxes with network egress
# (sandbox/netfwd/moat-netfwd.c), as a static binary in a cache directory outside the clone, and
# prints its path. Rebuilt only when the source changes (its hash is kept beside the binary); a
# build says so on stderr.
#
#   bash scripts/build-netfwd.sh
#
# Env: MOAT_CACHE_DIR (default /var/cache/moat as root, else $XDG_CACHE_HOME/moat or ~/.cache/moat),
#      CC (default gcc).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=sandbox/netfwd/moat-netfwd.c
if [ "$(id -u)" = 0 ]; then DEFAULT_CACHE=/var/cache/moat; else DEFAULT_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/moat; fi
DIR=${MOAT_CACHE_DIR:-$DEFAULT_CACHE}/netfwd
OUT=$DIR/moat-netfwd
STAMP=$DIR/moat-netfwd.sha256
CC=${CC:-gcc}
HASH=$(sha256sum "$SRC" | cut -d' ' -f1)
if [ -x "$OUT" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$HASH" ]; then
  echo "$OUT"
  exit 0
fi
command -v "$CC" >/dev/null 2>&1 || {
  echo "build-netfwd: $CC is needed to build the egress forwarder (Debian: apt-get install gcc libc6-dev)" >&2
  exit 1
}
mkdir -p "$DIR"
TMP=$(mktemp "$DIR/.moat-netfwd.XXXXXX")
trap 'rm -f "$TMP"' EXIT
if ! "$CC" -static -O2 -Wall -o "$TMP" "$SRC" 2>"$TMP.log"; then
  cat "$TMP.log" >&2
  rm -f "$TMP.log"
  echo "build-netfwd: compiling $SRC failed (a static build needs libc.a: apt-get install libc6-dev)" >&2
  exit 1
fi
rm -f "$TMP.log"
chmod 0755 "$TMP"
mv -f "$TMP" "$OUT"
echo "$HASH" >"$STAMP"
echo "build-netfwd: built $OUT" >&2
echo "$OUT"
