#!/usr/bin/env bash
# Installs PostgreSQL 15 (server, psql and pgbench) with apt-get when its server binaries are not found.
# Quiet and idempotent: does nothing when initdb, pg_ctl, psql and pgbench are already there.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/pg.sh
. "$here/lib/pg.sh"

have_all() {
  pg_bin_dir >/dev/null && pg_tool psql >/dev/null && pg_tool pgbench >/dev/null
}

if have_all; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-prereqs: PostgreSQL (initdb, pg_ctl, psql, pgbench) is missing and apt-get is not available; install PostgreSQL 15 by hand." >&2
  exit 1
fi

sudo=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "install-prereqs: PostgreSQL is missing; run this script as root (or install postgresql-15) first." >&2
    exit 1
  fi
fi

echo "install-prereqs: installing PostgreSQL 15 (postgresql-15, postgresql-client-15) with apt-get ..." >&2
log="$(mktemp /tmp/ce-install-prereqs.XXXXXX.log)"
# No default cluster: the project's scripts create their own (tests in /tmp, `make run` in .data/).
"${sudo[@]}" mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" | "${sudo[@]}" tee /etc/postgresql-common/createcluster.d/coordination-events.conf >/dev/null
# postgresql-15 holds initdb, pg_ctl, postgres and pgbench; postgresql-client-15 holds psql.
if ! { "${sudo[@]}" apt-get update -qq \
       && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
            postgresql-15 postgresql-client-15; } >"$log" 2>&1; then
  echo "install-prereqs: apt-get failed; its output:" >&2
  tail -n 40 "$log" >&2
  exit 1
fi
rm -f "$log"

if ! have_all; then
  echo "install-prereqs: PostgreSQL was installed but initdb/pg_ctl/psql/pgbench are still not found." >&2
  exit 1
fi
echo "install-prereqs: PostgreSQL installed in $(pg_bin_dir)" >&2
