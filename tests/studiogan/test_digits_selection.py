"""SLT.digits_metric: the digits metric at every StudioGAN save, in the run log and a CSV, and the best checkpoint
StudioGAN keeps chosen by it (a real moment-matching search on digits, CPU; `export -best` exports that checkpoint).
"""
import re

import pytest
import torch
import yaml

from studiogan_slt import csv_rows
from studiogan_slt.errors import SLTError
from studiogan_slt.studiogan.loop import digits_selection
from studiogan_slt.studiogan.section import slt_section
from studiogan_slt.ticket.save_load import read_ticket
from tests.studiogan.driving import run_jobs

METRIC = "fid_train"
SAVE_FREQ = 2
CFG = {"DATA": {"name": "DIGITS", "img_size": 32, "num_classes": 10}, "PRE": {"apply_rflip": False},
       "MODEL": {"g_cond_mtd": "W/O", "d_cond_mtd": "W/O", "g_conv_dim": 8, "d_conv_dim": 8, "z_dim": 32},
       # a large learning rate, so the few updates change the generator enough for the metric to differ
       "OPTIMIZATION": {"batch_size": 16, "g_lr": 0.1, "total_steps": 5},
       "SLT": {"k": 0.3, "train_mode": "moment_matching", "bias_init": "uniform", "digits_metric": METRIC}}


def test_digits_metric_values_are_checked():
    assert slt_section.validate({"k": 0.1})["digits_metric"] is None
    assert slt_section.validate({"k": 0.1, "digits_metric": "kid_valid"})["digits_metric"] == "kid_valid"
    with pytest.raises(SLTError, match=r"SLT.digits_metric: 'is' is not allowed; use one of fid, fid_train, kid, "
                                       "kid_valid"):
        slt_section.validate({"k": 0.1, "digits_metric": "is"})


def test_digits_network_values_are_checked():
    assert slt_section.validate({"k": 0.1})["digits_network"] == "lenet"
    assert slt_section.validate({"digits_metric": "kid_valid", "digits_network": "strided"})["digits_network"] \
        == "strided"  # a dense run scores itself under the same network as its search
    with pytest.raises(SLTError, match=r"SLT.digits_network: 'vgg' is not allowed; use one of lenet, strided, mlp"):
        slt_section.validate({"k": 0.1, "digits_network": "vgg"})


def test_a_step_scored_again_after_a_resume_keeps_its_last_row(tmp_path):
    path = tmp_path / "m.csv"
    for step, value in ((2, 5.0), (4, 3.0), (4, 3.5), (6, 4.0)):
        csv_rows.append(str(path), {"step": step, "metric": "fid", "value": value}, digits_selection.FIELDS)
    with open(path, "a") as f:
        f.write("8,fid,1.0")  # a row cut short by a kill: no newline
    assert [(r["step"], r["value"]) for r in digits_selection.read_rows(str(path))] == [(2, 5.0), (4, 3.5), (6, 4.0)]


@pytest.fixture(scope="module")
def search(studiogan_root, digits, digits_networks, tmp_path_factory):
    """digits_networks: the digits metric finds the session's evaluation network instead of training one in the run."""
    from studiogan_slt.metrics.digits_net import digits_cnn

    work = tmp_path_factory.mktemp("digits_selection")
    torch.manual_seed(0)
    torch.save(digits_cnn(width=8).state_dict(), work / "extractor.pt")
    extractor = {"network": "studiogan_slt.metrics.digits_net:digits_cnn", "weights": str(work / "extractor.pt"),
                 "kwargs": {"width": 8}}
    cfg = dict(CFG, SLT={**CFG["SLT"], "moments": {"extractors": [extractor]}})
    (work / "run.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    common = ["-cfg", str(work / "run.yaml"), "-data", str(digits), "--num_workers", "1", "--seed", "0",
              "--print_freq", "1", "--save_freq", str(SAVE_FREQ)]
    jobs = [{"name": "train", "kind": "train", "argv": [*common, "-save", str(work / "save"), "-metrics", "none"]},
            {"name": "export", "kind": "cli", "args": ["export", "-ckpt", f"glob:{work}/save/checkpoints/*", "-best",
                                                       "-o", str(work / "best.slt")]},
            {"name": "with_fid", "kind": "train", "argv": [*common, "-save", str(work / "refused"), "-metrics",
                                                           "fid"]}]
    return work, run_jobs(work, jobs, studiogan_root)


@pytest.mark.slow
def test_the_metric_at_every_save_in_the_log_and_csv(search):
    work, results = search
    assert results["train"]["ok"], results["train"]["traceback"]
    (path,) = (work / "save" / "statistics").glob(f"*/{digits_selection.FILE_NAME}")
    rows = digits_selection.read_rows(str(path))
    # StudioGAN's loop makes total_steps + 1 updates and saves at every multiple of save_freq
    assert [r["step"] for r in rows] == list(range(SAVE_FREQ, CFG["OPTIMIZATION"]["total_steps"] + 2, SAVE_FREQ))
    for r in rows:
        assert r["metric"] == METRIC and r["value"] == r[METRIC] and 0 < r["classes"] <= 10
        assert r["fid"] > 0 and r["kid_std"] >= 0 and r["kid_valid_std"] >= 0 and r["memorisation"] > 0
    assert len({r["value"] for r in rows}) == len(rows), "the generator did not change between saves"
    (log,) = (work / "save" / "logs").glob("*.log")
    logged = re.findall(r"digits metric at step (\d+): fid_train ([\d.e+-]+)", log.read_text())
    assert [int(s) for s, _ in logged] == [r["step"] for r in rows]


@pytest.mark.slow
def test_the_best_checkpoint_is_the_lowest_metric_and_exports(search):
    work, results = search
    (path,) = (work / "save" / "statistics").glob(f"*/{digits_selection.FILE_NAME}")
    rows = digits_selection.read_rows(str(path))
    best = min(rows, key=lambda r: r["value"])
    (ckpt,) = (work / "save" / "checkpoints").iterdir()
    assert [p.name for p in ckpt.glob("model=G-best-weights-step=*.pth")] == \
        [f"model=G-best-weights-step={best['step']}.pth"]
    assert results["export"]["ok"] and results["export"]["exit_code"] == 0, results["export"]
    ticket = read_ticket(work / "best.slt")  # verified: it reloads, and it is the best checkpoint's
    assert ticket.header["meta"]["studiogan"]["checkpoint"] == f"model=G-best-weights-step={best['step']}.pth"


@pytest.mark.slow
def test_studiogan_metrics_next_to_it_are_refused_before_anything_is_written(search):
    work, results = search
    assert not results["with_fid"]["ok"]
    assert "SLT.digits_metric: it picks the best checkpoint itself; run with -metrics none" in \
        results["with_fid"]["traceback"]
    assert not (work / "refused").exists()
