#!/usr/bin/env bash
# One set-up for running and testing deskcast on Debian bookworm: system packages, npm
# packages, the mediasoup worker (built offline, cached outside the checkout), the native
# addon, the viewer page and the server. Every step is skipped when already up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n[deskcast] (%s) %s\n' "$1" "$2"; }
started=$SECONDS

step 1/6 "Debian packages"
bash scripts/install-system-deps.sh

step 2/6 "npm packages"
stamp=node_modules/.deskcast-lock-sha
lock_sha=$(sha256sum package-lock.json package.json | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_sha" ]; then
  echo "[deskcast] npm packages: up to date"
else
  # mediasoup's own postinstall is skipped (allowScripts): it would download a prebuilt worker.
  # --ignore-scripts: works the same on npm 10 (no allowScripts) and 11.
  PUPPETEER_SKIP_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$lock_sha" > "$stamp"
fi

step 3/6 "mediasoup worker"
bash scripts/build-mediasoup-worker.sh

step 4/6 "native addon"
bash scripts/build-native.sh

step 5/6 "viewer page"
node scripts/build-client.mjs

step 6/6 "server"
npx --no-install tsc -p tsconfig.json
echo "[deskcast] set-up done in $((SECONDS - started)) s"
