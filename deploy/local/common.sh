# Shared by the local deployment scripts: where things live, which processes
# make up the system, and small helpers. Sourced, never run.
#
# Every setting comes from the environment with a default for this machine,
# so a second copy of the system (the smoke test) can run beside the first
# with other ports, another run directory and other databases.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN_DIR="${RUN_DIR:-$ROOT/.run}"
LOG_DIR="$RUN_DIR/logs"
PROFILE="${PROFILE:-release}"
REPLICAS="${REPLICAS:-2}"
GATEWAY_PORT="${GATEWAY_PORT:-8000}"
# Replica r of a service listens on PORT_BASE + 100 * service number + r.
PORT_BASE="${PORT_BASE:-8000}"
DB_HOST="${DB_HOST:-127.0.0.1}"
DB_PORT="${DB_PORT:-5432}"
# trust auth ignores the password; a freshly installed server needs it.
DB_USER="${DB_USER:-postgres}"
DB_PASSWORD="${DB_PASSWORD:-postgres}"
DB_PREFIX="${DB_PREFIX:-}"
# Exchanges and queues are named <namespace>.<name>: two systems on one
# broker (make up and the smoke test) must not share them.
AMQP_NAMESPACE="${AMQP_NAMESPACE:-webshop}"
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

# name, service number (for ports), URL prefix
SERVICES=("order 1 orders" "stock 2 stock" "payment 3 payment")

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

port_of() { echo $((PORT_BASE + 100 * $2 + $1)); }   # replica, service number
database_url() { echo "postgres://$DB_USER:$DB_PASSWORD@$DB_HOST:$DB_PORT/${DB_PREFIX}$1_db"; }
binary_of() { echo "$CARGO_TARGET_DIR/$PROFILE/$1"; }
pidfile_of() { echo "$RUN_DIR/$1.pid"; }

# Prints the pid recorded for a process when that process still runs. A
# killed replica whose parent has not reaped it yet is a zombie: it still
# answers `kill -0`, so its state is read from /proc as well.
live_pid() {
  local pidfile pid state
  pidfile="$(pidfile_of "$1")"
  [ -f "$pidfile" ] || return 1
  pid="$(cat "$pidfile" 2>/dev/null)" || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" || return 1
  [ "$state" != Z ] && [ "$state" != X ] || return 1
  echo "$pid"
}

# One line per replica: "<name> <service> <port> <prefix>".
each_replica() {
  local entry service number prefix r
  for entry in "${SERVICES[@]}"; do
    read -r service number prefix <<<"$entry"
    for r in $(seq 1 "$REPLICAS"); do
      echo "$service-$r $service $(port_of "$r" "$number") $prefix"
    done
  done
}

# 0 when GET url answers 2xx within two seconds.
healthy() { curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; }

# The test scripts' tally: `pass`/`fail` print a line each; the script ends
# with `[ "$failed" -eq 0 ]`.
passed=0 failed=0
pass() { passed=$((passed + 1)); echo "ok    $*"; }
fail() { failed=$((failed + 1)); echo "FAIL  $*"; }

# Drops this system's three databases, so a test starts from empty ones.
drop_databases() {
  local db
  for db in order stock payment; do
    PGOPTIONS='-c client_min_messages=warning' psql "postgres://$DB_USER:$DB_PASSWORD@$DB_HOST:$DB_PORT/postgres" -qc \
      "DROP DATABASE IF EXISTS \"${DB_PREFIX}${db}_db\" WITH (FORCE)" >/dev/null
  done
}
