#!/usr/bin/env bash
# Kills processes of the system with SIGKILL, as a crash would: no shutdown,
# no cleanup. `kill.sh stock-1 order-2`; `up.sh` starts them again.
set -euo pipefail
source "$(dirname "$0")/common.sh"

for name in "$@"; do
  pid="$(live_pid "$name")" || die "$name is not running"
  log "SIGKILL $name ($pid)"
  kill -KILL "$pid"
  for _ in $(seq 1 50); do live_pid "$name" >/dev/null || break; sleep 0.1; done
done
