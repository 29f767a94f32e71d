#!/bin/bash
# The image's health check: 0 when GET $HEALTH_PATH on 127.0.0.1:$HTTP_PORT
# answers 200. It uses bash's /dev/tcp so the runtime image needs no curl:
# one less package to patch, and nothing an attacker could use to fetch tools.
set -euo pipefail

path="${HEALTH_PATH:?set HEALTH_PATH, e.g. /stock/health}"
port="${HTTP_PORT:?set HTTP_PORT}"

exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$path" >&3
IFS= read -r -t 3 status <&3
[[ "$status" =~ ^HTTP/1\.[01]\ 200\  ]]
