"""The search diagnostics in real StudioGAN runs on digits (CPU, 4 updates each): an adversarial search of G and D
(with G_ema) and a moment-matching search of G. Both runs happen in one driver process (driver.py).

At every print_freq the worker logs one line per masked network and appends the same numbers to
SAVE/statistics/<run>/slt_diagnostics.csv; `compare` shows the last look of each network.
"""
import glob
from pathlib import Path

import pytest
import torch
import yaml
from click.testing import CliRunner

from studiogan_slt.cli import main
from studiogan_slt.supermask import diagnostics
from studiogan_slt.reporting.runlog import find_runs
from tests.studiogan.driving import run_jobs
from tests.studiogan.tiny_config import ADVERSARIAL_ONLY

COMMON = {"DATA": {"name": "DIGITS", "img_size": 32, "num_classes": 10}, "PRE": {"apply_rflip": False}}
ADVERSARIAL = {
    "MODEL": {"g_cond_mtd": "cBN", "d_cond_mtd": "PD", "g_conv_dim": 8, "d_conv_dim": 8, "z_dim": 32,
              "apply_g_ema": True, "g_ema_decay": 0.5, "g_ema_start": 0},
    "LOSS": {"adv_loss": "hinge"},
    # large learning rates, so that 4 updates move some masks
    "OPTIMIZATION": {"batch_size": 8, "g_lr": 0.05, "d_lr": 0.05, "d_updates_per_step": 1, "total_steps": 3},
    "SLT": {"k": 0.3, "targets": ["G", "D"], "bias_init": "uniform", **ADVERSARIAL_ONLY}}
MOMENTS = {
    "MODEL": {"g_cond_mtd": "W/O", "d_cond_mtd": "W/O", "g_conv_dim": 8, "d_conv_dim": 8, "z_dim": 32},
    "OPTIMIZATION": {"batch_size": 16, "g_lr": 0.05, "total_steps": 3},
    "SLT": {"k": 0.3, "train_mode": "moment_matching", "bias_init": "uniform"}}
PRINT_FREQ = {"adversarial": 2, "moments": 1}  # StudioGAN's loop makes total_steps + 1 = 4 updates
NETWORKS = {"adversarial": ["G", "G_ema", "D"], "moments": ["G"]}


@pytest.fixture(scope="module")
def searches(studiogan_root, digits, tmp_path_factory):
    from studiogan_slt.metrics.digits_net import digits_cnn

    work = tmp_path_factory.mktemp("diagnostics")
    torch.manual_seed(0)
    torch.save(digits_cnn(width=8).state_dict(), work / "extractor.pt")
    moments = dict(MOMENTS, SLT={**MOMENTS["SLT"], "moments": {"extractors": [
        {"network": "studiogan_slt.metrics.digits_net:digits_cnn", "weights": str(work / "extractor.pt"),
         "kwargs": {"width": 8}}]}})
    jobs = []
    for name, sections in (("adversarial", ADVERSARIAL), ("moments", moments)):
        cfg = work / f"{name}.yaml"
        cfg.write_text(yaml.safe_dump({**COMMON, **sections}, sort_keys=False))
        jobs.append({"name": name, "kind": "train", "argv": [
            "-cfg", str(cfg), "-data", str(digits), "-save", str(work / name), "-metrics", "none",
            "--num_workers", "1", "--print_freq", str(PRINT_FREQ[name]), "--save_freq", "4", "--seed", "0"]})
    run_jobs(work, jobs, studiogan_root, must_succeed=PRINT_FREQ)
    return work


@pytest.mark.parametrize("mode", list(PRINT_FREQ))
def test_diagnostics_in_the_run_log_and_csv(searches, mode):
    (run,) = find_runs(searches / mode)
    (path,) = glob.glob(str(searches / mode / "statistics" / "*" / diagnostics.FILE_NAME))
    rows = diagnostics.read_rows(path)
    steps = list(range(PRINT_FREQ[mode], 5, PRINT_FREQ[mode]))
    assert [(r["step"], r["network"]) for r in rows] == [(s, n) for s in steps for n in NETWORKS[mode]]
    assert run.diagnostics == rows
    log_lines = [line.split(" > ", 1)[1] for line in Path(run.log_path).read_text().splitlines()
                 if "> SLT search of " in line]
    assert log_lines == [diagnostics.format_row(r) for r in rows]  # the log and the CSV say the same
    for r in rows:
        assert 0 <= r["least_active_turnover"] <= r["turnover"] <= r["most_active_turnover"] <= 1
        assert r["score_kept"] > r["score_pruned"] and r["most_active"] and r["least_active"]
    g = [r for r in rows if r["network"] == "G"]
    assert (g[0]["kept"], g[0]["total"]) == (run.kept, run.total)  # the ticket report's footer
    assert any(r["turnover"] > 0 for r in g), "no G mask moved: the test cannot tell a monitor that sees nothing"
    if mode == "adversarial":
        assert any(r["turnover"] > 0 for r in rows if r["network"] == "D")

    result = CliRunner().invoke(main, ["compare", str(searches / mode)])
    assert result.exit_code == 0, result.output
    assert all(f"   {diagnostics.format_row(r)}" in result.output for r in rows[-len(NETWORKS[mode]):])
