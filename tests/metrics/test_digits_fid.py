"""`studiogan-slt digits-fid` on folders of images: the valid-split FID and the class histogram (the train-split
metrics and the floors: test_digits_metrics.py). The evaluation network is the session's (conftest.py)."""
import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from studiogan_slt.cli import main
from studiogan_slt.metrics.digits_eval import DEFAULT_NETWORK, NETWORKS
from tests.metrics.digits_cli import VALID_SIZE
from tests.metrics.digits_cli import run_digits_fid as _fid
from tests.metrics.digits_cli import write_images as _images
from tests.reporting.fakeruns import write_run


def test_real_digits_score_low_and_noise_high(net, digits, tmp_path):
    result = _fid(digits / "train", "--net", net, "--json")
    assert result.exit_code == 0, result.output
    assert "trained" not in result.stderr  # the cached network is reused
    real = json.loads(result.stdout)
    assert real["num_fake"] == VALID_SIZE and real["classes_covered"] == 10 and real["hist_tv"] < 0.15
    assert 0 < real["fid"] < 150

    rng = np.random.default_rng(0)
    noise = _images(tmp_path / "noise", rng.integers(0, 256, (VALID_SIZE, 32, 32, 3), dtype=np.uint8))
    constant = _images(tmp_path / "constant", np.zeros((VALID_SIZE, 32, 32, 3), np.uint8))
    for folder in (noise, constant):
        result = _fid(folder, "--net", net, "--json")
        assert result.exit_code == 0, result.output
        bad = json.loads(result.stdout)
        assert np.isfinite(bad["fid"]) and bad["fid"] > 10 * real["fid"] and bad["hist_tv"] > 0.3
    assert bad["classes_covered"] == 1  # a constant image has one class


def test_out_file_is_picked_up_by_compare(net, digits, tmp_path):
    write_run(tmp_path, "run", dataset="DIGITS", slt={"k": 0.1})
    out = tmp_path / "statistics" / "run" / "digits_fid.json"
    out.parent.mkdir(parents=True)
    result = _fid(digits / "train", "--net", net, "--out", out)
    assert result.exit_code == 0, result.output
    fid = json.loads(out.read_text())["fid"]
    assert result.stdout.startswith(f"digits FID {fid:.3f} ({VALID_SIZE} generated vs {VALID_SIZE} valid images)")
    summary = json.loads(CliRunner().invoke(main, ["compare", str(tmp_path), "--json"]).stdout)[0]
    assert summary["metrics"]["digits_FID"] == fid


def test_user_errors_are_one_line(net, digits, tmp_path):
    few = _images(tmp_path / "few", np.zeros((10, 32, 32, 3), np.uint8))
    small = _images(tmp_path / "small", np.zeros((VALID_SIZE, 16, 16, 3), np.uint8))
    corrupt, empty, other = tmp_path / "corrupt.pt", tmp_path / "empty.pt", tmp_path / "other.pt"
    corrupt.write_bytes(b"not a network")
    empty.write_bytes(b"")
    torch.save({"weight": torch.zeros(3)}, other)
    valid = digits / "valid"
    for args, message in (((few, "--net", net), f"10 images, the metric needs at least {VALID_SIZE}"),
                          ((small, "--net", net), "16x16 pixels; the digits metric needs 32x32 images"),
                          ((valid, "--net", corrupt), "not a digits evaluation network (not a readable state_dict"),
                          ((valid, "--net", empty), "not a digits evaluation network (not a readable state_dict"),
                          ((valid, "--net", other), "not the digits evaluation network 'lenet' (Error(s) in loading"),
                          ((few, "--net", net, "--out", tmp_path / "missing" / "x.json"), "does not exist")):
        result = _fid(*args)
        assert result.exit_code == 2 and message in result.output, result.output
        if "does not exist" not in message:
            assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: ")


@pytest.mark.parametrize("network", [n for n in NETWORKS if n != DEFAULT_NETWORK])
def test_each_other_evaluation_network_scores_the_same_way(network, net, digits, tmp_path):
    """--network strided or mlp: another architecture and seed, trained into its own file; the same metrics, its own
    floors, and real digits still score far better than noise under it."""
    other = tmp_path / f"{network}.pt"
    result = _fid(digits / "train", "--net", other, "--network", network, "--json")
    assert result.exit_code == 0, result.output
    assert f"trained the digits evaluation network '{network}'" in result.stderr
    scored = json.loads(result.stdout)
    lenet = json.loads(_fid(digits / "train", "--net", net, "--json").stdout)
    assert (scored["network"], lenet["network"]) == (NETWORKS[network][2], "lenet-elu-v1")
    assert scored["floors"] != lenet["floors"] and scored["classes_covered"] == 10
    noise = _images(tmp_path / "noise", np.random.default_rng(0).integers(0, 256, (VALID_SIZE, 32, 32, 3),
                                                                           dtype=np.uint8))
    bad = json.loads(_fid(noise, "--net", other, "--network", network, "--json").stdout)
    assert bad["fid"] > 5 * scored["floors"]["fid"][0]["value"] and bad["memorisation"] > 1.5
    # a file of the other network is refused in one line, not loaded into the wrong layers
    refused = _fid(digits / "valid", "--net", net, "--network", network)
    assert refused.exit_code == 2 and f"not the digits evaluation network '{network}'" in refused.output
