"""The digits evaluation network, trained once per test session (about 10-25 s) by `digits-fid` itself
(tests/conftest.py: digits_networks)."""
import json

import pytest

from tests.metrics.digits_cli import VALID_SIZE


@pytest.fixture(scope="session")
def net(digits_networks):
    """The session's network, trained into the missing default file by `digits-fid` (tests/conftest.py); scoring the
    valid split against itself must give 0."""
    result = digits_networks.first_use
    assert result.exit_code == 0, result.output
    assert "trained the digits evaluation network" in result.stderr and digits_networks.evaluation.is_file()
    same = json.loads(result.stdout)
    assert abs(same["fid"]) < 1e-3 and same["hist"] == same["reference_hist"] and same["hist_tv"] == 0
    assert (same["num_fake"], same["num_real"], same["classes_covered"]) == (VALID_SIZE, VALID_SIZE, 10)
    return digits_networks.evaluation
