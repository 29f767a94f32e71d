#!/usr/bin/env bash
# The public API against its OpenAPI document, docs/openapi.json: the document
# and each service's served part validate as OpenAPI 3.1, every error answer
# is JSON (the services' own and the gateway's), and schemathesis fuzzes every
# operation through the gateway (stateful sequences follow the document's
# links) with no server error and no answer outside the document.
#
# Runs its own system, like the smoke test: ports, run directory, databases
# and broker namespace of its own, debug binaries. The tools are installed
# into a virtual environment from a pinned list on first use.
#
#   API_TEST_EXAMPLES  test cases per operation and phase (default 20)
#   API_TEST_SEED      schemathesis' seed, to replay a run
set -euo pipefail
export PROFILE="${PROFILE:-debug}" GATEWAY_PORT="${API_TEST_GATEWAY_PORT:-28000}" PORT_BASE="${API_TEST_PORT_BASE:-28000}"
export DB_PREFIX=apitest_ AMQP_NAMESPACE=apitest RUN_DIR="$(cd "$(dirname "$0")/../.." && pwd)/.run/api-test"
source "$(dirname "$0")/common.sh"
LOCAL="$ROOT/deploy/local"
GATEWAY="http://127.0.0.1:$GATEWAY_PORT"
DOCUMENT="$ROOT/docs/openapi.json"
EXAMPLES="${API_TEST_EXAMPLES:-20}"
REQUIREMENTS="$LOCAL/api-test-requirements.txt"
VENV="$ROOT/.run/venv-api-test"

# The venv is rebuilt whenever the pinned list changes.
install_tools() {
  if [ -x "$VENV/bin/st" ] && cmp -s "$REQUIREMENTS" "$VENV/requirements.txt"; then return 0; fi
  log "installing schemathesis and openapi-spec-validator into $VENV"
  if ! python3 -m venv --clear "$VENV" 2>/dev/null; then
    as_root apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv --clear "$VENV"
  fi
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQUIREMENTS"
  cp "$REQUIREMENTS" "$VENV/requirements.txt"
}

# expect_json_error STATUS CURL_ARGS...: the answer has STATUS, a JSON content
# type and the body {"error": "<non-empty>"}.
expect_json_error() {
  local want=$1 out status type body
  shift
  out="$(curl -sS --max-time 30 -w '\n%{http_code} %{content_type}' "$@" 2>&1)" || out=$'\n000 none'
  body="${out%$'\n'*}" status="${out##*$'\n'}"
  type="${status#* }" status="${status%% *}"
  if [ "$status" = "$want" ] && [[ "$type" == application/json* ]] \
    && python3 -c 'import json,sys; b=json.loads(sys.argv[1]); assert list(b)==["error"] and b["error"]' "$body" 2>/dev/null; then
    pass "$want JSON error: $(cut -c1-90 <<<"${*: -1}")"
  else
    fail "expected $want with a JSON error for $(cut -c1-90 <<<"${*: -1}"), got $status $type ${body:0:200}"
  fi
}

cleanup() { "$LOCAL/down.sh" >/dev/null 2>&1 || true; }
trap cleanup EXIT

install_tools
cleanup
drop_databases
"$LOCAL/up.sh" >/dev/null

# The document, and what each service serves of it through the gateway.
if "$VENV/bin/openapi-spec-validator" "$DOCUMENT" >/dev/null; then
  pass "docs/openapi.json is a valid OpenAPI 3.1 document"
else
  fail "docs/openapi.json: $("$VENV/bin/openapi-spec-validator" "$DOCUMENT" 2>&1 | tail -5)"
fi
served="$RUN_DIR/served"
mkdir -p "$served"
for prefix in orders stock payment; do
  if curl -fsS --max-time 10 "$GATEWAY/$prefix/openapi.json" -o "$served/$prefix.json" \
    && "$VENV/bin/openapi-spec-validator" "$served/$prefix.json" >/dev/null \
    && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["paths"] and all(p.startswith("/"+sys.argv[2]+"/") for p in d["paths"])' \
      "$served/$prefix.json" "$prefix"; then
    pass "GET /$prefix/openapi.json through the gateway: valid, and only /$prefix/ paths"
  else
    fail "GET /$prefix/openapi.json through the gateway"
  fi
done

# Errors are JSON wherever they come from: a service's router, nginx's own
# pages, the gateway with no replica to reach.
read -r _ _ stock_port _ < <(each_replica | grep '^stock-1 ')
expect_json_error 404 "$GATEWAY/nowhere"
expect_json_error 404 "$GATEWAY/stock/nowhere"
expect_json_error 404 "http://127.0.0.1:$stock_port/stock/nowhere"
expect_json_error 405 -X DELETE "$GATEWAY/stock/find/1"
expect_json_error 405 -X TRACE "$GATEWAY/stock/find/1"
expect_json_error 400 "$GATEWAY/stock/find/a%20b"
expect_json_error 400 -X POST -H 'Idempotency-Key: has space' "$GATEWAY/payment/create_user"
expect_json_error 414 "$GATEWAY/stock/find/$(head -c 9000 /dev/zero | tr '\0' a)"

# Exit status 0 only with every check passed on every generated case.
st_args=(
  --config-file "$LOCAL/schemathesis.toml" run "$DOCUMENT" --url "$GATEWAY"
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance
  --max-examples "$EXAMPLES" --request-timeout 70 --no-color
)
[ -n "${API_TEST_SEED:-}" ] && st_args+=(--seed "$API_TEST_SEED")
started=$(date +%s)
if (cd "$RUN_DIR" && "$VENV/bin/st" "${st_args[@]}") >"$RUN_DIR/schemathesis.log" 2>&1; then
  pass "schemathesis, $EXAMPLES examples per operation: $(grep -E '[0-9]+ generated' "$RUN_DIR/schemathesis.log" | xargs) in $(( $(date +%s) - started )) s"
else
  fail "schemathesis (full output in $RUN_DIR/schemathesis.log):"
fi
sed -n '/^=* *\(FAILURES\|SUMMARY\) *=*$/,$p' "$RUN_DIR/schemathesis.log" | sed 's/^/      /'

# The gateway with every replica of a service gone.
kill -KILL "$(live_pid payment-1)" "$(live_pid payment-2)"
for name in payment-1 payment-2; do
  for _ in $(seq 1 50); do live_pid "$name" >/dev/null || break; sleep 0.1; done
done
expect_json_error 502 "$GATEWAY/payment/find_user/1"

echo "api: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
