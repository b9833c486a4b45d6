#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs the whole
# suite (lit + GoogleTest) through ctest.
#   scripts/test.sh              -> build/
#   scripts/test.sh --sanitize   -> the same suite under ASan + UBSan
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build
[[ ${1:-} == --sanitize ]] && build_dir=build-asan
scripts/build.sh "$@"
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)"
