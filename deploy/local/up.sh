#!/usr/bin/env bash
# Brings the whole system up on http://127.0.0.1:$GATEWAY_PORT: infrastructure,
# a build, every replica that is not running, and the gateway.
# Idempotent: what already runs is left alone. BROKER=cluster runs it on the
# three-node RabbitMQ cluster of rabbitmq-cluster.sh, started when needed,
# instead of the machine's node.
set -euo pipefail
source "$(dirname "$0")/common.sh"

case "$BROKER" in single | cluster) ;; *) die "BROKER is single or cluster, not $BROKER" ;; esac
# Replicas on two brokers would never see each other's messages.
any_replica_running() {
  local name
  while read -r name _; do live_pid "$name" >/dev/null && return 0; done < <(each_replica)
  return 1
}
recorded="$(cat "$RUN_DIR/broker" 2>/dev/null || true)"
if [ -n "$recorded" ] && [ "$recorded" != "$BROKER" ] && any_replica_running; then
  die "the system runs on the $recorded broker; stop it first (make down)"
fi

"$ROOT/deploy/local/infra.sh" --gateway
mkdir -p "$LOG_DIR"
if [ "$BROKER" = cluster ] && [[ "$("$ROOT/deploy/local/rabbitmq-cluster.sh" status)" == *" stopped"* ]]; then
  "$ROOT/deploy/local/rabbitmq-cluster.sh" start
fi
echo "$BROKER" >"$RUN_DIR/broker"

# Each service creates its own database (and runs its migrations) at start.
# SKIP_BUILD=1 starts the binaries already in $CARGO_TARGET_DIR/$PROFILE
# (bench-compare.sh: binaries of another revision).
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building ($PROFILE)"
  cargo_flags=()
  [ "$PROFILE" = release ] && cargo_flags+=(--release)
  (cd "$ROOT" && CARGO_TARGET_DIR="$CARGO_TARGET_DIR" cargo build-services --quiet "${cargo_flags[@]}")
fi

start_replica() {
  local name=$1 service=$2 port=$3
  if live_pid "$name" >/dev/null; then return 0; fi
  log "starting $name on 127.0.0.1:$port"
  # setsid: the replica outlives this script and make; its own session also
  # keeps a Ctrl-C in the terminal from reaching it.
  HTTP_PORT="$port" \
    DATABASE_URL="$(database_url "$service")" \
    AMQP_URL="$AMQP_URL" \
    AMQP_NAMESPACE="$AMQP_NAMESPACE" \
    STOCK_URL="http://127.0.0.1:$GATEWAY_PORT" \
    PAYMENT_URL="http://127.0.0.1:$GATEWAY_PORT" \
    setsid "$(binary_of "$service")" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$(pidfile_of "$name")"
}

while read -r name service port _; do
  start_replica "$name" "$service" "$port"
done < <(each_replica)

"$ROOT/deploy/local/gateway.sh" start

wait_healthy() {
  local name=$1 url=$2
  for _ in $(seq 1 120); do
    healthy "$url" && return 0
    live_pid "$name" >/dev/null || die "$name exited; see $LOG_DIR/$name.log"
    sleep 0.5
  done
  die "$name does not answer $url; see $LOG_DIR/$name.log"
}

while read -r name _ port prefix; do
  wait_healthy "$name" "http://127.0.0.1:$port/$prefix/health"
done < <(each_replica)
wait_healthy gateway "http://127.0.0.1:$GATEWAY_PORT/stock/health"

cat <<MSG
The webshop is up:
  gateway  http://127.0.0.1:$GATEWAY_PORT  (/orders/, /stock/, /payment/)
MSG
while read -r name _ port prefix; do
  printf '  %-9s http://127.0.0.1:%s/%s/\n' "$name" "$port" "$prefix"
done < <(each_replica)
if [ "$BROKER" = cluster ]; then echo "  broker    the cluster: $("$ROOT/deploy/local/rabbitmq-cluster.sh" status | cut -d' ' -f1,3 | xargs)"; fi
echo "logs in $LOG_DIR; 'make ps' lists the processes, 'make down' stops them"
