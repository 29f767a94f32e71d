#!/usr/bin/env bash
# The faults the chaos test injects, and their repairs, for the system that
# `make up` runs on this machine:
#
#   fault.sh inject kill:stock-1   SIGKILL of one replica (names as in `make ps`)
#   fault.sh repair kill:stock-1   `up.sh`: restarts what is missing, waits for health
#   fault.sh inject pause:stock-1  SIGSTOP of one replica: alive to the kernel, silent to
#                                  its peers; held past the AMQP heartbeat's timeout
#                                  (AMQP_HEARTBEAT_SECS, 10 s: two missed) the broker
#                                  drops it and its partitions go to the other replicas;
#                                  the repair is SIGCONT
#   fault.sh inject broker         RabbitMQ's application stopped (the node stays)
#   fault.sh inject database       PostgreSQL stopped in immediate mode, as a crash
#   fault.sh inject broker-kill    RabbitMQ's node killed with SIGKILL, as a crash
#   fault.sh inject broker-leader-kill
#                                  on the three-node cluster (BROKER=cluster):
#                                  SIGKILL of the node leading the most quorum
#                                  queues; its repair starts it again and waits
#                                  until it has rejoined
#   fault.sh inject broker-cut:order-1
#                                  one replica's connections to RabbitMQ reset
#                                  (`ss -K`); its repair is the replica's own
#                                  reconnect, so the repair command does nothing
#   fault.sh list-queues           `<queue> <messages>` lines from the broker the
#                                  system uses (the chaos test counts the parked)
#
# The harness only runs these commands; another deployment (Kubernetes, say)
# gives it other ones.
set -euo pipefail
source "$(dirname "$0")/common.sh"

usage() { die "usage: fault.sh inject|repair kill:<replica>|pause:<replica>|broker|broker-kill|broker-leader-kill|broker-cut:<replica>|database; fault.sh list-queues"; }
CLUSTER="$ROOT/deploy/local/rabbitmq-cluster.sh"
if [ "${1:-}" = list-queues ]; then
  if [ "$BROKER" = cluster ]; then "$CLUSTER" list-queues; else as_root rabbitmqctl -q list_queues name messages; fi
  exit
fi
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

# The machine's node, the one serving 5672: nothing else named rabbit (the
# cluster's nodes, another system's) is killed with it.
kill_broker() {
  local pid
  pid="$(as_root ss -tlnpH 'sport = :5672' | grep -o -m 1 'pid=[0-9]*' | cut -d= -f2)"
  [ -n "$pid" ] || die "nothing listens on 127.0.0.1:5672"
  as_root kill -KILL "$pid"
}

# The cluster node killed last, so that its repair restarts that one.
KILLED="$CLUSTER_DIR/killed"
kill_leader() {
  [ "$BROKER" = cluster ] || die "broker-leader-kill needs the cluster (BROKER=cluster)"
  "$CLUSTER" kill-leader >"$KILLED"
  log "killed $(cat "$KILLED")"
}

# The ports of the broker addresses in AMQP_URL (5672, or the cluster's).
broker_ports() { tr , '\n' <<<"$AMQP_URL" | sed -E 's#^[a-z]+://([^@/]*@)?[^:/]*(:([0-9]+))?.*#\3#; s#^$#5672#'; }

# Resets every connection the replica holds to the broker on 127.0.0.1.
cut_broker_connections() {
  local pid broker local_port cut=0
  pid="$(live_pid "$1")" || die "$1 is not running"
  for broker in $(broker_ports); do
    for local_port in $(as_root ss -tnpH state established dst 127.0.0.1 dport = ":$broker" | grep "pid=$pid," | awk '{print $3}' | sed 's/.*://'); do
      as_root ss -K state established src 127.0.0.1 sport = ":$local_port" dst 127.0.0.1 dport = ":$broker" >/dev/null
      cut=$((cut + 1))
    done
  done
  [ "$cut" -gt 0 ] || die "$1 holds no connection to the broker"
}

# The system on the cluster does not use the machine's node.
case "$BROKER:$fault" in
  cluster:broker | cluster:broker-kill) die "$fault hits the machine's node, not the cluster the system runs on: use broker-leader-kill" ;;
esac

case "$action:$fault" in
  inject:kill:*) "$ROOT/deploy/local/kill.sh" "${fault#kill:}" ;;
  repair:kill:*) "$ROOT/deploy/local/up.sh" >/dev/null ;;
  inject:pause:*) kill -STOP "$(live_pid "${fault#pause:}")" ;;
  repair:pause:*) kill -CONT "$(live_pid "${fault#pause:}")" ;;
  inject:broker) as_root rabbitmqctl -q stop_app ;;
  repair:broker) as_root rabbitmqctl -q start_app && as_root rabbitmqctl -q await_startup ;;
  inject:broker-kill) kill_broker ;;
  repair:broker-kill) as_root rabbitmq-server -detached && wait_for_broker ;;
  inject:broker-leader-kill) kill_leader ;;
  repair:broker-leader-kill) "$CLUSTER" restart "$(cat "$KILLED")" ;;
  inject:broker-cut:*) cut_broker_connections "${fault#broker-cut:}" ;;
  repair:broker-cut:*) : ;;
  inject:database) as_root pg_ctlcluster --skip-systemctl-redirect "$(cluster_version)" main stop -m immediate ;;
  repair:database) as_root pg_ctlcluster --skip-systemctl-redirect "$(cluster_version)" main start ;;
  *) usage ;;
esac
