#!/usr/bin/env bash
# Checks the OpenAPI document that client teams generate their clients from (/swagger/v1/swagger.json):
#   1. Redocly CLI's linter with its recommended rules (tests/openapi/redocly.yaml; the few warnings accepted, each
#      with its reason, are in tests/openapi/.redocly.lint-ignore.yaml): any error fails.
#   2. A TypeScript client generated from it (openapi-typescript, with openapi-fetch for the calls) type-checks
#      tests/openapi/calls.ts, which makes every call of api.md (tsc --noEmit).
# The document is the one the service serves, written by the API tests (OpenApi/OpenApiDocumentTests) to
# TestResults/openapi/swagger.json. When that file is missing, this script runs that one test first (which needs
# what the tests need: Docker and the PostgreSQL image, as `make test` sets up).
# The tools are pinned in tests/openapi/package.json and package-lock.json and installed with `npm ci`; node and
# npm come from Debian's packages when missing.
#   deploy/lint-openapi.sh [document.json]
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
checks="$repo/tests/openapi"
document="${1:-$repo/TestResults/openapi/swagger.json}"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "lint-openapi: installing node and npm (Debian packages)"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

if [ ! -s "$document" ]; then
  echo "lint-openapi: $document is missing; writing it with the API tests' OpenApiDocumentTests"
  dotnet test "$repo/tests/CoordinationEvents.Api.Tests" -c "${CONFIGURATION:-Debug}" -nologo \
    --filter "FullyQualifiedName~CoordinationEvents.Api.Tests.OpenApi.OpenApiDocumentTests" >/dev/null
  [ -s "$document" ] || { echo "lint-openapi: the test wrote no document"; exit 1; }
fi

cd "$checks"
# npm ci again whenever the lock changed since the last one.
if ! cmp -s package-lock.json node_modules/.lint-openapi-lock 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.lint-openapi-lock
fi

mkdir -p generated
cp "$document" generated/openapi.json
status=0

echo "lint-openapi: Redocly CLI $(npx --no-install redocly --version), recommended rules"
npx --no-install redocly lint generated/openapi.json --config redocly.yaml --format=stylish || status=1

echo "lint-openapi: a client from openapi-typescript $(npx --no-install openapi-typescript --version | tr -d '\n'), type-checked with tsc $(npx --no-install tsc --version | cut -d' ' -f2)"
# (openapi-typescript repeats the linter's accepted warnings, marked ⚠: not shown twice.)
if { npx --no-install openapi-typescript generated/openapi.json -o generated/api.d.ts 2>&1 | grep -v '⚠'; [ "${PIPESTATUS[0]}" -eq 0 ]; } \
   && npx --no-install tsc -p tsconfig.json; then
  echo "lint-openapi: calls.ts (every call of api.md) type-checks against the generated client"
else
  echo "lint-openapi: the client generated from the document does not type-check calls.ts"
  status=1
fi

if [ "$status" -ne 0 ]; then
  echo "lint-openapi: FAILED"
  exit 1
fi
echo "lint-openapi: passed"
