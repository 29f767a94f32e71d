#!/usr/bin/env bash
# `make undeploy-k8s`: removes what deploy.sh installed from the current kube
# context, data included (the namespace and its volumes).
#
#   KEEP_OPERATORS=1   leave CloudNativePG and the RabbitMQ operator (and their
#                      CRDs) installed; the default for OVERLAY=cluster, where
#                      other systems may use them: removing a CRD deletes every
#                      resource of its kind in the whole cluster
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=versions.env
source "$HERE/versions.env"
OVERLAY="${OVERLAY:-laptop}"
NAMESPACE=webshop
if [ "$OVERLAY" = cluster ]; then KEEP_OPERATORS="${KEEP_OPERATORS:-1}"; else KEEP_OPERATORS="${KEEP_OPERATORS:-0}"; fi

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v kubectl >/dev/null || die "kubectl is required"
context="$(kubectl config current-context)" || die "no current kube context"
log "removing the webshop from context $context"

# Helm's release records live in the namespaces deleted below, so without
# helm the namespaces' deletion still removes everything.
if command -v helm >/dev/null; then
  if helm status orders-mongodb --namespace "$NAMESPACE" >/dev/null 2>&1; then
    helm uninstall orders-mongodb --namespace "$NAMESPACE" --wait >/dev/null
  fi
  if helm status ingress-nginx --namespace ingress-nginx >/dev/null 2>&1; then
    helm uninstall ingress-nginx --namespace ingress-nginx --wait >/dev/null
  fi
fi
# The operators must still run here: they remove the finalizers of their
# clusters as the namespace goes.
kubectl delete namespace "$NAMESPACE" --ignore-not-found --timeout=10m
kubectl delete namespace ingress-nginx --ignore-not-found --timeout=5m
# The controller's IngressClass is cluster-scoped and outlives its namespace.
kubectl delete ingressclass nginx --ignore-not-found

if [ "$KEEP_OPERATORS" = 1 ]; then
  log "keeping the operators (KEEP_OPERATORS=1)"
else
  kubectl delete -f "$RABBITMQ_OPERATOR_URL" --ignore-not-found
  kubectl delete -f "$CNPG_MANIFEST_URL" --ignore-not-found
fi
log "removed"
