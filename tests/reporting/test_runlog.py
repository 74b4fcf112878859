import pytest

from studiogan_slt.errors import SLTError
from studiogan_slt.reporting.runlog import find_runs, load_runs, parse_log
from tests.reporting.fakeruns import append_evaluation, write_run


def test_slt_run_best_evaluation_and_kept(tmp_path):
    path, kept = write_run(tmp_path, "CIFAR10-DCGAN-SLT-train-1", slt={"k": 0.1},
                           evals=[(500, 80.5, 4.1, 0.5, 0.1, 0.4, 0.2), (1000, 60.25, 5.0, 0.6, 0.2, 0.5, 0.3)],
                           final_evals=[(1000, 61.0, 5.1, 0.61, 0.21, 0.51, 0.31)])
    run = parse_log(path)
    assert run.name == "CIFAR10-DCGAN-SLT-train-1" and run.save_dir == str(tmp_path)
    assert run.masked and run.k == 0.1 and run.search == "adversarial" and not run.untrained
    assert (run.kept, run.total) == kept and 0.09 < kept[0] / kept[1] < 0.11
    assert len(run.evals) == 3 and run.finished and run.last_step == 1000
    assert run.best == {"step": 1000, "num_real": 10000, "num_fake": 10000, "IS": 5.0, "FID": 60.25, "Prec": 0.6,
                        "Rec": 0.2, "Dns": 0.5, "Cvg": 0.3, "ref": "train"}
    assert run.framework == "DCGAN" and run.metric("Cvg") == 0.3
    assert run.protocol["backbone"] == "InceptionV3_tf" and run.protocol["num_fake"] == 10000
    assert run.wall_seconds > 60


def test_dense_runs_and_ties(tmp_path):
    write_run(tmp_path, "a-dense", evals=[(10, 50.0), (20, 50.0)], with_is=False, num_real=296)
    write_run(tmp_path, "b-dmm", slt={"train_mode": "dense_moment_matching"}, evals=[(10, 30.0)])
    write_run(tmp_path, "c-plain", slt=False, evals=[(10, 40.0)])
    a, b, c = find_runs(tmp_path)
    assert not a.masked and a.k == 1.0 and a.slt["k"] == "N/A" and a.search == "adversarial" and a.kept is None
    assert a.best["step"] == 20 and a.best["num_fake"] == 296  # no IS line: fakes = reference size
    assert not b.masked and b.k == 1.0 and b.search == "moment_matching" and b.kept is None
    assert c.slt is None and not c.masked and c.k == 1.0 and c.best["FID"] == 40.0


def test_framework_drops_the_plugin_suffixes(tmp_path):
    names = {}
    for cfg in ("configs/CIFAR10/SNGAN-MM-dense.yaml", "configs/CIFAR10/SNGAN-MM-SLT.yaml", "BigGAN-DiffAug.yaml",
                "x/DCGAN_SLT.yaml"):
        path, _ = write_run(tmp_path, "r", cfg_file=cfg)
        names[cfg] = parse_log(path).framework
    assert list(names.values()) == ["SNGAN", "SNGAN", "BigGAN-DiffAug", "DCGAN"]


def test_appended_evaluation_keeps_its_own_reference_split(tmp_path):
    path, _ = write_run(tmp_path, "r", slt={"k": 0.3}, evals=[(10, 50.0)], num_real=50000)
    append_evaluation(path, "r", 10, (20.0,), num_real=10000, ref="test")
    run = parse_log(path)
    assert run.best["FID"] == 20.0 and run.finished
    assert run.protocol["ref"] == "test" and run.protocol["num_real"] == run.protocol["num_fake"] == 10000
    assert run.cfg("RUN", "ref_dataset") == "train"


def test_untrained_control_and_side_metrics(tmp_path):
    write_run(tmp_path, "ctrl", slt={"k": 0.1, "train_mode": "moment_matching"}, g_lr=0,
              extra_json={"fid": 123.5, "hist_tv": 0.4})
    (run,) = load_runs([tmp_path])
    assert run.untrained and run.best is None and run.metric("FID") is None and run.kept is not None
    assert run.metric("digits_FID") == 123.5 and run.metric("digits_hist_tv") == 0.4


def test_imagenet_fake_count_rule(tmp_path):
    path, _ = write_run(tmp_path, "inet", dataset="Baby_ImageNet", evals=[(1, 40.0)], with_is=False,
                        num_real=100000)
    assert parse_log(path).best["num_fake"] == 50000


def test_user_errors_are_one_line(tmp_path):
    with pytest.raises(SLTError, match="no such folder"):
        find_runs(tmp_path / "missing")
    with pytest.raises(SLTError, match="no logs"):
        find_runs(tmp_path)
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "x.log").write_text("hello\n")
    with pytest.raises(SLTError, match="not a StudioGAN run log"):
        find_runs(tmp_path)
    # `eval -ckpt` with another -save starts a log there with no config dump
    append_evaluation(tmp_path / "logs" / "x.log", "x", 10, (20.0,), num_real=296, ref="train")
    with pytest.raises(SLTError, match="only what `eval`/resuming with -ckpt appended, without the run's config"):
        find_runs(tmp_path)
