#!/usr/bin/env bash
# Host benchmark: each input through attn-run (JIT-compiled kernel, median
# of --repeat runs) against attn-run's naive f64 reference, measured in the
# same process. Prints a markdown table for docs/benchmarks.md.
#   bench/host/run.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
echo "| input | tiles visited | compile ms | kernel ms (median of 5) | f64 reference ms | reference / kernel |"
echo "|---|---|---|---|---|---|"
for f in bench/host/*.mlir; do
  out=$("$build/bin/attn-run" "$f" --repeat 5)
  visited=$(sed -n 's/^tiles visited: \([0-9]* of [0-9]*\) dense.*/\1/p' <<<"$out")
  compile=$(sed -n 's/^time: compile \([0-9.]*\) ms.*/\1/p' <<<"$out")
  kernel=$(sed -n 's/.*kernel \([0-9.]*\) ms.*/\1/p' <<<"$out")
  ref=$(sed -n 's/.*f64 reference \([0-9.]*\) ms.*/\1/p' <<<"$out")
  check=$(sed -n 's/^check: //p' <<<"$out")
  ratio=$(awk -v r="$ref" -v k="$kernel" 'BEGIN { printf "%.1fx", r / k }')
  echo "| $(basename "$f" .mlir) ($check) | $visited | $compile | $kernel | $ref | $ratio |"
done
