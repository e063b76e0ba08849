#!/usr/bin/env bash
# The local development PostgreSQL for `make run`: one cluster in <repo>/.data/pg, listening on
# 127.0.0.1:${CE_PG_PORT:-5433} (trust authentication, loopback only), with the database `coordination`.
#
#   deploy/postgres-local.sh [start]   create the cluster once, start it unless it runs, create the database;
#                                      prints the connection string (the only thing written to stdout)
#   deploy/postgres-local.sh stop      stop it (fast shutdown)
#   deploy/postgres-local.sh status    running or not (exit 0 when running, 3 when not)
#   deploy/postgres-local.sh url       print the connection string
#
# As root, the cluster belongs to the postgres user (initdb and postgres refuse root); otherwise to you.
# CE_PG_NAME names another cluster beside it (<repo>/.data/$CE_PG_NAME), CE_PG_SETTINGS adds postgresql.conf
# lines at each start: deploy/bench-postgres.sh uses both.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# shellcheck source=lib/pg.sh
. "$here/lib/pg.sh"

# libpq and pg_ctl read PG* variables (PGDATA, PGPORT, PGHOST, PGOPTIONS ...): not ours to follow here.
while read -r name; do unset "$name"; done < <(compgen -e | grep '^PG' || true)

port="${CE_PG_PORT:-5433}"
database="coordination"
data_root="$repo/.data"
name="${CE_PG_NAME:-pg}"
pgdata="$data_root/$name"
log="$data_root/$name.log"

say() { echo "${CE_PG_NAME:-postgres-local}: $*" >&2; }
die() { say "$*"; exit 1; }

connection_string() { printf 'Host=127.0.0.1;Port=%s;Database=%s;Username=postgres\n' "$1" "$database"; }

bin_dir() {
  pg_bin_dir || die "PostgreSQL server binaries (initdb, pg_ctl) not found. Run deploy/install-prereqs.sh (or apt-get install postgresql-15)."
}

# The postmaster's pid when the cluster runs (checked against /proc, since a pid left behind by a killed
# server may now belong to another process); nothing otherwise.
postmaster_pid() {
  local pid comm
  [ -f "$pgdata/postmaster.pid" ] || return 1
  pid="$(head -n 1 "$pgdata/postmaster.pid" 2>/dev/null | tr -dc 0-9)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  if [ -r "/proc/$pid/stat" ]; then
    # A killed postmaster can linger as a zombie until its new parent reaps it.
    case "$(sed 's/.*) //' "/proc/$pid/stat" | cut -c1)" in Z|X) return 1 ;; esac
  fi
  if [ -r "/proc/$pid/comm" ]; then
    comm="$(cat "/proc/$pid/comm")"
    case "$comm" in postgres*|postmaster*) ;; *) return 1 ;; esac
  fi
  printf '%s\n' "$pid"
}

# Waits (up to 30 s) until no live process works in the data directory: every server process chdirs there.
wait_for_leftovers() {
  local i p busy
  for i in $(seq 1 60); do
    busy=""
    for p in /proc/[0-9]*; do
      if [ "$(readlink "$p/cwd" 2>/dev/null)" = "$pgdata" ] \
        && ! sed 's/.*) //' "$p/stat" 2>/dev/null | cut -c1 | grep -q '[ZX]'; then
        busy="${p#/proc/}"
        break
      fi
    done
    [ -z "$busy" ] && return 0
    [ "$i" = 1 ] && say "waiting for the processes of the previous server to exit (pid $busy)"
    sleep 0.5
  done
  die "processes of a previous server still use $pgdata (pid $busy); stop them first."
}

running_port() {
  sed -n 4p "$pgdata/postmaster.pid" 2>/dev/null | tr -dc 0-9
}

init_cluster() {
  local bin="$1"
  mkdir -p "$data_root"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root, but there is no 'postgres' user (the PostgreSQL packages create it)."
    chown postgres "$data_root"
    runuser -u postgres -- test -w "$data_root" -a -x "$data_root" \
      || die "the postgres user cannot reach $data_root (a parent directory is closed to other users); move the repository or run as another user."
  fi
  if [ -s "$pgdata/PG_VERSION" ]; then
    return 0
  fi
  if [ -e "$pgdata" ]; then
    say "removing the incomplete cluster in $pgdata (no PG_VERSION)"
    rm -rf "$pgdata"
  fi
  say "creating the cluster in $pgdata"
  local args=(-D "$pgdata" -U postgres -A trust -E UTF8)
  if ! (cd "$data_root" && as_pg "$bin/initdb" "${args[@]}" --locale=C.UTF-8) >"$data_root/$name-initdb.log" 2>&1; then
    rm -rf "$pgdata"
    (cd "$data_root" && as_pg "$bin/initdb" "${args[@]}" --no-locale) >"$data_root/$name-initdb.log" 2>&1 \
      || { cat "$data_root/$name-initdb.log" >&2; rm -rf "$pgdata"; die "initdb failed"; }
  fi
  # The per-start settings (socket directory, which follows the repository) live in an included file.
  printf "\n# deploy/postgres-local.sh\ninclude_if_exists = 'local.conf'\n" >>"$pgdata/postgresql.conf"
}

write_local_conf() {
  local sockets="$data_root"
  # A Unix socket path is limited to 107 bytes; past that, listen on TCP only.
  if [ $(( ${#sockets} + 16 )) -gt 100 ] || [[ "$sockets" == *"'"* ]]; then
    sockets=""
  fi
  cat >"$pgdata/local.conf" <<CONF
# written by deploy/postgres-local.sh at each start
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sockets'
${CE_PG_SETTINGS:-}
CONF
  [ "$(id -u)" = 0 ] && chown postgres "$pgdata/local.conf"
  return 0
}

ensure_database() {
  local bin="$1" psql
  psql="$(pg_tool psql)" || die "psql not found. Run deploy/install-prereqs.sh."
  local exists
  exists="$("$psql" -X -q -h 127.0.0.1 -p "$2" -U postgres -d postgres -tAc \
    "select 1 from pg_database where datname = '$database'")" || die "the server on port $2 does not answer"
  if [ "$exists" != 1 ]; then
    "$psql" -X -q -h 127.0.0.1 -p "$2" -U postgres -d postgres -c "create database \"$database\"" >/dev/null
    say "created database $database"
  fi
}

start() {
  local bin pid attempt
  bin="$(bin_dir)"
  init_cluster "$bin"
  if pid="$(postmaster_pid)"; then
    local actual
    actual="$(running_port)"
    [ "$actual" = "$port" ] || say "already running on port $actual (not $port); using it"
    ensure_database "$bin" "$actual"
    connection_string "$actual"
    return 0
  fi
  if [ -f "$pgdata/postmaster.pid" ]; then
    # Left by a killed server whose pid is gone, a zombie, or now someone else's: postgres would refuse to
    # start over the last two. Its other processes may still be exiting; the file guards the data until then.
    wait_for_leftovers
    say "removing the stale postmaster.pid of a server that no longer runs"
    rm -f "$pgdata/postmaster.pid"
  fi
  write_local_conf
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    if (cd "$data_root" && as_pg "$bin/pg_ctl" start -D "$pgdata" -l "$log" -w -t 60 -o "-p $port") >/dev/null 2>&1; then
      break
    fi
    if [ "$attempt" = 10 ] || ! tail -n 5 "$log" 2>/dev/null | grep -q -e 'shared memory block' -e 'lock file'; then
      tail -n 15 "$log" >&2 || true
      if tail -n 5 "$log" 2>/dev/null | grep -q 'could not bind'; then
        die "port $port is taken by another process; choose another with CE_PG_PORT=<port>."
      fi
      die "could not start PostgreSQL (log: $log)"
    fi
    # The processes of a killed server are still exiting.
    sleep 1
  done
  say "started on 127.0.0.1:$port (data: $pgdata, log: $log)"
  ensure_database "$bin" "$port"
  connection_string "$port"
}

stop() {
  local bin
  if ! postmaster_pid >/dev/null; then
    say "not running"
    return 0
  fi
  bin="$(bin_dir)"
  (cd "$data_root" && as_pg "$bin/pg_ctl" stop -D "$pgdata" -m fast -w -t 60) >/dev/null
  say "stopped"
}

status() {
  local pid
  if pid="$(postmaster_pid)"; then
    echo "running on 127.0.0.1:$(running_port) (pid $pid, data $pgdata)"
    connection_string "$(running_port)"
    return 0
  fi
  echo "not running (data $pgdata)"
  return 3
}

url() {
  if postmaster_pid >/dev/null; then
    connection_string "$(running_port)"
  else
    connection_string "$port"
  fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  url) url ;;
  *) echo "usage: $0 [start|stop|status|url]" >&2; exit 2 ;;
esac
