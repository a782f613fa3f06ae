#!/usr/bin/env bash
# Cross-build determinism: golden.c built with gcc -O0, with gcc -std=gnu99
# -O3 -march=native (contracts a*b+c into FMA), with clang -O2 and, where the
# toolchain has it, with gcc -m32 -mfpmath=387 (x87) must print
# identical lines, equal to expected.txt (so a change of the random stream
# is never silent). Independent of CMake; GCC and CLANG may be overridden.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
gcc_bin="${GCC:-gcc}"
clang_bin="${CLANG:-clang}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for tool in "$gcc_bin" "$clang_bin"; do
    command -v "$tool" >/dev/null || { echo "determinism: $tool not found" >&2; exit 1; }
done

warn=(-Wall -Wextra -Wpedantic -Werror)
build() { # name compiler flags...
    local name="$1" cc="$2"
    shift 2
    "$cc" "$@" "${warn[@]}" -I"$root/include" "$here/golden.c" -o "$work/$name"
    "$work/$name" >"$work/$name.txt"
    echo "built and ran: $cc $*"
}
build gcc_O0 "$gcc_bin" -std=c99 -O0
build gcc_O3_native "$gcc_bin" -std=gnu99 -O3 -march=native
build clang_O2 "$clang_bin" -std=c99 -O2
# 32-bit x87 arithmetic (excess precision, double rounding), where the
# toolchain can build it (Debian: gcc-multilib).
builds=(gcc_O3_native clang_O2)
if echo 'int main(void){return 0;}' | "$gcc_bin" -m32 -x c - -o "$work/m32" 2>/dev/null; then
    build gcc_m32_x87 "$gcc_bin" -std=gnu99 -O2 -m32 -mfpmath=387
    builds+=(gcc_m32_x87)
else
    echo "determinism: no -m32 toolchain (gcc-multilib): x87 build skipped"
fi

status=0
for name in "${builds[@]}"; do
    if ! diff -u "$work/gcc_O0.txt" "$work/$name.txt"; then
        echo "determinism: FAIL: $name differs from gcc_O0" >&2
        status=1
    fi
done
if ! diff -u "$here/expected.txt" "$work/gcc_O0.txt"; then
    echo "determinism: FAIL: output differs from tests/determinism/expected.txt;" \
         "if the random stream changed on purpose, update that file and say so in CHANGELOG.md" >&2
    status=1
fi
[ "$status" -eq 0 ] && echo "determinism: OK, $((${#builds[@]} + 1)) builds agree with expected.txt:" &&
    cat "$work/gcc_O0.txt"
exit "$status"
