#!/usr/bin/env bash
# The main job on a bundled example: installs what is missing, builds
# attn-opt, verifies and canonicalizes examples/sliding_window_gqa.mlir, and
# prints the attention's tile map.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build.sh >/dev/null
example=${1:-examples/sliding_window_gqa.mlir}
echo "== $example, canonicalized =="
build/bin/attn-opt "$example" --canonicalize
echo "== tile map (64 x 64 tiles) =="
build/bin/attn-opt "$example" --attn-mask-report="tile-q=64 tile-kv=64" -o /dev/null
echo "== run on the host against the f64 reference =="
build/bin/attn-run "$example"
