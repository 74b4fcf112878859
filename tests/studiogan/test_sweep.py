"""`studiogan-slt sweep` end to end on digits at a tiny budget: one point through the local launcher (the fast
tier's), and in the slow tier 2 values of k and a dense point, through the local launcher (killed after its first
point, then run again) and through submitit's local executor.

Each point is a real `train` (2 updates of a 16-channel resnet), `eval -sf`, `export` (tickets only) and
`digits-fid`; the sweep runs as the user would run it, `python -m studiogan_slt sweep ...`, in its own process.
"""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.studiogan.tiny_config import write_tiny_cfg

GRID = ["--k", "0.3", "0.1", "--dense", "--seeds", "0", "--digits-fid"]
FLAGS = ["--num_workers", "1", "-metrics", "none", "--print_freq", "1", "--save_freq", "1"]
POINTS = {"tiny-dense-s0": 1.0, "tiny-k0.3-s0": 0.3, "tiny-k0.1-s0": 0.1}


@pytest.fixture(scope="module")
def setup(studiogan_root, digits, digits_networks, tmp_path_factory):
    """The YAML, an environment for the sweep's process, and the session's digits evaluation network (each sweep
    finds it in its -save)."""
    work = tmp_path_factory.mktemp("sweep")
    cfg = write_tiny_cfg(work / "tiny.yaml", total_steps=1, k=0.5)
    env = dict(os.environ, STUDIOGAN_ROOT=str(studiogan_root), OMP_NUM_THREADS="1", WANDB_MODE="disabled",
               PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")]))
    return {"cfg": cfg, "data": digits, "net": digits_networks.evaluation, "env": env, "work": work}


def _command(setup, save, *extra, grid=GRID):
    save.mkdir(parents=True, exist_ok=True)
    shutil.copy(setup["net"], save / "digits_eval.pt")
    return [sys.executable, "-m", "studiogan_slt", "sweep", "-cfg", str(setup["cfg"]), "-data", str(setup["data"]),
            "-save", str(save), *grid, *extra, *FLAGS]


def _run(setup, save, *extra, grid=GRID):
    done = subprocess.run(_command(setup, save, *extra, grid=grid), env=setup["env"], capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def _assert_complete(save, points=POINTS):
    """Every point finished once, with its ticket, and the figure and CSV hold all of them."""
    for name, k in points.items():
        point = save / name
        assert (point / "done.json").is_file(), name
        (log,) = (point / "logs").glob("*.log")  # one StudioGAN run per point, its own run name
        assert f"-{name}-train-" in log.name
        assert (point / "ticket.slt").is_file() == (k < 1), name
        record = json.loads((point / "done.json").read_text())
        expected = ["train", "eval", "export", "digits-fid"] if k < 1 else ["train", "eval", "digits-fid"]
        assert list(record["seconds"]) == expected
    with open(save / "fid_vs_k.csv") as f:
        rows = list(csv.DictReader(f))
    assert sorted((r["run"].split("-train-")[0], float(r["k"]), r["kind"]) for r in rows) == sorted(
        (f"DIGITS-{name}", k, "dense" if k == 1 else "slt") for name, k in points.items())
    assert all(r["metric"] == "digits_FID" and float(r["value"]) > 0 for r in rows)
    assert (save / "fid_vs_k.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    compared = json.loads((save / "compare.json").read_text())
    assert sorted(s["k"] for s in compared) == sorted(points.values())


def test_a_one_point_sweep_trains_evaluates_exports_and_scores(setup):
    output = _run(setup, setup["work"] / "one", grid=["--k", "0.3", "--seeds", "0", "--digits-fid"])
    assert "[1/1]" in output and "FAILED" not in output
    _assert_complete(setup["work"] / "one", {"tiny-k0.3-s0": 0.3})


@pytest.mark.slow
def test_local_sweep_killed_after_one_point_resumes(setup):
    save = setup["work"] / "local"
    out = open(setup["work"] / "local-first.log", "w")
    first = subprocess.Popen(_command(setup, save), env=setup["env"], stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True)  # its own process group: the kill reaches its points too
    deadline = time.time() + 600
    while not list(save.glob("*/done.json")) and first.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    out.close()
    (finished,) = list(save.glob("*/done.json"))  # the grid runs in order, one at a time: the dense point first
    before = (finished.read_bytes(), finished.stat().st_mtime_ns)
    assert not (save / "fid_vs_k.csv").exists()

    output = _run(setup, save)
    assert f"{finished.parent.name}: already done, skipped" in output
    assert (finished.read_bytes(), finished.stat().st_mtime_ns) == before
    assert "[3/3]" in output and "FAILED" not in output
    _assert_complete(save)

    # What a sweep stopped inside `train` after StudioGAN saved a checkpoint leaves: the point without its progress
    # record. Run again: the other points are skipped, and this one's train continues from the checkpoint.
    point = finished.parent
    (point / "done.json").unlink()
    (point / "progress.json").unlink()
    assert _run(setup, save).count("already done, skipped") == 2
    (ckpt,) = (point / "checkpoints").iterdir()
    trains = [line for line in (point / "point.log").read_text().splitlines()
              if line.startswith("$ studiogan-slt train")]
    assert len(trains) == 2 and "-ckpt" not in trains[0] and trains[1].endswith(f"-ckpt {ckpt}")
    (log,) = (point / "logs").glob("*.log")  # StudioGAN appends the resumed run to the run's own log
    assert log.read_text().count("End of training!") == 2
    _assert_complete(save)


@pytest.mark.slow
def test_submitit_local_executor(setup):
    pytest.importorskip("submitit")
    save = setup["work"] / "submitit"
    output = _run(setup, save, "--launcher", "submitit-local", "--jobs", "2")
    assert "[3/3]" in output and "FAILED" not in output
    _assert_complete(save)
    # submitit ran each point as a job of its own, with its own output files
    assert len({p.parent for p in (save / "submitit").glob("*/*_result.pkl")}) == 3
