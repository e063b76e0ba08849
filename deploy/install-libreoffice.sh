#!/usr/bin/env bash
# Installs what the Word-document tests read their documents back with, with apt-get when missing:
# LibreOffice without its GUI (soffice converts a .docx to PDF), the Liberation fonts (metric-compatible with
# Times New Roman, so the layout is the one Word would give) and poppler's pdftotext/pdftoppm.
# Quiet and idempotent: does nothing when soffice, pdftotext and the fonts are already there.
set -euo pipefail

if command -v soffice >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 \
   && [ -d /usr/share/fonts/truetype/liberation ]; then
  exit 0
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/apt.sh
. "$here/lib/apt.sh"
apt_install install-libreoffice libreoffice-writer-nogui fonts-liberation poppler-utils

if ! command -v soffice >/dev/null 2>&1 || ! command -v pdftotext >/dev/null 2>&1; then
  echo "install-libreoffice: the packages were installed but soffice or pdftotext is still missing." >&2
  exit 1
fi
echo "install-libreoffice: $(soffice --version 2>/dev/null | head -n 1 || echo LibreOffice) installed" >&2
