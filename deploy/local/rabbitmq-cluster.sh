#!/usr/bin/env bash
# A three-node RabbitMQ cluster on this machine, beside its own node on 5672
# (which this script never touches):
#
#   rabbitmq-cluster.sh start           starts the nodes that are not running,
#                                       joins new ones, waits until all three
#                                       run in one cluster (idempotent)
#   rabbitmq-cluster.sh stop            stops the three nodes (data is kept)
#   rabbitmq-cluster.sh status          one line a node: <node> <pid|-> 127.0.0.1:<port> running|stopped
#   rabbitmq-cluster.sh urls            the three AMQP URLs, comma-separated
#   rabbitmq-cluster.sh kill-leader     SIGKILL of the node leading the most
#                                       quorum queues; prints its name
#   rabbitmq-cluster.sh restart <node>  starts it again, waits until it rejoined
#   rabbitmq-cluster.sh list-queues     `<queue> <messages>` lines, through a running node
#
# Names, ports and directories are in common.sh (CLUSTER_NAME,
# CLUSTER_PORT_BASE, CLUSTER_DIR). Each node has its own configuration file,
# since /etc/rabbitmq/rabbitmq.conf pins the listener to 5672, and runs as the
# `rabbitmq` user through the package's wrapper, as the machine's node does:
# so it shares that node's Erlang cookie (/var/lib/rabbitmq/.erlang.cookie),
# and `rabbitmqctl -n webshop-1@localhost ...` works as it does for the
# machine's node. Every quorum queue gets a member on each of the three:
# RabbitMQ 3.x places min(quorum_cluster_size (default 3), cluster size)
# replicas when a declaration gives no x-quorum-initial-group-size.
set -euo pipefail
source "$(dirname "$0")/common.sh"

usage() { die "usage: rabbitmq-cluster.sh start|stop|status|urls|kill-leader|restart <node>|list-queues"; }

node_dir() { echo "$CLUSTER_DIR/$CLUSTER_NAME-$1"; }
ctl() { local n=$1; shift; as_root rabbitmqctl -n "$(cluster_node "$n")" -q "$@"; }

# The pid of node n's Erlang VM, when it runs.
node_pid() {
  local pid
  pid="$(cat "$(node_dir "$1")/mnesia/pid" 2>/dev/null)" || return 1
  [ -n "$pid" ] && grep -q beam "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

# The number of a node given as 2, webshop-2 or webshop-2@localhost.
node_number() {
  local n
  for n in "${CLUSTER_NODES[@]}"; do
    case "$1" in "$n" | "$CLUSTER_NAME-$n" | "$(cluster_node "$n")") echo "$n"; return 0 ;; esac
  done
  die "no node $1 in the cluster (${CLUSTER_NODES[*]/#/$CLUSTER_NAME-})"
}

# Node n's files: an env file (the package's scripts read it in place of
# /etc/rabbitmq/rabbitmq-env.conf) naming everything else, its configuration
# file, and the directories it writes, owned by the user it runs as.
write_node_files() {
  local n=$1 dir
  dir="$(node_dir "$n")"
  mkdir -p "$dir/mnesia" "$dir/log"
  cat >"$dir/rabbitmq-env.conf" <<ENV
NODENAME=$(cluster_node "$n")
CONFIG_FILE=$dir/rabbitmq.conf
ADVANCED_CONFIG_FILE=$dir/advanced.config
ENABLED_PLUGINS_FILE=$dir/enabled_plugins
MNESIA_BASE=$dir/mnesia
LOG_BASE=$dir/log
PID_FILE=$dir/mnesia/pid
DIST_PORT=$(($(cluster_port "$n") + 20000))
ERL_EPMD_ADDRESS=127.0.0.1
export ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}"
ENV
  cat >"$dir/rabbitmq.conf" <<CONF
listeners.tcp.local = 127.0.0.1:$(cluster_port "$n")
cluster_name = $CLUSTER_NAME
# guest may log in from loopback only, RabbitMQ's default, said out loud.
loopback_users.guest = true
CONF
  echo '[].' >"$dir/enabled_plugins"
  as_root chown -R rabbitmq:rabbitmq "$dir/mnesia" "$dir/log"
}

launch() {
  local n=$1
  node_pid "$n" >/dev/null && return 0
  # Node names are the machine's: the same cluster run from another checkout
  # (or CLUSTER_DIR) would be taken for this one.
  if timeout 2 bash -c "</dev/tcp/127.0.0.1/$(cluster_port "$n")" 2>/dev/null; then
    die "127.0.0.1:$(cluster_port "$n") is taken, though $(cluster_node "$n") of $CLUSTER_DIR is not running (another CLUSTER_DIR's node?)"
  fi
  write_node_files "$n"
  log "starting $(cluster_node "$n") on 127.0.0.1:$(cluster_port "$n")"
  as_root env RABBITMQ_CONF_ENV_FILE="$(node_dir "$n")/rabbitmq-env.conf" rabbitmq-server -detached
}

# Waits until node n has booted; fails early when its VM is gone.
await_node() {
  local n=$1 try
  for try in $(seq 1 240); do
    ctl "$n" await_startup --timeout 10 >/dev/null 2>&1 && return 0
    # The VM writes its pid file a moment after the launch.
    if [ "$try" -gt 10 ] && ! node_pid "$n" >/dev/null; then
      die "$(cluster_node "$n") exited; see $(node_dir "$n")/log"
    fi
    sleep 0.5
  done
  die "$(cluster_node "$n") did not boot within two minutes; see $(node_dir "$n")/log"
}

# The nodes that node n counts as members of its cluster ("disk_nodes") or
# as running ones ("running_nodes"), one a line.
members() {
  ctl "$1" cluster_status --formatter json 2>/dev/null \
    | grep -o "\"$2\":\[[^]]*\]" | grep -o '"[^"]*@[^"]*"' | tr -d '"'
}
running_members() { members "$1" running_nodes; }

# A node that booted from empty data is a cluster of its own: it joins the
# first node's.
join_if_alone() {
  local n=$1 first out
  first="$(cluster_node "${CLUSTER_NODES[0]}")"
  members "$n" disk_nodes | grep -x "$first" >/dev/null && return 0
  log "joining $(cluster_node "$n") to $first"
  # The CLI logs the node's restart as errors; they matter only on failure.
  out="$(ctl "$n" stop_app 2>&1 && ctl "$n" join_cluster "$first" 2>&1 && ctl "$n" start_app 2>&1)" \
    || die "$(cluster_node "$n") could not join $first: $out"
}

# Waits until node n sees all three nodes running.
await_cluster() {
  for _ in $(seq 1 120); do
    [ "$(running_members "$1" | wc -l)" -eq "${#CLUSTER_NODES[@]}" ] && return 0
    sleep 0.5
  done
  die "the cluster did not form within a minute: $(cluster_node "$1") sees $(running_members "$1" | xargs)"
}

start() {
  local n
  for n in "${CLUSTER_NODES[@]}"; do launch "$n"; done
  # All at once: a node that was stopped with the others waits for them.
  for n in "${CLUSTER_NODES[@]}"; do await_node "$n"; done
  for n in "${CLUSTER_NODES[@]:1}"; do join_if_alone "$n"; done
  await_cluster "${CLUSTER_NODES[0]}"
}

stop() {
  local n pid pids=()
  for n in "${CLUSTER_NODES[@]}"; do
    pid="$(node_pid "$n")" || continue
    log "stopping $(cluster_node "$n") ($pid)"
    ctl "$n" stop >/dev/null 2>&1 || as_root kill -TERM "$pid"
    pids+=("$pid")
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 300); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    [ -d "/proc/$pid" ] && { log "killing $pid, which ignored the stop"; as_root kill -KILL "$pid"; }
  done
  return 0
}

status() {
  local n pid state
  for n in "${CLUSTER_NODES[@]}"; do
    pid="$(node_pid "$n")" || pid=-
    state=stopped
    [ "$pid" != - ] && state=running
    echo "$(cluster_node "$n") $pid 127.0.0.1:$(cluster_port "$n") $state"
  done
}

# The first node that answers.
a_running_node() {
  local n
  for n in "${CLUSTER_NODES[@]}"; do
    node_pid "$n" >/dev/null && ctl "$n" ping >/dev/null 2>&1 && { echo "$n"; return 0; }
  done
  die "no node of the cluster is running"
}

# The leader of each quorum queue, one node a line, as node n knows them.
# erl_call (erlang-base), not rabbitmqctl: the CLI boots an Erlang VM of its
# own, one to two seconds here, and a short chaos round's checkouts have all
# answered by then; erl_call asks the node in milliseconds.
leaders() {
  echo '[element(2, amqqueue:get_pid(Q)) || Q <- rabbit_amqqueue:list(), amqqueue:get_type(Q) =:= rabbit_quorum_queue].' \
    | as_root su rabbitmq -s /bin/sh -c "erl_call -sname $(cluster_node "$1") -e" | grep -o "'[^']*'" | tr -d "'"
}

kill_leader() {
  local n listed='' leader pid
  for n in "${CLUSTER_NODES[@]}"; do listed="$(leaders "$n" 2>/dev/null)" && break; done
  leader="$(sort <<<"$listed" | uniq -c | sort -rn | awk 'NR == 1 { print $2 }')"
  [ -n "$leader" ] || die "no quorum queue has a leader"
  n="$(node_number "$leader")"
  pid="$(node_pid "$n")" || die "$leader leads, but its pid is unknown"
  as_root kill -KILL "$pid"
  echo "$leader"
}

restart() {
  local n=$1
  launch "$n"
  await_node "$n"
  await_cluster "$n"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  urls) cluster_urls ;;
  kill-leader) kill_leader ;;
  restart) [ $# -eq 2 ] || usage; restart "$(node_number "$2")" ;;
  list-queues) ctl "$(a_running_node)" list_queues name messages ;;
  *) usage ;;
esac
