#!/usr/bin/env bash
# One line per process of the system: <name> <pid> 127.0.0.1:<port> <state>,
# where state is "healthy" (answers its health check), "unhealthy" (runs but
# does not answer) or "stopped".
set -euo pipefail
source "$(dirname "$0")/common.sh"

show() {
  local name=$1 port=$2 url=$3 pid state
  if pid="$(live_pid "$name")"; then
    if healthy "$url"; then state=healthy; else state=unhealthy; fi
  else
    pid=- state=stopped
  fi
  echo "$name $pid 127.0.0.1:$port $state"
}

while read -r name _ port prefix; do
  show "$name" "$port" "http://127.0.0.1:$port/$prefix/health"
done < <(each_replica)
show gateway "$GATEWAY_PORT" "http://127.0.0.1:$GATEWAY_PORT/stock/health"
