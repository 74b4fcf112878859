"""`train` on a disk that fills up during the run: one line and exit 2 naming the last complete checkpoint and the
command that resumes from it; the save that failed left no file, temporary or not. The disk fills at the fsync of
the checkpoint of step 2 (a subprocess patches atomic's fsync), after the one of step 1 was complete."""
import os
import re
import subprocess
import sys

from tests.studiogan.test_user_errors import CFG, QUICK, _cfg

FULL_AT_STEP_2 = ("import errno, os, sys\n"
                  "from studiogan_slt import atomic\n"
                  "fsync = atomic._fsync\n"
                  "def full(path, *args):\n"
                  "    if 'step=2' in str(path):\n"
                  "        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))\n"
                  "    return fsync(path, *args)\n"
                  "atomic._fsync = full\n"
                  "from studiogan_slt.cli import main\n"
                  "main(sys.argv[1:], prog_name='studiogan-slt')\n")


def test_train_on_a_disk_that_fills_up(studiogan_root, digits, tmp_path):
    cfg = _cfg(tmp_path, "run", {**CFG, "OPTIMIZATION": {**CFG["OPTIMIZATION"], "total_steps": 3}})
    env = dict(os.environ, STUDIOGAN_ROOT=str(studiogan_root), OMP_NUM_THREADS="1", WANDB_MODE="disabled")
    done = subprocess.run([sys.executable, "-c", FULL_AT_STEP_2, "train", "-cfg", cfg, "-data", str(digits), "-save",
                           str(tmp_path / "s"), *QUICK], env=env, capture_output=True, text=True, timeout=300)
    last = [line for line in done.stderr.splitlines() if line.strip()][-1]
    assert done.returncode == 2, done.stderr[-3000:]
    m = re.fullmatch(r"Error: no space left on the device \(No space left on device\); the last complete checkpoint "
                     r"is step 1 in (\S+); resume with: studiogan-slt train .+ -ckpt (\S+)", last)
    assert m and m.group(1) == m.group(2), last
    assert sorted(os.listdir(m.group(1))) == [f"model={model}-current-weights-step=1.pth"
                                              for model in ("D", "G", "G_ema", "RESUME")]
