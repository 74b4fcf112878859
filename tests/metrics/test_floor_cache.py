"""The real-vs-real floors are computed once per evaluation network: kept in the process and in the user cache,
keyed by the network's weights and the floors' version."""
import json

import pytest
import torch

from studiogan_slt.metrics import digits_eval, digits_metrics


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty user cache and empty in-process caches (restored afterwards)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(digits_metrics, "_floors", {})
    monkeypatch.setattr(digits_metrics, "_references", {})


def _untrained(seed):
    """A network of the evaluation network's architecture: the floors need its features, not its accuracy."""
    torch.manual_seed(seed)
    return digits_eval.build().eval()


def _refuse(*args):
    raise AssertionError("the floors were computed again")


def test_floors_are_computed_once_and_read_back_from_the_user_cache(fresh_cache, monkeypatch):
    net = _untrained(0)
    first = digits_metrics.floors(net)
    path = digits_metrics.floors_path(digits_metrics.network_digest(net))
    assert json.loads(path.read_text()) == first
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind
    monkeypatch.setattr(digits_metrics, "_compute_floors", _refuse)
    assert digits_metrics.floors(net) is first  # the process's copy
    monkeypatch.setattr(digits_metrics, "_floors", {})
    assert digits_metrics.floors(net) == first  # the file's, in a new process


def test_another_network_or_a_broken_file_computes_them_again(fresh_cache):
    net, other = _untrained(0), _untrained(1)
    floors = digits_metrics.floors(net)
    assert digits_metrics.network_digest(net) != digits_metrics.network_digest(other)
    assert digits_metrics.floors(other) != floors
    path = digits_metrics.floors_path(digits_metrics.network_digest(net))
    path.write_text('{"fid": [')  # a file cut short
    digits_metrics._floors.clear()
    assert digits_metrics.floors(net) == floors and json.loads(path.read_text()) == floors


def test_the_digest_follows_the_weights_not_the_object():
    a, b = _untrained(0), _untrained(0)
    assert digits_metrics.network_digest(a) == digits_metrics.network_digest(b)
    with torch.no_grad():
        b[0].weight[0, 0, 0, 0] += 1e-6
    assert digits_metrics.network_digest(a) != digits_metrics.network_digest(b)
