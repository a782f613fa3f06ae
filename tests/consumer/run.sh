#!/usr/bin/env bash
# Builds and runs a consumer of dropblock.h each way a user can take it:
#   1. plain: the header alone, compiled with only -I
#   2. add_subdirectory() and FetchContent (local directory and local
#      archive); the repository's own tests and examples must stay off
#   3. cmake --install to a prefix, then find_package(dropblock <v> CONFIG)
#      for v = 1.0 (the 1.x API is kept, so 1.x requests are accepted) and the
#      header's own version, and pkg-config --cflags dropblock
# Every consumer builds tests/consumer/main.c and must run it with exit 0.
# No network. Exit 77 (ctest: skipped) only when pkg-config is missing, after
# every other check has passed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cmake_bin="${CMAKE:-cmake}"
cc_bin="${CC:-cc}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

version="$(sed -n 's/^#define DROPBLOCK_VERSION_STRING "\(.*\)"$/\1/p' "$root/include/dropblock.h")"
[ -n "$version" ] || { echo "consumer: version string not found in the header" >&2; exit 1; }

section() { printf '\n== consumer: %s\n' "$*"; }
fail() { echo "consumer: FAIL: $*" >&2; exit 1; }

# configure_build_run <name> <source dir> [cmake -D options...]
configure_build_run() {
    local name="$1" src="$2"
    shift 2
    "$cmake_bin" -S "$src" -B "$work/$name" -DCMAKE_BUILD_TYPE=Release "$@" >"$work/$name.log" 2>&1 \
        || { cat "$work/$name.log"; fail "$name: configure"; }
    "$cmake_bin" --build "$work/$name" >>"$work/$name.log" 2>&1 \
        || { cat "$work/$name.log"; fail "$name: build"; }
    "$work/$name/app" || fail "$name: app exited with $?"
}

# A subproject must not register tests nor build the repo's programs.
assert_no_repo_targets() {
    local dir="$work/$1"
    if find "$dir" -name CTestTestfile.cmake | grep -q .; then
        fail "$1: the subproject registered tests"
    fi
    if find "$dir" -type f \( -name 'test_*' -o -name 'build_mode_*' -o -name train_loop \) -perm -u+x | grep -q .; then
        fail "$1: the subproject built its tests or examples"
    fi
}

section "1. plain -I include/"
mkdir -p "$work/plain"
cp "$root/include/dropblock.h" "$work/plain/"
"$cc_bin" -std=c99 -Wall -Wextra -Wpedantic -Werror -I"$work/plain" "$here/main.c" -o "$work/plain/app"
"$work/plain/app" || fail "plain: app exited with $?"

section "2a. add_subdirectory()"
configure_build_run subdir "$here/subdir" -DDROPBLOCK_ROOT="$root"
assert_no_repo_targets subdir

section "2b. FetchContent, SOURCE_DIR of the local checkout"
configure_build_run fetch_dir "$here/fetch" -DDROPBLOCK_ROOT="$root" -DDROPBLOCK_FETCH=SOURCE_DIR
assert_no_repo_targets fetch_dir

section "2c. FetchContent, URL of a local archive"
tar -C "$root" --exclude=./build --exclude=./.git -czf "$work/dropblock.tar.gz" .
configure_build_run fetch_url "$here/fetch" -DDROPBLOCK_ARCHIVE="$work/dropblock.tar.gz" -DDROPBLOCK_FETCH=URL
assert_no_repo_targets fetch_url

section "3a. cmake --install, then find_package(dropblock <version> CONFIG REQUIRED)"
prefix="$work/prefix"
"$cmake_bin" -S "$root" -B "$work/repo" -DDROPBLOCK_BUILD_TESTS=OFF -DDROPBLOCK_BUILD_EXAMPLES=OFF \
    >"$work/repo.log" 2>&1 || { cat "$work/repo.log"; fail "configuring the repository"; }
"$cmake_bin" --install "$work/repo" --prefix "$prefix" || fail "cmake --install"
for want in 1.0 "$version"; do
    configure_build_run "installed_$want" "$here/installed" -DCMAKE_PREFIX_PATH="$prefix" \
        -DDROPBLOCK_WANT_VERSION="$want"
    grep -q "found dropblock $version in" "$work/installed_$want.log" ||
        fail "find_package(dropblock $want): package version is not $version"
done
# AnyNewerVersion: a request for a later major version than installed fails.
next_major="$(( ${version%%.*} + 1 )).0"
if "$cmake_bin" -S "$here/installed" -B "$work/installed_next" -DCMAKE_PREFIX_PATH="$prefix" \
        -DDROPBLOCK_WANT_VERSION="$next_major" >"$work/installed_next.log" 2>&1; then
    fail "find_package(dropblock $next_major) accepted version $version"
fi

section "3b. pkg-config --cflags dropblock"
if ! command -v pkg-config >/dev/null; then
    echo "consumer: SKIPPED the pkg-config check: pkg-config not installed (Debian: pkg-config)"
    exit 77
fi
export PKG_CONFIG_PATH="$prefix/share/pkgconfig"
[ "$(pkg-config --modversion dropblock)" = "$version" ] || fail "pkg-config --modversion is not $version"
cflags="$(pkg-config --cflags dropblock)"
echo "pkg-config --cflags dropblock: $cflags"
[ "$(echo $cflags)" = "-I$prefix/include" ] || fail "pkg-config --cflags is not -I$prefix/include"
# shellcheck disable=SC2086 # cflags is a list of words
"$cc_bin" -std=c99 -Wall -Wextra -Wpedantic -Werror $cflags "$here/main.c" -o "$work/pkgconfig_app"
"$work/pkgconfig_app" || fail "pkg-config: app exited with $?"

echo
echo "consumer: OK, all consumers built and ran"
