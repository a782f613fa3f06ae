#!/usr/bin/env bash
# Builds the fuzz target with clang (replay program under ASan+UBSan, and the
# libFuzzer binary), replays the checked-in corpus, then fuzzes a copy of it
# for FUZZ_SECONDS (default 60). Exits non-zero on any crash or violation.
#   FUZZ_SECONDS=600 tests/fuzz/run.sh        longer run
#   FUZZ_BUILD_DIR=/tmp/b tests/fuzz/run.sh   keep the build
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${FUZZ_SECONDS:-60}
cc=${FUZZ_CC:-clang}
work=$(mktemp -d "${TMPDIR:-/tmp}/dropblock-fuzz.XXXXXX")
build=${FUZZ_BUILD_DIR:-$work/build}
trap 'rm -rf "$work"' EXIT

cmake -S . -B "$build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
  -DDROPBLOCK_BUILD_FUZZ=ON -DDROPBLOCK_BUILD_TESTS=OFF -DDROPBLOCK_BUILD_EXAMPLES=OFF \
  -DDROPBLOCK_BUILD_BENCH=OFF -DDROPBLOCK_INSTALL=OFF >/dev/null
cmake --build "$build" --target dropblock_fuzz_replay dropblock_fuzz -j 2

echo "== replaying tests/fuzz/corpus"
"$build/tests/fuzz/dropblock_fuzz_replay" tests/fuzz/corpus

echo "== fuzzing a copy of the corpus for ${seconds}s"
cp -r tests/fuzz/corpus "$work/corpus"
artifacts=$(mktemp -d "${TMPDIR:-/tmp}/dropblock-fuzz-artifacts.XXXXXX")
if ! "$build/tests/fuzz/dropblock_fuzz" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$work/corpus"; then
  echo "fuzz: crash; the input is in $artifacts (replay it with dropblock_fuzz_replay FILE," >&2
  echo "      and keep it in tests/fuzz/corpus/ as a regression seed once fixed)" >&2
  exit 1
fi
rmdir "$artifacts" 2>/dev/null || true
echo "fuzz: no crash in ${seconds}s"
