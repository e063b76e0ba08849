#!/usr/bin/env bash
# Runs every test project of the solution (already built: `make test` builds first), one project after the
# other (each test host already uses both cores: xunit runs classes in parallel and starts its own
# PostgreSQL), and ends with one plain line "N passed, N failed, N skipped", counted from the TRX files.
# Exits non-zero when a test failed, a test run broke, or no test ran at all.
#   CONFIGURATION  build configuration to test (default Debug, as the Makefile)
#   TEST_FILTER    optional `dotnet test --filter` expression
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
configuration="${CONFIGURATION:-Debug}"
results="$repo/TestResults/run"
# VSTest kills a test host 100 ms after the run; give PostgresServer's exit handler time to stop its server
# and drop its databases (a detached watcher also removes the server when the host is killed).
export VSTEST_TESTHOST_SHUTDOWN_TIMEOUT="${VSTEST_TESTHOST_SHUTDOWN_TIMEOUT:-10000}"
rm -rf "$results"
mkdir -p "$results"

# The solution's test projects: those that reference Microsoft.NET.Test.Sdk.
mapfile -t projects < <(dotnet sln CoordinationEvents.sln list | grep '\.csproj$' | tr '\\' '/' \
  | while read -r project; do grep -q 'Microsoft\.NET\.Test\.Sdk' "$project" 2>/dev/null && echo "$project"; done)
if [ "${#projects[@]}" -eq 0 ]; then
  echo "No test project in CoordinationEvents.sln."
  echo "0 passed, 0 failed, 0 skipped"
  exit 1
fi

status=0
broken=()
for project in "${projects[@]}"; do
  name="$(basename "$project" .csproj)"
  echo "=== $name"
  args=(test "$project" -c "$configuration" --no-build -nologo
        --results-directory "$results/$name" --logger "trx;LogFileName=$name.trx")
  if [ -n "${TEST_FILTER:-}" ]; then
    args+=(--filter "$TEST_FILTER")
  fi
  if ! dotnet "${args[@]}"; then
    status=1
    broken+=("$name")
  fi
done

# <Counters total="14" executed="13" passed="12" failed="1" error="0" timeout="0" aborted="0" .../>: a skipped
# test is in total but not executed.
counts="$(find "$results" -name '*.trx' -print0 | xargs -0 -r cat | grep -o '<Counters [^>]*>' | awk '
  function attr(line, name,    m) {
    if (match(line, " " name "=\"[0-9]+\"")) { m = substr(line, RSTART, RLENGTH); gsub(/[^0-9]/, "", m); return m + 0 }
    return 0
  }
  { passed += attr($0, "passed")
    failed += attr($0, "failed") + attr($0, "error") + attr($0, "timeout") + attr($0, "aborted")
    skipped += attr($0, "total") - attr($0, "executed") }
  END { printf "%d %d %d\n", passed, failed, skipped }')"
read -r passed failed skipped <<<"${counts:-0 0 0}"

echo
echo "Test results: ${results#"$repo"/}/<project>/<project>.trx"
if [ "${#broken[@]}" -gt 0 ]; then
  echo "dotnet test failed for: ${broken[*]}"
fi
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
  echo "No test ran."
fi
echo "$passed passed, $failed failed, $skipped skipped"

if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi
