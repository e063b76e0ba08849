#!/usr/bin/env bash
# Wolverine's handlers are generated ahead of time (TypeLoadMode.Static) into
# services/CoordinationEvents.Api/Internal/Generated and committed, so that the service starts without Roslyn.
#   deploy/codegen.sh           regenerate them (after changing an endpoint, a handler or a middleware policy)
#   deploy/codegen.sh --check   regenerate, and fail if that changed anything: a stale file fails CI, not production
# The service must be built (CONFIGURATION, default Debug). Code generation reads no database: the connection
# string below is never opened.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
generated=services/CoordinationEvents.Api/Internal/Generated
ConnectionStrings__Events="Host=127.0.0.1;Port=1;Database=codegen" \
  dotnet run --project services/CoordinationEvents.Api -c "${CONFIGURATION:-Debug}" --no-build --no-launch-profile -- codegen write >/dev/null
if [ "${1:-}" = "--check" ] && [ -n "$(git status --porcelain -- "$generated")" ]; then
  echo "codegen: the generated Wolverine handlers in $generated were stale; regenerated now:" >&2
  git status --short -- "$generated" >&2
  echo "codegen: run 'make codegen', rebuild, and commit $generated" >&2
  exit 1
fi
echo "codegen: $generated is up to date"
