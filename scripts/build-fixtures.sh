#!/usr/bin/env bash
# Build the test fixtures that need the package registries (debootstrap,
# pip/npm installs, compiled binaries) once, and cache them in build/fixtures.
# Each tests/fixtures/build.d/*.sh is idempotent: it returns at once when its
# output already exists. pytest itself never touches the network; tests whose
# fixture is missing skip with a reason.
set -euo pipefail
cd "$(dirname "$0")/.."
export FIXTURES="$PWD/build/fixtures"
mkdir -p "$FIXTURES"
for script in tests/fixtures/build.d/*.sh; do
  [ -e "$script" ] || continue
  name=$(basename "$script" .sh)
  start=$(date +%s)
  if ! bash "$script" > "$FIXTURES/$name.log" 2>&1; then
    echo "fixture $name failed; see $FIXTURES/$name.log" >&2
    tail -20 "$FIXTURES/$name.log" >&2
    exit 1
  fi
  echo "fixture $name ready ($(( $(date +%s) - start ))s)" >&2
done
