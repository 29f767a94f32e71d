#!/usr/bin/env bash
# Stops every process `up.sh` started: replicas get SIGTERM and finish their
# requests in flight, then the gateway quits, then the RabbitMQ cluster when
# the system ran on it (its data stays in $CLUSTER_DIR). PostgreSQL and the
# machine's RabbitMQ node stay up: they are shared with other projects and
# with the tests.
set -euo pipefail
source "$(dirname "$0")/common.sh"

"$ROOT/deploy/local/gateway.sh" stop
pids=()
while read -r name _; do
  if pid="$(live_pid "$name")"; then
    log "stopping $name ($pid)"
    kill -TERM "$pid"
    pids+=("$pid")
  fi
  rm -f "$(pidfile_of "$name")"
done < <(each_replica)

for pid in "${pids[@]}"; do
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { log "killing $pid, which ignored SIGTERM"; kill -KILL "$pid"; }
done
for _ in $(seq 1 50); do live_pid gateway >/dev/null || break; sleep 0.1; done
rm -f "$(pidfile_of gateway)"
[ "$BROKER" = cluster ] && "$ROOT/deploy/local/rabbitmq-cluster.sh" stop
rm -f "$RUN_DIR/broker"
log "stopped"
