#!/usr/bin/env bash
# Integration tests create one database per test and cannot drop it when they
# end (the app still holds connections); drop those left by earlier runs so
# the server does not fill up over weeks of test runs.
set -euo pipefail
source "$(dirname "$0")/common.sh"

server="postgres://$DB_USER:$DB_PASSWORD@$DB_HOST:$DB_PORT/postgres"
stale="$(psql "$server" -qAtc "SELECT datname FROM pg_database WHERE datname ~ '^[a-z]+_test_[0-9a-f]{32}$'")"
count=0
for name in $stale; do
  psql "$server" -qc "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null
  count=$((count + 1))
done
[ "$count" -eq 0 ] || log "dropped $count test databases of earlier runs"
