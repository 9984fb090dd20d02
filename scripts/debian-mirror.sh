#!/usr/bin/env bash
# Prints the Debian mirror this machine's apt already uses for the given suite (default:
# bookworm), read from apt's own sources (deb822 *.sources and one-line *.list files), so
# nothing in the project names a mirror host. Exits 1 with advice when there is none.
set -euo pipefail
suite="${1:-bookworm}"
files=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && files+=("$f")
done
uri=$(awk -v suite="$suite" '
  FNR == 1 { types = ""; uris = ""; suites = "" }
  # one-line format: deb [options] URI SUITE COMPONENTS...
  /^[[:space:]]*deb[[:space:]]/ {
    n = split($0, f, /[[:space:]]+/); i = 2
    if (f[i] ~ /^\[/) { while (i <= n && f[i] !~ /\]$/) i++; i++ }
    if (f[i + 1] == suite) { print f[i]; exit }
    next
  }
  # deb822 stanzas: Types / URIs / Suites, separated by blank lines
  /^Types:/  { types = $0 }
  /^URIs:/   { uris = $2 }
  /^Suites:/ { suites = $0 }

  types ~ /(^|[[:space:]])deb($|[[:space:]])/ && uris != "" && (" " suites " ") ~ (" " suite " ") { print uris; exit }
  /^[[:space:]]*$/ { types = ""; uris = ""; suites = "" }
' "${files[@]}" 2>/dev/null | head -n1) || true
if [ -z "$uri" ]; then
  echo "[deskcast] apt has no source for Debian '$suite' (looked in /etc/apt/sources.list and sources.list.d): add your mirror for it, then run this again" >&2
  exit 1
fi
echo "$uri"
