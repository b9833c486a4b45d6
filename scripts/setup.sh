#!/usr/bin/env bash
# Installs what attn needs on a Debian 12 machine, as root, when it is
# missing: LLVM/MLIR 22 (libMLIR.so, mlir-tblgen, lit, FileCheck), clang-22,
# lld, ccache, cmake, ninja, GoogleTest, LLVM's OpenMP runtime (libomp, the
# host kernels' threads). Idempotent: a machine that has everything
# installs nothing.
set -euo pipefail

LLVM_ROOT=${LLVM_ROOT:-/usr/lib/llvm-22}
packages=()
need() { # need <path-or-command> <package>...
  local probe=$1; shift
  if [[ $probe == /* ]]; then [[ -e $probe ]] || packages+=("$@")
  else command -v "$probe" >/dev/null 2>&1 || packages+=("$@"); fi
}

need "$LLVM_ROOT/lib/cmake/mlir/MLIRConfig.cmake" libmlir-22-dev llvm-22-dev
need "$LLVM_ROOT/bin/mlir-tblgen" mlir-22-tools
need "$LLVM_ROOT/bin/FileCheck" llvm-22-tools
need "$LLVM_ROOT/bin/clang++" clang-22
need "$LLVM_ROOT/bin/ld.lld" lld-22
need /usr/include/gtest/gtest.h libgtest-dev
need ccache ccache
need cmake cmake
need ninja ninja-build
need python3 python3
# The OpenMP runtime the host kernels' grid runs on (libomp.so, LLVM 22).
need "$LLVM_ROOT/lib/libomp.so" libomp-22-dev

# ASan/UBSan runtime of clang-22.
if ! compgen -G "$LLVM_ROOT/lib/clang/22/lib/*/libclang_rt.asan*" >/dev/null; then
  packages+=(libclang-rt-22-dev)
fi

if ((${#packages[@]})); then
  echo "setup: installing ${packages[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: run as root (or install the packages above) to continue" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi
