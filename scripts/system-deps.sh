#!/usr/bin/env bash
# Install the Debian packages lashing's setup and tests need, when missing.
#   python3-venv   the virtual environment for the project
#   docker-registry the real Distribution registry the registry tests run on loopback
#   skopeo, umoci  reference tools the tests use as oracles
#   apache2-utils  htpasswd -B for the registry's basic-auth tests
set -euo pipefail

need=()
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
if [ "${1:-}" = "--test" ]; then
  [ -x /usr/bin/docker-registry ] || need+=(docker-registry)
  command -v skopeo >/dev/null || need+=(skopeo)
  command -v umoci >/dev/null || need+=(umoci)
  command -v htpasswd >/dev/null || need+=(apache2-utils)
fi
[ ${#need[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "error: missing Debian packages: ${need[*]}; install them as root" >&2
    exit 3
  fi
fi
echo "installing Debian packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
