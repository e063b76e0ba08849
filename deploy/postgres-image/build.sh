#!/usr/bin/env bash
# Makes sure a PostgreSQL 15 image is in the local Docker engine, for the tests (Testcontainers) and
# deploy/docker-compose.yml, and says which one to use:
#   1. the image named by COORDINATION_PG_IMAGE (default postgres:15), if the engine has it;
#   2. (COORDINATION_PG_IMAGE unset or postgres:15) the local build, if it is there and its recipe is current;
#   3. `docker pull postgres:15` (CE_PG_PULL_TIMEOUT seconds, default 30);
#   4. otherwise build the local image ($CE_PG_LOCAL_IMAGE, default coordination-events/postgres:15-local)
#      from Debian's packages: mmdebstrap (installed with apt-get if missing) from the Debian mirror apt is
#      configured with, postgresql-15 into a tarball, `docker import`, then ./Dockerfile (FROM the imported
#      root file system, nothing pulled), which initialises the cluster. About a minute; ~190 MB.
# On a machine that can pull postgres:15 nothing is built.
#
# Output: the image's name on stdout (the only thing written there) and in <repo>/.data/postgres-image,
# which the tests read when COORDINATION_PG_IMAGE is not set (tests/CoordinationEvents.Testing).
#   deploy/postgres-image/build.sh           ensure and print
#   deploy/postgres-image/build.sh --rebuild rebuild the local image (and its root file system)
#   deploy/postgres-image/build.sh --base    only make sure the Debian root file system image is there (the base
#                                            of deploy/Dockerfile, the API image), and print its name
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

upstream="postgres:15"
requested="${COORDINATION_PG_IMAGE:-$upstream}"
local_image="${CE_PG_LOCAL_IMAGE:-coordination-events/postgres:15-local}"
rootfs_image="coordination-events/debian-postgres-rootfs:bookworm"
pull_timeout="${CE_PG_PULL_TIMEOUT:-30}"
record="$repo/.data/postgres-image"
rebuild=0
base_only=0
case "${1:-}" in
  "") ;;
  --rebuild) rebuild=1 ;;
  --base) base_only=1 ;;
  *) echo "usage: $0 [--rebuild|--base]" >&2; exit 2 ;;
esac

say() { echo "postgres-image: $*" >&2; }
die() { say "$*"; exit 1; }

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# How the root file system is made; a change to these arguments rebuilds it (its image carries their hash).
# Before the packages: the postgres user as uid/gid 999 (the official image's ids, which Testcontainers'
# WithSsl relies on; postgresql-common would pick the next free system id), and no default cluster.
# After: no docs, man pages, translations or apt lists, and no LLVM or Z3 (~125 MB, only for PostgreSQL's JIT,
# which is simply unavailable without its library: queries run as they do with jit = off).
rootfs_args=(--mode=root --variant=apt --format=tar
  --aptopt='APT::Install-Recommends "false"'
  --include=postgresql-15,postgresql-client-15
  --essential-hook='echo "postgres:x:999:999:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash" >>"$1/etc/passwd"'
  --essential-hook='echo "postgres:x:999:" >>"$1/etc/group"'
  --essential-hook='echo "postgres:*:20000:0:99999:7:::" >>"$1/etc/shadow"; echo "postgres:!::" >>"$1/etc/gshadow"'
  --essential-hook='mkdir -p "$1/etc/postgresql-common/createcluster.d" && echo "create_main_cluster = false" >"$1/etc/postgresql-common/createcluster.d/no-main.conf"'
  --customize-hook='rm -rf "$1"/usr/share/doc/* "$1"/usr/share/man/* "$1"/usr/share/info/* "$1"/usr/share/locale/* "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*.log'
  --customize-hook='rm -rf "$1"/usr/lib/postgresql/15/lib/llvmjit* "$1"/usr/lib/postgresql/15/lib/bitcode "$1"/usr/lib/x86_64-linux-gnu/libLLVM-14.so* "$1"/usr/lib/x86_64-linux-gnu/libz3.so*')
rootfs_recipe="$(printf '%s\n' "${rootfs_args[@]}" | sha256sum | cut -c1-16)"
# The recipe of the local image: a change to the Dockerfile, the entrypoint or the rootfs rebuilds it.
recipe="$( { cat "$here/Dockerfile" "$here/docker-entrypoint.sh"; echo "$rootfs_recipe"; } | sha256sum | cut -c1-16)"
image_recipe() { docker image inspect --format '{{ index .Config.Labels "org.coordination-events.recipe" }}' "$1" 2>/dev/null || true; }

use() {
  mkdir -p "$repo/.data"
  printf '%s\n' "$1" >"$record"
  say "using $1 (recorded in ${record#"$repo"/})"
  printf '%s\n' "$1"
  exit 0
}

docker info >/dev/null 2>&1 || die "the Docker engine does not answer; run deploy/install-docker.sh first."

if [ "$rebuild" = 0 ] && [ "$base_only" = 0 ]; then
  if have_image "$requested" && { [ "$requested" != "$local_image" ] || [ "$(image_recipe "$requested")" = "$recipe" ]; }; then
    use "$requested"
  fi
  if [ "$requested" != "$upstream" ] && [ "$requested" != "$local_image" ]; then
    say "COORDINATION_PG_IMAGE=$requested is not in the local engine; pulling it ..."
    timeout "$pull_timeout" docker pull -q "$requested" >/dev/null || die "could not pull $requested (COORDINATION_PG_IMAGE); unset it to use postgres:15 or the local build."
    use "$requested"
  fi
  if [ "$(image_recipe "$local_image")" = "$recipe" ]; then
    use "$local_image"
  fi
  if [ "$requested" = "$upstream" ]; then
    say "trying docker pull $upstream (at most ${pull_timeout}s) ..."
    if timeout "$pull_timeout" docker pull -q "$upstream" >/dev/null 2>&1; then
      use "$upstream"
    fi
    say "cannot pull $upstream: building $local_image from Debian's packages"
  fi
fi

# One build at a time on this engine (several worktrees may run `make test` at once on a fresh machine): wait
# for another build, then look again.
lock="${TMPDIR:-/tmp}/ce-postgres-image.lock"
exec 9>>"$lock"
if ! flock -n 9; then
  say "another build of the image is running; waiting for it (lock $lock) ..."
  flock 9
  if [ "$rebuild" = 0 ] && [ "$base_only" = 0 ] && [ "$(image_recipe "$local_image")" = "$recipe" ]; then
    use "$local_image"
  fi
fi

started=$(date +%s)


# --- the root file system: Debian bookworm with postgresql-15, imported as an image ---
if [ "$rebuild" = 1 ] || [ "$(image_recipe "$rootfs_image")" != "$rootfs_recipe" ]; then
  if ! command -v mmdebstrap >/dev/null 2>&1; then
    say "installing mmdebstrap with apt-get ..."
    sudo=(); [ "$(id -u)" = 0 ] || sudo=(sudo)
    apt_opts=(-o DPkg::Lock::Timeout=300)
    if ! apt-cache policy mmdebstrap 2>/dev/null | grep -q 'Candidate: [0-9]'; then
      "${sudo[@]}" apt-get "${apt_opts[@]}" update -qq >/dev/null
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends mmdebstrap >/dev/null \
      || die "apt-get install mmdebstrap failed"
  fi
  [ "$(id -u)" = 0 ] || die "building the root file system needs root (mmdebstrap's root mode); run as root or pull postgres:15."

  # The Debian mirror (and security mirror) apt is configured with: the deb822 or one-line source files that
  # name a .../debian URI (third-party repositories such as nodesource are left out).
  mirrors=()
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    if grep -Eq '^[[:space:]]*(URIs:|deb )[^#]*/debian(-security)?/?([[:space:]]|$)' "$file"; then
      mirrors+=("$file")
    fi
  done
  [ "${#mirrors[@]}" -gt 0 ] || mirrors=(http://deb.debian.org/debian)
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")"
  [ "$codename" = bookworm ] || say "warning: this machine is Debian $codename; the image is built from $codename (postgresql-15 must exist there)"

  work="$(mktemp -d /var/tmp/ce-pg-rootfs.XXXXXX)"
  trap 'rm -rf "$work"' EXIT
  say "mmdebstrap $codename with postgresql-15 from ${mirrors[*]} ..."
  if ! mmdebstrap "${rootfs_args[@]}" "$codename" "$work/rootfs.tar" "${mirrors[@]}" >"$work/mmdebstrap.log" 2>&1; then
    tail -n 40 "$work/mmdebstrap.log" >&2
    die "mmdebstrap failed"
  fi
  say "rootfs: $(du -h "$work/rootfs.tar" | cut -f1) in $(( $(date +%s) - started ))s; docker import as $rootfs_image"
  docker import --change "LABEL org.coordination-events.recipe=$rootfs_recipe" "$work/rootfs.tar" "$rootfs_image" >/dev/null
  rm -rf "$work"
  trap - EXIT
fi

if [ "$base_only" = 1 ]; then
  say "base image $rootfs_image is ready"
  printf '%s\n' "$rootfs_image"
  exit 0
fi

# --- the image: entrypoint and an initialised cluster ---
# The legacy builder (DOCKER_BUILDKIT=0): Debian's engine has no buildx plugin, and FROM a local image pulls nothing.
say "docker build $local_image ..."
previous="$(docker image inspect --format '{{.Id}}' "$local_image" 2>/dev/null || true)"
build_log="$(mktemp /tmp/ce-pg-image-build.XXXXXX.log)"
if ! DOCKER_BUILDKIT=0 docker build -q --pull=false --build-arg "BASE_IMAGE=$rootfs_image" --build-arg "RECIPE=$recipe" \
      -t "$local_image" "$here" >"$build_log" 2>&1; then
  cat "$build_log" >&2
  die "docker build of $local_image failed"
fi
rm -f "$build_log"
# The previous build of the local image, now untagged (and only it: the engine may hold others' images).
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect --format '{{.Id}}' "$local_image")" ]; then
  docker rmi "$previous" >/dev/null 2>&1 || true
fi
say "built $local_image in $(( $(date +%s) - started ))s ($(docker image inspect --format '{{.Size}}' "$local_image" | awk '{printf "%d MB", $1/1000000}'))"
use "$local_image"
