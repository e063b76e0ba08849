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

# shellcheck source=lib/apt.sh
. "$here/lib/apt.sh"
# No default cluster: the project's scripts create their own (tests in containers, `make run` in .data/).
# postgresql-15 holds initdb, pg_ctl, postgres and pgbench; postgresql-client-15 holds psql.
if [ "$(id -u)" = 0 ] || command -v sudo >/dev/null 2>&1; then
  sudo_=(); [ "$(id -u)" != 0 ] && sudo_=(sudo)
  "${sudo_[@]}" mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" | "${sudo_[@]}" tee /etc/postgresql-common/createcluster.d/coordination-events.conf >/dev/null
fi
apt_install install-prereqs postgresql-15 postgresql-client-15

if ! have_all; then
  echo "install-prereqs: PostgreSQL was installed but initdb/pg_ctl/psql/pgbench are still not found." >&2
  exit 1
fi
echo "install-prereqs: PostgreSQL installed in $(pg_bin_dir)" >&2
