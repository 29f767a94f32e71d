#!/usr/bin/env bash
# `make deploy-k8s`: installs the webshop into the current kube context.
#
#   OVERLAY=laptop (default) or cluster   sizes, from overlays/ and values/
#   WEBSHOP_IMAGE=<registry>/webshop:<tag> the image with the three services;
#       laptop default: builds webshop:dev with Docker and loads it into kind
#       or minikube; required for cluster (an image its nodes can pull)
#
# Needs kubectl and helm, and the internet for the operators' release
# manifests, the charts and the images (versions.env pins every one).
# Safe to run again: every step applies or upgrades in place.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source-path=SCRIPTDIR source=versions.env
source "$HERE/versions.env"
OVERLAY="${OVERLAY:-laptop}"
NAMESPACE=webshop
MANIFESTS=""

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
require() { command -v "$1" >/dev/null || die "$1 is required: $2"; }
cleanup() { [ -z "$MANIFESTS" ] || rm -rf "$(dirname "$MANIFESTS")"; }
trap cleanup EXIT

# Builds the image and puts it where a local cluster's nodes find it (they do
# not pull from the host's Docker).
build_and_load() {
  local context=$1
  require docker "to build webshop:dev (or set WEBSHOP_IMAGE)"
  log "building webshop:dev"
  docker build --quiet -t webshop:dev "$ROOT" >/dev/null
  case "$context" in
    kind-*) require kind "to load the image into $context"; kind load docker-image webshop:dev --name "${context#kind-}" ;;
    minikube) require minikube "to load the image into minikube"; minikube image load webshop:dev ;;
    *) log "context $context is neither kind nor minikube: its nodes must be able to pull webshop:dev" ;;
  esac
}

install_operators() {
  log "installing CloudNativePG $CNPG_VERSION and the RabbitMQ cluster operator $RABBITMQ_OPERATOR_VERSION"
  # Server-side: the CRDs are too large for the last-applied annotation.
  kubectl apply --server-side --force-conflicts -f "$CNPG_MANIFEST_URL" >/dev/null
  kubectl apply -f "$RABBITMQ_OPERATOR_URL" >/dev/null
  # Their webhooks must answer before any custom resource is applied.
  kubectl -n cnpg-system rollout status deployment/cnpg-controller-manager --timeout=5m >/dev/null
  kubectl -n rabbitmq-system rollout status deployment/rabbitmq-cluster-operator --timeout=5m >/dev/null
}

install_ingress() {
  log "installing ingress-nginx $INGRESS_NGINX_CHART_VERSION"
  helm upgrade --install ingress-nginx ingress-nginx --repo "$INGRESS_NGINX_CHART_REPO" \
    --version "$INGRESS_NGINX_CHART_VERSION" --namespace ingress-nginx --create-namespace \
    --values "$HERE/values/ingress-nginx/$OVERLAY.yaml" --wait --timeout 10m >/dev/null
}

random_secret() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# The cluster overlay keeps no credentials in git: they are generated here
# once, and left alone afterwards (hex, so they are safe inside URLs).
ensure_secrets() {
  kubectl create namespace "$NAMESPACE" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  # One PostgreSQL role per service; the username is the role CloudNativePG
  # creates (postgres.yaml).
  local service
  for service in order stock payment; do
    if ! kubectl -n "$NAMESPACE" get secret "webshop-pg-$service" >/dev/null 2>&1; then
      log "generating Secret webshop-pg-$service"
      kubectl -n "$NAMESPACE" create secret generic "webshop-pg-$service" --type=kubernetes.io/basic-auth \
        --from-literal=username="webshop_$service" --from-literal=password="$(random_secret)" >/dev/null
    fi
  done
  if ! kubectl -n "$NAMESPACE" get secret orders-mongodb-auth >/dev/null 2>&1; then
    log "generating Secret orders-mongodb-auth"
    kubectl -n "$NAMESPACE" create secret generic orders-mongodb-auth \
      --from-literal=mongodb-root-password="$(random_secret)" \
      --from-literal=mongodb-replica-set-key="$(random_secret)" \
      --from-literal=mongodb-app-password="$(random_secret)" >/dev/null
  fi
}

# Renders the overlay with the image swapped in, into a temporary file.
render() {
  local image=$1 dir
  [[ "$image" == *:* && "${image##*/}" == *:* ]] || die "WEBSHOP_IMAGE must carry a tag: $image"
  # Beside the overlays: kustomize takes only relative paths to them.
  dir="$(mktemp -d "$HERE/.render.XXXXXX")"
  cat >"$dir/kustomization.yaml" <<YAML
resources:
  - ../overlays/$OVERLAY
images:
  - name: webshop
    newName: ${image%:*}
    newTag: "${image##*:}"
YAML
  kubectl kustomize "$dir" >"$dir/manifests.yaml"
  echo "$dir/manifests.yaml"
}

install_mongodb() {
  log "installing MongoDB (mongodb-sharded $MONGODB_SHARDED_CHART_VERSION); the first start takes minutes"
  helm upgrade --install orders-mongodb "$MONGODB_SHARDED_CHART" --version "$MONGODB_SHARDED_CHART_VERSION" \
    --namespace "$NAMESPACE" --values "$HERE/values/mongodb-sharded/$OVERLAY.yaml" --wait --timeout 20m >/dev/null
}

wait_for_datastores() {
  log "waiting for PostgreSQL and RabbitMQ"
  kubectl -n "$NAMESPACE" wait --for=condition=Ready cluster.postgresql.cnpg.io/webshop-pg --timeout=15m >/dev/null
  kubectl -n "$NAMESPACE" wait --for=condition=AllReplicasReady rabbitmqcluster/webshop-rabbitmq \
    --timeout=15m >/dev/null
  # The services cannot create these themselves (their owner may not CREATE
  # DATABASE): they would crash-loop until the operator has.
  kubectl -n "$NAMESPACE" wait --for=jsonpath='{.status.applied}'=true \
    database/webshop-pg-payment-db database/webshop-pg-order-db --timeout=5m >/dev/null
}

deploy_services() {
  # A Job's template cannot change: the sharding Job is re-created each time
  # (its script is idempotent).
  kubectl -n "$NAMESPACE" delete job orders-mongodb-shard --ignore-not-found >/dev/null
  kubectl apply -f "$MANIFESTS" >/dev/null
  log "sharding the orders collection"
  kubectl -n "$NAMESPACE" wait --for=condition=complete job/orders-mongodb-shard --timeout=10m >/dev/null
  for service in order stock payment; do
    kubectl -n "$NAMESPACE" rollout status "deployment/$service" --timeout=10m >/dev/null
  done
}

print_access() {
  kubectl get apiservice v1beta1.metrics.k8s.io >/dev/null 2>&1 ||
    log "note: no metrics-server, so the HPAs stay at their minimum (minikube addons enable metrics-server)"
  if [ "$OVERLAY" = laptop ]; then
    echo "The webshop is up. Put the gateway on http://127.0.0.1:8000 with:"
    echo "  kubectl -n ingress-nginx port-forward service/ingress-nginx-controller 8000:80"
  else
    # The cluster overlay answers its host name only, over HTTPS: point the
    # name's DNS record at the load balancer.
    echo "The webshop is up on https://$(kubectl -n "$NAMESPACE" get ingress webshop -o jsonpath='{.spec.rules[0].host}')/"
    echo "behind the ingress-nginx load balancer (point that name's DNS record here):"
    kubectl -n ingress-nginx get service ingress-nginx-controller \
      -o jsonpath='  {.status.loadBalancer.ingress[0].ip}{.status.loadBalancer.ingress[0].hostname}{"\n"}'
  fi
}

main() {
  [ -d "$HERE/overlays/$OVERLAY" ] || die "OVERLAY must be laptop or cluster, not $OVERLAY"
  require kubectl "see https://kubernetes.io/docs/tasks/tools/"
  require helm "see https://helm.sh/docs/intro/install/"
  local context image
  context="$(kubectl config current-context)" || die "no current kube context"
  log "deploying the $OVERLAY overlay into context $context"
  if [ -n "${WEBSHOP_IMAGE:-}" ]; then
    image="$WEBSHOP_IMAGE"
  elif [ "$OVERLAY" = laptop ]; then
    build_and_load "$context"
    image=webshop:dev
  else
    die "OVERLAY=cluster needs WEBSHOP_IMAGE=<registry>/webshop:<tag> (docker build -t ... . && docker push ...)"
  fi
  MANIFESTS="$(render "$image")"
  install_operators
  install_ingress
  [ "$OVERLAY" = laptop ] || ensure_secrets
  # Everything but the services and the sharding Job first: they need the
  # data stores, and would only crash-loop (with growing back-off) until then.
  kubectl apply -f "$MANIFESTS" -l 'app.kubernetes.io/component notin (app,mongodb-init)' >/dev/null
  install_mongodb
  wait_for_datastores
  deploy_services
  print_access
}

main "$@"
