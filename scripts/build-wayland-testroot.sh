#!/usr/bin/env bash
# Builds (once) a throwaway root of Debian's unstable suite with compositors that offer
# ext-image-copy-capture-v1 (sway >= 1.10, labwc >= 0.19: no bookworm or trixie compositor
# does), cached outside the checkout under ~/.cache/deskcast/testroots/, so CI reuses it. Tests
# run the compositor inside it as an unprivileged user and capture from the host through its
# socket.
#
# Cache key: RECIPE, SUITE and the package names. A changed recipe (how the root is made: bump
# RECIPE), another suite or another package list builds a new root; the same key reuses the
# old one whatever the suite has moved on to since (a root is a snapshot of the day it was
# built: delete the directory to refresh it). What it holds is recorded in $ROOT/.deskcast-packages
# ("name version" lines from dpkg-query inside it), which the tests log and check.
#
# Prints the root's path as its last stdout line (progress goes to stderr, every 15 s while
# building). Exit 0: ready. Exit 2: the suite cannot be had here (no mmdebstrap, no mirror,
# fetch failed): the reason is on stderr and callers skip, never fake. Exit 1: anything else.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SUITE=unstable
PACKAGES=(sway swaybg labwc wayland-utils)
# Bump when the way the root is made changes; the package list is part of the key too.
RECIPE=1
KEY="$(printf '%s\n' "$RECIPE" "$SUITE" "${PACKAGES[@]}" | sha256sum | cut -c1-12)"
CACHE="${DESKCAST_CACHE_DIR:-$HOME/.cache/deskcast}/testroots"
ROOT="$CACHE/$SUITE-$KEY"

log() { printf '[deskcast] testroot: %s\n' "$*" >&2; }
unavailable() { log "unavailable: $*"; exit 2; }

ready() { [ -f "$ROOT/.deskcast-complete" ] && [ -x "$ROOT/usr/bin/sway" ]; }
# wlroots' SHM allocator needs a /dev/shm its unprivileged user can write to.
fix_up() { chmod 1777 "$1/dev/shm" "$1/tmp"; }
# What is really in the root (roots built before this record existed get it on first reuse).
record_packages() {
  local root="$1"
  if [ ! -s "$root/.deskcast-packages" ]; then
    # Exit status ignored: a pattern matching nothing fails the query but not the others' lines.
    chroot "$root" dpkg-query -W -f '${Package} ${Version}\n' "${PACKAGES[@]}" 'libwlroots*' libwayland-server0 \
      2>/dev/null | awk 'NF == 2' > "$root/.deskcast-packages.new" || true
    if [ ! -s "$root/.deskcast-packages.new" ]; then
      rm -f "$root/.deskcast-packages.new"
      log "cannot list the root's packages (dpkg-query in chroot $root failed)"
      return 0
    fi
    mv "$root/.deskcast-packages.new" "$root/.deskcast-packages"
  fi
  log "packages: $(tr '\n' ',' < "$root/.deskcast-packages" | sed 's/,$//; s/,/, /g')"
}
if ready; then
  fix_up "$ROOT"
  record_packages "$ROOT"
  log "reusing $ROOT"
  echo "$ROOT"
  exit 0
fi

[ "$(id -u)" -eq 0 ] || unavailable "building the $SUITE root needs root (mmdebstrap's root mode)"
if ! command -v mmdebstrap >/dev/null; then
  log "installing mmdebstrap from Debian"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mmdebstrap >&2 ||
    unavailable "mmdebstrap cannot be installed (apt-get install mmdebstrap failed)"
fi
# The same archive serves every suite: take the mirror apt already uses for bookworm.
MIRROR="$(bash "$REPO_ROOT/scripts/debian-mirror.sh" bookworm 2>/dev/null)" ||
  unavailable "apt has no Debian mirror configured to derive the $SUITE suite from"

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock-$SUITE-$KEY"
if ! flock -n 9; then
  log "another build of this root is running: waiting for it"
  flock 9
fi
if ready; then record_packages "$ROOT"; echo "$ROOT"; exit 0; fi

rm -rf "$ROOT" "$ROOT.partial"
log "building Debian $SUITE with ${PACKAGES[*]} into $ROOT (about a minute, ~900 MB; done once)"
started=$SECONDS
include=$(IFS=,; echo "${PACKAGES[*]}")
# Progress while mmdebstrap works (its own output goes to the log).
( while sleep 15; do
    log "$((SECONDS - started)) s: $(grep -E '^I: ' "$CACHE/build-$SUITE-$KEY.log" 2>/dev/null | tail -n 1 | cut -c1-120)"
  done ) &
progress=$!
trap 'kill "$progress" 2>/dev/null || true' EXIT
# Check-Valid-Until=false: unstable's Release file is often past its Valid-Until on mirrors.
if ! mmdebstrap --variant=apt --include="$include" \
      --aptopt='Acquire::Check-Valid-Until "false"' \
      --aptopt='APT::Install-Recommends "false"' \
      --skip=cleanup/apt/lists \
      "$SUITE" "$ROOT.partial" "$MIRROR" > "$CACHE/build-$SUITE-$KEY.log" 2>&1; then
  tail -n 15 "$CACHE/build-$SUITE-$KEY.log" >&2
  rm -rf "$ROOT.partial"
  unavailable "mmdebstrap could not build Debian $SUITE from $MIRROR (log above)"
fi
(while read -r line; do log "$line"; done < <(grep -E '^I: (downloading|installing|extracting)' "$CACHE/build-$SUITE-$KEY.log" | tail -n 5)) || true
kill "$progress" 2>/dev/null || true
fix_up "$ROOT.partial"
record_packages "$ROOT.partial"
touch "$ROOT.partial/.deskcast-complete"
mv "$ROOT.partial" "$ROOT"
log "built in $((SECONDS - started)) s: $(du -sh "$ROOT" | cut -f1)"
echo "$ROOT"
