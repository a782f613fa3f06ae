"""How the package finds libdropblock.so, and what it says when it cannot."""
import os
import subprocess
import sys

import dropblock


def import_with(library, cwd):
    env = dict(os.environ, DROPBLOCK_LIBRARY=library)
    return subprocess.run([sys.executable, "-c", "import dropblock"], env=env, cwd=cwd, capture_output=True,
                          text=True)


def test_a_wrong_path_fails_and_says_what_it_tried(tmp_path):
    result = import_with(str(tmp_path / "missing.so"), tmp_path)
    assert result.returncode != 0
    assert "LibraryNotFound" in result.stderr
    assert f"DROPBLOCK_LIBRARY: {tmp_path / 'missing.so'}" in result.stderr


def test_another_library_is_refused_by_name(tmp_path):
    libc = "libc.so.6"
    result = import_with(libc, tmp_path)
    assert result.returncode != 0
    assert "lacks dropblock_tensor_from_dlpack, dropblock_pthread_parallel_for" in result.stderr


def test_the_library_in_use_is_the_one_named():
    assert dropblock.library._name == os.environ["DROPBLOCK_LIBRARY"]
