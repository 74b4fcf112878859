"""studiogan_slt.atomic, and every writer of the plugin going through it: a process that dies before a write is
complete leaves the previous file (or no folder) in place, never a part of the new one.

"Dies before complete" is simulated by failing the fsync that precedes the rename: a writer that writes in place
has already overwritten its target by then, and the test sees it. test_kill.py does the same with real SIGKILLs.
"""
import os
import stat
import subprocess
import sys

import numpy as np
import pytest
import torch

from studiogan_slt import atomic
from studiogan_slt.errors import SLTError


class Crash(Exception):
    pass


@pytest.fixture
def crash_before_rename(monkeypatch):
    def fsync(path, flags=os.O_RDONLY):
        raise Crash(path)

    monkeypatch.setattr(atomic, "_fsync", fsync)


def _leftovers(folder):
    return [name for name in os.listdir(folder) if name.endswith(".tmp")]


def test_replace_keeps_the_old_file_until_the_new_one_is_complete(tmp_path, crash_before_rename):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")
    with pytest.raises(Crash):
        atomic.write_bytes(target, b"new")
    assert target.read_bytes() == b"old" and not _leftovers(tmp_path)


def test_written_files_and_folders_have_the_usual_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        atomic.write_text(tmp_path / "f.txt", "x")
        with atomic.new_folder(tmp_path / "d") as d:
            (d / "a").write_text("a")
    finally:
        os.umask(mask)
    assert stat.S_IMODE(os.stat(tmp_path / "f.txt").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(tmp_path / "d").st_mode) == 0o755
    assert (tmp_path / "d" / "a").read_text() == "a" and not _leftovers(tmp_path)


def test_a_new_folder_appears_whole_or_not_at_all(tmp_path, crash_before_rename):
    with pytest.raises(Crash):
        with atomic.new_folder(tmp_path / "d") as d:
            (d / "a").write_text("a")
    assert not (tmp_path / "d").exists() and not os.listdir(tmp_path)


def test_new_folder_refuses_a_folder_with_files(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x").write_text("")
    with pytest.raises(SLTError, match="exists and is not an empty folder"):
        atomic.check_new_folder(tmp_path / "d")
    with pytest.raises(SLTError, match="does not exist"):
        atomic.check_writable_file(tmp_path / "no" / "f.png")


def _ticket(path):
    from studiogan_slt import save_ticket
    from tests.ticket.tiny_generator import searched, tiny_generator

    return save_ticket(searched(tiny_generator()), path)


def _png(path):
    from studiogan_slt.ticket.sample import write_png

    write_png(path, np.zeros((4, 4, 3), np.uint8))


def _moments_cache(path):
    from studiogan_slt.moments.loss import RealStats, save_cached

    save_cached(str(path), {"k": 1}, RealStats(torch.zeros(3), torch.ones(3), 10))


def _csv(path):
    from studiogan_slt.reporting import plot

    plot.write_csv([], path)


def _figure(path):
    import matplotlib.pyplot as plt

    from studiogan_slt.reporting import plot
    from studiogan_slt.reporting.runlog import find_runs
    from tests.reporting.fakeruns import write_figure_runs

    write_figure_runs(path.parent / "runs")
    rows, _ = plot.points(find_runs(path.parent / "runs"), "digits_FID")
    plt.close(plot.make_figure(rows, path, metric="digits_FID"))


WRITERS = {"ticket.slt": _ticket, "image.png": _png, "moments.safetensors": _moments_cache, "rows.csv": _csv,
           "figure.png": _figure}


@pytest.mark.parametrize("name", list(WRITERS))
def test_every_writer_replaces_its_target_atomically(tmp_path, monkeypatch, name):
    target = tmp_path / name
    target.write_bytes(b"the previous complete file")
    fsync = atomic._fsync
    monkeypatch.setattr(atomic, "_fsync", lambda path, flags=os.O_RDONLY: (_ for _ in ()).throw(Crash(path)))
    with pytest.raises(Crash):
        WRITERS[name](target)
    assert target.read_bytes() == b"the previous complete file"
    monkeypatch.setattr(atomic, "_fsync", fsync)
    WRITERS[name](target)
    assert target.read_bytes() != b"the previous complete file" and not _leftovers(tmp_path)


def test_digits_data_folder_appears_whole_or_not_at_all(tmp_path, crash_before_rename):
    from studiogan_slt.data.digits import write_digits

    with pytest.raises(Crash):
        write_digits(tmp_path / "digits")
    assert not (tmp_path / "digits").exists() and not os.listdir(tmp_path)


TORCH_SAVE = """
import errno, os, resource, signal, sys, types
import torch
from studiogan_slt import atomic
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
if sys.argv[1] == "full":
    os.statvfs = lambda path: types.SimpleNamespace(f_bavail=0, f_frsize=4096)
try:
    with atomic.replacing(sys.argv[2]) as tmp:
        atomic.torch_save(torch.zeros(100000), tmp)
except OSError as err:
    print("OSError", errno.errorcode[err.errno])
except RuntimeError as err:
    print("RuntimeError", "inline_container" in str(err))
"""


@pytest.mark.parametrize("disk, outcome", [("full", "OSError ENOSPC"), ("not full", "RuntimeError True")])
def test_a_failed_torch_save_is_a_full_disk_only_when_the_disk_is_full(tmp_path, disk, outcome):
    """torch.save reports a failed write as a RuntimeError of its file writer ("file write failed" on a full disk,
    "unexpected pos" past a file-size limit): on a full device it becomes the ENOSPC the CLI reports in one line
    (`export --format dense`, checkpoints); otherwise it stays what it was."""
    (tmp_path / "out").mkdir()
    done = subprocess.run([sys.executable, "-c", TORCH_SAVE, disk, str(tmp_path / "out" / "x.pt")],
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == outcome, done.stderr[-2000:]
    assert not os.listdir(tmp_path / "out")
