#!/bin/bash
# The official rabbitmq image's start, as far as deploy/docker-compose.yml
# relies on it: $RABBITMQ_DEFAULT_USER and $RABBITMQ_DEFAULT_PASS made at the
# first start, listeners on every address, the node run as rabbitmq.
set -euo pipefail

{
  echo "listeners.tcp.default = 5672"
  echo "management.tcp.port = 15672"
  [ -z "${RABBITMQ_DEFAULT_USER:-}" ] || echo "default_user = $RABBITMQ_DEFAULT_USER"
  [ -z "${RABBITMQ_DEFAULT_PASS:-}" ] || echo "default_pass = $RABBITMQ_DEFAULT_PASS"
} > /etc/rabbitmq/rabbitmq.conf
mkdir -p /var/lib/rabbitmq
chown -R rabbitmq:rabbitmq /var/lib/rabbitmq

exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups "$@"
