#!/usr/bin/env bash
# `make deploy-k8s-check`: renders every manifest of deploy/k8s offline and
# validates it (Kubernetes schemas, vendored CRD schemas, the charts'
# documented values, the CPU budget), and checks deploy/docker-compose.yml.
# No cluster, Docker or Helm needed. Installs what it needs when missing:
# kubectl (Debian package) and, when python3 lacks them, kubernetes-validate,
# jsonschema and PyYAML in a virtualenv of its own (Debian's python3 refuses
# a plain `pip install`).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../tools.sh"

command -v python3 >/dev/null || apt_install python3 || die "python3 is missing and could not be installed"
ensure_kubectl
PYTHON="$(python_with_modules)"
# -B: no __pycache__ left in the work tree.
exec "$PYTHON" -B "$HERE/validate"
