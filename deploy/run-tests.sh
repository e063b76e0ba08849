#!/usr/bin/env bash
# `make test`: sets up what the tests need on a fresh machine, builds, runs every test project of the solution
# one after the other (each test host already uses both cores: xunit runs classes in parallel), and ends with
# one plain line "N passed, N failed, N skipped", counted from the TRX files.
#   deploy/run-tests.sh [--build] [--no-setup]
#     --build     build the solution first (while the PostgreSQL image is made); without it, it must be built
#     --no-setup  skip the set-up below (for a second run on a machine already set up)
# Set-up, each step idempotent and quick when already done:
#   deploy/install-docker.sh       a Docker engine that answers (Debian's docker.io, started detached)
#   deploy/install-chromium.sh     if it exists (browser tests)
#   deploy/install-prometheus.sh   if it exists (the metrics test scrapes the service with Debian's prometheus)
#   deploy/install-libreoffice.sh  if it exists (the Word document read back as PDF)
#   deploy/postgres-image/build.sh the PostgreSQL image of the test containers (postgres:15, or built locally)
# Each test process starts one PostgreSQL container (tests/CoordinationEvents.Testing/PostgresServer.cs) and a
# database per test class. Ryuk is off (its image cannot be pulled here): each process removes its container, and
# the containers of this run (labelled with COORDINATION_TEST_RUN) and those of dead test processes of earlier runs
# on this host are removed when this script exits, even on failure or Ctrl-C.
# Exits non-zero when a test failed, a test run broke, or no test ran at all.
#   CONFIGURATION         build configuration to test (default Debug, as the Makefile)
#   TEST_FILTER           optional `dotnet test --filter` expression
#   COORDINATION_TEST_DB  use that server instead of containers (its user may CREATE DATABASE)
#   COORDINATION_PG_IMAGE the test containers' image (default: what postgres-image/build.sh chooses)
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
configuration="${CONFIGURATION:-Debug}"
results="$repo/TestResults/run"
build=0
setup=1
for argument in "$@"; do
  case "$argument" in
    --build) build=1 ;;
    --no-setup) setup=0 ;;
    *) echo "usage: $0 [--build] [--no-setup]" >&2; exit 2 ;;
  esac
done

# VSTest kills a test host 100 ms after the run; give PostgresServer's exit handler time to remove its
# container (a detached watcher also removes it when the host is killed). PostgresServer also sets
# DOCKER_API_VERSION, when unset, to what the engine speaks (Debian 12's: 1.41; Testcontainers asks for 1.44).
export VSTEST_TESTHOST_SHUTDOWN_TIMEOUT="${VSTEST_TESTHOST_SHUTDOWN_TIMEOUT:-10000}"
# Ryuk (Testcontainers' reaper) cannot be pulled here; the tests and this script remove the containers.
export TESTCONTAINERS_RYUK_DISABLED="${TESTCONTAINERS_RYUK_DISABLED:-true}"
run_id="${COORDINATION_TEST_RUN:-$(date +%s)-$$}"
export COORDINATION_TEST_RUN="$run_id"
host="$(uname -n)"

now() { date +%s; }
timings=()
timed() {  # timed <label> <command...>: runs it, notes its duration
  local label="$1" start rc
  shift
  start=$(now)
  "$@"
  rc=$?
  timings+=("$label $(( $(now) - start ))s")
  return "$rc"
}

remove_test_containers() {
  command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1 || return 0
  local ids id pid
  ids="$(docker ps -aq --filter "label=org.coordination-events.test.run=$run_id")"
  # Leftovers of earlier runs: containers of this host whose test process no longer exists.
  for id in $(docker ps -aq --filter "label=org.coordination-events.test=true" --filter "label=org.coordination-events.test.host=$host"); do
    pid="$(docker inspect --format '{{ index .Config.Labels "org.coordination-events.test.pid" }}' "$id" 2>/dev/null)"
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      ids="$ids $id"
    fi
  done
  ids="$(printf '%s\n' $ids | sort -u | tr '\n' ' ')"
  if [ -n "${ids// /}" ]; then
    # shellcheck disable=SC2086
    docker rm -f -v $ids >/dev/null 2>&1 && echo "run-tests: removed leftover test container(s): $ids"
  fi
  return 0
}
trap remove_test_containers EXIT
trap 'exit 130' INT TERM

if [ "$setup" = 1 ]; then
  timed "docker-engine" deploy/install-docker.sh || exit 1
  if [ -f deploy/install-chromium.sh ]; then
    timed "chromium" bash deploy/install-chromium.sh || exit 1
  fi
  if [ -f deploy/install-prometheus.sh ]; then
    timed "prometheus" bash deploy/install-prometheus.sh || exit 1
  fi
  if [ -f deploy/install-libreoffice.sh ]; then
    timed "libreoffice" bash deploy/install-libreoffice.sh || exit 1
  fi
  remove_test_containers
fi

# The image and the build run side by side: the image is mostly downloads and unpacking, the build mostly CPU.
image_log="$(mktemp /tmp/ce-run-tests-image.XXXXXX.log)"
image_file="$(mktemp /tmp/ce-run-tests-image.XXXXXX.name)"
image_pid=""
if [ "$setup" = 1 ]; then
  (
    start=$(now)
    deploy/postgres-image/build.sh >"$image_file" 2>"$image_log"
    rc=$?
    echo "postgres-image $(( $(now) - start ))s" >>"$image_log.time"
    exit "$rc"
  ) &
  image_pid=$!
fi
if [ "$build" = 1 ]; then
  if ! timed "dotnet-build" dotnet build CoordinationEvents.sln -c "$configuration" -nologo; then
    [ -n "$image_pid" ] && wait "$image_pid"
    rm -f "$image_log" "$image_log.time" "$image_file"
    echo "run-tests: the build failed"
    echo "0 passed, 0 failed, 0 skipped"
    exit 1
  fi
  if ! timed "codegen-check" deploy/codegen.sh --check; then
    [ -n "$image_pid" ] && wait "$image_pid"
    rm -f "$image_log" "$image_log.time" "$image_file"
    echo "0 passed, 0 failed, 0 skipped"
    exit 1
  fi
fi
if [ -n "$image_pid" ]; then
  if ! wait "$image_pid"; then
    cat "$image_log"
    echo "run-tests: no PostgreSQL image for the test containers (deploy/postgres-image/build.sh failed)"
    exit 1
  fi
  timings+=("$(cat "$image_log.time")")
  sed 's/^/  /' "$image_log"
  COORDINATION_PG_IMAGE="$(tail -n 1 "$image_file")"
  export COORDINATION_PG_IMAGE
fi
rm -f "$image_log" "$image_log.time" "$image_file"
echo "run-tests: test containers from ${COORDINATION_PG_IMAGE:-the image in .data/postgres-image, or postgres:15}"

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
  if ! timed "$name" dotnet "${args[@]}"; then
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

# The failed tests by name, with the first line of each one's message, so that the end of the log (all that
# some CI views keep) says what broke.
failures="$(find "$results" -name '*.trx' -print0 | xargs -0 -r awk '
  function unescape(text) {
    gsub(/&quot;/, "\"", text); gsub(/&apos;/, "\047", text); gsub(/&lt;/, "<", text); gsub(/&gt;/, ">", text)
    gsub(/&amp;/, "\\&", text); return text
  }
  /<UnitTestResult / {
    failed = ($0 ~ /outcome="(Failed|Error|Timeout|Aborted)"/); expecting = 0
    if (failed && match($0, /testName="[^"]*"/)) { name = substr($0, RSTART + 10, RLENGTH - 11); printf "  %s\n", unescape(name) }
  }
  failed && /<Message>/ { expecting = 1; sub(/.*<Message>/, "") }
  failed && expecting { line = $0; sub(/<\/Message>.*/, "", line); if (line != "") { printf "      %s\n", substr(unescape(line), 1, 300) }; expecting = 0 }
')"

# OpenAPI: the document the API tests wrote (TestResults/openapi), linted with Redocly's recommended rules, and a
# client generated from it type-checked against every call of api.md. A failure fails the run.
if ! timed "openapi-lint" deploy/lint-openapi.sh; then
  echo "run-tests: deploy/lint-openapi.sh failed: the OpenAPI document does not pass its checks"
  status=1
fi

remove_test_containers
echo
if [ -n "$failures" ]; then
  echo "Failed tests:"
  echo "$failures"
fi
echo "Timings: ${timings[*]}"
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
