#!/usr/bin/env bash
# `make bench-scale`: committed checkouts/s with 1, 2 and 4 replicas of each
# service, each replica's process capped at the same share of a core (a
# cgroup v1 CPU quota, so the services, not PostgreSQL or RabbitMQ, bound the
# figure, as on a cluster of small nodes), once per design: AMQP_PARTITIONS=1
# (one queue a stream, a single active consumer) and AMQP_PARTITIONS=8.
# Every point is a system of its own (consistency-test scale starts it with
# up.sh and stops it with down.sh) beside any `make up` one: gateway on
# SCALE_PORT_BASE (23000), its own run directory, databases and broker
# namespace. Root: it writes the quotas.
#
#   SCALE_CPU_PERCENT (5)    each replica's share of one core, in %
#   SCALE_REPLICAS (1,2,4)   SCALE_PARTITIONS (1,8)   SCALE_CONCURRENCY (512)
#   SCALE_POINT_SECS (20)    SCALE_WARMUP_SECS (5)
#   SCALE_DB_CONNECTIONS (6) each replica's pool   SCALE_WORKER_THREADS (1)
#   SCALE_SERVICES_TARGET    a target directory whose release/ holds the
#                            order, stock and payment binaries to measure
#                            (no build); by default this checkout's, built
# Arguments are passed to `consistency-test scale` (see its --help).
set -euo pipefail
source "$(dirname "$0")/common.sh"

SCALE_RUN_DIR="$RUN_DIR/bench-scale"
CGROUPS="$(awk '$3 == "cgroup" && $4 ~ /(^|,)cpu(,|$)/ {print $2; exit}' /proc/mounts)/webshop-bench-scale"

# What an interrupted run leaves: its systems, databases and groups.
cleanup() {
  local dir db
  for dir in "$SCALE_RUN_DIR"/*/; do
    [ -d "$dir" ] && BROKER=single RUN_DIR="${dir%/}" REPLICAS=16 "$ROOT/deploy/local/down.sh" >/dev/null 2>&1 || true
  done
  for db in $(psql "postgres://$DB_USER:$DB_PASSWORD@$DB_HOST:$DB_PORT/postgres" -qAtc \
    "SELECT datname FROM pg_database WHERE datname ~ '^scale_p[0-9]+_r[0-9]+_'" 2>/dev/null); do
    psql "postgres://$DB_USER:$DB_PASSWORD@$DB_HOST:$DB_PORT/postgres" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
  done
  [ -d "$CGROUPS" ] && find "$CGROUPS" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null || true
}

[ "$(id -u)" -eq 0 ] || die "bench-scale writes cgroup CPU quotas: run it as root"
[ "$CGROUPS" != /webshop-bench-scale ] || die "no cgroup v1 cpu controller is mounted (mount | grep cgroup)"
"$ROOT/deploy/local/infra.sh" --gateway

cd "$ROOT"
services_target="${SCALE_SERVICES_TARGET:-$CARGO_TARGET_DIR}"
if [ -z "${SCALE_SERVICES_TARGET:-}" ]; then
  log "building the services (release)"
  cargo build-services --release --quiet
fi
cargo build --release --locked --quiet -p consistency-test
for binary in order stock payment; do
  [ -x "$services_target/release/$binary" ] || die "no $services_target/release/$binary"
done

trap cleanup EXIT
cleanup
export BENCH_DATABASE_URL="${BENCH_DATABASE_URL:-postgres://$DB_USER:$DB_PASSWORD@$DB_HOST:$DB_PORT}"
# The table, target/reports/bench-scale.json and the plots under
# target/reports/bench-scale/ (--report and --plots move them).
CARGO_TARGET_DIR="$services_target" "$CARGO_TARGET_DIR/release/consistency-test" scale \
  --scripts "$ROOT/deploy/local" --run-dir "$SCALE_RUN_DIR" "$@"
