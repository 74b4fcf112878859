"""Fixtures for the StudioGAN integration tests: a StudioGAN checkout (the digits data set is in tests/conftest.py).

The checkout comes from STUDIOGAN_ROOT, or from the snapshot tarball next to the project
(../shared/third_party/PyTorch-StudioGAN-947b35e.tar.gz), extracted into a temporary folder. Without either the
tests skip, except under SLT_REQUIRE_STUDIOGAN=1 (CI), where they fail.
"""
import os
import tarfile
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
TARBALL = PROJECT.parent / "shared" / "third_party" / "PyTorch-StudioGAN-947b35e.tar.gz"


def _no_studiogan(reason):
    if os.environ.get("SLT_REQUIRE_STUDIOGAN") == "1":
        pytest.fail(f"SLT_REQUIRE_STUDIOGAN=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def studiogan_root(tmp_path_factory):
    root = os.environ.get("STUDIOGAN_ROOT")
    if root:
        if not (Path(root) / "src" / "main.py").is_file():
            _no_studiogan(f"STUDIOGAN_ROOT={root} has no src/main.py")
        return Path(root)
    if not TARBALL.is_file():
        _no_studiogan(f"neither STUDIOGAN_ROOT nor {TARBALL} exists")
    dest = tmp_path_factory.mktemp("studiogan")
    with tarfile.open(TARBALL) as tar:
        tar.extractall(dest, filter="data")
    return dest

