#!/usr/bin/env bash
# Installs the Debian packages deskcast needs (build, run and test) on Debian bookworm.
# As root it installs what is missing; otherwise it prints the exact apt command and exits 1.
set -euo pipefail

# Build of mediasoup's worker offline (over Debian's libraries), the native addon, run-time and tests.
PACKAGES=(
  # mediasoup worker against Debian libraries
  python3-invoke ninja-build pkg-config libuv1-dev libssl-dev libsrtp2-dev
  libflatbuffers-dev flatbuffers-compiler libabsl-dev
  # native addon: X11 capture + input, FFmpeg encode, PulseAudio + Opus
  libx11-dev libxext-dev libxfixes-dev libxdamage-dev libxi-dev libxtst-dev libxkbcommon-dev libyuv-dev
  libavcodec-dev libavutil-dev libswscale-dev libopus-dev libpulse-dev libvpx-dev
  # Wayland capture + input: client library, wayland-scanner (protocol code at build time)
  libwayland-dev libwayland-bin
  # embedded desktop, sound server, browser for tests, compose validation; ffmpeg: taps'
  # screenshots (H.264 → PNG), the CPU benchmark's peer, tests (ffprobe, decoding)
  xvfb x11-utils x11-xserver-utils x11-xkb-utils x11-apps xdotool xterm xclip pulseaudio pulseaudio-utils ffmpeg
  chromium firefox-esr docker-compose tigervnc-standalone-server
  # embedded Wayland desktop and Wayland tests (headless sway, a terminal, event reader),
  # and mmdebstrap for the Debian unstable test root (ext-image-copy-capture compositors)
  sway swaybg foot wev mmdebstrap
)
# mediasoup needs meson >= 1.1 (bookworm main has 1.0.1); the ext-image-copy-capture protocol
# XMLs are in wayland-protocols >= 1.37 (bookworm main has 1.31).
BACKPORTS_PACKAGES=(meson wayland-protocols)

missing=()
for p in "${PACKAGES[@]}" "${BACKPORTS_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# An older wayland-protocols from bookworm main lacks the ext-image-copy-capture XMLs.
[ -f /usr/share/wayland-protocols/staging/ext-image-copy-capture/ext-image-copy-capture-v1.xml ] ||
  [[ " ${missing[*]} " == *" wayland-protocols "* ]] || missing+=(wayland-protocols)
if [ "${#missing[@]}" -eq 0 ]; then
  echo "[deskcast] system packages: all present"
  exit 0
fi

BACKPORTS_LIST=/etc/apt/sources.list.d/deskcast-bookworm-backports.list
# bookworm-backports from the mirror apt already uses for bookworm (no host is named here).
have_backports() { grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; }
backports_line() { echo "deb $(bash "$(dirname "$0")/debian-mirror.sh" bookworm) bookworm-backports main"; }
if [ "$(id -u)" -ne 0 ]; then
  echo "[deskcast] missing Debian packages: ${missing[*]}" >&2
  echo "[deskcast] run as root (or with sudo), then run this command again:" >&2
  have_backports || echo "  echo '$(backports_line)' > $BACKPORTS_LIST && \\" >&2
  echo "  apt-get update && apt-get install -y ${PACKAGES[*]} && apt-get install -y -t bookworm-backports ${BACKPORTS_PACKAGES[*]}" >&2
  exit 1
fi

echo "[deskcast] installing ${#missing[@]} missing Debian packages: ${missing[*]}"
if ! have_backports; then
  line=$(backports_line)
  echo "[deskcast] adding bookworm-backports (for meson >= 1.1): $line"
  echo "$line" > "$BACKPORTS_LIST"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
apt-get install -y -q --no-install-recommends -t bookworm-backports "${BACKPORTS_PACKAGES[@]}"
echo "[deskcast] system packages: installed"
