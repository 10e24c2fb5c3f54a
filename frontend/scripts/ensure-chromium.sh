#!/bin/sh
# The end-to-end tests drive Debian's Chromium (never a downloaded browser).
# Installs it when missing; CHROMIUM_PATH overrides the location.
set -e
BIN="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$BIN" ]; then exit 0; fi
echo "ensure-chromium: $BIN missing, installing Debian's chromium" >&2
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
test -x "$BIN"
