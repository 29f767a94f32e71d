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
# The broker: `single`, the machine's node on 127.0.0.1:5672, or `cluster`,
# the three nodes of rabbitmq-cluster.sh. up.sh records the one the running
# system uses in $RUN_DIR/broker, so later scripts (a repair, make chaos, make
# down) follow it without being told again.
BROKER="${BROKER:-$(cat "$RUN_DIR/broker" 2>/dev/null || echo single)}"
# The cluster: node n is $CLUSTER_NAME-n@localhost, AMQP on 127.0.0.1 at
# CLUSTER_PORT_BASE + n, Erlang distribution 20000 above that (as RabbitMQ's
# own default); configuration, data and logs under $CLUSTER_DIR.
CLUSTER_NAME="${CLUSTER_NAME:-webshop}"
CLUSTER_PORT_BASE="${CLUSTER_PORT_BASE:-5680}"
CLUSTER_DIR="${CLUSTER_DIR:-$RUN_DIR/rabbitmq}"
CLUSTER_NODES=(1 2 3)
cluster_node() { echo "$CLUSTER_NAME-$1@localhost"; }
cluster_port() { echo $((CLUSTER_PORT_BASE + $1)); }
cluster_urls() {
  local n urls=()
  for n in "${CLUSTER_NODES[@]}"; do urls+=("amqp://guest:guest@127.0.0.1:$(cluster_port "$n")/%2f"); done
  (IFS=,; echo "${urls[*]}")
}
# What every replica is given: one URL, or the cluster's comma-separated
# list, which a replica tries in turn.
if [ "$BROKER" = cluster ]; then
  AMQP_URL="${AMQP_URL:-$(cluster_urls)}"
else
  AMQP_URL="${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"
fi
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
