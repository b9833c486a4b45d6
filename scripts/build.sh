#!/usr/bin/env bash
# Configures and builds attn with ninja, clang-22, lld and ccache.
#   scripts/build.sh              -> build/
#   scripts/build.sh --sanitize   -> build-asan/ (ASan + UBSan)
set -euo pipefail
cd "$(dirname "$0")/.."

LLVM_ROOT=${LLVM_ROOT:-/usr/lib/llvm-22}
build_dir=build
extra=()
if [[ ${1:-} == --sanitize ]]; then
  build_dir=build-asan
  extra+=(-DATTN_ENABLE_SANITIZERS=ON)
fi

scripts/setup.sh

if [[ ! -f $build_dir/build.ninja ]]; then
  cmake -G Ninja -S . -B "$build_dir" \
    -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-Release} \
    -DCMAKE_C_COMPILER="$LLVM_ROOT/bin/clang" \
    -DCMAKE_CXX_COMPILER="$LLVM_ROOT/bin/clang++" \
    -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld \
    -DCMAKE_SHARED_LINKER_FLAGS=-fuse-ld=lld \
    -DMLIR_DIR="$LLVM_ROOT/lib/cmake/mlir" \
    -DLLVM_EXTERNAL_LIT="$LLVM_ROOT/bin/lit" \
    "${extra[@]}"
fi
cmake --build "$build_dir"
