#!/usr/bin/env bash
# Installs Debian's Chromium (/usr/bin/chromium) with apt-get when it is missing: the browser tests
# (tests/CoordinationEvents.Browser.Tests) drive it through Playwright, whose own browser download cannot
# reach the internet here. Quiet and idempotent: does nothing when /usr/bin/chromium is already there.
set -euo pipefail

chromium="${CE_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then
  exit 0
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/apt.sh
. "$here/lib/apt.sh"
# fonts-dejavu-core: Vietnamese glyphs in the screenshots.
apt_install install-chromium chromium fonts-dejavu-core

if [ ! -x "$chromium" ]; then
  echo "install-chromium: the chromium package was installed but $chromium is still not there." >&2
  exit 1
fi
echo "install-chromium: $("$chromium" --version 2>/dev/null || echo chromium) installed" >&2
