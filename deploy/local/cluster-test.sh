#!/usr/bin/env bash
# The system on a three-node RabbitMQ cluster, with the node leading the most
# quorum queues killed (SIGKILL) while checkouts are in flight and started
# again: single- and multi-item scenarios, 0 inconsistencies, 0 parked, every
# saga final. On a cluster, ports, a run directory, databases and an AMQP
# namespace of its own, so `make up`'s system (on the machine's node or on its
# own cluster) and the machine's node on 5672 are left alone. Debug binaries,
# as the smoke test.
set -euo pipefail
export PROFILE="${PROFILE:-debug}" GATEWAY_PORT="${CLUSTER_TEST_GATEWAY_PORT:-28000}" PORT_BASE="${CLUSTER_TEST_PORT_BASE:-28000}"
export DB_PREFIX=cluster_ AMQP_NAMESPACE=clustertest RUN_DIR="$(cd "$(dirname "$0")/../.." && pwd)/.run/cluster-test"
export BROKER=cluster CLUSTER_NAME=webshop-test CLUSTER_PORT_BASE="${CLUSTER_TEST_AMQP_PORT_BASE:-5690}"
unset AMQP_URL CLUSTER_DIR
source "$(dirname "$0")/common.sh"
LOCAL="$ROOT/deploy/local"
CLUSTER="$LOCAL/rabbitmq-cluster.sh"
# How long the killed node stays down, and the checkouts of each round.
HOLD_SECS="${CLUSTER_TEST_HOLD_SECS:-3}"
CHECKOUTS="${CLUSTER_TEST_CHECKOUTS:-300}"

cleanup() { "$LOCAL/down.sh" >/dev/null 2>&1 || true; }
trap cleanup EXIT

# From empty: no replica, node, queue or row of an earlier run.
cleanup
as_root rm -rf "$CLUSTER_DIR"
drop_databases

started=$(date +%s)
"$LOCAL/up.sh" >/dev/null
echo "      up on the cluster in $(($(date +%s) - started)) s"
[ "$("$CLUSTER" status | grep -c ' running$')" -eq 3 ] \
  && pass "up: three nodes running" || fail "up: $("$CLUSTER" status)"

# The system's quorum queues (every stream and parking lot; the retry queues
# are classic), each with a member online on every node.
queues_on_three() {
  as_root rabbitmqctl -n "$(cluster_node 1)" -q list_queues name type online \
    | awk -v prefix="$AMQP_NAMESPACE." 'index($1, prefix) == 1 && $2 == "quorum" { n++; if (gsub(/@/, "@") == 3) ok++ }
        END { printf "%d of %d", ok, n; exit !(n > 0 && ok == n) }'
}
if counted="$(queues_on_three)"; then
  pass "$counted quorum queues with three members online"
else
  fail "quorum queues with three members online: $counted"
fi

(cd "$ROOT" && cargo build --quiet -p consistency-test)
report="$RUN_DIR/chaos.json"
started=$(date +%s)
if out="$("$CARGO_TARGET_DIR/debug/consistency-test" chaos --url "http://127.0.0.1:$GATEWAY_PORT" \
  --faults "broker-leader-kill@$HOLD_SECS" --multi-item-too --checkouts "$CHECKOUTS" --fault-after $((CHECKOUTS / 3)) \
  --inject "$LOCAL/fault.sh inject {fault}" --repair "$LOCAL/fault.sh repair {fault}" \
  --list-queues "$LOCAL/fault.sh list-queues" --settle-timeout-secs 60 --report "$report" 2>&1)"; then
  pass "chaos, leader node killed, single- and multi-item: consistent, every saga final, nothing parked"
else
  fail "chaos, leader node killed"
fi
sed 's/^/      /' <<<"$out" | grep -v '^      \(fault: \|chaos: .* during\|report written\)' || true
echo "      chaos in $(($(date +%s) - started)) s"
# The harness lets a round pass when the parking lots could not be listed.
grep -q '"parked": null' "$report" 2>/dev/null && fail "the parking lots could not be listed"
slowest="$(grep -o '"repair_to_final_secs": [0-9.]*' "$report" | awk '{ if ($2 > max) max = $2 } END { print max + 0 }')"
awk -v s="$slowest" 'BEGIN { exit !(s <= 10) }' \
  && pass "every saga final within 10 s of the repair (slowest round: $slowest s)" \
  || fail "sagas final $slowest s after the repair"

[ "$("$CLUSTER" status | grep -c ' running$')" -eq 3 ] && counted="$(queues_on_three)" \
  && pass "the killed node rejoined: three running, $counted queues with three members online" \
  || fail "after the repair: $("$CLUSTER" status | xargs) ${counted:-}"

"$LOCAL/down.sh" 2>/dev/null
[ "$("$CLUSTER" status | grep -c ' stopped$')" -eq 3 ] && [ "$("$LOCAL/ps.sh" | grep -c ' stopped$')" -eq $((3 * REPLICAS + 1)) ] \
  && pass "down: every replica, the gateway and the three nodes stopped" || fail "down: $("$CLUSTER" status | xargs)"

echo "cluster: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
