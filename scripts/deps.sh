#!/usr/bin/env bash
# deps.sh installs what building, testing and the demo need on Debian.
# Idempotent: packages already present are skipped, so a second run takes a second.
set -euo pipefail

packages=(
  gcc libc6-dev libx11-dev libxtst-dev   # cgo for robotgo
  xvfb xterm x11-apps x11-utils          # virtual display, a terminal in it, xwd for reference screenshots
  openssh-client openssh-server          # real ssh/sftp/scp clients and sshd for the comparison bench
  chromium                               # headless browser for viewer and help-desk tests
  fail2ban                               # fail2ban-regex for log compatibility tests
  xdg-utils shared-mime-info desktop-file-utils  # .otc file association
  pkg-config libwayland-dev libx11-xcb-dev libxkbcommon-x11-dev libxcursor-dev  # cgo for Gio (the agent's windows)
  libegl-dev libgles-dev libvulkan-dev libgl1-mesa-dri                          # … its GPU headers, and Mesa's software GL for Xvfb
  xdotool                                 # real X input in the agent's window tests
  dbus-daemon                             # a private session bus for the tray icon's tests (StatusNotifierItem)
  wine64 gcc-mingw-w64-x86-64             # the Windows agent's tests under Wine, and their bcryptprimitives.dll shim
  ffmpeg                                  # assist recording export, and ffprobe for its test
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null 2>&1; then
  echo "deps: Go is not installed; install Go 1.26 or newer (https://go.dev/dl) and run again" >&2
  exit 1
fi

go mod download
