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

# nginx's own answers (a replica down or too slow, a request it cannot read)
# get the services' JSON error body, like every answer that is not 2xx;
# answers of the replicas themselves pass as they are. URI locations, not
# named ones: a named location cannot answer an error raised while nginx reads
# the request line (a 414 then came back as an HTML 500).
error_pages() {
  local code message
  echo "        error_page 494 /.gateway-error/400;"
  while IFS='|' read -r code message; do
    echo "        error_page $code /.gateway-error/$code;"
    echo "        location = /.gateway-error/$code {"
    echo "            internal;"
    echo "            default_type application/json;"
    echo "            return $code '{\"error\": \"$message\"}';"
    echo "        }"
  done <<'PAGES'
400|the gateway could not read this request
404|no such endpoint; the gateway routes /orders/, /stock/ and /payment/
405|the gateway does not take that method
408|the request was not sent in time
413|the request is too large
414|the URL of this request is too long
500|the gateway failed; try again
502|no replica of this service could be reached; try again
503|the gateway is overloaded; try again
504|the service did not answer in time; try again
PAGES
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
$(error_pages)
        # Any other path: the JSON 404 page above answers it.
        location / {
            return 404;
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
