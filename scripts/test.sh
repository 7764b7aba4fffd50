#!/usr/bin/env bash
# The whole test suite: static checks, then every test file in one node:test run (unit,
# integration against the real Docker engine with gVisor, end-to-end in Chromium).
# Run `bash scripts/setup.sh --test` first on a new machine (the README's second command does).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== typecheck"; npx tsc -p tsconfig.json --noEmit
echo "== lint"; npx eslint .
echo "== format"; npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }
echo "== build"; npm run --silent build

# One file at a time: the engine-loss test stops the real Docker daemon (it runs last), and the
# machine has two cores.
shopt -s nullglob
files=(test/*.test.ts e2e/*.test.ts)
echo "== tests (${#files[@]} files)"
exec node --import tsx --test --test-concurrency=1 "${files[@]}"
