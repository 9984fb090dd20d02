#!/usr/bin/env bash
# Builds mediasoup's C++ worker offline against Debian's libraries and caches it
# outside the checkout (path: scripts/mediasoup-worker-path.mjs). mediasoup's own
# postinstall cannot work here: it downloads a prebuilt binary, pip packages and
# meson wraps. Instead the wraps are replaced by the shim subprojects in
# scripts/mediasoup-worker/ (each defines what mediasoup's meson.build reads). Idempotent: a cached binary that
# runs is reused at once. MEDIASOUP_WORKER_BIN, if set, is used instead.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHIMS="$REPO_ROOT/scripts/mediasoup-worker"
MEDIASOUP_DIR="$REPO_ROOT/node_modules/mediasoup"

log() { printf '[deskcast] %s\n' "$*"; }
err() { printf '[deskcast] %s\n' "$*" >&2; }

# The worker exits with 41 when not spawned by mediasoup (no MEDIASOUP_VERSION):
# reaching that exit proves the binary loads and its shared libraries resolve.
worker_runs() {
  local rc=0
  env -u MEDIASOUP_VERSION "$1" </dev/null >/dev/null 2>&1 || rc=$?
  [ "$rc" -eq 41 ]
}

# A real worker through mediasoup's API: router with H.264 + Opus, WebRTC transport.
smoke_check() {
  (cd "$REPO_ROOT" && DESKCAST_SMOKE_BIN="$1" node --input-type=module -e '
    import * as mediasoup from "mediasoup";
    const timer = setTimeout(() => { console.error("[deskcast] smoke check timed out"); process.exit(1); }, 20000);
    const worker = await mediasoup.createWorker({ workerBin: process.env.DESKCAST_SMOKE_BIN, logLevel: "warn" });
    const router = await worker.createRouter({ mediaCodecs: [
      { kind: "audio", mimeType: "audio/opus", clockRate: 48000, channels: 2 },
      { kind: "video", mimeType: "video/H264", clockRate: 90000,
        parameters: { "packetization-mode": 1, "profile-level-id": "42e01f", "level-asymmetry-allowed": 1 } },
    ] });
    const transport = await router.createWebRtcTransport({ listenInfos: [{ protocol: "udp", ip: "127.0.0.1" }] });
    const codecs = router.rtpCapabilities.codecs.map((c) => c.mimeType).filter((m) => !m.endsWith("/rtx"));
    const ice = transport.iceCandidates[0];
    transport.close();
    router.close();
    worker.close();
    clearTimeout(timer);
    console.log(`[deskcast] smoke check ok: mediasoup ${mediasoup.version}, codecs ${codecs.join(" ")}, ` +
      `ICE candidate ${ice.address}:${ice.port}/${ice.protocol}, DTLS ${transport.dtlsParameters.fingerprints.length} fingerprints`);
  ')
}

if [ -n "${MEDIASOUP_WORKER_BIN:-}" ]; then
  if [ ! -f "$MEDIASOUP_WORKER_BIN" ] || [ ! -x "$MEDIASOUP_WORKER_BIN" ]; then
    err "MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN is not an executable file: fix it, or unset it to build the worker"
    exit 1
  fi
  log "mediasoup worker: using MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN (not building)"
  smoke_check "$MEDIASOUP_WORKER_BIN"
  exit 0
fi

BIN="$(node "$REPO_ROOT/scripts/mediasoup-worker-path.mjs")" || exit 1
BUILD_ID="$(basename "$(dirname "$BIN")")" # <mediasoup version>-<shim key>
if [ -x "$BIN" ] && worker_runs "$BIN"; then
  log "mediasoup worker: cached at $BIN"
  exit 0
fi

# --- Build -------------------------------------------------------------------
CACHE_ROOT="$(dirname "$(dirname "$BIN")")" # .../mediasoup-worker
LOG="$CACHE_ROOT/build-$BUILD_ID.log"
mkdir -p "$CACHE_ROOT"

# One build at a time per cache (parallel installs, CI jobs sharing a cache).
exec 9>"$CACHE_ROOT/.build.lock"
if ! flock -n 9; then
  log "another mediasoup worker build is running; waiting for it"
  flock 9
fi
if [ -x "$BIN" ] && worker_runs "$BIN"; then
  log "mediasoup worker: cached at $BIN"
  exit 0
fi
[ -e "$BIN" ] && log "cached binary at $BIN does not run: rebuilding it"
rm -rf "$CACHE_ROOT"/build.* # scratch dirs kept by failed builds (we hold the lock)

# Preflight: fail in seconds, not minutes, when a Debian package is missing.
missing=()
/usr/bin/python3 -c 'import invoke' 2>/dev/null || missing+=("python3-invoke (/usr/bin/python3 -m invoke)")
[ -x /usr/bin/ninja ] || missing+=("ninja-build (/usr/bin/ninja)")
if [ ! -x /usr/bin/meson ]; then
  missing+=("meson >= 1.1 from bookworm-backports (/usr/bin/meson)")
elif ! /usr/bin/python3 -c 'import sys; v = tuple(map(int, sys.argv[1].split(".")[:2])); sys.exit(v < (1, 1))' \
  "$(/usr/bin/meson --version)"; then
  missing+=("meson >= 1.1 from bookworm-backports (found $(/usr/bin/meson --version))")
fi
command -v flatc >/dev/null || missing+=("flatbuffers-compiler (flatc)")
command -v c++ >/dev/null || missing+=("g++ (c++)")
command -v pkg-config >/dev/null || missing+=("pkg-config")
for pc in libuv libssl libcrypto libsrtp2 flatbuffers absl_strings absl_optional absl_flat_hash_map; do
  pkg-config --exists "$pc" 2>/dev/null || missing+=("pkg-config module $pc")
done
if [ "${#missing[@]}" -gt 0 ]; then
  err "cannot build the mediasoup worker, missing:"
  for m in "${missing[@]}"; do err "  - $m"; done
  err "fix: run scripts/install-system-deps.sh as root, then run this script again"
  err "  (or set MEDIASOUP_WORKER_BIN to a mediasoup-worker ${BUILD_ID%%-*} built elsewhere)"
  exit 1
fi

SCRATCH="$(mktemp -d "$CACHE_ROOT/build.XXXXXX")"
WORKER="$SCRATCH/worker"
STEP="start"
STARTED=$SECONDS

on_exit() {
  local rc=$?
  if [ "$rc" -eq 0 ]; then
    rm -rf "$SCRATCH"
    return
  fi
  err "mediasoup worker build FAILED during: $STEP (exit $rc)"
  if [ -s "$LOG" ]; then
    err "last lines of the build log:"
    tail -n 25 "$LOG" | sed 's/^/[deskcast]   | /' >&2
  fi
  err "full log: $LOG"
  err "build dir kept for inspection: $SCRATCH (removed by the next run)"
  err "what to do: check that scripts/install-system-deps.sh reports all packages present, fix what the"
  err "  log names, and run scripts/build-mediasoup-worker.sh again; or point MEDIASOUP_WORKER_BIN at a"
  err "  mediasoup-worker built elsewhere"
}
trap on_exit EXIT

STEP="copying mediasoup's worker sources"
log "building mediasoup worker $BUILD_ID (about 4-5 minutes on 2 cores)"
log "scratch dir: $SCRATCH, log: $LOG"
cp -a "$MEDIASOUP_DIR/worker" "$WORKER" # node_modules itself is never modified
rm -rf "$WORKER/out"

STEP="placing the shim subprojects"
for wrap in "$WORKER"/subprojects/*.wrap; do
  name="$(basename "$wrap" .wrap)"
  dir="$(sed -n 's/^[[:space:]]*directory[[:space:]]*=[[:space:]]*//p' "$wrap" | head -n1 | tr -d '[:space:]')"
  if [ -d "$SHIMS/subprojects/$name" ]; then
    rm -rf "${WORKER:?}/subprojects/${dir:-$name}"
    cp -a "$SHIMS/subprojects/$name" "$WORKER/subprojects/${dir:-$name}"
    log "  subproject $name -> shim subprojects/${dir:-$name}"
  elif [ "$name" = wingetopt ]; then
    : # Windows only
  else
    err "mediasoup has a wrap with no shim: $name (write scripts/mediasoup-worker/subprojects/$name)"
    exit 1
  fi
done
for shim in "$SHIMS"/subprojects/*/; do
  name="$(basename "$shim")"
  [ -f "$WORKER/subprojects/$name.wrap" ] || { err "shim $name matches no wrap of this mediasoup"; exit 1; }
done

# tasks.py would pip-install invoke, meson and ninja: point it at Debian's instead.
mkdir -p "$WORKER/pip_invoke" "$WORKER/out/pip_meson_ninja/bin"
ln -s /usr/bin/ninja "$WORKER/out/pip_meson_ninja/bin/ninja"

STEP="meson setup + ninja (python3 -m invoke -r worker mediasoup-worker)"
# Clear variables that would redirect or skip mediasoup's build; --wrap-mode=nodownload
# makes a missing shim fail at once instead of trying the network.
(
  cd "$SCRATCH"
  env -u MEDIASOUP_WORKER_BIN -u MEDIASOUP_OUT_DIR -u MEDIASOUP_INSTALL_DIR -u BUILD_DIR -u PYTHONPATH \
    MEDIASOUP_BUILDTYPE=Release MESON_ARGS="--wrap-mode=nodownload" \
    PYTHON=/usr/bin/python3 MESON=/usr/bin/meson PYTHONUNBUFFERED=1 \
    /usr/bin/python3 -m invoke -r worker mediasoup-worker 2>&1
) | sed -u 's/\x1b\[[0-9;]*m//g' | tee "$LOG" | sed -u 's/^/[deskcast] /' # invoke colours its echo

BUILT="$WORKER/out/Release/mediasoup-worker"
ELAPSED=$((SECONDS - STARTED))
log "mediasoup worker: built in $((ELAPSED / 60))m$((ELAPSED % 60))s"

STEP="checking the built binary"
[ -x "$BUILT" ] || { err "the build finished but produced no $BUILT"; exit 1; }
worker_runs "$BUILT" || { err "the built worker does not run: $(env -u MEDIASOUP_VERSION "$BUILT" 2>&1 </dev/null | head -n3)"; exit 1; }
smoke_check "$BUILT" # before installing: the cache never holds a binary that failed it

STEP="installing the binary"
mkdir -p "$(dirname "$BIN")"
TMP_BIN="$(dirname "$BIN")/.mediasoup-worker.tmp.$$"
mv -f "$BUILT" "$TMP_BIN"
mv -f "$TMP_BIN" "$BIN" # same directory: an atomic rename, never a half-written binary
log "mediasoup worker: installed at $BIN"
