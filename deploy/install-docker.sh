#!/usr/bin/env bash
# Makes a Docker engine answer on this machine, for the tests (Testcontainers) and deploy/docker-compose.yml.
# Idempotent and quiet when everything is already there:
#   1. `dockerd` missing: install Debian's docker.io with apt-get (as root, or through sudo), no recommends.
#   2. `docker info` fails: start dockerd in the background, detached from the caller's file descriptors
#      (start-stop-daemon; a setsid-started dockerd inherited a lock and made the next call hang), with its
#      output in ${CE_DOCKERD_LOG:-/var/log/ce-dockerd.log}, and wait until `docker info` answers.
#   CE_DOCKER_TIMEOUT  seconds to wait for the engine (default 60)
# Debian 12's engine is 20.10 (API 1.41). The docker CLI negotiates the version by itself; Testcontainers' client
# does not (it asks for 1.44): deploy/run-tests.sh sets DOCKER_API_VERSION for it.
set -euo pipefail

timeout_s="${CE_DOCKER_TIMEOUT:-60}"
log="${CE_DOCKERD_LOG:-/var/log/ce-dockerd.log}"
pidfile=/var/run/ce-dockerd.pid

say() { echo "install-docker: $*" >&2; }
die() { say "$*"; exit 1; }

sudo=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  fi
fi
as_root() {
  if [ "$(id -u)" = 0 ] || [ "${#sudo[@]}" -gt 0 ]; then
    "${sudo[@]}" "$@"
  else
    die "this needs root (or sudo) to run: $*"
  fi
}

find_dockerd() {
  command -v dockerd 2>/dev/null || { [ -x /usr/sbin/dockerd ] && echo /usr/sbin/dockerd; } || { [ -x /usr/bin/dockerd ] && echo /usr/bin/dockerd; }
}

engine_answers() {
  # A bounded call: a wedged engine must not hang the caller.
  timeout 10 docker info >/dev/null 2>&1
}

if command -v docker >/dev/null 2>&1 && engine_answers; then
  exit 0
fi

if ! dockerd_bin="$(find_dockerd)"; then
  command -v apt-get >/dev/null 2>&1 || die "dockerd is missing and apt-get is not available; install a Docker engine by hand."
  say "installing Debian's docker.io with apt-get (no recommends) ..."
  apt_log="$(mktemp /tmp/ce-install-docker.XXXXXX.log)"
  apt_opts=(-o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  # Update the lists only when docker.io has no candidate (a fresh machine has empty lists).
  if ! apt-cache policy docker.io 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    as_root apt-get "${apt_opts[@]}" update -qq >"$apt_log" 2>&1 || { tail -n 30 "$apt_log" >&2; die "apt-get update failed"; }
  fi
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends \
        docker.io >>"$apt_log" 2>&1; then
    tail -n 40 "$apt_log" >&2
    die "apt-get install docker.io failed (log: $apt_log)"
  fi
  rm -f "$apt_log"
  dockerd_bin="$(find_dockerd)" || die "docker.io was installed but dockerd is still not found"
  say "installed $("$dockerd_bin" --version 2>/dev/null || echo dockerd)"
fi
command -v docker >/dev/null 2>&1 || die "dockerd is there but the docker client is not (install docker.io or docker-ce-cli)"

# Not answering: is a dockerd of ours (or anyone's) already starting? Then only wait for it.
if ! pgrep -x dockerd >/dev/null 2>&1; then
  say "starting dockerd (log: $log)"
  as_root mkdir -p "$(dirname "$log")"
  # --background forks and detaches; its stdin/stdout/stderr go to /dev/null or the log, never the caller's
  # pipes, so `$(install-docker.sh)` or a CI log pipe returns at once.
  as_root start-stop-daemon --start --background --oknodo --pidfile "$pidfile" --make-pidfile \
    --output "$log" --exec "$dockerd_bin" -- </dev/null >/dev/null 2>&1 \
    || die "start-stop-daemon could not start $dockerd_bin (log: $log)"
fi

deadline=$(( $(date +%s) + timeout_s ))
until engine_answers; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    tail -n 30 "$log" >&2 2>/dev/null || true
    die "the Docker engine did not answer \`docker info\` within ${timeout_s}s (log: $log)"
  fi
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    tail -n 30 "$log" >&2 2>/dev/null || true
    die "dockerd exited during start-up (log: $log)"
  fi
  sleep 0.5
done
say "engine ready: $(timeout 10 docker version --format 'server {{.Server.Version}}, API {{.Server.APIVersion}}' 2>/dev/null || echo ok)"
