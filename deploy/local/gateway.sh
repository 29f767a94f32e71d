#!/usr/bin/env bash
# Starts (or stops) the nginx gateway that routes /orders/, /stock/ and
# /payment/ to the replicas. Its configuration is rendered from the replica
# list each time, so REPLICAS and the ports have one source: common.sh.
set -euo pipefail
source "$(dirname "$0")/common.sh"

NGINX_DIR="$RUN_DIR/nginx"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

upstreams() {
  local entry service number prefix r
  for entry in "${SERVICES[@]}"; do
    read -r service number prefix <<<"$entry"
    echo "    upstream $service {"
    for r in $(seq 1 "$REPLICAS"); do
      # Never marked down: a dead replica refuses at once and the request
      # moves on, while a busy one that is slow to accept must not make
      # nginx give up on the whole service ("no live upstreams").
      echo "        server 127.0.0.1:$(port_of "$r" "$number") max_fails=0;"
    done
    echo "        keepalive 256;"
    echo "    }"
  done
}

locations() {
  local entry service prefix
  for entry in "${SERVICES[@]}"; do
    read -r service _ prefix <<<"$entry"
    cat <<LOC
        location /$prefix/ {
            proxy_pass http://$service;
        }
LOC
  done
  # A checkout is idempotent per order (it joins the order's saga or answers
  # its outcome), so one whose replica died mid-request is safely sent to the
  # other replica: the client gets the outcome, not a 502.
  cat <<LOC
        location /orders/checkout/ {
            proxy_pass http://order;
            proxy_next_upstream error timeout non_idempotent;
        }
LOC
}

render() {
  cat <<CONF
# Rendered by deploy/local/gateway.sh; edit that script, not this file.
worker_processes auto;
pid $NGINX_DIR/nginx.pid;
error_log $LOG_DIR/gateway.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $NGINX_DIR/tmp/body;
    proxy_temp_path $NGINX_DIR/tmp/proxy;
    fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
    uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
    scgi_temp_path $NGINX_DIR/tmp/scgi;
$(upstreams)
    server {
        listen 127.0.0.1:$GATEWAY_PORT;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host \$host;
        # Under a burst of checkouts (each holds its connection until its
        # saga ends) a replica may take a while to accept.
        proxy_connect_timeout 10s;
        # A checkout answers only when its saga is final: wait long enough.
        proxy_read_timeout 120s;
        # A refused or reset connection is tried on the next replica. nginx
        # never resends a POST that reached a replica, so nothing runs twice.
        proxy_next_upstream error timeout;
        proxy_next_upstream_tries 0;
$(locations)
        # nginx's own answers (a replica down or too slow, a request it cannot
        # read) have the services' JSON error body, like every answer that is
        # not 2xx. Answers of the replicas themselves pass as they are.
        error_page 400 /.gateway-error/400;
        error_page 404 /.gateway-error/404;
        error_page 405 /.gateway-error/405;
        error_page 408 /.gateway-error/408;
        error_page 413 /.gateway-error/413;
        error_page 414 /.gateway-error/414;
        error_page 500 /.gateway-error/500;
        error_page 502 /.gateway-error/502;
        error_page 503 /.gateway-error/503;
        error_page 504 /.gateway-error/504;
        error_page 494 /.gateway-error/400;
        location = /.gateway-error/400 {
            internal;
            default_type application/json;
            return 400 '{"error": "the gateway could not read this request"}';
        }
        location = /.gateway-error/404 {
            internal;
            default_type application/json;
            return 404 '{"error": "no such endpoint; the gateway routes /orders/, /stock/ and /payment/"}';
        }
        location = /.gateway-error/405 {
            internal;
            default_type application/json;
            return 405 '{"error": "the gateway does not take that method"}';
        }
        location = /.gateway-error/408 {
            internal;
            default_type application/json;
            return 408 '{"error": "the request was not sent in time"}';
        }
        location = /.gateway-error/413 {
            internal;
            default_type application/json;
            return 413 '{"error": "the request is too large"}';
        }
        location = /.gateway-error/414 {
            internal;
            default_type application/json;
            return 414 '{"error": "the URL of this request is too long"}';
        }
        location = /.gateway-error/500 {
            internal;
            default_type application/json;
            return 500 '{"error": "the gateway failed; try again"}';
        }
        location = /.gateway-error/502 {
            internal;
            default_type application/json;
            return 502 '{"error": "no replica of this service could be reached; try again"}';
        }
        location = /.gateway-error/503 {
            internal;
            default_type application/json;
            return 503 '{"error": "the gateway is overloaded; try again"}';
        }
        location = /.gateway-error/504 {
            internal;
            default_type application/json;
            return 504 '{"error": "the service did not answer in time; try again"}';
        }
        location / {
            default_type application/json;
            return 404 '{"error": "no such endpoint; the gateway routes /orders/, /stock/ and /payment/"}';
        }
    }
}
CONF
}

case "${1:-start}" in
  start)
    mkdir -p "$NGINX_DIR/tmp" "$LOG_DIR"
    rendered="$(render)"
    changed=true
    [ -f "$NGINX_DIR/nginx.conf" ] && [ "$rendered" = "$(cat "$NGINX_DIR/nginx.conf")" ] && changed=false
    [ "$changed" = true ] && printf '%s\n' "$rendered" >"$NGINX_DIR/nginx.conf"
    if live_pid gateway >/dev/null; then
      if [ "$changed" = true ]; then
        log "reloading the gateway's configuration"
        "$NGINX" -q -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -s reload 2>/dev/null
      fi
    else
      log "starting gateway on 127.0.0.1:$GATEWAY_PORT"
      "$NGINX" -q -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf"
      ln -sf "$NGINX_DIR/nginx.pid" "$(pidfile_of gateway)"
    fi
    ;;
  stop)
    if live_pid gateway >/dev/null; then
      "$NGINX" -q -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -s quit
    fi
    ;;
  *) die "usage: gateway.sh start|stop" ;;
esac
