#!/usr/bin/env bash
# The benchmarks' own PostgreSQL (`make bench` starts it through BenchServer): deploy/postgres-local.sh's cluster
# logic for a second cluster in <repo>/.data/bench-pg on 127.0.0.1:${CE_BENCH_PG_PORT:-5434}, durable as a
# production server (fsync, synchronous commit and full page writes on: PostgreSQL's defaults), with
# pg_stat_statements loaded for the statement profiles.
#   deploy/bench-postgres.sh [start|stop|status|url]   start prints the connection string (the only stdout)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export CE_PG_NAME=bench-pg CE_PG_PORT="${CE_BENCH_PG_PORT:-5434}"
export CE_PG_SETTINGS="max_connections = 300
shared_buffers = 512MB
max_wal_size = 4GB
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all"
if [ "${1:-start}" = start ]; then "$here/install-prereqs.sh" >&2; fi  # the server binaries, and pgbench for the ceilings
exec "$here/postgres-local.sh" "${1:-start}"
