#!/usr/bin/env bash
# Generates the Wayland client code deskcast uses (wayland-scanner: <name>-client.h and
# <name>-protocol.c) into the directory given, from Debian's wayland-protocols (>= 1.37 for the
# ext-image-copy-capture ones: bookworm-backports) and the wlroots XMLs vendored beside this
# script (no Debian package ships them; they keep their licence headers).
# Run by binding.gyp at build time; the output lives under native/build, never committed.
set -euo pipefail
out="$1"
here="$(cd "$(dirname "$0")" && pwd)"
pkgdata="$(pkg-config --variable=pkgdatadir wayland-protocols 2>/dev/null || echo /usr/share/wayland-protocols)"
xmls=(
  "$here/wlr-screencopy-unstable-v1.xml"
  "$here/wlr-virtual-pointer-unstable-v1.xml"
  "$here/virtual-keyboard-unstable-v1.xml"
  "$pkgdata/staging/ext-image-copy-capture/ext-image-copy-capture-v1.xml"
  "$pkgdata/staging/ext-image-capture-source/ext-image-capture-source-v1.xml"
  # ext-image-capture-source's toplevel source names this interface: its code must link.
  "$pkgdata/staging/ext-foreign-toplevel-list/ext-foreign-toplevel-list-v1.xml"
)
command -v wayland-scanner >/dev/null || {
  echo "wayland-scanner is missing: apt-get install libwayland-bin libwayland-dev" >&2; exit 1; }
mkdir -p "$out"
for xml in "${xmls[@]}"; do
  [ -f "$xml" ] || {
    echo "missing $xml: apt-get install -t bookworm-backports wayland-protocols (>= 1.37 has the ext-image-copy-capture XMLs)" >&2
    exit 1; }
  name="$(basename "$xml" .xml)"
  wayland-scanner client-header "$xml" "$out/$name-client.h"
  wayland-scanner private-code "$xml" "$out/$name-protocol.c"
done
