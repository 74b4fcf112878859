"""Fixtures shared by every test folder, and the slow tier's timeout."""
import sys
from collections import namedtuple
from pathlib import Path

import pytest

# A slow test's module fixture trains StudioGAN for up to about 20 minutes (test_shipped_configs.py) inside the
# first test that asks for it; the fast tier keeps setup.cfg's timeout.
SLOW_TIMEOUT = 2400


@pytest.fixture(scope="session")
def study_cli():
    """benchmarks/ on sys.path, where the study scripts import each other by module name, and its study_cli."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import study_cli

    return study_cli


@pytest.fixture(scope="session")
def study_rules(study_cli):
    """benchmarks/study_rules.py, importable once study_cli has put benchmarks/ on sys.path."""
    import study_rules

    return study_rules


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT))


@pytest.fixture(scope="session", autouse=True)
def user_cache(tmp_path_factory):
    """A user cache of the session's own (XDG_CACHE_HOME, inherited by every process a test starts): what the
    plugin makes on first use (digits networks, data set, StudioGAN clone) costs a run on a clean machine what it
    costs on a developer's, and never lands in the user's ~/.cache."""
    patch = pytest.MonkeyPatch()
    patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("user_cache")))
    yield
    patch.undo()


Networks = namedtuple("Networks", "extractor evaluation first_use")


@pytest.fixture(scope="session")
def digits_networks(user_cache, digits):
    """The built-in extractor and the digits evaluation network, trained once per session in the session's user
    cache as on a user's first use: the evaluation network by a first `digits-fid` (the valid split against itself),
    whose result (`first_use`) tests/metrics checks. The files are for tests that need a cache of their own."""
    from click.testing import CliRunner

    from studiogan_slt.cli import main
    from studiogan_slt.metrics import digits_eval, digits_net

    extractor = digits_net.cached_weights(log=lambda line: None)
    first_use = CliRunner().invoke(main, ["digits-fid", str(digits / "valid"), "--json"])
    return Networks(extractor, digits_eval.default_cache_path(), first_use)


@pytest.fixture(scope="session")
def digits(tmp_path_factory):
    """The built-in digits data set as an ImageFolder (train/ and valid/, one folder per class)."""
    from studiogan_slt.data.digits import write_digits

    out = tmp_path_factory.mktemp("digits")
    write_digits(out)
    return out


@pytest.fixture
def empty_hub(tmp_path, monkeypatch):
    """An empty torch hub cache, as on a machine that cannot download weights; returns its checkpoints folder."""
    import urllib.error

    import torch

    def refused(url, *args, **kwargs):
        raise urllib.error.URLError("no network in this test")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)  # forget a set_dir() made elsewhere
    monkeypatch.setattr(torch.hub, "download_url_to_file", refused)
    return tmp_path / "torch" / "hub" / "checkpoints"


@pytest.fixture(scope="session")
def random_vgg19_bn(tmp_path_factory):
    """A vgg19_bn state_dict with seeded random weights, saved as torchvision names the ImageNet file: the loading
    code is the real one, but its features are not ImageNet's."""
    import torch
    from torchvision.models import vgg19_bn

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("vgg") / "vgg19_bn-c79401a0.pth"
    torch.save(vgg19_bn().state_dict(), path)
    return path


@pytest.fixture
def builtin_extractor(tmp_path, monkeypatch):
    """The built-in extractor's weights already in an empty user cache (untrained: validation only loads them)."""
    import torch

    from studiogan_slt.metrics import digits_net

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = digits_net.cached_weights_path()
    path.parent.mkdir(parents=True)
    torch.save(digits_net.digits_cnn().state_dict(), path)
    return path


@pytest.fixture
def vgg19_bn_in_hub(empty_hub, random_vgg19_bn):
    """random_vgg19_bn in an empty torch hub cache, where torchvision looks for the ImageNet file."""
    empty_hub.mkdir(parents=True)
    (empty_hub / random_vgg19_bn.name).symlink_to(random_vgg19_bn)
    return empty_hub / random_vgg19_bn.name
