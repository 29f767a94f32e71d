#!/usr/bin/env bash
# The faults the chaos test injects, and their repairs, for the system that
# `make up` runs on this machine:
#
#   fault.sh inject kill:stock-1   SIGKILL of one replica (names as in `make ps`)
#   fault.sh repair kill:stock-1   `up.sh`: restarts what is missing, waits for health
#   fault.sh inject broker         RabbitMQ's application stopped (the node stays)
#   fault.sh inject database       PostgreSQL stopped in immediate mode, as a crash
#
# The harness only runs these commands; another deployment (Kubernetes, say)
# gives it other ones.
set -euo pipefail
source "$(dirname "$0")/common.sh"

usage() { die "usage: fault.sh inject|repair kill:<replica>|broker|database"; }
[ $# -eq 2 ] || usage
action=$1 fault=$2
cluster_version() { ls /etc/postgresql | sort -V | tail -n 1; }

case "$action:$fault" in
  inject:kill:*) "$ROOT/deploy/local/kill.sh" "${fault#kill:}" ;;
  repair:kill:*) "$ROOT/deploy/local/up.sh" >/dev/null ;;
  inject:broker) as_root rabbitmqctl -q stop_app ;;
  repair:broker) as_root rabbitmqctl -q start_app && as_root rabbitmqctl -q await_startup ;;
  inject:database) as_root pg_ctlcluster --skip-systemctl-redirect "$(cluster_version)" main stop -m immediate ;;
  repair:database) as_root pg_ctlcluster --skip-systemctl-redirect "$(cluster_version)" main start ;;
  *) usage ;;
esac
