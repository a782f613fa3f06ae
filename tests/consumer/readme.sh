#!/usr/bin/env bash
# Runs the README's commands exactly as written. A fenced block right after
# a line "<!-- readme-test: KIND -->" is run, in the README's order:
#   repo   a sh block, run by bash in a copy of the repository (a git
#          repository of the working tree, so `git archive HEAD` works)
#   app    a sh block, run by bash in an application directory holding
#          main.c (tests/consumer/main.c), path/to/dropblock and
#          third_party/dropblock (the copy) and any archive a repo block made
#   cmake  a cmake block, appended to a CMakeLists.txt that declares
#          add_executable(app main.c) in a fresh application directory,
#          configured with CMAKE_PREFIX_PATH=$HOME/.local; the app must run
# HOME is a scratch directory, so "$HOME/.local" is too. Exit 77 (ctest:
# skipped) when a tool the README assumes is missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cmake_bin="${CMAKE:-cmake}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fail() { echo "readme: FAIL: $*" >&2; exit 1; }

for tool in cc git pkg-config tar "$cmake_bin"; do
    command -v "$tool" >/dev/null || { echo "readme: SKIPPED: $tool not installed"; exit 77; }
done

# The blocks, one file each: $work/blocks/<index>.<kind>
mkdir -p "$work/blocks"
awk -v dir="$work/blocks" '
    match($0, /^<!-- readme-test: [a-z]+ -->$/) { kind = substr($0, 19, RLENGTH - 22); next }
    kind != "" && /^```/ && !inside { inside = 1; file = sprintf("%s/%02d.%s", dir, ++n, kind); next }
    inside && /^```/ { inside = 0; kind = ""; close(file); next }
    inside { print > file }
' "$root/README.md"
blocks=("$work"/blocks/*)
[ -e "${blocks[0]}" ] || fail "no <!-- readme-test: KIND --> block in README.md"

export HOME="$work/home"
mkdir -p "$HOME"
repo="$work/repo"
mkdir -p "$repo"
tar -C "$root" --exclude=./build --exclude=./.git -cf - . | tar -C "$repo" -xf -
git -C "$repo" init -q
git -C "$repo" add -A
git -C "$repo" -c user.name=readme -c user.email=readme@localhost commit -qm "working tree"

# new_app <dir>: an application directory with main.c and the library.
new_app() {
    mkdir -p "$1/path/to" "$1/third_party"
    cp "$here/main.c" "$1/main.c"
    ln -s "$repo" "$1/path/to/dropblock"
    ln -s "$repo" "$1/third_party/dropblock"
    find "$repo" -maxdepth 1 -name '*.tar.gz' -exec cp {} "$1/third_party/" \;
}

for block in "${blocks[@]}"; do
    name="$(basename "$block")"
    kind="${name#*.}"
    echo "== readme: block $name"
    sed 's/^/    /' "$block"
    case "$kind" in
        repo)
            (cd "$repo" && bash -euo pipefail "$block") >"$work/$name.log" 2>&1 \
                || { cat "$work/$name.log"; fail "block $name"; } ;;
        app)
            new_app "$work/app_$name"
            (cd "$work/app_$name" && bash -euo pipefail "$block" && ./app) >"$work/$name.log" 2>&1 \
                || { cat "$work/$name.log"; fail "block $name"; } ;;
        cmake)
            app="$work/app_$name"
            new_app "$app"
            {
                echo 'cmake_minimum_required(VERSION 3.20)'
                echo 'project(app LANGUAGES C)'
                echo 'add_executable(app main.c)'
                cat "$block"
            } >"$app/CMakeLists.txt"
            { "$cmake_bin" -S "$app" -B "$app/build" -DCMAKE_PREFIX_PATH="$HOME/.local" -Werror=dev &&
              "$cmake_bin" --build "$app/build" && "$app/build/app"; } >"$work/$name.log" 2>&1 \
                || { cat "$work/$name.log"; fail "block $name"; } ;;
        *) fail "block $name: unknown kind '$kind'" ;;
    esac
done
echo "readme: OK, ${#blocks[@]} blocks of README.md ran as written"
