#!/usr/bin/env bash
# Cross-build determinism: tests/determinism/golden.c, built by each compiler,
# optimisation level and CPU below, must print exactly expected.txt (so a
# change of the random stream is never silent). Independent of CMake.
#
#     bash tests/determinism/run.sh [target...]      (default: every target)
#
#   native   gcc -O0; gcc -std=gnu99 -O3 -march=native (contracts a*b+c into
#            FMA); clang -O2
#   x87      32-bit x87 arithmetic (excess precision, double rounding):
#            gcc -m32 -mfpmath=387 (gcc-multilib) or, as Debian's
#            gcc-multilib removes the cross compilers, a static binary from
#            i686-linux-gnu-gcc (gcc-i686-linux-gnu, libc6-dev-i386-cross)
#   tcc      the Tiny C Compiler
#   aarch64 armhf ppc64le riscv64 s390x
#            a static binary from Debian's gcc-<triplet> (and
#            libc6-dev-<arch>-cross) run under qemu-user; s390x is big-endian
#
# Exit status: 1 if any target failed; else 77 (ctest: skipped) if a target
# could not run because its toolchain is missing (each says which and why);
# else 0. GCC and CLANG may be overridden.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
gcc_bin="${GCC:-gcc}"
clang_bin="${CLANG:-clang}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

warn=(-Wall -Wextra -Wpedantic -Werror)
failed=()
skipped=()

skip() { # target reason
    echo "determinism: SKIPPED $1: $2"
    skipped+=("$1")
}

# can_link <compiler> <flags...>: the toolchain builds and links a program.
can_link() {
    echo 'int main(void){return 0;}' | "$@" -x c - -o "$work/probe" >/dev/null 2>&1
}

# build_run <name> <runner or ""> <compiler> <flags...>: builds golden.c,
# runs it (through the runner, e.g. qemu-s390x) and compares with
# expected.txt.
build_run() {
    local name="$1" runner="$2" cc="$3"
    shift 3
    local run=("$work/$name")
    [ -z "$runner" ] || run=("$runner" "$work/$name")
    if ! "$cc" "$@" "${warn[@]}" -I"$root/include" "$here/golden.c" -o "$work/$name"; then
        echo "determinism: FAIL: $name: $cc $* does not build golden.c" >&2
        failed+=("$name")
    elif ! "${run[@]}" >"$work/$name.txt"; then
        echo "determinism: FAIL: $name: the program exited with an error" >&2
        failed+=("$name")
    elif ! diff -u "$here/expected.txt" "$work/$name.txt"; then
        echo "determinism: FAIL: $name ($cc $*) differs from tests/determinism/expected.txt;" \
             "if the random stream changed on purpose, update that file and say so in CHANGELOG.md" >&2
        failed+=("$name")
    else
        echo "determinism: ok   $name: ${runner:+$runner }$cc $*"
    fi
}

target_native() {
    local tool
    for tool in "$gcc_bin" "$clang_bin"; do
        command -v "$tool" >/dev/null || { echo "determinism: FAIL: $tool not found" >&2; failed+=(native); return; }
    done
    build_run gcc_O0 "" "$gcc_bin" -std=c99 -O0
    build_run gcc_O3_native "" "$gcc_bin" -std=gnu99 -O3 -march=native
    build_run clang_O2 "" "$clang_bin" -std=c99 -O2
}

target_x87() {
    local runner=""
    case "$(uname -m)" in
        x86_64 | i?86) ;;
        *) runner=qemu-i386 ;;
    esac
    if [ -n "$runner" ] && ! command -v "$runner" >/dev/null; then
        skip x87 "not an x86 machine and no $runner (Debian: qemu-user)"
    elif can_link "$gcc_bin" -m32; then
        build_run gcc_m32_x87 "$runner" "$gcc_bin" -std=gnu99 -O2 -m32 -mfpmath=387
    elif command -v i686-linux-gnu-gcc >/dev/null && can_link i686-linux-gnu-gcc -static; then
        build_run i686_x87 "$runner" i686-linux-gnu-gcc -std=gnu99 -O2 -mfpmath=387 -static
    else
        skip x87 "neither gcc -m32 (gcc-multilib) nor a static i686-linux-gnu-gcc" \
                 "(gcc-i686-linux-gnu, libc6-dev-i386-cross) can link a program"
    fi
}

target_tcc() {
    if command -v tcc >/dev/null; then
        build_run tcc "" tcc -std=c99
    else
        skip tcc "tcc not installed (Debian: tcc)"
    fi
}

# target_qemu <target> <triplet> <qemu-user binary> <Debian libc arch>
target_qemu() {
    local target="$1" triplet="$2" qemu="$3" arch="$4"
    if ! command -v "$triplet-gcc" >/dev/null; then
        skip "$target" "$triplet-gcc not installed (Debian: gcc-$triplet)"
    elif ! can_link "$triplet-gcc" -static; then
        skip "$target" "$triplet-gcc cannot link a static program (Debian: libc6-dev-$arch-cross)"
    elif ! command -v "$qemu" >/dev/null; then
        skip "$target" "$qemu not installed (Debian: qemu-user)"
    else
        build_run "$target" "$qemu" "$triplet-gcc" -std=c99 -O2 -static
    fi
}

run_target() {
    case "$1" in
        native) target_native ;;
        x87) target_x87 ;;
        tcc) target_tcc ;;
        aarch64) target_qemu aarch64 aarch64-linux-gnu qemu-aarch64 arm64 ;;
        armhf) target_qemu armhf arm-linux-gnueabihf qemu-arm armhf ;;
        ppc64le) target_qemu ppc64le powerpc64le-linux-gnu qemu-ppc64le ppc64el ;;
        riscv64) target_qemu riscv64 riscv64-linux-gnu qemu-riscv64 riscv64 ;;
        s390x) target_qemu s390x s390x-linux-gnu qemu-s390x s390x ;;
        *) echo "determinism: unknown target '$1'" >&2; exit 2 ;;
    esac
}

targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(native x87 tcc aarch64 armhf ppc64le riscv64 s390x)
for target in "${targets[@]}"; do
    run_target "$target"
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "determinism: FAIL: ${failed[*]}" >&2
    exit 1
fi
if [ "${#skipped[@]}" -gt 0 ]; then
    echo "determinism: the builds that ran agree with expected.txt, but SKIPPED: ${skipped[*]}"
    exit 77
fi
echo "determinism: OK, every build agrees with expected.txt:"
cat "$here/expected.txt"
