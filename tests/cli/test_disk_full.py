"""A full disk is one line and exit 2, and leaves nothing half-written: not the output, not a temporary file.
The disk fills at fsync, as it can on a real one (delayed allocation, NFS): the CLI runs in a subprocess whose
os.fsync raises ENOSPC, so every write goes through its real temporary-name path up to that point."""
import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studiogan_slt import save_ticket
from tests.ticket.tiny_generator import SAMPLER, searched, tiny_generator

PROJECT = Path(__file__).resolve().parents[2]
FULL = ("import errno, os, sys\n"
        "def full(fd):\n"
        "    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))\n"
        "os.fsync = full\n"
        "from studiogan_slt.cli import main\n"
        "main(sys.argv[1:], prog_name='studiogan-slt')\n")


def run_on_a_full_disk(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(PROJECT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-c", FULL, *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def assert_full_disk_error(result, folder):
    assert result.returncode == 2, result.stderr[-3000:]
    lines = [line for line in result.stderr.strip().splitlines() if line != "sampling"]  # sample's progress label
    assert len(lines) == 1 and lines[0].startswith("Error: no space left on the device"), lines
    assert not [p for p in Path(folder).iterdir() if p.name.startswith(".") or p.name.startswith("out")]


@pytest.fixture
def ticket(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    return save_ticket(searched(tiny_generator()), folder / "g.slt", sampler=SAMPLER,
                       builder="tests.ticket.tiny_generator:tiny_generator")


@pytest.mark.parametrize("output", ["out.png", "out"])
def test_sample_on_a_full_disk(tmp_path, ticket, output):
    (tmp_path / "o").mkdir()
    result = run_on_a_full_disk("sample", ticket, "-n", 3, "-o", tmp_path / "o" / output, "--trust-builder", cwd=tmp_path)
    assert_full_disk_error(result, tmp_path / "o")


def test_data_digits_on_a_full_disk(tmp_path):
    (tmp_path / "o").mkdir()
    result = run_on_a_full_disk("data", "digits", "-o", tmp_path / "o" / "out", cwd=tmp_path)
    assert_full_disk_error(result, tmp_path / "o")


def test_other_os_errors_are_not_reported_as_a_full_disk(tmp_path, ticket):
    code = FULL.replace("errno.ENOSPC", "errno.EIO")
    env = dict(os.environ, PYTHONPATH=str(PROJECT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, "-c", code, "sample", str(ticket), "-n", "1", "-o",
                             str(tmp_path / "x.png"), "--trust-builder"], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 1 and "no space" not in result.stderr and f"[Errno {errno.EIO}]" in result.stderr
