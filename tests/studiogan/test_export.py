"""Tickets of real StudioGAN SLT runs on digits, on CPU: export, bit-identical rebuild from the ticket and a
checkout alone, sampling, reports, a dense export that StudioGAN evaluates without the plugin's SLT section, and
one-line errors.

Three short runs (a seeded resnet with cBN and G_ema, a deep_conv with the host's own init and D masked too, and a
dense resnet) and everything that needs StudioGAN imported happen in ONE driver process (driver.py); this process
only reads the files and results it leaves behind.
"""
import glob
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from studiogan_slt.cli import main
from studiogan_slt.studiogan.rebuild import builder
from studiogan_slt.ticket.save_load import read_ticket
from tests.cli.test_ticket_cli import read_png
from tests.studiogan.driving import drive

PROJECT = Path(__file__).resolve().parents[2]
CHECKS = "tests.studiogan.export_checks"

RESNET = """\
DATA: {name: "DIGITS", img_size: 32, num_classes: 10}
PRE: {apply_rflip: false}
MODEL:
  backbone: "resnet"
  g_cond_mtd: "cBN"
  d_cond_mtd: "PD"
  g_conv_dim: 16
  d_conv_dim: 8
  z_dim: 32
  apply_g_ema: True
  g_ema_decay: 0.9
  g_ema_start: 1
OPTIMIZATION: {batch_size: 8, d_updates_per_step: 1, g_lr: 0.01, total_steps: 4}
"""
# The seeded init: every frozen tensor regenerates from (seed, name), so the ticket stores masks only.
RESNET_SLT = 'SLT: {k: 0.1, weight_init: "signed_kaiming_constant", bias_init: "uniform", keep_host: [SLT.moments]}\n'
DCGAN = """\
DATA: {name: "DIGITS", img_size: 32, num_classes: 10}
PRE: {apply_rflip: false}
MODEL: {backbone: "deep_conv", g_conv_dim: "N/A", d_conv_dim: "N/A", z_dim: 32}
OPTIMIZATION: {batch_size: 8, d_updates_per_step: 1, total_steps: 2}
"""
# StudioGAN's own init for weights and biases (as the section's HOST_INIT: its zero biases stay unmasked): kept
# values are stored; D is masked too, so its dense export must keep the fields StudioGAN reads from D's checkpoint.
DCGAN_SLT = ('SLT: {k: 0.3, targets: ["G", "D"], weight_init: "keep", scaled: false, bias_init: "keep", '
             'mask_bias: false, keep_host: [SLT.moments]}\n')


def _train(name, cfg, save, steps, digits):
    return {"name": f"train-{name}", "kind": "train",
            "argv": ["-cfg", str(cfg), "-data", str(digits), "-save", str(save), "--num_workers", "1",
                     "-metrics", "none", "--print_freq", "1", "--save_freq", str(steps), "--seed", "0"]}


def _cli(name, *args):
    return {"name": name, "kind": "cli", "args": [str(a) for a in args]}


def _call(name, function, **kwargs):
    return {"name": name, "kind": "call", "function": f"{CHECKS}:{function}",
            "kwargs": {k: str(v) for k, v in kwargs.items()}}


@pytest.fixture(scope="module")
def runs(studiogan_root, digits, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export")
    cfg = {}
    for name, body, slt in (("resnet", RESNET, RESNET_SLT), ("dcgan", DCGAN, DCGAN_SLT)):
        cfg[name], cfg[f"{name}-dense"] = tmp / f"{name}.yaml", tmp / f"{name}-dense.yaml"
        cfg[name].write_text(body + slt)
        cfg[f"{name}-dense"].write_text(body)
    ckpt = {name: f"{tmp}/save-{name}/checkpoints/*" for name in ("resnet", "dcgan", "dense")}
    resnet, dcgan = f"glob:{ckpt['resnet']}", f"glob:{ckpt['dcgan']}"
    t, t_dcgan = tmp / "resnet.slt", tmp / "dcgan.slt"
    jobs = [
        _train("resnet", cfg["resnet"], tmp / "save-resnet", 4, digits),
        _train("dcgan", cfg["dcgan"], tmp / "save-dcgan", 2, digits),
        _train("dense", cfg["resnet-dense"], tmp / "save-dense", 2, digits),
        _cli("export", "export", "-ckpt", resnet, "-o", t),
        _cli("export-best", "export", "-ckpt", resnet, "-best", "-o", tmp / "best.slt"),
        _cli("export-dense", "export", "-ckpt", resnet, "--format", "dense", "-o", tmp / "resnet-dense"),
        _cli("export-dcgan", "export", "-ckpt", dcgan, "-o", t_dcgan),
        _cli("export-dcgan-seeded", "export", "-ckpt", dcgan, "--tier", "seeded", "-o", tmp / "x.slt"),
        _cli("export-dcgan-dense", "export", "-ckpt", dcgan, "--format", "dense", "-o", tmp / "dcgan-dense"),
        _cli("export-unwritable", "export", "-ckpt", resnet, "-o", tmp / "missing" / "t.slt"),
        _cli("report-ckpt", "report", resnet, "--json"),
        _cli("report-ticket", "report", t, "--json"),
        _cli("sample-grid", "sample", t, "-n", 16, "-o", tmp / "grid.png"),
        _cli("sample-dir", "sample", t, "-n", 20, "-o", tmp / "pngs"),
    ]
    for name in ("resnet", "dcgan"):
        jobs.append({"name": f"eval-{name}-dense", "kind": "eval", "snapshot_dir": str(tmp / f"snap-{name}"),
                     "argv": ["-cfg", str(cfg[f"{name}-dense"]), "-data", str(digits), "-save",
                              str(tmp / f"eval-{name}"), "-ckpt", str(tmp / f"{name}-dense"), "-metrics", "none",
                              "-v", "--num_workers", "1"]})
        jobs.append(_call(f"compare-{name}", "compare", slt_cfg=cfg[name], dense_cfg=cfg[f"{name}-dense"],
                          ckpt_glob=ckpt[name], ticket=tmp / f"{name}.slt",
                          dense_snapshot=tmp / f"snap-{name}" / "loaded.pt", images_out=tmp / f"{name}-images.npy"))
    jobs += [
        _call("wrong-architecture", "wrong_architecture", ticket=t, other_dense_cfg=cfg["dcgan-dense"]),
        _call("edit-architecture", "edit_architecture", ticket=t, output=tmp / "edited.slt"),
        _cli("report-edited", "report", tmp / "edited.slt"),
    ]
    # The "call" jobs import tests.studiogan.export_checks: a driver run as a script has only its own folder and
    # the installed studiogan_slt on its path
    results, _ = drive(tmp, jobs, studiogan_root,
                       env={"PYTHONPATH": os.pathsep.join([str(PROJECT), os.environ.get("PYTHONPATH", "")])})
    return {"tmp": tmp, "results": results, "ckpt": ckpt}


def _one(pattern):
    (path,) = glob.glob(pattern)
    return path


def _ok(runs, name):
    result = runs["results"][name]
    assert result["ok"], result.get("traceback")
    if "exit_code" in result:
        assert result["exit_code"] == 0, (result["stdout"], result["stderr"], result["traceback"])
    return result


def _user_error(runs, name, text):
    result = runs["results"][name]
    assert result["ok"] and result["exit_code"] == 2, result
    lines = result["stderr"].strip().splitlines()
    assert lines[-1].startswith("Error: ") and text in lines[-1], lines
    assert "Traceback" not in result["stderr"] + result["stdout"]


def test_ticket_rebuilds_the_evaluated_generator_bit_identically(runs):
    _ok(runs, "export")
    header = read_ticket(runs["tmp"] / "resnet.slt").header
    assert header["architecture"]["builder"] == builder.BUILDER
    assert header["meta"]["studiogan"]["checkpoint"].startswith("model=G_ema-current-")
    assert {e["tier"] for e in header["masked"]} == {"seeded"}
    value = _ok(runs, "compare-resnet")["value"]
    assert value["kind"] == "G_ema" and value["G_differs"]  # so "identical" below singles out G_ema
    assert value["ticket_identical"] and value["ticket_is_plain"] and value["output_std"] > 0


def test_host_init_ticket_stores_the_kept_values(runs):
    _ok(runs, "export-dcgan")
    header = read_ticket(runs["tmp"] / "dcgan.slt").header
    assert {e["tier"] for e in header["masked"]} == {"values"}
    value = _ok(runs, "compare-dcgan")["value"]
    assert value["kind"] == "G" and value["ticket_identical"] and value["output_std"] > 0


def test_sample_grid_and_folder(runs):
    _ok(runs, "sample-grid")
    assert read_png(runs["tmp"] / "grid.png").shape == (4 * (32 + 2) + 2, 4 * (32 + 2) + 2, 3)
    _ok(runs, "sample-dir")
    files = sorted((runs["tmp"] / "pngs").iterdir())
    assert [f.name for f in files] == [f"{i:06d}.png" for i in range(20)]
    # image i is what the run's own G_ema draws for sample's latent i
    expected = np.load(runs["tmp"] / "resnet-images.npy")
    assert all(np.array_equal(read_png(f), img) for f, img in zip(files, expected))


def test_reports_agree_and_the_ticket_is_small(runs):
    from_ckpt = json.loads(_ok(runs, "report-ckpt")["stdout"])
    from_ticket = json.loads(_ok(runs, "report-ticket")["stdout"])
    rows = [[(r["name"], r["total"], r["kept"], r["macs"]) for r in rep["rows"]] for rep in (from_ckpt, from_ticket)]
    assert rows[0] == rows[1] and len(rows[0]) > 20
    assert from_ckpt["totals"] == from_ticket["totals"]
    ticket = (runs["tmp"] / "resnet.slt").stat().st_size
    assert from_ticket["sizes"]["ticket"] == ticket
    assert from_ckpt["sizes"] == from_ticket["sizes"]  # the checkpoint's report sizes the ticket export writes
    (dense,) = (runs["tmp"] / "resnet-dense").glob("model=G_ema-*.pth")  # the fp32 state_dict file, masks baked in
    # 277k masked weights at k = 0.1 (measured: 1.13 MB / 36.8 kB = 31x): the coded masks (17 kB) and the
    # per-tensor header (16.5 kB) dominate; the header's share shrinks with size (64x at 3.8M, bench_ticket.py)
    assert dense.stat().st_size / ticket > 25


def test_dense_export_is_evaluated_by_studiogan_without_the_slt_section(runs):
    for name in ("resnet", "dcgan"):
        _ok(runs, f"export-{name}-dense" if name == "dcgan" else "export-dense")
        _ok(runs, f"eval-{name}-dense")
        snapshots = sorted(p.name for p in (runs["tmp"] / f"snap-{name}").iterdir())
        assert snapshots == ["loaded.pt"]  # nothing was converted: StudioGAN evaluated plain modules
        assert list((runs["tmp"] / f"eval-{name}" / "figures").glob("*/generated_canvas_*.png"))
        assert _ok(runs, f"compare-{name}")["value"]["dense_identical"]


def test_export_user_errors(runs, tmp_path):
    _user_error(runs, "export-best", "-metrics none")
    _user_error(runs, "export-dcgan-seeded", "tier='seeded' impossible")
    _user_error(runs, "export-unwritable", "does not exist")  # checked before the model is built
    # Both are refused before StudioGAN is imported, so they run here.
    dense_run = CliRunner().invoke(main, ["export", "-ckpt", _one(runs["ckpt"]["dense"]), "-o", tmp_path / "t.slt"])
    not_a_ckpt = CliRunner().invoke(main, ["export", "-ckpt", str(tmp_path), "-o", tmp_path / "t.slt"])
    for result, text in ((dense_run, "did not mask its generator"), (not_a_ckpt, "no run log")):
        assert result.exit_code == 2 and text in result.stderr and "Traceback" not in result.output
        assert len(result.stderr.strip().splitlines()) == 1
    assert "loader" not in sys.modules and "models" not in sys.modules


def test_ticket_given_to_another_architecture(runs):
    assert "does not fit this architecture" in _ok(runs, "wrong-architecture")["value"]
    assert _ok(runs, "edit-architecture")["value"] == 8
    _user_error(runs, "report-edited", "does not fit this architecture")
