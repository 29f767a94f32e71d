#!/usr/bin/env bash
# The faults the chaos test injects, and their repairs, for the system that
# `make up` runs on this machine:
#
#   fault.sh inject kill:stock-1   SIGKILL of one replica (names as in `make ps`)
#   fault.sh repair kill:stock-1   `up.sh`: restarts what is missing, waits for health
#   fault.sh inject broker         RabbitMQ's application stopped (the node stays)
#   fault.sh inject database       PostgreSQL stopped in immediate mode, as a crash
#   fault.sh inject broker-kill    RabbitMQ's node killed with SIGKILL, as a crash
#   fault.sh inject broker-cut:order-1
#                                  one replica's connections to RabbitMQ reset
#                                  (`ss -K`); its repair is the replica's own
#                                  reconnect, so the repair command does nothing
#
# The harness only runs these commands; another deployment (Kubernetes, say)
# gives it other ones.
set -euo pipefail
source "$(dirname "$0")/common.sh"

usage() { die "usage: fault.sh inject|repair kill:<replica>|broker|broker-kill|broker-cut:<replica>|database"; }
[ $# -eq 2 ] || usage
action=$1 fault=$2
cluster_version() { ls /etc/postgresql | sort -V | tail -n 1; }

# A node started detached takes a moment to exist: `await_startup` fails
# until it does, then waits for its boot.
wait_for_broker() {
  for _ in $(seq 1 120); do
    as_root rabbitmqctl -q await_startup >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  die "RabbitMQ did not start within a minute"
}

# Resets every connection the replica holds to the broker on 127.0.0.1:5672.
cut_broker_connections() {
  local pid ports port
  pid="$(live_pid "$1")" || die "$1 is not running"
  ports="$(ss -tnpH state established dst 127.0.0.1 dport = :5672 | grep "pid=$pid," | awk '{print $3}' | sed 's/.*://')"
  [ -n "$ports" ] || die "$1 holds no connection to the broker"
  for port in $ports; do
    as_root ss -K state established src 127.0.0.1 sport = ":$port" dst 127.0.0.1 dport = :5672 >/dev/null
  done
}

case "$action:$fault" in
  inject:kill:*) "$ROOT/deploy/local/kill.sh" "${fault#kill:}" ;;
  repair:kill:*) "$ROOT/deploy/local/up.sh" >/dev/null ;;
  inject:broker) as_root rabbitmqctl -q stop_app ;;
  repair:broker) as_root rabbitmqctl -q start_app && as_root rabbitmqctl -q await_startup ;;
  inject:broker-kill) as_root pkill -KILL -f 'beam.smp.*rabbit' ;;
  repair:broker-kill) as_root rabbitmq-server -detached && wait_for_broker ;;
  inject:broker-cut:*) cut_broker_connections "${fault#broker-cut:}" ;;
  repair:broker-cut:*) : ;;
  inject:database) as_root pg_ctlcluster --skip-systemctl-redirect "$(cluster_version)" main stop -m immediate ;;
  repair:database) as_root pg_ctlcluster --skip-systemctl-redirect "$(cluster_version)" main start ;;
  *) usage ;;
esac
