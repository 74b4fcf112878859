"""Every YAML shipped in configs/ passes the plugin's SLT validation (no StudioGAN needed: the section is checked
before StudioGAN is imported), and the paper presets carry the paper's recipe (shared/docs/paper.md §2.7)."""
from pathlib import Path

import pytest
import torch
import yaml
from click.testing import CliRunner

from studiogan_slt.cli import main
from studiogan_slt.errors import SLTError
from studiogan_slt.metrics.digits_net import NETWORK, digits_cnn
from studiogan_slt.studiogan.section import slt_section
from studiogan_slt.studiogan.section.values import convert_options

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
VGG_FILE = "vgg19_bn-c79401a0.pth"
PRESETS = ("CIFAR10/SNGAN-MM-SLT.yaml", "CIFAR10/SNGAN-MM-dense.yaml")


def _read(path):
    with open(path) as f:
        return yaml.load(f, Loader=yaml.FullLoader)  # StudioGAN's loader (config.py)


def _uses_imagenet_vgg(data):
    return "vgg19_bn" in (data.get("SLT") or {}).get("moments", {}).get("extractors", [])


@pytest.mark.parametrize("name", sorted(str(p.relative_to(CONFIGS)) for p in CONFIGS.rglob("*.yaml")))
def test_every_config_passes_slt_validation(name, empty_hub, builtin_extractor, tmp_path):
    path = CONFIGS / name
    data = _read(path)
    if not _uses_imagenet_vgg(data):
        values = slt_section.load(path)
        assert values["k"] == data["SLT"].get("k", "N/A") and values["train_mode"] == data["SLT"].get(
            "train_mode", "adversarial")
        return
    # Offline the ImageNet weights are missing: one line naming the file and the folder to put it in.
    with pytest.raises(SLTError) as err:
        slt_section.load(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"-cfg {path}: SLT.moments.extractors[0]: ")
    assert f"put the file {VGG_FILE} (from https://download.pytorch.org/models/{VGG_FILE}) in the folder " \
           f"{empty_hub}" in message
    # Everything else is valid: the same file with the digits network as extractor passes.
    weights = tmp_path / "digits_cnn.pt"
    torch.save(digits_cnn().state_dict(), weights)
    data["SLT"]["moments"]["extractors"] = [{"network": NETWORK, "weights": str(weights)}]
    swapped = tmp_path / "swapped.yaml"
    swapped.write_text(yaml.safe_dump(data))
    values = slt_section.load(swapped)
    assert values["moments"]["extractors"][0]["network"] == NETWORK


def _digits_plan():
    import importlib.util

    spec = importlib.util.spec_from_file_location("digits_plan", CONFIGS.parent / "benchmarks" / "digits_plan.py")
    plan = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plan)
    return plan


def test_the_main_job_configs_carry_the_measured_digits_recipe():
    """configs/digits/MM-*.yaml are the reproduction's moment-matching arms (benchmarks/digits_plan.py, whose
    numbers docs/results.md reports), with the built-in extractor name instead of a weights path."""
    plan = _digits_plan()
    slt, dense = (_read(CONFIGS / "digits" / name) for name in ("MM-SLT.yaml", "MM-dense.yaml"))
    for data, lr in ((slt, plan.SLT_LR), (dense, plan.DENSE_LR)):
        assert (data["DATA"], data["PRE"], data["MODEL"]) == (plan.DATA, plan.PRE, plan.GENERATOR)
        assert data["OPTIMIZATION"] == {"batch_size": 64, "g_lr": lr, "beta1": 0.5, "beta2": 0.999,
                                        "total_steps": 800}
        assert data["SLT"]["moments"] == {**plan.MOMENTS, "extractors": ["digits_cnn"]}
        assert data["SLT"]["digits_metric"] == "fid"
    recipe = {k: v for k, v in slt["SLT"].items() if k in plan.SLT_RECIPE}
    assert recipe == plan.SLT_RECIPE and (slt["SLT"]["k"], slt["SLT"]["train_mode"]) == (0.1, "moment_matching")
    assert dense["SLT"]["train_mode"] == "dense_moment_matching" and "k" not in dense["SLT"]


def test_paper_presets_carry_the_paper_recipe():
    slt, dense = (_read(CONFIGS / name) for name in PRESETS)
    for data in (slt, dense):
        # floats, not strings: YAML reads 5e-5 (no ".0") as text
        assert data["OPTIMIZATION"]["g_lr"] == 5e-5 and isinstance(data["OPTIMIZATION"]["g_lr"], float)
        assert (data["OPTIMIZATION"]["beta1"], data["OPTIMIZATION"]["beta2"]) == (0.5, 0.999)
        assert data["OPTIMIZATION"]["batch_size"] == 64 and data["MODEL"]["z_dim"] == 128
        assert data["SLT"]["moments"] == {"extractors": ["vgg19_bn"], "bn_mode": "train", "ama": True,
                                          "ama_lr": 1e-5, "ama_betas": [0.5, 0.999], "ama_init": "zeros",
                                          "lr_schedule": "constant", "stats_batch_size": 64}
    assert slt["SLT"]["train_mode"] == "moment_matching" and slt["SLT"]["k"] == 0.1
    assert (slt["SLT"]["score_init"], slt["SLT"]["score_bound"], slt["SLT"]["bias_score_bound"]) == (
        "uniform", 0.1, 1.0)
    assert dense["SLT"] == {"train_mode": "dense_moment_matching", "moments": slt["SLT"]["moments"]}
    # the twins differ only in the SLT section, so a comparison of the two isolates the ticket search
    assert {k: v for k, v in slt.items() if k != "SLT"} == {k: v for k, v in dense.items() if k != "SLT"}


def test_train_with_a_preset_offline_stops_with_one_line(empty_hub, tmp_path):
    result = CliRunner().invoke(main, ["train", "-cfg", str(CONFIGS / PRESETS[0]), "-data", str(tmp_path / "d"),
                                       "-save", str(tmp_path / "runs")])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("Error: -cfg ") and VGG_FILE in result.stderr
    assert not (tmp_path / "runs").exists()  # validated before anything is written


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("digits/*.yaml")), ids=lambda p: p.name)
def test_digits_configs_turn_random_flips_off(path):
    assert _read(path)["PRE"]["apply_rflip"] is False


def test_training_on_digits_with_random_flips_warns(caplog, tmp_path):
    from types import SimpleNamespace as NS

    from studiogan_slt.studiogan.launch import _check_data

    (tmp_path / "train").mkdir()

    def cfgs(rflip):
        return NS(DATA=NS(name="DIGITS"), PRE=NS(apply_rflip=rflip),
                  RUN=NS(train=True, data_dir=str(tmp_path), eval_metrics=["none"]))

    _check_data(cfgs(False))
    assert not caplog.records
    _check_data(cfgs(True))
    assert "PRE.apply_rflip" in caplog.text and "apply_rflip: false" in caplog.text


def test_a_run_log_from_before_the_search_levers_converts_with_their_defaults():
    logged = {k: v for k, v in slt_section.validate({"k": 0.1}).items()
              if k not in ("learn_bn", "rerandomize", "k_schedule")}
    options = convert_options(logged)
    assert (options["learn_bn"], options["rerandomize"], options["k_schedule"]) == (False, None, None)
