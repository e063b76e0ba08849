# Shared by the deploy/ scripts: where PostgreSQL's binaries are, and how to run them.
# shellcheck shell=bash

# Prints the directory holding initdb and pg_ctl: the first such directory on PATH, otherwise the highest
# version under /usr/lib/postgresql/*/bin (Debian's layout, not on PATH). Returns 1 when there is none.
pg_bin_dir() {
  local dir
  local -a dirs
  IFS=: read -r -a dirs <<<"${PATH:-}"
  for dir in "${dirs[@]}"; do
    if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      printf '%s\n' "$dir"
      return 0
    fi
  done
  while read -r dir; do
    if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      printf '%s\n' "$dir"
      return 0
    fi
  done < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -V -r)
  return 1
}

# Prints the path of a client tool (psql, pgbench): beside initdb if it is there, else from PATH, else from
# /usr/lib/postgresql/*/bin. Returns 1 when there is none.
pg_tool() {
  local name="$1" bin dir
  if bin="$(pg_bin_dir)" && [ -x "$bin/$name" ]; then
    printf '%s\n' "$bin/$name"
    return 0
  fi
  if command -v "$name" >/dev/null 2>&1; then
    command -v "$name"
    return 0
  fi
  while read -r dir; do
    if [ -n "$dir" ] && [ -x "$dir/$name" ]; then
      printf '%s\n' "$dir/$name"
      return 0
    fi
  done < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -V -r)
  return 1
}

# Runs a command as the postgres user when we are root (initdb and postgres refuse root), else as ourselves.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}
