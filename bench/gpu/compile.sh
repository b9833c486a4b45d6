#!/usr/bin/env bash
# Spec -> PTX compile latency of the GPU path: attn-ptx --time (in process:
# attn-to-gpu, the NVVM lowering and PTX emission through LLVM's NVPTX
# backend) on every kernel in bench/gpu, RUNS runs each (default 9); prints
# the median per kernel and the median over all of them.
# With --instructions, also the instructions the whole attn-ptx process
# executes per kernel (valgrind --tool=callgrind): a count that machine
# noise does not move, for comparing changes to the compiler.
# Usage: bench/gpu/compile.sh [--instructions] [build-dir]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
count=0
if [ "${1:-}" = "--instructions" ]; then
  count=1
  shift
fi
build="${1:-$root/build}"
runs="${RUNS:-9}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
all=()
if [ $count = 1 ]; then
  printf '%-32s %10s %14s\n' kernel "median ms" "instructions"
else
  printf '%-32s %10s\n' kernel "median ms"
fi
for f in "$root"/bench/gpu/*.mlir; do
  times=()
  for _ in $(seq "$runs"); do
    ms=$("$build/bin/attn-ptx" "$f" -o "$tmp/k" --time 2>&1 >/dev/null |
         sed -n 's/attn-ptx: compiled in \([0-9.]*\) ms/\1/p')
    times+=("$ms")
  done
  med=$(printf '%s\n' "${times[@]}" | sort -g | sed -n "$(( (runs + 1) / 2 ))p")
  all+=("$med")
  if [ $count = 1 ]; then
    ins=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null \
            "$build/bin/attn-ptx" "$f" -o "$tmp/k" 2>&1 |
          sed -n 's/.*Collected : *\([0-9]*\)/\1/p')
    printf '%-32s %10.1f %13.0fM\n' "$(basename "$f" .mlir)" "$med" \
      "$(echo "$ins / 1000000" | bc -l)"
  else
    printf '%-32s %10.1f\n' "$(basename "$f" .mlir)" "$med"
  fi
done
n=${#all[@]}
printf '%-32s %10.1f\n' "median over $n kernels" \
  "$(printf '%s\n' "${all[@]}" | sort -g | sed -n "$(( (n + 1) / 2 ))p")"
