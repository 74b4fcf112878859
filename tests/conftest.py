"""Fixtures shared by every test folder."""
import pytest


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
    import torch

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)  # forget a set_dir() made elsewhere
    return tmp_path / "torch" / "hub" / "checkpoints"
