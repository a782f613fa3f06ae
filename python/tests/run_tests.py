"""ctest entry of the Python tests: skips (exit 77) with the reason when NumPy,
torch, torchvision or pytest is missing, and fails if pytest collected nothing
(its exit 5) rather than passing an empty run."""
import importlib
import os
import sys

SKIP = 77
NO_TESTS_COLLECTED = 5
NEEDED = {"numpy": "python3-numpy", "torch": "python3-torch", "torchvision": "python3-torchvision",
          "pytest": "python3-pytest"}


def main():
    missing = []
    for module, package in NEEDED.items():
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(package)
    if missing:
        print(f"SKIP: {sys.executable} lacks {', '.join(missing)} "
              f"(sudo apt-get install {' '.join(missing)})")
        return SKIP
    import pytest
    here = os.path.dirname(os.path.abspath(__file__))
    status = pytest.main(["-q", "-p", "no:cacheprovider", here] + sys.argv[1:])
    if status == NO_TESTS_COLLECTED:
        print("FAIL: pytest collected no tests")
        return 1
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
