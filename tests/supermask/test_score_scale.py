"""Why the search needs no separate per-layer score learning rate: under Adam with layer-wise top-k, scaling a
layer's initial scores by 1/c is the same search as scaling its learning rate by c. The mask is the top-k of |scores|
(invariant to a positive scale), the straight-through gradient does not depend on the scores' size (sign(scores)
only) and Adam's step does not depend on the gradient's size. So `score_init: uniform` (one bound, 0.1, at every
width) is the kaiming_uniform search (bound 1/sqrt(fan_in)) with each layer's learning rate divided by
0.1 * sqrt(fan_in): the fan_in-aware learning rate of a maximal-update parametrisation, already an option."""
import math

import torch
from torch import nn

from studiogan_slt import convert
from studiogan_slt.supermask.convert import masked_tensors, masks


def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 3))


def _search(score_init, lr_of_fan_in, steps=25):
    model = convert(_model(), 0.3, score_init=score_init, mask_bias=False, seed=3)
    groups = [{"params": [mt.supermask.scores], "lr": lr_of_fan_in(mt.supermask.scores.shape[1])}
              for mt in masked_tensors(model)]
    opt = torch.optim.Adam(groups, eps=1e-30)  # eps is the one term of Adam that sees the gradient's size
    data = torch.Generator().manual_seed(1)
    history = []
    for _ in range(steps):
        x = torch.randn(32, 4, generator=data)
        loss = (model(x) - x[:, :3]).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(masks(model))
    return history


def test_a_fixed_score_bound_is_a_fan_in_scaled_learning_rate():
    lr = 0.03
    fixed = _search("uniform", lambda fan_in: lr)
    scaled = _search("kaiming_uniform", lambda fan_in: lr / (0.1 * math.sqrt(fan_in)))
    for a, b in zip(fixed, scaled):
        assert all(torch.equal(a[name], b[name]) for name in a)
    # and the masks did move, differently from the kaiming search at one learning rate for every layer
    assert any(not torch.equal(fixed[0][n], fixed[-1][n]) for n in fixed[0])
    plain = _search("kaiming_uniform", lambda fan_in: lr)
    assert any(not torch.equal(fixed[-1][n], plain[-1][n]) for n in fixed[-1])
