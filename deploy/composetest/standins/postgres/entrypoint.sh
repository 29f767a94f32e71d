#!/bin/bash
# The official postgres image's start, as far as deploy/docker-compose.yml
# relies on it: a cluster made at the first start, its superuser
# $POSTGRES_USER (postgres) with $POSTGRES_PASSWORD, the scripts in
# /docker-entrypoint-initdb.d run once, then the server on every address,
# with passwords required over TCP.
set -euo pipefail

# Any other command (`pg_isready`, `psql`) runs as it is, as in the image.
case "${1:-}" in
  postgres | -*) ;;
  *) exec "$@" ;;
esac
[ "$1" = postgres ] && shift

: "${POSTGRES_PASSWORD:?the postgres image refuses to start without POSTGRES_PASSWORD}"
user="${POSTGRES_USER:-postgres}"
database="${POSTGRES_DB:-$user}"
bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }

mkdir -p "$PGDATA" /var/run/postgresql
chown postgres: "$PGDATA" /var/run/postgresql
chmod 0700 "$PGDATA"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  password_file="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" > "$password_file"
  chown postgres "$password_file"
  as_postgres "$bin/initdb" -D "$PGDATA" -U "$user" --pwfile="$password_file" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$password_file"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  # Listening on the socket only while the scripts run, as the image does.
  as_postgres "$bin/pg_ctl" -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  if [ "$database" != postgres ]; then
    as_postgres psql -v ON_ERROR_STOP=1 -U "$user" -d postgres -c "CREATE DATABASE \"$database\""
  fi
  for script in /docker-entrypoint-initdb.d/*; do
    case "$script" in
      *.sql) echo "running $script"; as_postgres psql -v ON_ERROR_STOP=1 -U "$user" -d "$database" -f "$script" ;;
      *.sh) echo "running $script"; as_postgres bash "$script" ;;
      *) ;;
    esac
  done
  as_postgres "$bin/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
fi

exec setpriv --reuid=postgres --regid=postgres --init-groups "$bin/postgres" -D "$PGDATA" -c listen_addresses='*' "$@"
