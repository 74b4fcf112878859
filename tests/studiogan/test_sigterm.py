"""SIGTERM during `train` (SLURM's preemption and time limit): the step under way is finished and saved, the run
exits 143 with one line naming that checkpoint and the command that resumes it (the plugin's own flags kept), and
that command ends bit-identical to the run that was never stopped. A real `studiogan-slt train` gets a real signal.

The run saves only at its end (save_freq past total_steps): the checkpoint of the stopped step is the SIGTERM's.
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

from tests.studiogan.test_resume import _compare
from tests.studiogan.test_user_errors import CFG, _cfg

pytestmark = pytest.mark.slow  # three runs of 201 steps: about a minute and a half

STEPS = 200
ARGS = ["-metrics", "none", "--num_workers", "1", "--print_freq", "1", "--save_freq", "1000", "--seed", "0",
        "--no-export"]


def _train(env, argv):
    return subprocess.Popen([sys.executable, "-m", "studiogan_slt", "train", *map(str, argv)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL))


def _finish(proc, timeout=300):
    try:
        _, stderr = proc.communicate(timeout=timeout)
    finally:
        proc.kill()
    return proc.returncode, stderr


def test_sigterm_saves_the_step_reached_and_the_printed_command_resumes_it_exactly(studiogan_root, digits, tmp_path):
    cfg = _cfg(tmp_path, "run", {**CFG, "OPTIMIZATION": {**CFG["OPTIMIZATION"], "total_steps": STEPS}})
    env = dict(os.environ, STUDIOGAN_ROOT=str(studiogan_root), OMP_NUM_THREADS="1", WANDB_MODE="disabled")
    full = _train(env, ["-cfg", cfg, "-data", digits, "-save", tmp_path / "full", *ARGS])
    stopped = _train(env, ["-cfg", cfg, "-data", digits, "-save", tmp_path / "stopped", *ARGS])
    deadline = time.monotonic() + 300
    while not re.search(r"progress: step 5/", "".join(p.read_text() for p in (tmp_path / "stopped").glob("logs/*"))):
        assert stopped.poll() is None and time.monotonic() < deadline, "the run never reached step 5"
        time.sleep(0.05)
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
