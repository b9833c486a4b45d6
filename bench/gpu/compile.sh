#!/usr/bin/env bash
# Spec -> PTX compile latency of the GPU path: attn-ptx --time (in process:
# attn-to-gpu, the NVVM lowering and PTX emission through LLVM's NVPTX
# backend) on every kernel in bench/gpu, five runs each; prints the median
# per kernel and the median over all of them.
# Usage: bench/gpu/compile.sh [build-dir]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
all=()
printf '%-32s %10s\n' kernel "median ms"
for f in "$root"/bench/gpu/*.mlir; do
  runs=()
  for _ in 1 2 3 4 5; do
    ms=$("$build/bin/attn-ptx" "$f" -o "$tmp/k" --time 2>&1 >/dev/null |
         sed -n 's/attn-ptx: compiled in \([0-9.]*\) ms/\1/p')
    runs+=("$ms")
  done
  med=$(printf '%s\n' "${runs[@]}" | sort -g | sed -n 3p)
  all+=("$med")
  printf '%-32s %10.1f\n' "$(basename "$f" .mlir)" "$med"
done
n=${#all[@]}
printf '%-32s %10.1f\n' "median over $n kernels" \
  "$(printf '%s\n' "${all[@]}" | sort -g | sed -n "$(( (n + 1) / 2 ))p")"
