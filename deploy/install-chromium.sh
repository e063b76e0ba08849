#!/usr/bin/env bash
# Installs Debian's Chromium (/usr/bin/chromium) with apt-get when it is missing: the browser tests
# (tests/CoordinationEvents.Browser.Tests) drive it through Playwright, whose own browser download cannot
# reach the internet here. Quiet and idempotent: does nothing when /usr/bin/chromium is already there.
set -euo pipefail

chromium="${CE_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: $chromium is missing and apt-get is not available; install Chromium by hand." >&2
  exit 1
fi

sudo=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "install-chromium: $chromium is missing; run this script as root (or install the chromium package) first." >&2
    exit 1
  fi
fi

echo "install-chromium: installing Debian's chromium with apt-get ..." >&2
log="$(mktemp /tmp/ce-install-chromium.XXXXXX.log)"
# fonts-dejavu-core: Vietnamese glyphs in the screenshots.
if ! { "${sudo[@]}" apt-get update -qq \
       && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
            chromium fonts-dejavu-core; } >"$log" 2>&1; then
  echo "install-chromium: apt-get failed; its output:" >&2
  tail -n 40 "$log" >&2
  exit 1
fi
rm -f "$log"

if [ ! -x "$chromium" ]; then
  echo "install-chromium: the chromium package was installed but $chromium is still not there." >&2
  exit 1
fi
echo "install-chromium: $("$chromium" --version 2>/dev/null || echo chromium) installed" >&2
