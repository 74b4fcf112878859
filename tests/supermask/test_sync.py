"""A training step's mask selection never reads a device value back to the host.

On a CUDA device every such read (.item(), int(tensor), bool(tensor), a data-dependent shape) is a host-device
synchronisation that stalls the step. The proxy that runs everywhere: the same forward+backward on the meta device,
which takes the accelerators' selection and has no values at all, so any read raises; on CUDA, torch's sync debug
mode turns any synchronisation into an error.
"""
import pytest
import torch
from torch import nn
from torch.nn.utils import spectral_norm

from studiogan_slt import convert

from tests.supermask.models import make_zoo, zoo_input

def _training_step(model, x):
    out = model(x)
    out.square().mean().backward()
    return out


@pytest.mark.parametrize("scope", ["layer", "global"])
def test_selection_reads_nothing_back_on_meta(scope):
    model = convert(make_zoo(), 0.1, scope=scope).to("meta")
    out = _training_step(model, zoo_input().to("meta"))
    assert out.device.type == "meta"
    assert all(p.grad is not None for n, p in model.named_parameters() if n.endswith("scores"))


@pytest.mark.parametrize("read", [lambda t: int(t.sum()), lambda t: bool(t.any()), lambda t: t.sum().item(),
                                  lambda t: t[t > 0], lambda t: t.nonzero()],
                         ids=["int", "bool", "item", "boolean index", "nonzero"])
def test_the_proxy_catches_every_kind_of_read(read):
    with pytest.raises((RuntimeError, NotImplementedError)):
        read(torch.ones(3, device="meta"))


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
