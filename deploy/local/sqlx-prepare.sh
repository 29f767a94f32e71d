#!/usr/bin/env bash
# Writes .sqlx/: what sqlx's query macros check our statements against when
# a build has no database, which is every build (.cargo/config.toml sets
# SQLX_OFFLINE). Run it after changing a statement or a migration; commit
# what it writes.
#
# It builds the workspace once against a fresh database that holds every
# migration of every crate (their tables do not overlap), with the macros
# online, and keeps the query data they save. `--check` writes nothing and
# fails when .sqlx/ differs from what the build saw: a migration or a
# statement changed without it.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

check=false
[ "${1:-}" = "--check" ] && check=true

name="${DB_PREFIX}sqlx_prepare"
server="postgres://$DB_USER:$DB_PASSWORD@$DB_HOST:$DB_PORT"
psql "$server/postgres" -qc "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" -qc "CREATE DATABASE \"$name\"" >/dev/null
# Libraries first: the services' migrations may refer to their tables. Then
# the tables tests make for themselves (tests/fixtures), whose statements are
# checked too.
for migration in libs/*/migrations/*.sql services/*/migrations/*.sql libs/*/tests/fixtures/*.sql; do
  PGOPTIONS='-c client_min_messages=warning' psql "$server/$name" -v ON_ERROR_STOP=1 -q -f "$migration" >/dev/null
done

out="$(mktemp -d)"
trap 'rm -rf "$out"; psql "$server/postgres" -qc "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null' EXIT
# The macros run when their crate compiles; a crate that is up to date would
# save nothing, so every crate with statements is made to compile again.
touch libs/*/src/lib.rs services/*/src/lib.rs
SQLX_OFFLINE=false DATABASE_URL="$server/$name" SQLX_OFFLINE_DIR="$out" \
  cargo build --workspace --all-targets --locked

if $check; then
  if ! diff -r "$out" .sqlx >/dev/null 2>&1; then
    diff -r "$out" .sqlx | head -40 >&2 || true
    die ".sqlx/ is stale: run deploy/local/sqlx-prepare.sh and commit .sqlx/"
  fi
  log ".sqlx/ matches the statements and the migrations ($(ls "$out" | wc -l) queries)"
else
  rm -rf .sqlx
  cp -r "$out" .sqlx
  log "wrote .sqlx/ ($(ls .sqlx | wc -l) queries)"
fi
