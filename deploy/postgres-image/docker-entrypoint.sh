#!/bin/sh
# Entrypoint of the locally built PostgreSQL 15 image (deploy/postgres-image/build.sh). It behaves like the
# official postgres image as far as Testcontainers.PostgreSql and deploy/docker-compose.yml need:
#   POSTGRES_USER (default postgres), POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust),
#   POSTGRES_DB (default: the user's name); the server on 5432 on every interface, password (scram) auth over
#   TCP, trust on the Unix socket; arguments starting with '-' are passed to postgres (`-c fsync=off ...`).
# Not supported (not needed here): /docker-entrypoint-initdb.d scripts, POSTGRES_INITDB_ARGS.
# The cluster is initialised when the image is built (`docker-entrypoint.sh --init-only`, user, password and
# database all "postgres"), so a container starts in about a second; other settings are applied at start in
# single-user mode. An empty data directory (a fresh bind mount) is initialised at start.
set -eu

: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

if [ "$(id -u)" = 0 ]; then
  # Started with --user root: the server refuses root; drop to postgres (uid 999) for everything.
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

sql_literal() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"; }
sql_ident() { printf '"%s"' "$(printf '%s' "$1" | sed 's/"/""/g')"; }

init_cluster() {
  # $1: superuser password
  pwfile="$(mktemp)"
  printf '%s\n' "$1" >"$pwfile"
  initdb -D "$PGDATA" --username=postgres --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 --no-sync --no-instructions >/dev/null
  rm -f "$pwfile"
  cat >>"$PGDATA/postgresql.conf" <<'CONF'

# deploy/postgres-image
listen_addresses = '*'
port = 5432
unix_socket_directories = '/var/run/postgresql'
CONF
  cat >"$PGDATA/pg_hba.conf" <<'HBA'
# deploy/postgres-image: trust on the socket (inside the container only), passwords over TCP.
local all all trust
host  all all all scram-sha-256
HBA
}

if [ "${1:-}" = "--init-only" ]; then
  # At image build time.
  init_cluster postgres
  printf '%s\n' "postgres:postgres:postgres:" | sha256sum | cut -d' ' -f1 >"$PGDATA/.ce-configured"
  exit 0
fi

if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
  set -- postgres "$@"
fi

if [ "$1" = postgres ]; then
  shift
  user="${POSTGRES_USER:-postgres}"
  database="${POSTGRES_DB:-$user}"
  password="${POSTGRES_PASSWORD:-}"
  auth="${POSTGRES_HOST_AUTH_METHOD:-}"
  if [ -z "$password" ] && [ "$auth" != trust ]; then
    echo "docker-entrypoint: POSTGRES_PASSWORD is not set (set POSTGRES_HOST_AUTH_METHOD=trust to allow any connection without one)" >&2
    exit 1
  fi
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    init_cluster "${password:-postgres}"
    : >"$PGDATA/.ce-configured"
  fi
  wanted="$(printf '%s\n' "$user:$password:$database:$auth" | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$PGDATA/.ce-configured" 2>/dev/null)" != "$wanted" ]; then
    # Single-user mode: no socket, no TCP, nothing can connect meanwhile. One statement per line.
    {
      if [ "$user" != postgres ]; then
        echo "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = $(sql_literal "$user")) THEN CREATE ROLE $(sql_ident "$user") SUPERUSER LOGIN; END IF; END \$\$;"
      fi
      if [ -n "$password" ]; then
        echo "ALTER ROLE $(sql_ident "$user") PASSWORD $(sql_literal "$password");"
      fi
    } | postgres --single -D "$PGDATA" -c exit_on_error=on postgres >/dev/null
    if [ "$database" != postgres ]; then
      exists="$(echo "SELECT 'db-exists' FROM pg_database WHERE datname = $(sql_literal "$database");" \
        | postgres --single -D "$PGDATA" postgres)"
      case "$exists" in
        *db-exists*) ;;
        *) echo "CREATE DATABASE $(sql_ident "$database") OWNER $(sql_ident "$user");" \
             | postgres --single -D "$PGDATA" -c exit_on_error=on postgres >/dev/null ;;
      esac
    fi
    if [ "$auth" = trust ]; then
      sed -i 's/^host  all all all scram-sha-256$/host  all all all trust/' "$PGDATA/pg_hba.conf"
    fi
    printf '%s\n' "$wanted" >"$PGDATA/.ce-configured"
  fi
  exec postgres -D "$PGDATA" "$@"
fi

exec "$@"
