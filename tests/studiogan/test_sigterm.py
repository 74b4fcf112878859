"""SIGTERM during `train` and during `sweep` (SLURM's preemption and time limit): the step under way is finished and
saved, the run exits 143 with one line naming the command that resumes it (the plugin's own flags kept), and that
command ends bit-identical to the run that was never stopped. A real `studiogan-slt train` or `sweep` gets a real
signal.

The runs save only at their end (save_freq past total_steps): the checkpoint of the stopped step is the SIGTERM's.
"""
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from studiogan_slt.ticket.save_load import read_ticket
from tests.studiogan.test_resume import BASE, _compare
from tests.studiogan.test_user_errors import CFG, _cfg
from tests.sweep.test_stops import _alive

pytestmark = pytest.mark.slow  # three runs of 201 steps and three one-point sweeps: about 3 minutes

STEPS = 200
ARGS = ["-metrics", "none", "--num_workers", "1", "--print_freq", "1", "--save_freq", "1000", "--seed", "0",
        "--no-export"]


def _cli(env, argv):
    return subprocess.Popen([sys.executable, "-m", "studiogan_slt", *map(str, argv)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL))


def _train(env, argv):
    return _cli(env, ["train", *argv])


def _finish(proc, timeout=300):
    try:
        _, stderr = proc.communicate(timeout=timeout)
    finally:
        proc.kill()
    return proc.returncode, stderr


def _wait_for_step(save, step, proc):
    deadline = time.monotonic() + 300
    while not re.search(rf"progress: step {step}/", "".join(p.read_text() for p in Path(save).glob("logs/*"))):
        assert proc.poll() is None and time.monotonic() < deadline, f"the run never reached step {step}"
        time.sleep(0.05)


def test_sigterm_saves_the_step_reached_and_the_printed_command_resumes_it_exactly(studiogan_root, digits, tmp_path):
    cfg = _cfg(tmp_path, "run", {**CFG, "OPTIMIZATION": {**CFG["OPTIMIZATION"], "total_steps": STEPS}})
    env = dict(os.environ, STUDIOGAN_ROOT=str(studiogan_root), OMP_NUM_THREADS="1", WANDB_MODE="disabled")
    full = _train(env, ["-cfg", cfg, "-data", digits, "-save", tmp_path / "full", *ARGS])
    stopped = _train(env, ["-cfg", cfg, "-data", digits, "-save", tmp_path / "stopped", *ARGS])
    _wait_for_step(tmp_path / "stopped", 5, stopped)
    stopped.send_signal(signal.SIGTERM)
    code, stderr = _finish(stopped)
    last = [line for line in stderr.splitlines() if line.strip()][-1]
    assert code == 143, stderr[-3000:]
    m = re.fullmatch(r"Error: terminated \(SIGTERM\); the last complete checkpoint is step (\d+) in (\S+); resume "
                     r"with: (studiogan-slt train .+ -ckpt (\S+))", last)
    assert m, last
    step, folder = int(m.group(1)), m.group(2)
    assert 5 <= step < STEPS and m.group(4) == folder and "--no-export" in m.group(3)
    assert Path(folder, f"model=RESUME-current-weights-step={step}.pth").is_file()

    command = shlex.split(m.group(3))
    code, stderr = _finish(_train(env, command[2:]))
    assert code == 0, stderr[-3000:]
    assert _finish(full)[0] == 0
    (done,) = (tmp_path / "full" / "checkpoints").iterdir()
    assert not _compare(done, folder, final=STEPS + 1)
    assert not list((tmp_path / "stopped").glob("tickets/*")), "--no-export was dropped"


SWEEP_STEPS = 20
SWEEP_ARGS = ["--k", "0.3", "-metrics", "none", "--num_workers", "1", "--print_freq", "1", "--save_freq", "1000"]
POINT = "tiny-k0.3-s0"


def _steps_of(point):
    """The live processes whose command line names the point's folder: the sweep's steps of that point."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0") if entry.name.isdigit() else []
        except OSError:  # it ended meanwhile
            continue
        if str(point).encode() in argv and _alive(int(entry.name)):
            pids.append(int(entry.name))
    return pids


def test_sigterm_stops_a_sweep_and_the_same_command_resumes_its_point_exactly(studiogan_root, digits, tmp_path,
                                                                              monkeypatch):
    """A one-point sweep in the mixed default search of DIGITS (StudioGAN's random flip on), SIGTERMed once its
    train is past step 5, then run again as printed: it resumes the point from the step the SIGTERM saved and ends
    with the checkpoint and ticket of the sweep that was never stopped."""
    from studiogan_slt.metrics import digits_net

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the mixed search's extractor, untrained
    digits_net.cached_weights_path().parent.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(digits_net.digits_cnn().state_dict(), digits_net.cached_weights_path())
    cfg = _cfg(tmp_path, "tiny", {**BASE, "OPTIMIZATION": {**BASE["OPTIMIZATION"], "total_steps": SWEEP_STEPS},
                                  "SLT": {"k": 0.5}})
    env = dict(os.environ, STUDIOGAN_ROOT=str(studiogan_root), OMP_NUM_THREADS="1", WANDB_MODE="disabled")
    full = _cli(env, ["sweep", "-cfg", cfg, "-data", digits, "-save", tmp_path / "full", *SWEEP_ARGS])
    save, point = tmp_path / "stopped", tmp_path / "stopped" / POINT
    stopped = _cli(env, ["sweep", "-cfg", cfg, "-data", digits, "-save", save, *SWEEP_ARGS])
    _wait_for_step(point, 5, stopped)
    steps = _steps_of(point)
    assert steps, "no step process of the point found"
    stopped.send_signal(signal.SIGTERM)
    code, stderr = _finish(stopped)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == 143 and len(lines) == 1, stderr[-3000:]
    m = re.fullmatch(r"Error: terminated \(SIGTERM\); .+; resume with: (studiogan-slt sweep .+)", lines[0])
    assert m, lines[0]
    assert not [pid for pid in steps if _alive(pid)], "a step of the stopped sweep is still running"
    said = re.search(r"the last complete checkpoint is step (\d+) in (\S+);", (point / "point.log").read_text())
    assert said, (point / "point.log").read_text()[-3000:]
    step = int(said.group(1))
    (ckpt,) = (point / "checkpoints").iterdir()
    assert 5 <= step < SWEEP_STEPS and said.group(2) == str(ckpt)
    assert sorted(p.name for p in ckpt.iterdir()) == sorted(
        f"model={model}-current-weights-step={step}.pth" for model in ("G", "G_ema", "D", "MM", "RESUME"))
    assert not [p for p in save.rglob("*") if p.name.endswith(".tmp")], "a file was left half-written"
    assert not (point / "done.json").exists() and not (point / "progress.json").exists()

    code, stderr = _finish(_cli(env, shlex.split(m.group(1))[1:]))
    assert code == 0, stderr[-3000:]
    trains = [line for line in (point / "point.log").read_text().splitlines()
              if line.startswith("$ studiogan-slt train")]
    assert len(trains) == 2 and trains[1] == f"{trains[0]} -ckpt {ckpt}"
    (log,) = (point / "logs").glob("*.log")  # StudioGAN appends the resumed run to the run's own log
    assert f"resuming the generators and the data position from model=RESUME-current-weights-step={step}.pth" in \
        log.read_text()
    assert _finish(full)[0] == 0
    (done,) = (tmp_path / "full" / POINT / "checkpoints").iterdir()
    assert not _compare(done, ckpt, final=SWEEP_STEPS + 1), f"stopped after step {step}"
    assert not _compare(done, ckpt, models=("MM",), keys=("ama", "schedulers"), final=SWEEP_STEPS + 1)
    tickets = [read_ticket(folder / POINT / "ticket.slt").header["blobs"] for folder in (save, tmp_path / "full")]
    assert tickets[0] == tickets[1]  # the sha256 of every payload: masks, signs, values, state
