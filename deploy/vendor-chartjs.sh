#!/usr/bin/env bash
# Refreshes the dashboard's copy of Chart.js from the npm registry: the pinned version's UMD bundle and its
# licence go to services/CoordinationEvents.Api/wwwroot/dashboard/vendor/chartjs/, which is committed, so
# neither the build nor CI needs npm and the page needs no CDN. Run it by hand after changing VERSION.
#   deploy/vendor-chartjs.sh            # the pinned version below
#   CHARTJS_VERSION=4.6.1 deploy/vendor-chartjs.sh
set -euo pipefail

version="${CHARTJS_VERSION:-4.5.1}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="$repo/services/CoordinationEvents.Api/wwwroot/dashboard/vendor/chartjs"

command -v npm >/dev/null 2>&1 || { echo "vendor-chartjs: npm is needed (apt-get install npm)." >&2; exit 1; }

work="$(mktemp -d /tmp/ce-chartjs.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# npm pack checks the tarball against the registry's integrity hash.
(cd "$work" && npm pack "chart.js@$version" --silent >/dev/null)
tar -xzf "$work/chart.js-$version.tgz" -C "$work"

mkdir -p "$target"
cp "$work/package/dist/chart.umd.min.js" "$target/chart.umd.min.js"
cp "$work/package/LICENSE.md" "$target/LICENSE.md"
{
  echo "Chart.js $version (MIT, see LICENSE.md), copied from the npm package chart.js@$version by deploy/vendor-chartjs.sh."
  echo "sha256 chart.umd.min.js $(sha256sum "$target/chart.umd.min.js" | cut -d' ' -f1)"
} > "$target/VERSION.txt"
echo "vendor-chartjs: Chart.js $version -> ${target#"$repo"/}" >&2
