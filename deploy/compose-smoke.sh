#!/usr/bin/env bash
# Smoke test of deploy/docker-compose.yml, run by hand (`make compose-smoke`), NOT by `make test`:
#   1. Docker (deploy/install-docker.sh) and a compose: the `docker compose` plugin if the CLI has it, else
#      `docker-compose` (Debian 12 packages only docker-compose 1.29; installed with apt-get if missing);
#   2. the images: PostgreSQL (deploy/postgres-image/build.sh: postgres:15, or the local build) and the API:
#      deploy/Dockerfile (the Debian base from build.sh --base plus a self-contained `dotnet publish` made
#      here), or deploy/Dockerfile.registry when mcr.microsoft.com/dotnet/aspnet:10.0 can be pulled;
#   3. `up` PostgreSQL and two API instances (host ports CE_API_PORT_1=5080, CE_API_PORT_2=5081), waits until
#      both answer GET /health/ready with 200;
#   4. GET /api/v1/admin/projections on both (X-Api-Key: dev-admin-key; the stack runs in Development) and
#      prints the answers. When they carry the top-level boolean "runsProjectionsHere", asserts that exactly one
#      instance reports true (waiting up to CE_SMOKE_LEADER_TIMEOUT s, default 60, for the instances to settle).
#      Until the service has that field, the answers are only printed and the check is reported as skipped;
#   5. tears the stack down (containers, network and volume), also on failure or Ctrl-C.
#   CE_SMOKE_KEEP=1  leave the stack running at the end (tear it down later with the printed command)
# Exit 0 when every check passed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"
project="${CE_COMPOSE_PROJECT:-coordination-events-smoke}"
port1="${CE_API_PORT_1:-5080}"
port2="${CE_API_PORT_2:-5081}"
export CE_API_PORT_1="$port1" CE_API_PORT_2="$port2"
admin_key="${CE_ADMIN_KEY:-dev-admin-key}"
ready_timeout="${CE_SMOKE_READY_TIMEOUT:-180}"
leader_timeout="${CE_SMOKE_LEADER_TIMEOUT:-60}"
started=$(date +%s)

say() { echo "compose-smoke: $*" >&2; }
die() { say "FAILED: $*"; exit 1; }
elapsed() { echo "$(( $(date +%s) - started ))s"; }

"$here/install-docker.sh"

# --- a compose ---
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  say "no docker compose plugin and no docker-compose: installing Debian's docker-compose with apt-get ..."
  sudo=(); [ "$(id -u)" = 0 ] || sudo=(sudo)
  apt_opts=(-o DPkg::Lock::Timeout=300)
  if ! apt-cache policy docker-compose 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    "${sudo[@]}" apt-get "${apt_opts[@]}" update -qq >/dev/null
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends docker-compose >/dev/null \
    || die "apt-get install docker-compose failed"
  compose=(docker-compose)
fi
say "compose: ${compose[*]} $("${compose[@]}" version --short 2>/dev/null || true)"
compose+=(-p "$project" -f "$here/docker-compose.yml")

# --- the images ---
COORDINATION_PG_IMAGE="$("$here/postgres-image/build.sh")"
export COORDINATION_PG_IMAGE
if [ -z "${CE_API_DOCKERFILE:-}" ]; then
  if docker image inspect mcr.microsoft.com/dotnet/aspnet:10.0 >/dev/null 2>&1 \
     || timeout 20 docker pull -q mcr.microsoft.com/dotnet/aspnet:10.0 >/dev/null 2>&1; then
    CE_API_DOCKERFILE=deploy/Dockerfile.registry
  else
    CE_API_DOCKERFILE=deploy/Dockerfile
  fi
fi
export CE_API_DOCKERFILE
if [ "$CE_API_DOCKERFILE" = deploy/Dockerfile ]; then
  CE_API_BASE_IMAGE="$("$here/postgres-image/build.sh" --base)"
  export CE_API_BASE_IMAGE
  say "dotnet publish (Release, linux-x64, self-contained) into .data/publish/api ..."
  rm -rf .data/publish/api
  publish_log="$(mktemp /tmp/ce-compose-publish.XXXXXX.log)"
  if ! dotnet publish services/CoordinationEvents.Api/CoordinationEvents.Api.csproj -c Release -r linux-x64 --self-contained \
        --artifacts-path .data/publish/artifacts -o .data/publish/api -nologo >"$publish_log" 2>&1; then
    tail -n 30 "$publish_log" >&2
    die "dotnet publish failed (log: $publish_log)"
  fi
  rm -f "$publish_log"
fi
say "PostgreSQL image $COORDINATION_PG_IMAGE; API image from $CE_API_DOCKERFILE"

for port in "$port1" "$port2"; do
  if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
    die "port $port is taken on this machine (\`make run\`?); choose others with CE_API_PORT_1 / CE_API_PORT_2"
  fi
done

teardown() {
  if [ "${CE_SMOKE_KEEP:-0}" = 1 ]; then
    say "leaving the stack up; tear it down with: ${compose[*]} down -v --remove-orphans"
    return
  fi
  say "tearing the stack down"
  "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
}
trap teardown EXIT
trap 'exit 130' INT TERM

# Legacy builder: Debian's engine has no buildx; FROM a local image pulls nothing.
export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0
say "building the API image ..."
build_log="$(mktemp /tmp/ce-compose-build.XXXXXX.log)"
previous="$(docker image inspect --format '{{.Id}}' coordination-events/api:local 2>/dev/null || true)"
"${compose[@]}" build api-1 >"$build_log" 2>&1 || { tail -n 30 "$build_log" >&2; die "compose build failed (log: $build_log)"; }
rm -f "$build_log"
# The previous API image, now untagged (only it: the engine may hold other people's images).
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect --format '{{.Id}}' coordination-events/api:local)" ]; then
  docker rmi "$previous" >/dev/null 2>&1 || true
fi
say "up (PostgreSQL, api-1 on :$port1, api-2 on :$port2) at $(elapsed)"
"${compose[@]}" up -d --no-build >/dev/null 2>&1 || { "${compose[@]}" logs --tail 30 >&2 || true; die "compose up failed"; }

# --- readiness ---
status_of() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1" 2>/dev/null || true; }
deadline=$(( $(date +%s) + ready_timeout ))
for port in "$port1" "$port2"; do
  until [ "$(status_of "http://127.0.0.1:$port/health/ready")" = 200 ]; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      "${compose[@]}" ps >&2 || true
      "${compose[@]}" logs --tail 40 >&2 || true
      die "http://127.0.0.1:$port/health/ready did not answer 200 within ${ready_timeout}s"
    fi
    sleep 1
  done
  say "http://127.0.0.1:$port/health/ready: 200 at $(elapsed)"
done

# --- projections: which instance runs them ---
projections() { curl -fsS --max-time 10 -H "X-Api-Key: $admin_key" -H 'Accept: application/json' "http://127.0.0.1:$1/api/v1/admin/projections"; }
# Prints true, false, or "absent" for the top-level boolean runsProjectionsHere.
runs_here() {
  if command -v jq >/dev/null 2>&1; then
    printf '%s' "$1" | jq -r 'if type == "object" and (.runsProjectionsHere | type) == "boolean" then .runsProjectionsHere else "absent" end'
  else
    case "$(printf '%s' "$1" | tr -d ' \t\r\n')" in
      *'"runsProjectionsHere":true'*) echo true ;;
      *'"runsProjectionsHere":false'*) echo false ;;
      *) echo absent ;;
    esac
  fi
}

deadline=$(( $(date +%s) + leader_timeout ))
while :; do
  body1="$(projections "$port1")" || die "GET /api/v1/admin/projections on :$port1 failed"
  body2="$(projections "$port2")" || die "GET /api/v1/admin/projections on :$port2 failed"
  here1="$(runs_here "$body1")"
  here2="$(runs_here "$body2")"
  if [ "$here1" = absent ] || [ "$here2" = absent ]; then
    break
  fi
  trues=0
  [ "$here1" = true ] && trues=$((trues + 1))
  [ "$here2" = true ] && trues=$((trues + 1))
  [ "$trues" = 1 ] && break
  if [ "$(date +%s)" -ge "$deadline" ]; then
    break
  fi
  sleep 2
done

for pair in "api-1 $port1 $here1" "api-2 $port2 $here2"; do
  read -r name port flag <<<"$pair"
  body="$body1"; [ "$name" = api-2 ] && body="$body2"
  echo "--- $name (:$port) GET /api/v1/admin/projections (runsProjectionsHere: $flag)"
  if command -v jq >/dev/null 2>&1; then printf '%s\n' "$body" | jq . 2>/dev/null || printf '%s\n' "$body"; else printf '%s\n' "$body"; fi
done

if [ "$here1" = absent ] || [ "$here2" = absent ]; then
  say "SKIPPED the leader check: the answers have no top-level boolean \"runsProjectionsHere\" yet (api-1: $here1, api-2: $here2)"
elif [ "$trues" != 1 ]; then
  die "expected exactly one instance with \"runsProjectionsHere\": true, got api-1: $here1, api-2: $here2 (after ${leader_timeout}s)"
else
  say "exactly one instance runs the projections (api-1: $here1, api-2: $here2)"
fi
say "passed in $(elapsed)"
