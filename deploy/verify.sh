#!/usr/bin/env bash
# Asks the running service to recompute its figures from the raw events and compare them with what it serves
# (GET /api/v1/admin/verify), prints the answer, and fails when it reports differences.
#   PORT          the service's port (default 5080, as `make run`)
#   CE_URL        the service's base address (default http://localhost:$PORT)
#   CE_ADMIN_KEY  an admin API key (default dev-admin-key, the Development key)
# Exit: 0 no differences, 1 differences (or an answer without "differences"), 2 the call failed.
set -euo pipefail

base="${CE_URL:-http://localhost:${PORT:-5080}}"
url="${base%/}/api/v1/admin/verify"
key="${CE_ADMIN_KEY:-dev-admin-key}"

if ! body="$(curl -fsS -H "X-Api-Key: $key" -H 'Accept: application/json' "$url")"; then
  echo "verify: GET $url failed (is the service running? \`make run\`)" >&2
  exit 2
fi

if command -v jq >/dev/null 2>&1 && printf '%s' "$body" | jq -e . >/dev/null 2>&1; then
  printf '%s\n' "$body" | jq .
  count="$(printf '%s' "$body" | jq -r 'if type == "object" and has("differences") then (.differences | length) else "missing" end')"
else
  printf '%s\n' "$body"
  compact="$(printf '%s' "$body" | tr -d ' \t\r\n')"
  case "$compact" in
    *'"differences":[]'*) count=0 ;;
    *'"differences":['*) count="some" ;;
    *) count="missing" ;;
  esac
fi

case "$count" in
  0) echo "verify: no differences" >&2 ;;
  missing) echo "verify: the answer has no \"differences\" field" >&2; exit 1 ;;
  *) echo "verify: $count difference(s) between the served figures and a recomputation from the events" >&2; exit 1 ;;
esac
