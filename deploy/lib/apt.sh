# Shared by the install scripts: apt_install <who> <package...> installs Debian packages quietly, as root or
# through sudo, and prints apt-get's output only when it fails.
apt_install() {
  local who="$1"
  shift
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "$who: apt-get is not available; install $* by hand." >&2
    return 1
  fi
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "$who: run this script as root (or install $* by hand) first." >&2
      return 1
    fi
  fi
  echo "$who: installing $* with apt-get ..." >&2
  local log
  log="$(mktemp "/tmp/ce-$who.XXXXXX.log")"
  if ! { "${sudo[@]}" apt-get update -qq \
         && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
              -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"; } >"$log" 2>&1; then
    echo "$who: apt-get failed; its output:" >&2
    tail -n 40 "$log" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
}
