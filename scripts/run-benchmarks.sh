#!/usr/bin/env bash
# Runs every benchmark under bench/; each prints JSON and a one-line summary.
set -euo pipefail
cd "$(dirname "$0")/.."
for bench in bench/*.bench.ts; do
  echo "[deskcast] $bench"
  npx --no-install tsx "$bench"
done
