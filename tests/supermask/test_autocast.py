"""Mixed precision (StudioGAN's -mpc): under autocast the scores stay fp32, the selection is the exact fp32 one and
a ticket is the same as without autocast. CPU autocast (bfloat16) here; tests/gpu covers CUDA devices."""
import torch
from torch import nn

from studiogan_slt import convert, masks
from studiogan_slt.supermask.parametrize import kept_count, topk_mask
from studiogan_slt.ticket.save_load import encode


def _model():
    torch.manual_seed(0)
    g = nn.Sequential(nn.Linear(16, 4 * 4 * 24), nn.Unflatten(1, (24, 4, 4)), nn.ConvTranspose2d(24, 13, 4, 2, 1),
                      nn.BatchNorm2d(13), nn.ReLU(), nn.Conv2d(13, 3, 3, padding=1), nn.Tanh())
    return convert(g, 0.1, weight_init="kaiming_normal", bias_init="uniform", seed=3)


def _train(autocast):
    model = _model()
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.05)
    z = torch.randn(8, 16, generator=torch.Generator().manual_seed(2))
    for _ in range(3):
        opt.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            out = model(z)
            selected = {n: m.clone() for n, m in masks(model).items()}
        scores = dict(model.named_parameters())
        fp32 = {n: topk_mask(scores["{}.parametrizations.{}.0.scores".format(*n.rsplit(".", 1))].detach().abs(),
                             kept_count(m.numel(), 0.1))
                for n, m in masks(model).items()}
        assert all(torch.equal(selected[n], fp32[n]) for n in selected)
        out.float().square().mean().backward()
        opt.step()
    return model, selected


def test_scores_stay_fp32_and_selection_is_exact_under_bf16_autocast():
    model, selected = _train(autocast=True)
    scores = {n: p for n, p in model.named_parameters() if n.endswith("scores")}
    assert scores and all(p.dtype == torch.float32 and p.grad.dtype == torch.float32 for p in scores.values())
    for name, mask in selected.items():
        assert int(mask.sum()) == kept_count(mask.numel(), 0.1), name


def test_ticket_under_autocast_equals_the_ticket_written_outside_it():
    model, _ = _train(autocast=True)
    outside = encode(model, codec="xz")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        inside = encode(model, codec="xz")
    assert inside == outside
