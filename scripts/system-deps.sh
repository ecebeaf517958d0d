#!/usr/bin/env bash
# Install the Debian packages lashing's setup and tests need, when missing.
#   python3-venv   the virtual environment for the project
#   docker-registry the real Distribution registry the registry tests run on loopback
#   skopeo, umoci  reference tools the tests use as oracles
#   podman         `podman system service`, the engine API the running-container tests query
#   chromium       headless rendering of the HTML reports in tests
#   postgresql     a real server (started by the tests in a temp dir) for the results store
set -euo pipefail

need=()
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
if [ "${1:-}" = "--test" ]; then
  [ -x /usr/bin/docker-registry ] || need+=(docker-registry)
  command -v skopeo >/dev/null || need+=(skopeo)
  command -v umoci >/dev/null || need+=(umoci)
  command -v debootstrap >/dev/null || need+=(debootstrap)  # dpkg fixture rootfs
  command -v rpmbuild >/dev/null || need+=(rpm)  # rpm databases and rpm -qa as oracle
  command -v rpm >/dev/null || need+=(rpm)  # rpm.vercmp, the RPM version-order oracle
  command -v db5.3_load >/dev/null || need+=(db5.3-util)  # Berkeley DB rpm Packages fixture
  command -v gpg >/dev/null || need+=(gnupg)  # a gpg-pubkey entry in the rpm fixtures
  command -v npm >/dev/null || need+=(nodejs npm)  # npm fixture project and `npm ls` oracle
  command -v go >/dev/null || need+=(golang-go)  # Go binaries and `go version -m` oracle
  [ -e /usr/share/java/commons-lang3.jar ] || need+=(libcommons-lang3-java)  # jar oracle
  command -v objcopy >/dev/null || need+=(binutils)  # a real ELF given a .dep-v0 section
  [ -x /usr/sbin/clamd ] || need+=(clamav-daemon)  # clamd for the ClamAV tests (test-only DB)
  command -v podman >/dev/null || need+=(podman)  # a real engine API for lashing host --docker-host
  [ -x /usr/sbin/runc ] || need+=(runc)  # lashing watch tests run containers (crun: no hybrid cgroups)
  command -v chromium >/dev/null || need+=(chromium)  # HTML reports rendered headless in tests
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)  # results store
  # rpm with NDB support, built from Debian's source for the NDB fixture
  for p in gcc make pkg-config xz-utils libpopt-dev liblua5.3-dev libgcrypt20-dev libmagic-dev \
           libsqlite3-dev zlib1g-dev liblzma-dev libbz2-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
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
