#!/usr/bin/env bash
# `make config-test`: starts every service container of deploy/k8s (both
# overlays) and deploy/docker-compose.yml from binaries built exactly as the
# image builds them (`cargo build-services`, here in the debug profile that
# the other tests share), with the command, environment and port its manifest
# gives it, and checks it accepts them. deploy/configtest says how.
#
# Needs root (it makes a network namespace); installs kubectl, curl and the
# manifest readers when missing.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
source "$HERE/tools.sh"

[ "$(id -u)" -eq 0 ] || exec sudo -n -E "$0" "$@"
command -v python3 >/dev/null || apt_install python3 || die "python3 is missing and could not be installed"
command -v curl >/dev/null || apt_install curl || die "curl is missing and could not be installed"
ensure_kubectl
PYTHON="$(python_with_modules)"

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
log "building the services as the image does (cargo build-services)"
(cd "$ROOT" && cargo build-services --quiet)
exec "$PYTHON" -B "$HERE/configtest" "$TARGET_DIR/debug"
