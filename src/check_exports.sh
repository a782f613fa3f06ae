#!/usr/bin/env bash
# libdropblock.so exports the public API and nothing else: every defined
# dynamic symbol carries the public prefix dropblock_ (not the private
# dropblock__ of the header's helpers), and the calls the Python package
# binds are among them.
set -euo pipefail
lib="$1"
if ! command -v nm >/dev/null; then
    echo "SKIP: nm not found (install binutils)"
    exit 77
fi
symbols=$(nm -D --defined-only "$lib" | awk '{print $NF}' | sort)
foreign=$(grep -v '^dropblock_[a-z0-9]' <<<"$symbols" || true)
if [ -n "$foreign" ]; then
    echo "FAIL: symbols outside the public API exported by $lib:"
    echo "$foreign"
    exit 1
fi
for required in dropblock_status_string dropblock_config_default dropblock_tensor_from_dlpack \
                dropblock_forward_tensor dropblock_backward_tensor dropblock_pthread_parallel_for \
                dropblock_forward dropblock_gamma dropblock_expected_keep; do
    if ! grep -qx "$required" <<<"$symbols"; then
        echo "FAIL: $required is not exported by $lib"
        exit 1
    fi
done
echo "OK: $(wc -l <<<"$symbols") symbols, all dropblock_*"
