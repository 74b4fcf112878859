"""CUDA correctness: the same scores select the same mask on CPU and GPU, and tickets cross devices exactly.

Skipped without a GPU; benchmarks/gpu_check.sh runs them first on a GPU machine.
"""
import pytest
import torch
from torch import nn

from studiogan_slt import convert, load_ticket, masks, materialize, save_ticket
from studiogan_slt.ticket.save_load import read_ticket
from studiogan_slt.supermask.parametrize import kept_count, topk_mask

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _generator():
    return nn.Sequential(nn.Linear(16, 4 * 4 * 24), nn.Unflatten(1, (24, 4, 4)),
                         nn.ConvTranspose2d(24, 13, 4, 2, 1), nn.BatchNorm2d(13), nn.ReLU(),
                         nn.Conv2d(13, 3, 3, padding=1), nn.Tanh())


def _converted(device):
    torch.manual_seed(0)
    return convert(_generator(), 0.1, weight_init="kaiming_normal", bias_init="uniform", seed=3).to(device)


@pytest.mark.parametrize("n", [1, 7, 1000, (1 << 16) + 3, 300_001])
def test_kept_counts_and_masks_match_cpu(n):
    g = torch.Generator().manual_seed(n)
    for scores in (torch.randn(n, generator=g), torch.randint(0, 5, (n,), generator=g).float()):  # ties
        kept = kept_count(n, 0.1)
        cpu, gpu = topk_mask(scores, kept), topk_mask(scores.cuda(), kept)
        assert int(gpu.sum()) == kept
        assert torch.equal(cpu, gpu.cpu())


def test_straight_through_gradient_matches_cpu():
    z = torch.randn(8, 16, generator=torch.Generator().manual_seed(1))
    grads = []
    for device in ("cpu", "cuda"):
        model = _converted(device)
        model(z.to(device)).square().mean().backward()
        grads.append({n: p.grad.cpu() for n, p in model.named_parameters() if n.endswith("scores")})
    assert grads[0].keys() == grads[1].keys() and grads[0]
    for name in grads[0]:
        torch.testing.assert_close(grads[1][name], grads[0][name], rtol=1e-4, atol=1e-6)


def test_seeded_weights_do_not_depend_on_the_device():
    cpu, gpu = materialize(_converted("cpu")).state_dict(), materialize(_converted("cuda")).state_dict()
    assert cpu.keys() == gpu.keys()
    for name in cpu:
        assert torch.equal(cpu[name], gpu[name].cpu()), name


def _trained(device):
    model = _converted(device)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.05)
    z = torch.randn(8, 16, generator=torch.Generator().manual_seed(2)).to(device)
    for _ in range(3):
        opt.zero_grad()
        model(z).square().mean().backward()
        opt.step()
    return model.eval()


@pytest.mark.parametrize("trained_on, loaded_on", [("cuda", "cpu"), ("cpu", "cuda")])
def test_ticket_crosses_devices_bit_identically(tmp_path, trained_on, loaded_on):
    model = _trained(trained_on)
    path = tmp_path / "g.slt"
    save_ticket(model, path)
    loaded = load_ticket(path, model=_generator().to(loaded_on))
    assert all(p.device.type == loaded_on for p in loaded.parameters())
    want, got = masks(model), read_ticket(path).masks
    assert want.keys() == got.keys() and all(torch.equal(want[n].cpu(), got[n]) for n in want)
    a, b = materialize(model).state_dict(), loaded.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[n].cpu(), b[n].cpu()) for n in a)
    z = torch.randn(4, 16, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        assert torch.equal(model.to("cpu")(z), loaded.to("cpu")(z))
