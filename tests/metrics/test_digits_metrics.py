"""`studiogan-slt digits-fid`'s train-split FID, KID and real-vs-real floors, on the digits data the project builds
(`studiogan-slt data digits`, the `digits` fixture), through the CLI and into `compare`/`plot`."""
import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner

from studiogan_slt.cli import main
from tests.metrics.digits_cli import TRAIN_SIZE, VALID_SIZE, run_digits_fid, write_images
from tests.reporting.fakeruns import write_run


def _json(*args):
    result = run_digits_fid(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def train_scores(net, digits):
    """The train split scored as if generated: the train-split metrics compare it with itself."""
    return _json(digits / "train", "--net", net)


def test_floors_are_real_against_real(train_scores):
    floors = train_scores["floors"]
    (valid_floor,) = floors["fid"]
    assert (valid_floor["num_fake"], valid_floor["num_real"], valid_floor["samples"]) == (VALID_SIZE, VALID_SIZE, 5)
    assert 5 < valid_floor["value"] < 80 and valid_floor["std"] > 0
    held_out, halves = floors["fid_train"]
    assert (held_out["num_fake"], held_out["num_real"], held_out["std"]) == (VALID_SIZE, TRAIN_SIZE, None)
    assert (halves["num_fake"], halves["num_real"]) == (750, 751) and halves["std"] > 0
    assert 0 < held_out["value"] < valid_floor["value"] and 0 < halves["value"] < valid_floor["value"]
    # KID is unbiased: real against real lies near 0, well inside the noise a generator's score is read against
    assert all(abs(f["value"]) < 0.05 for f in [*floors["kid"], *floors["kid_valid"]])
    (held_out_kid,) = floors["kid_valid"]
    assert (held_out_kid["num_fake"], held_out_kid["num_real"], held_out_kid["samples"]) == (VALID_SIZE,) * 2 + (5,)
    # real digits held out of the train split lie as far from it as the valid split does
    (memorisation,) = floors["memorisation"]
    assert 0.85 < memorisation["value"] < 1.15 and 0 < memorisation["std"] < 0.1


def test_memorisation_sees_copies_of_the_train_split_and_not_unseen_digits(train_scores, net, digits):
    """Scoring the train split as if generated is the perfect copier: each image finds itself at distance 0. The
    held-out metrics are the ones that see it; the held-out KID does not reward it either."""
    assert train_scores["memorisation"] < 0.1
    assert abs(train_scores["kid_valid"]) < 0.05 and train_scores["kid_valid_std"] > 0
    unseen = _json(digits / "valid", "--net", net)
    assert unseen["memorisation"] == pytest.approx(1.0)  # the valid split is the ratio's own yardstick
    assert unseen["memorisation"] > 10 * train_scores["memorisation"]


def test_train_split_metrics_of_the_train_split_itself(train_scores):
    r = train_scores
    assert (r["num_fake_train"], r["num_train"]) == (TRAIN_SIZE, TRAIN_SIZE)
    assert abs(r["fid_train"]) < 1e-3  # the same 1,501 images as the reference
    assert abs(r["kid"]) < 0.05 and r["kid_std"] > 0
    assert r["num_fake"] == VALID_SIZE and r["classes_covered"] == 10  # the valid-split FID is still there


def test_noise_scores_far_above_every_floor(net, digits, train_scores, tmp_path):
    rng = np.random.default_rng(0)
    noise = write_images(tmp_path / "noise", rng.integers(0, 256, (TRAIN_SIZE, 32, 32, 3), dtype=np.uint8))
    result = run_digits_fid(noise, "--net", net)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1].startswith("train-split FID ") and f"({TRAIN_SIZE} generated vs {TRAIN_SIZE} train" in lines[1]
    assert lines[2].startswith("KID ") and "real-vs-real" in lines[2]
    assert lines[3].startswith("held-out KID ") and f"({TRAIN_SIZE} generated vs {VALID_SIZE} valid" in lines[3]
    assert lines[4].startswith("memorisation ratio ") and lines[5].startswith("class histogram")
    bad = _json(noise, "--net", net)
    assert bad["floors"] == train_scores["floors"]  # the floors depend on the network only
    assert bad["fid_train"] > 10 * max(f["value"] for f in bad["floors"]["fid_train"])
    assert bad["kid"] > 20 * max(abs(f["value"]) for f in bad["floors"]["kid"])
    assert bad["kid_valid"] > 20 * abs(bad["floors"]["kid_valid"][0]["value"])
    assert bad["memorisation"] > 1.5  # noise lies farther from every digit than unseen digits do


def test_fewer_images_than_the_train_split_skip_its_fid(net, digits):
    result = run_digits_fid(digits / "valid", "--net", net)
    assert result.exit_code == 0, result.output
    assert f"train-split FID: not computed, {VALID_SIZE} generated images (it needs {TRAIN_SIZE})" in result.stdout
    r = _json(digits / "valid", "--net", net)
    assert r["fid_train"] is None and r["num_fake_train"] == VALID_SIZE and np.isfinite(r["kid"])


def test_compare_and_plot_read_the_new_metrics(net, digits, tmp_path):
    write_run(tmp_path, "run", dataset="DIGITS", slt={"k": 0.1})
    out = tmp_path / "statistics" / "run" / "digits_fid.json"
    out.parent.mkdir(parents=True)
    assert run_digits_fid(digits / "train", "--net", net, "--out", out).exit_code == 0
    saved = json.loads(out.read_text())
    summary = json.loads(CliRunner().invoke(main, ["compare", str(tmp_path), "--json"]).stdout)[0]
    assert summary["metrics"]["digits_train_FID"] == saved["fid_train"]
    assert (summary["metrics"]["digits_KID"], summary["metrics"]["digits_KID_std"]) == (saved["kid"],
                                                                                        saved["kid_std"])
    for metric, key in (("digits_KID", "kid"), ("digits_train_FID", "fid_train")):
        result = CliRunner().invoke(main, ["plot", str(tmp_path), "--metric", metric, "-o", tmp_path / "f.png",
                                           "--csv", tmp_path / "f.csv"])
        assert result.exit_code == 0, result.output
        (row,) = csv.DictReader(open(tmp_path / "f.csv"))
        assert (row["metric"], float(row["value"])) == (metric, pytest.approx(saved[key]))


@pytest.mark.parametrize("shape", [(VALID_SIZE, 64, 64, 3), (VALID_SIZE, 32, 32), (VALID_SIZE, 32, 32, 4)])
def test_images_of_another_shape_are_one_line(net, shape):
    """e.g. the samples of a 64x64 ticket: refused before they reach the network's convolutions."""
    from studiogan_slt.errors import SLTError
    from studiogan_slt.metrics import digits_eval, digits_metrics

    with pytest.raises(SLTError, match=r"32x32 images with 1 or 3 channels.*" + str(shape[1:]).replace("(", r"\(")
                       .replace(")", r"\)")):
        digits_metrics.score(np.zeros(shape, np.uint8), digits_eval.load_eval_net(net))
