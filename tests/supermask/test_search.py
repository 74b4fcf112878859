"""The search levers (supermask/search): sparsity annealing, re-randomisation, learned BN affine, score optimisers;
plain PyTorch, no StudioGAN. Their tickets are in tests/ticket/test_ticket_levers.py."""
import math

import numpy as np
import pytest
import torch

from studiogan_slt import convert, masks
from studiogan_slt.supermask import inits
from studiogan_slt.supermask.convert import masked_tensors
from studiogan_slt.supermask.parametrize import kept_count
from studiogan_slt.supermask.search import Levers
from studiogan_slt.supermask.search.k_schedule import k_at
from tests.ticket.tiny_generator import Z_DIM, tiny_generator

SEEDED = {"weight_init": "kaiming_normal", "bias_init": "uniform"}


def _step(model, opt):
    opt.zero_grad()
    model(torch.randn(4, Z_DIM)).square().mean().backward()
    opt.step()


def test_k_schedule_is_a_cosine_from_start_to_k_with_exact_counts():
    model = convert(tiny_generator(), 0.1, k_schedule={"start": 0.9, "steps": 10}, **SEEDED)
    levers = Levers(model)
    assert all(mt.supermask.k == 0.1 for mt in masked_tensors(model))  # convert leaves the final k
    ks = []
    for step in range(13):
        levers.before_step(step)
        k_t = 0.1 + 0.8 * 0.5 * (1 + math.cos(math.pi * step / 10)) if step < 10 else 0.1
        ks.append(k_t)
        for name, mask in masks(model).items():
            assert int(mask.sum()) == kept_count(mask.numel(), k_t), (step, name)
    assert ks[0] == pytest.approx(0.9) and ks[5] == pytest.approx(0.5) and ks[10:] == [0.1] * 3
    assert all(a >= b for a, b in zip(ks, ks[1:]))


def test_k_schedule_of_a_global_scope_sets_the_shared_threshold():
    model = convert(tiny_generator(), 0.2, scope="global", k_schedule={"start": 0.6, "steps": 4})
    Levers(model).before_step(1)
    total = sum(m.numel() for m in masks(model).values())
    assert sum(int(m.sum()) for m in masks(model).values()) == kept_count(total, k_at(1, 0.2, 0.6, 4))


def _rerandomized(seed=0, steps=6, every=2, fraction=0.5):
    model = convert(tiny_generator(), 0.2, seed=seed, rerandomize={"every": every, "fraction": fraction}, **SEEDED)
    levers = Levers(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    history = []
    for step in range(steps):
        levers.before_step(step)
        levers.before_step(step)  # idempotent within a step (StudioGAN's D and G steps both call it)
        history.append({mt.name: (mt.frozen.clone(), mt.supermask.draws.clone(), mt.supermask.mask().clone())
                        for mt in masked_tensors(model)})
        _step(model, opt)
    return model, history


def test_rerandomize_redraws_only_pruned_weights_every_n_steps_and_is_deterministic():
    model, history = _rerandomized()
    _, again = _rerandomized()
    for before, after in zip(history, again):
        assert all(torch.equal(before[n][0], after[n][0]) and torch.equal(before[n][1], after[n][1]) for n in before)
    for step in range(1, len(history)):
        for name, (frozen, draws, _) in history[step].items():
            old_frozen, old_draws, _ = history[step - 1][name]
            grew = draws != old_draws
            if step % 2:  # no redraw between multiples of `every`
                assert not grew.any() and torch.equal(frozen, old_frozen)
                continue
            # the mask at the redraw is the one of the step's k, computed from the scores after the last update
            pruned = ~history[step][name][2]
            assert not (grew & ~pruned).any() and torch.equal(draws[grew], old_draws[grew] + 1)
            if pruned.sum() > 100:
                share = grew.sum().item() / pruned.sum().item()
                assert 0.4 < share < 0.6, (name, share)  # fraction 0.5 of the pruned ones
            assert torch.equal(frozen[~grew], old_frozen[~grew])
    # every value is the draw its counter names, a pure function of (seed, name, index, draw)
    for mt in masked_tensors(model):
        expected = inits.with_draws(mt.init, tuple(mt.frozen.shape), mt.supermask.draws)
        assert torch.equal(mt.frozen, expected), mt.name
    _, other_seed = _rerandomized(seed=1)
    assert any(not torch.equal(other_seed[-1][n][1], history[-1][n][1]) for n in history[-1])


def test_draws_are_single_elements_of_their_own_streams():
    spec = inits.weight_spec("kaiming_normal", 3, "a.weight", (6, 5), 1.0, False)
    full = inits.generate(dict(spec, key="a.weight#draw2"), (6, 5)).reshape(-1)
    index = np.array([0, 7, 29])
    assert torch.equal(inits.drawn(spec, index, np.full(3, 2)), full[index])
    assert torch.equal(inits.drawn(spec, index, np.zeros(3)), inits.generate(spec, (6, 5)).reshape(-1)[index])


def test_an_ema_copy_follows_the_redrawn_weights():
    model, _ = _rerandomized(steps=3)
    copy = convert(tiny_generator(), 0.2, rerandomize={"every": 2, "fraction": 0.5}, **SEEDED)
    follower = Levers(copy, source=model)
    assert follower.rerandomizer is None and follower.follows
    follower.after_step()
    for a, b in zip(masked_tensors(model), masked_tensors(copy)):
        assert torch.equal(a.frozen, b.frozen) and torch.equal(a.supermask.draws, b.supermask.draws)


def test_rerandomize_is_state_dict_state():
    model, _ = _rerandomized()
    fresh = convert(tiny_generator(), 0.2, rerandomize={"every": 2, "fraction": 0.5}, **SEEDED)
    fresh.load_state_dict(model.state_dict())
    assert all(torch.equal(a.frozen, b.frozen) for a, b in zip(masked_tensors(model), masked_tensors(fresh)))
    assert any(k.endswith(".draws") for k in model.state_dict())


def test_learn_bn_trains_the_affine_and_nothing_else_frozen():
    model = convert(tiny_generator(), 0.2, learn_bn=True, **SEEDED)
    names = {n for n, _ in model.named_parameters()}
    bn = {n for n in names if not n.endswith(".scores")}
    assert bn == {"2.weight", "2.bias", "5.weight", "5.bias"}
    frozen = {mt.name: mt.frozen.clone() for mt in masked_tensors(model)}
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    _step(model, torch.optim.Adam(model.parameters(), lr=0.1))
    assert all(not torch.equal(before[n], p) for n, p in model.named_parameters() if n in bn)
    assert all(torch.equal(frozen[mt.name], mt.frozen) for mt in masked_tensors(model))
    assert not any(p.requires_grad for p in model.buffers())
    plain = convert(tiny_generator(), 0.2, **SEEDED)
    assert all(n.endswith(".scores") for n, _ in plain.named_parameters())


def test_learn_bn_without_an_affine_warns():
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4, affine=False))
    with pytest.warns(UserWarning, match="no normalisation layer with an affine"):
        convert(model, 0.5, learn_bn=True)


def test_sgd_with_momentum_and_weight_decay_moves_only_scores():
    model = convert(tiny_generator(), 0.2, **SEEDED)
    opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9, weight_decay=5e-4)
    first = masks(model)
    for _ in range(5):
        _step(model, opt)
    assert all("momentum_buffer" in s for s in opt.state.values()) and len(opt.state) == len(masked_tensors(model))
    assert any(not torch.equal(first[n], m) for n, m in masks(model).items())


@pytest.mark.parametrize("options, message", [
    ({"rerandomize": {"every": 2, "fraction": 0.5}}, "needs a seeded weight_init"),
    ({"rerandomize": {"every": 0, "fraction": 0.5}, **SEEDED}, "rerandomize.every must be an integer >= 1"),
    ({"rerandomize": {"every": 2, "fraction": 1.5}, **SEEDED}, r"rerandomize.fraction must be a number in \(0, 1\]"),
    ({"rerandomize": {"every": 2}, **SEEDED}, "rerandomize must be null or a mapping"),
    ({"k_schedule": {"start": 0.05, "steps": 3}}, "k_schedule.start must be >= k"),
    ({"k_schedule": {"start": 0.5, "steps": 2.5}}, "k_schedule.steps must be an integer"),
    ({"learn_bn": "yes"}, "learn_bn must be true or false"),
])
def test_bad_lever_options(options, message):
    with pytest.raises(ValueError, match=message):
        convert(tiny_generator(), 0.1, **options)
