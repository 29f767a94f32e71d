#!/usr/bin/env bash
# `make bench-compare BASE=<rev>`: `make bench-checkout` for two revisions of
# the services, alternating, each round on a fresh system (databases and
# broker namespace of its own), the same harness and monolith for all, then
# one table side by side. The machines are noisy: a change is a difference
# that holds in every round, not one run against another.
#
#   bench-compare.sh <base revision> [<other revision>]   (other: HEAD)
#   BENCH_ROUNDS (2): rounds of base then other.
set -euo pipefail
source "$(dirname "$0")/common.sh"

BASE="${1:?usage: bench-compare.sh <base revision> [<other revision>]}"
OTHER="${2:-HEAD}"
ROUNDS="${BENCH_ROUNDS:-2}"
WORK="$CARGO_TARGET_DIR/bench-compare"
HARNESS="$CARGO_TARGET_DIR/release/consistency-test"

# Each revision's services, built from an export of that revision into the
# project's own target directory: the dependencies are built already, only
# the workspace's crates build again (and once more at the next `make up`).
build() {
  local label=$1 rev=$2 src="$WORK/src"
  log "building $label ($(git -C "$ROOT" rev-parse --short "$rev"))"
  rm -rf "$src" && mkdir -p "$src" "$WORK/$label/release"
  # One source folder for both revisions, extracted with today's dates (not
  # git archive's commit dates). Cargo names a workspace crate's artifacts
  # after its path relative to the workspace, the same in any export, and
  # its dep-info keeps the source paths it was built from: with a folder per
  # revision, the second build checked the first export's files, found them
  # unchanged and linked the first revision's crates into the second.
  git -C "$ROOT" archive "$rev" | tar -x -m -C "$src"
  (cd "$src" && CARGO_TARGET_DIR="$CARGO_TARGET_DIR" cargo build-services --release --quiet)
  cp "$CARGO_TARGET_DIR/release/"{order,stock,payment} "$WORK/$label/release/"
}

# One bench of one label's binaries on a system of its own; queues expire a
# minute after the system stops, the databases are dropped.
run() {
  local label=$1 round=$2
  local prefix="cmp${round}${label}_" report="$WORK/$label-$round.json"
  export DB_PREFIX="$prefix" AMQP_NAMESPACE="cmp${round}${label}" AMQP_QUEUE_EXPIRES_MS=60000
  log "round $round: $label"
  CARGO_TARGET_DIR="$WORK/$label" SKIP_BUILD=1 "$ROOT/deploy/local/up.sh" >/dev/null
  "$HARNESS" bench --plots "$WORK/plots-$label-$round" --report "$report" \
    --saga-databases "${prefix}order_db,${prefix}stock_db,${prefix}payment_db" >"$WORK/$label-$round.log" 2>&1 ||
    { "$ROOT/deploy/local/down.sh" >/dev/null; die "bench failed, see $WORK/$label-$round.log"; }
  "$ROOT/deploy/local/down.sh" >/dev/null
  local db
  for db in order stock payment; do
    PGPASSWORD="$DB_PASSWORD" psql -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d postgres -qc \
      "DROP DATABASE IF EXISTS \"${prefix}${db}_db\"" >/dev/null
  done
}

live_pid gateway >/dev/null && die "the system of 'make up' runs; 'make down' first (the bench needs :$GATEWAY_PORT)"
(cd "$ROOT" && cargo build --release --locked --quiet -p consistency-test)
build base "$BASE"
build other "$OTHER"
for round in $(seq 1 "$ROUNDS"); do
  run base "$round"
  run other "$round"
done
python3 "$ROOT/deploy/local/bench-table.py" "$WORK" "$ROUNDS" \
  "$(git -C "$ROOT" rev-parse --short "$BASE")" "$(git -C "$ROOT" rev-parse --short "$OTHER")"
