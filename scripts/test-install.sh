#!/usr/bin/env bash
# Installs attn from BUILD_DIR into a temporary prefix, builds
# examples/host_app against it with find_package(attn) and runs it (on the
# GPU when there is one, on the host otherwise), then once more on the
# stand-in CUDA driver (FAKE_CUDA_DIR, runtime/test/fake-cuda) when given,
# where the whole GPU path runs but kernels compute nothing. Run by ctest.
set -euo pipefail
build="${1:?usage: test-install.sh BUILD_DIR [FAKE_CUDA_DIR]}"
fake_cuda="${2:-}"
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
if [[ -n $fake_cuda ]]; then
  out="$(LD_LIBRARY_PATH="$fake_cuda${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
         "$tmp/app/attn-host-app" --launch-only)"
  echo "$out"
  grep -q "launched on the GPU" <<<"$out"
fi
