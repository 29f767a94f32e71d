#!/usr/bin/env bash
# Runs the real start-up scripts end to end on ports, a run directory and
# databases of their own (so a `make up` system on :8000 is left alone), and
# checks the contract through the gateway, a replica's SIGKILL, idempotent
# restart, `make ps` and `make down`. Debug binaries: CI never waits on a
# release build for this.
set -euo pipefail
export PROFILE="${PROFILE:-debug}" GATEWAY_PORT="${SMOKE_GATEWAY_PORT:-18000}" PORT_BASE="${SMOKE_PORT_BASE:-18000}"
export DB_PREFIX=smoke_ AMQP_NAMESPACE=smoke RUN_DIR="$(cd "$(dirname "$0")/../.." && pwd)/.run/smoke"
source "$(dirname "$0")/common.sh"
LOCAL="$ROOT/deploy/local"
GATEWAY="http://127.0.0.1:$GATEWAY_PORT"

# request METHOD PATH: sets $status and $body.
request() {
  local out
  out="$(curl -sS -X "$1" -w '\n%{http_code}' --max-time 30 "$GATEWAY$2")" || out=$'\n000'
  body="${out%$'\n'*}" status="${out##*$'\n'}"
}

# expect METHOD PATH STATUS [TEXT...]: the answer has STATUS and contains
# every TEXT (JSON fields in any order).
expect() {
  local method=$1 path=$2 want=$3 text ok=true
  shift 3
  request "$method" "$path"
  [ "$status" = "$want" ] || ok=false
  for text in "$@"; do [[ "$body" == *"$text"* ]] || ok=false; done
  if [ "$ok" = true ]; then
    pass "$method $path -> $want $*"
  else
    fail "$method $path -> expected $want $*, got $status $body"
  fi
}

field() { sed -E "s/.*\"$1\":\"?([^\",}]*).*/\1/" <<<"$body"; }

cleanup() { "$LOCAL/down.sh" >/dev/null 2>&1 || true; }
trap cleanup EXIT

cleanup
drop_databases

"$LOCAL/up.sh" >/dev/null
lines="$("$LOCAL/ps.sh")"
if [ "$(grep -c ' healthy$' <<<"$lines")" -eq $((3 * REPLICAS + 1)) ]; then
  pass "up: every replica and the gateway healthy"
else
  fail "up: ps says $lines"
fi

expect POST /stock/item/create/5 200 item_id
item="$(field item_id)"
expect POST "/stock/add/$item/10" 200 '"stock":10'
expect POST "/stock/subtract/$item/3" 200 '"stock":7'
expect POST "/stock/subtract/$item/8" 409 "less than 8 in stock"
expect GET "/stock/find/$item" 200 '"stock":7' '"price":5'
expect POST /payment/create_user 200 user_id
user="$(field user_id)"
expect POST "/payment/add_funds/$user/20" 200 '"credit":20'
expect POST "/payment/pay/$user/15" 200 '"credit":5'
expect POST "/payment/pay/$user/6" 409 "less than 6 credit"
expect POST "/orders/create/$user" 200 order_id
order="$(field order_id)"
expect POST "/orders/addItem/$order/$item/2" 200 '"total_cost":10'
expect GET "/orders/find/$order" 200 "\"items\":[[\"$item\",2]]"
expect POST "/stock/add/$item/-1" 400 "amount must not be negative"
expect GET /nowhere 404 "no such endpoint"

for path in /stock/batch_init/100000/100/1 /payment/batch_init/100000/100 /orders/batch_init/100000/100000/100000/1; do
  started=$(date +%s%N)
  expect POST "$path" 200 msg
  echo "      batch_init of 100000 rows: $(( ($(date +%s%N) - started) / 1000000 )) ms  ($path)"
done

# The course's consistency scenario through the gateway: without faults, as
# multi-item orders, and through the chaos harness with a stock replica and
# an order replica killed with SIGKILL while 800 checkouts are in flight
# (`make chaos` runs every fault).
(cd "$ROOT" && cargo build --quiet -p consistency-test)
harness="$CARGO_TARGET_DIR/debug/consistency-test"
run_harness() {
  local label=$1 out
  shift
  if out="$("$harness" "$@" --url "$GATEWAY" 2>&1)"; then
    pass "$label: 0 inconsistencies"
  else
    fail "$label"
  fi
  sed 's/^/      /' <<<"$out" | grep -v 'passed, .* failed'
}
run_harness "consistency, 1000 checkouts of 100 units" consistency
run_harness "consistency, multi-item orders" consistency --multi-item --checkouts 300
run_harness "chaos, stock-1 then order-1 killed mid-run" chaos --faults kill:stock-1,kill:order-1 \
  --inject "$LOCAL/fault.sh inject {fault}" --repair "$LOCAL/fault.sh repair {fault}"

# A replica killed without warning: the gateway retries refused connections
# on the other replica, so clients see no error.
kill -KILL "$(live_pid stock-1)"
for _ in $(seq 1 50); do live_pid stock-1 >/dev/null || break; sleep 0.1; done
errors=0
for _ in $(seq 1 20); do
  request GET /stock/find/0
  [ "$status" = 200 ] || errors=$((errors + 1))
done
[ "$errors" -eq 0 ] && pass "stock-1 killed: 20 reads through the gateway all 200" \
  || fail "stock-1 killed: $errors of 20 reads failed"
grep -q '^stock-1 - 127.0.0.1:[0-9]* stopped$' <("$LOCAL/ps.sh") \
  && pass "ps shows stock-1 stopped" || fail "ps does not show stock-1 stopped"

# Running up again restarts only what is missing.
before="$("$LOCAL/ps.sh" | grep -v '^stock-1 ')"
"$LOCAL/up.sh" >/dev/null
after="$("$LOCAL/ps.sh")"
[ "$(grep -v '^stock-1 ' <<<"$after")" = "$before" ] && grep -q '^stock-1 [0-9]* .* healthy$' <<<"$after" \
  && pass "up again: stock-1 restarted, every other process untouched" \
  || fail "up again: before=$before after=$after"

"$LOCAL/down.sh" 2>/dev/null
[ "$("$LOCAL/ps.sh" | grep -c ' stopped$')" -eq $((3 * REPLICAS + 1)) ] \
  && pass "down: every process stopped" || fail "down: $("$LOCAL/ps.sh")"

echo "smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
