#!/bin/sh
# Instructions per element of dropblock_bench's kernels under callgrind:
# unlike times, the same on a busy machine from run to run.
#
# usage: bench/callgrind.sh BENCH [GLOB] [CALLS]
#   BENCH  the dropblock_bench binary (a Release build)
#   GLOB   which cases (dropblock_bench --list names; default: all)
#   CALLS  kernel calls per case, each with a fresh step (default 3)
#
# Counts everything under run_kernel (the library calls of the row, not the
# stream, not the setup). valgrind emulates no AVX-512, so the header's
# run-time dispatch takes its AVX2/SSE2 paths here: the counts are those of
# a CPU without AVX-512.
set -eu
bench=$1
glob=${2:-*}
calls=${3:-3}
if ! command -v valgrind >/dev/null 2>&1; then
    echo "callgrind.sh: valgrind not found (apt-get install valgrind)" >&2
    exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%-36s %12s\n' case instr/elem
"$bench" --list --case "$glob" | while read -r label; do
    valgrind --tool=callgrind --toggle-collect=run_kernel --callgrind-out-file="$tmp/out" \
        "$bench" --case "$label" --calls "$calls" >"$tmp/log" 2>&1
    elems=$(sed -n 's/.* elements \([0-9]*\)$/\1/p' "$tmp/log")
    ir=$(sed -n 's/.*Collected : \([0-9]*\)$/\1/p' "$tmp/log")
    awk -v ir="$ir" -v e="$elems" -v c="$calls" -v l="$label" 'BEGIN { printf "%-36s %12.3f\n", l, ir / (e * c) }'
done
