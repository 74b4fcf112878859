"""A training step's mask selection never reads a device value back to the host.

On a CUDA device every such read (.item(), int(tensor), bool(tensor), a data-dependent shape) is a host-device
synchronisation that stalls the step. The proxy that runs everywhere: the same forward+backward on the meta device,
which takes the accelerators' selection and has no values at all, so any read raises, with the Python conversions
counted on top; on CUDA, torch's sync debug mode turns any synchronisation into an error.
"""
import pytest
import torch
from torch import nn
from torch.nn.utils import spectral_norm

from studiogan_slt import convert

from tests.supermask.models import make_zoo, zoo_input

CONVERSIONS = ("item", "tolist", "__int__", "__float__", "__bool__", "__index__")


def _training_step(model, x):
    out = model(x)
    out.square().mean().backward()
    return out


@pytest.fixture
def conversions(monkeypatch):
    calls = []
    for name in CONVERSIONS:
        real = getattr(torch.Tensor, name)
        monkeypatch.setattr(torch.Tensor, name,
                            lambda self, *a, _real=real, _name=name, **kw: calls.append(_name) or _real(self, *a, **kw))
    return calls


@pytest.mark.parametrize("scope", ["layer", "global"])
def test_selection_reads_nothing_back_on_meta(conversions, scope):
    model = convert(make_zoo(), 0.1, scope=scope).to("meta")
    x = zoo_input().to("meta")
    conversions.clear()
    out = _training_step(model, x)
    assert conversions == [] and out.device.type == "meta"


def test_the_proxy_catches_a_read(conversions):
    with pytest.raises(RuntimeError, match="meta"):
        int(torch.ones(3, device="meta").sum())
    assert conversions == ["__int__"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("scope", ["layer", "global"])
def test_selection_never_synchronises_on_cuda(scope):
    # no Embedding here: its CUDA backward synchronises by itself, whatever the masks do
    torch.manual_seed(0)
    generator = nn.Sequential(nn.Linear(16, 24 * 16), nn.Unflatten(1, (24, 4, 4)), nn.ConvTranspose2d(24, 13, 4, 2, 1),
                              nn.BatchNorm2d(13), nn.ReLU(), spectral_norm(nn.Conv2d(13, 3, 3, padding=1)))
    model = convert(generator, 0.1, scope=scope).cuda()
    x = torch.randn(4, 16, device="cuda")
    _training_step(model, x)  # the first step's lazy CUDA initialisations may synchronise
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p))  # new scores (a version bump): the next step selects again
    torch.cuda.set_sync_debug_mode("error")
    try:
        _training_step(model, x)
    finally:
        torch.cuda.set_sync_debug_mode("default")
