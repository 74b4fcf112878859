"""The digits evaluation network, trained once per test session (about 10-25 s) by `digits-fid` itself."""
import json

import pytest

from tests.metrics.digits_cli import VALID_SIZE, run_digits_fid


@pytest.fixture(scope="session")
def net(tmp_path_factory, digits):
    """Trains the network into a missing --net file; scoring the valid split against itself must give 0."""
    path = tmp_path_factory.mktemp("net") / "eval.pt"
    result = run_digits_fid(digits / "valid", "--net", path, "--json")
    assert result.exit_code == 0, result.output
    assert "trained the digits evaluation network" in result.stderr and path.is_file()
    same = json.loads(result.stdout)
    assert abs(same["fid"]) < 1e-3 and same["hist"] == same["reference_hist"] and same["hist_tv"] == 0
    assert (same["num_fake"], same["num_real"], same["classes_covered"]) == (VALID_SIZE, VALID_SIZE, 10)
    return path
