#!/usr/bin/env bash
# Builds native/ (node-gyp bundled with npm, against the local Node headers; no download).
# Rebuilds only when a source file is newer than the built addon.
set -euo pipefail
cd "$(dirname "$0")/../native"
addon=build/Release/deskcast_native.node
if [ -f "$addon" ] && [ -z "$(find . -path ./build -prune -o -type f \( -name '*.cc' -o -name '*.h' -o -name 'binding.gyp' \) -newer "$addon" -print -quit)" ]; then
  echo "[deskcast] native addon: up to date"
  exit 0
fi
gyp="$(npm prefix -g 2>/dev/null)/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$gyp" ] || gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
nodedir=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
echo "[deskcast] building the native addon (C++, about a minute on 2 cores)…"
JOBS=$(nproc) node "$gyp" rebuild --nodedir="$nodedir" --jobs="$(nproc)" 2>&1 | grep -v '^gyp info' || true
[ -f "$addon" ] || { echo "[deskcast] native addon build failed: see the compiler output above" >&2; exit 1; }
echo "[deskcast] native addon: built"
