#!/usr/bin/env bash
# Makes sure PostgreSQL and RabbitMQ (and, with --gateway, nginx) are
# installed and running. Installs a package only when its command is missing,
# starts a server only when it does not answer. Safe to run again and again.
set -euo pipefail
source "$(dirname "$0")/common.sh"

install_missing() {
  local missing=() pair command package
  for pair in "$@"; do
    command="${pair%%:*}" package="${pair#*:}"
    command -v "$command" >/dev/null 2>&1 || [ -x "/usr/sbin/$command" ] || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

postgres_answers() { pg_isready -q -h "$DB_HOST" -p "$DB_PORT"; }

ensure_postgres() {
  if ! postgres_answers; then
    log "starting PostgreSQL"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
    for _ in $(seq 1 30); do postgres_answers && break; sleep 1; done
    postgres_answers || die "PostgreSQL does not answer on $DB_HOST:$DB_PORT"
  fi
  # A fresh Debian server asks TCP clients for a password; give the postgres
  # role the one our URLs carry. Where auth is trust this is never reached.
  if ! PGPASSWORD="$DB_PASSWORD" psql -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d postgres -qAtc 'SELECT 1' >/dev/null 2>&1; then
    log "setting the password of PostgreSQL role $DB_USER"
    as_root runuser -u postgres -- psql -qc "ALTER ROLE $DB_USER WITH LOGIN PASSWORD '$DB_PASSWORD'" >/dev/null
  fi
}

rabbitmq_answers() { timeout 5 bash -c '</dev/tcp/127.0.0.1/5672' 2>/dev/null; }

ensure_rabbitmq() {
  rabbitmq_answers && return 0
  log "starting RabbitMQ"
  as_root rabbitmq-server -detached
  as_root timeout 120 rabbitmqctl await_startup >/dev/null 2>&1 || true
  for _ in $(seq 1 60); do rabbitmq_answers && return 0; sleep 1; done
  die "RabbitMQ does not answer on 127.0.0.1:5672"
}

packages=(psql:postgresql-client pg_ctlcluster:postgresql rabbitmq-server:rabbitmq-server curl:curl)
[ "${1:-}" = "--gateway" ] && packages+=(nginx:nginx)
install_missing "${packages[@]}"
ensure_postgres
ensure_rabbitmq
