# Shared by deploy/k8s/check.sh and deploy/config-test.sh: kubectl, and a
# python3 with the modules they read manifests with. Sourced, never run.
VENV="${XDG_CACHE_HOME:-$HOME/.cache}/webshop/k8s-check-venv"
# The schemas are shipped inside kubernetes-validate: pinning it pins them.
PACKAGES=(kubernetes-validate==1.37.0 jsonschema==4.26.0 PyYAML==6.0.3)
MODULES='import kubernetes_validate, jsonschema, yaml'

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Runs a command as root: directly when we are root, through sudo otherwise
# (never prompting: CI has no terminal).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

apt_install() {
  log "installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_kubectl() {
  command -v kubectl >/dev/null && return 0
  apt_install kubectl || true
  command -v kubectl >/dev/null ||
    die "kubectl is missing and could not be installed; install it (Debian: apt-get install kubectl) and run again"
}

# Prints the python3 to use: the system one when it has the modules, else
# the virtualenv, created on first use.
python_with_modules() {
  if python3 -c "$MODULES" 2>/dev/null; then
    command -v python3
    return 0
  fi
  if ! "$VENV/bin/python" -c "$MODULES" 2>/dev/null; then
    log "installing ${PACKAGES[*]} into $VENV"
    if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
      apt_install python3-venv || die "python3-venv is missing and could not be installed"
      python3 -m venv "$VENV" >/dev/null
    fi
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PACKAGES[@]}" >&2
  fi
  echo "$VENV/bin/python"
}
