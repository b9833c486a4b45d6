#!/usr/bin/env bash
# Installs attn from BUILD_DIR into a temporary prefix, builds
# examples/host_app against it with find_package(attn) and runs it (on the
# GPU when there is one, on the host otherwise). Run by ctest.
set -euo pipefail
build="${1:?usage: test-install.sh BUILD_DIR}"
root="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cmake -S "$root/examples/host_app" -B "$tmp/app" -G Ninja \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER="${CC:-clang-22}" -DCMAKE_CXX_COMPILER="${CXX:-clang++-22}" \
  ${ATTN_APP_CMAKE_FLAGS:-} >/dev/null
cmake --build "$tmp/app" >/dev/null
"$tmp/app/attn-host-app"
