"""The run-log parser and the results commands on a log that StudioGAN and the plugin really wrote (a few seconds:
a tiny resnet SLT run of 2 steps on digits, no metrics). tests/reporting/fakeruns.py mirrors this log's lines."""
import os
import re
import subprocess
import sys

from click.testing import CliRunner

from studiogan_slt.cli import main
from studiogan_slt.reporting.runlog import find_runs

STEPS = 2
CONFIG = f"""\
DATA: {{name: "DIGITS", img_size: 32, num_classes: 10}}
PRE: {{apply_rflip: false}}
MODEL:
  g_cond_mtd: "cBN"
  d_cond_mtd: "PD"
  g_conv_dim: 8
  d_conv_dim: 8
OPTIMIZATION:
  batch_size: 8
  total_steps: {STEPS}
SLT:
  k: 0.1
  bias_init: "uniform"
"""


def test_real_log_is_parsed_and_reported(studiogan_root, digits, digits_networks, tmp_path):
    # digits_networks: the mixed loss of a digits search finds the session's built-in extractor instead of training it
    cfg, save = tmp_path / "tiny-SLT.yaml", tmp_path / "runs"
    cfg.write_text(CONFIG)
    env = dict(os.environ, OMP_NUM_THREADS="1", STUDIOGAN_ROOT=str(studiogan_root), WANDB_MODE="disabled")
    argv = ["train", "-cfg", str(cfg), "-data", str(digits), "-save", str(save), "-metrics", "none",
            "--num_workers", "1", "--print_freq", "1", "--save_freq", str(STEPS), "--seed", "0"]
    done = subprocess.run([sys.executable, "-c", "from studiogan_slt.cli import main; main()", *argv], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    (run,) = find_runs(save)
    assert set(run.sections) == {"DATA", "MODEL", "LOSS", "OPTIMIZATION", "PRE", "AUG", "RUN", "STYLEGAN", "SLT"}
    assert run.name.startswith("DIGITS-tiny-SLT-train-") and run.framework == "tiny"
    assert run.masked and run.k == 0.1 and run.train_mode == "adversarial" and run.cfg("MODEL", "backbone") == "resnet"
    # every masked tensor keeps n - floor(0.9 n) >= 0.1 n entries
    assert run.kept is not None and 0.1 <= run.kept / run.total < 0.11
    log = open(run.log_path).read()
    g_params = int(re.search(r"> Number of parameters: (\d+)\n", log)[1])  # the first one is G's (models/model.py)
    assert run.total <= g_params
    assert run.finished and run.evals == [] and run.best is None
    assert run.last_step == STEPS + 1  # StudioGAN's loop runs while step <= total_steps (loader.py:392)

    result = CliRunner().invoke(main, ["compare", str(save)])
    assert result.exit_code == 0, result.output
    assert f"SLT k=0.1, train_mode adversarial, kept {run.kept:,} / {run.total:,}" in result.output
    assert "no StudioGAN evaluation logged; finished" in result.output
    result = CliRunner().invoke(main, ["plot", str(save), "-o", str(tmp_path / "f.png")])
    assert result.exit_code == 2 and "nothing to plot: no run has the metric FID" in result.output
    assert f"skipped 1 run(s) without FID: {run.name}" in result.output
