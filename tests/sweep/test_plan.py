"""Planning a sweep (no StudioGAN): the points, their YAMLs and names, dense points per search mode, user errors,
and the rule that a finished point is reused only for the same YAML and flags."""
import json

import pytest
import yaml
from click.testing import CliRunner

from studiogan_slt.cli import main
from studiogan_slt.cli.sweep import _take_values
from studiogan_slt.errors import SLTError
from studiogan_slt.studiogan.section import slt_section
from studiogan_slt.studiogan.section.values import masks_generator, moment_step
from studiogan_slt.sweep.plan import plan, write_yaml
from studiogan_slt.sweep.point import DONE, PointJob, check_reusable

BASE = {"DATA": {"name": "DIGITS", "img_size": 32, "num_classes": 10}, "OPTIMIZATION": {"total_steps": 5}}
MOMENTS = {"extractors": [{"network": "studiogan_slt.metrics.digits_net:digits_cnn"}], "ama": False}


def _cfg(tmp_path, name, slt):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({**BASE, **({"SLT": slt} if slt else {})}))
    return str(path)


def test_adversarial_grid_names_and_sections(tmp_path):
    cfg = _cfg(tmp_path, "DCGAN-SLT", {"k": 0.1, "bias_init": "uniform"})
    points = plan(cfg, [0.5, 0.05], [0, 2], dense=True)
    assert [p.name for p in points] == ["DCGAN-SLT-dense-s0", "DCGAN-SLT-dense-s2", "DCGAN-SLT-k0.5-s0",
                                        "DCGAN-SLT-k0.5-s2", "DCGAN-SLT-k0.05-s0", "DCGAN-SLT-k0.05-s2"]
    dense, slt = points[0], points[-1]
    assert "SLT" not in dense.sections and not dense.masked and dense.sections["DATA"] == BASE["DATA"]
    assert slt.masked and slt.seed == 2 and slt.sections["SLT"] == {"k": 0.05, "bias_init": "uniform", "seed": 2}
    # every point's YAML is a valid StudioGAN config with the values planned
    write_yaml(slt, tmp_path / "p.yaml")
    values = slt_section.load(tmp_path / "p.yaml")
    assert (values["k"], values["seed"], values["bias_init"]) == (0.05, 2, "uniform")
    write_yaml(dense, tmp_path / "d.yaml")
    assert not masks_generator(slt_section.load(tmp_path / "d.yaml"))


def test_adversarial_dense_point_keeps_the_digits_metric(tmp_path):
    # the dense reference scores itself the same way as the search; a section of only the metric is a dense run
    cfg = _cfg(tmp_path, "DCGAN", {"k": 0.1, "bias_init": "uniform", "digits_metric": "kid"})
    (dense,) = plan(cfg, [], [0], dense=True)
    assert dense.sections["SLT"] == {"digits_metric": "kid"}
    write_yaml(dense, tmp_path / "d.yaml")
    values = slt_section.load(tmp_path / "d.yaml")
    assert values["digits_metric"] == "kid" and not masks_generator(values)
    # any other key without k is still a search missing its k
    with pytest.raises(SLTError, match="SLT.k: required"):
        slt_section.validate({"digits_metric": "kid", "bias_init": "uniform"})


def test_mixed_search_dense_point_keeps_the_moment_loss(tmp_path):
    # the dense reference of adversarial + moment loss trains with the same loss: a section without k, of moments
    mixed = {**MOMENTS, "weight": 10.0}
    cfg = _cfg(tmp_path, "DCGAN", {"k": 0.1, "moments": mixed, "digits_metric": "kid"})
    (dense,) = plan(cfg, [], [0], dense=True)
    assert dense.sections["SLT"] == {"moments": mixed, "digits_metric": "kid"}
    write_yaml(dense, tmp_path / "d.yaml")
    values = slt_section.load(tmp_path / "d.yaml")
    assert not masks_generator(values) and moment_step(values)
    assert values["moments"]["weight"] == 10.0


def test_moment_matching_dense_point_keeps_the_loss(tmp_path):
    cfg = _cfg(tmp_path, "MM", {"k": 0.1, "train_mode": "moment_matching", "weight_init": "signed_kaiming_constant",
                                "moments": MOMENTS})
    (dense,) = plan(cfg, [], [1], dense=True)
    assert dense.sections["SLT"] == {"train_mode": "dense_moment_matching", "moments": MOMENTS}
    write_yaml(dense, tmp_path / "d.yaml")
    values = slt_section.load(tmp_path / "d.yaml")
    assert values["train_mode"] == "dense_moment_matching" and not masks_generator(values)


def test_dense_cfg_is_used_as_written(tmp_path):
    cfg = _cfg(tmp_path, "MM-SLT", {"k": 0.1})
    dense_cfg = _cfg(tmp_path, "MM-dense", None)
    points = plan(cfg, [0.1], [0], dense=True, dense_cfg=dense_cfg)
    assert [p.name for p in points] == ["MM-dense-s0", "MM-SLT-k0.1-s0"]
    assert points[0].sections == BASE


@pytest.mark.parametrize("ks, seeds, dense, message", [
    ([], [0], False, "nothing to run"),
    ([1.5], [0], False, "--k 1.5 is not allowed"),
    ([0.1, 0.1], [0], False, "distinct"),
    ([0.1], [0, 0], False, "distinct"),
])
def test_plan_errors(tmp_path, ks, seeds, dense, message):
    with pytest.raises(SLTError, match=message):
        plan(_cfg(tmp_path, "A", {"k": 0.1}), ks, seeds, dense=dense)


def test_k_needs_a_search(tmp_path):
    with pytest.raises(SLTError, match="--k needs a YAML whose SLT section searches"):
        plan(_cfg(tmp_path, "dense", None), [0.1], [0])


def test_take_values_stops_at_the_next_flag():
    ks, rest = _take_values(["--k", "0.5", "0.1", "-metrics", "fid", "is", "--seeds", "0", "1"], "--k", float)
    assert ks == [0.5, 0.1] and rest == ["-metrics", "fid", "is", "--seeds", "0", "1"]
    seeds, rest = _take_values(rest, "--seeds", int)
    assert seeds == [0, 1] and rest == ["-metrics", "fid", "is"]


@pytest.mark.parametrize("args, message", [
    (["--k"], "need numbers after them"),
    (["--k", "0.1", "--seed", "3"], "--seed: the sweep sets this"),
    (["--k", "0.1", "-ckpt", "x"], "-ckpt: the sweep sets this"),
    (["--k", "0.1", "--dense-cfg", "CFG"], "add --dense"),
])
def test_cli_user_errors_are_one_line(tmp_path, args, message):
    cfg = _cfg(tmp_path, "A", {"k": 0.1})
    args = [cfg if a == "CFG" else a for a in args]
    result = CliRunner().invoke(main, ["sweep", "-cfg", cfg, "-data", str(tmp_path), "-save", str(tmp_path / "s"),
                                       *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_finished_point_is_reused_only_with_the_same_yaml_and_flags(tmp_path):
    (point,) = plan(_cfg(tmp_path, "A", {"k": 0.1}), [0.1], [0])
    job = PointJob(point=point, folder=str(tmp_path / point.name), data="d", train_flags=("-metrics", "none"))
    assert check_reusable(job) is None
    (tmp_path / point.name).mkdir()
    (tmp_path / point.name / DONE).write_text(json.dumps({"fingerprint": job.fingerprint}))
    assert check_reusable(job) is not None
    other = PointJob(point=point, folder=job.folder, data="d", train_flags=("-metrics", "fid"))
    with pytest.raises(SLTError, match="another YAML or other flags"):
        check_reusable(other)
