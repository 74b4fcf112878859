import math

import pytest
import torch

from studiogan_slt import convert
from studiogan_slt.supermask import parametrize as supermask
from studiogan_slt.supermask.convert import masked_tensors
from studiogan_slt.supermask.parametrize import kept_count, topk_mask

from tests.supermask.models import make_zoo, zoo_input


def reference_mask(a, kept):
    """Full stable sort: the definition that topk_mask must match (ties to the lowest index)."""
    flat = a.reshape(-1)
    order = torch.sort(-flat, stable=True).indices
    mask = torch.zeros_like(flat, dtype=torch.bool)
    mask[order[:kept]] = True
    return mask.reshape(a.shape)


# the CPU's selection and the accelerators' one, both run here on CPU tensors (topk_mask picks by device)
SELECTIONS = [topk_mask, lambda a, kept: supermask._mask_by_topk(a.reshape(-1), kept).reshape(a.shape)]


@pytest.mark.parametrize("select", SELECTIONS, ids=["cpu", "accelerator"])
@pytest.mark.parametrize("n", [1, 2, 7, 1001, 70001, 300007])
@pytest.mark.parametrize("k", [0.001, 0.1, 0.5, 0.999])
def test_topk_mask_matches_stable_sort(n, k, select):
    g = torch.Generator().manual_seed(n)
    a = torch.rand(n, generator=g)
    kept = kept_count(n, k)
    assert torch.equal(select(a, kept), reference_mask(a, kept))


@pytest.mark.parametrize("make", [
    lambda n: torch.arange(n, dtype=torch.float32),  # sorted: a strided sample is as skewed as it gets
    lambda n: torch.arange(n, 0, -1, dtype=torch.float32),
    lambda n: (torch.arange(n) % 5).float(),  # huge ties
    lambda n: torch.zeros(n),
    lambda n: torch.cat([torch.zeros(n - 100), torch.rand(100)]),
])
@pytest.mark.parametrize("select", SELECTIONS, ids=["cpu", "accelerator"])
def test_topk_mask_adversarial_inputs(make, select):
    a = make(200003)
    for k in (0.05, 0.1, 0.5, 0.9):
        kept = kept_count(a.numel(), k)
        assert torch.equal(select(a, kept), reference_mask(a, kept))


def test_kept_count_formula():
    assert kept_count(10, 0.1) == 1 and kept_count(7, 0.5) == 4 and kept_count(5, 1.0) == 5
    assert kept_count(999, 0.001) == 999 - math.floor(0.999 * 999)


def test_mask_cached_until_scores_change(monkeypatch):
    calls = []
    real = supermask.topk_mask
    monkeypatch.setattr(supermask, "topk_mask", lambda a, kept: calls.append(1) or real(a, kept))
    model = convert(make_zoo(), 0.1)
    n_masks = len(masked_tensors(model))
    model.eval()
    calls.clear()
    with torch.no_grad():
        first = model(zoo_input())
        for _ in range(3):
            assert torch.equal(model(zoo_input()), first)
    assert len(calls) == n_masks  # computed once per tensor, reused by the next three forwards
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    model(zoo_input()).square().mean().backward()
    calls.clear()
    opt.step()
    model.eval()
    with torch.no_grad():
        model(zoo_input())
    assert len(calls) == n_masks  # an optimizer step invalidates every cache


def test_cached_eval_output_equals_uncached():
    model = convert(make_zoo(), 0.1)
    model.eval()
    with torch.no_grad():
        cached = [model(zoo_input()) for _ in range(2)]
    for mt in masked_tensors(model):
        mt.supermask._mask_cache = None
        mt.supermask._value_cache = None
    with torch.no_grad():
        fresh = model(zoo_input())
    with torch.enable_grad():
        with_grad = model(zoo_input())
    assert torch.equal(cached[0], cached[1]) and torch.equal(cached[0], fresh)
    assert torch.equal(fresh, with_grad.detach())


def test_global_scope_cache_follows_every_member():
    model = convert(make_zoo(), 0.1, scope="global")
    mts = masked_tensors(model)
    before = {mt.name: mt.supermask.mask().clone() for mt in mts}
    with torch.no_grad():
        mts[0].supermask.scores.mul_(1000.0)  # one layer's scores now dominate the global ranking
    after = {mt.name: mt.supermask.mask() for mt in mts}
    assert int(after[mts[0].name].sum()) > int(before[mts[0].name].sum())
    assert int(after[mts[-1].name].sum()) <= int(before[mts[-1].name].sum())
