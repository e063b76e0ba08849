#!/usr/bin/env bash
# Installs Debian's Prometheus (/usr/bin/prometheus) with apt-get when it is missing: the metrics test
# (tests/CoordinationEvents.Api.Tests/Operations/PrometheusScrapeTests.cs) starts it as a plain process with its own
# configuration and data directory, scrapes the service and asks it PromQL. The system service the package
# installs is not used (and stopped, if apt started it). Quiet and idempotent.
set -euo pipefail

prometheus="${CE_PROMETHEUS:-/usr/bin/prometheus}"
if [ -x "$prometheus" ]; then
  exit 0
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/apt.sh
. "$here/lib/apt.sh"
apt_install install-prometheus prometheus

if [ ! -x "$prometheus" ]; then
  echo "install-prometheus: the prometheus package was installed but $prometheus is still not there." >&2
  exit 1
fi
# The package's own service (when an init system started it) listens on :9090; the test needs none of it.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
  systemctl stop prometheus 2>/dev/null || true
fi
echo "install-prometheus: $("$prometheus" --version 2>/dev/null | head -1 || echo prometheus) installed" >&2
