import math
import warnings

import pytest
import torch
from torch import nn

from studiogan_slt import convert, masks, materialize
from studiogan_slt.supermask import options as convert_mod
from studiogan_slt.supermask.convert import masked_tensors, slt_options
from studiogan_slt.supermask.parametrize import Supermask

from tests.supermask.models import make_zoo, zoo_input

ALL_TENSORS = ["embed.weight", "fc.weight", "fc.bias", "raw.weight", "raw.bias", "up.weight", "up.bias",
               "sn.weight_orig", "sn.bias", "conv1d.weight", "conv1d.bias"]


def frozen_state(model):
    return {k: v.clone() for k, v in model.state_dict().items() if not k.endswith(".scores")}


@pytest.mark.parametrize("k", [0.001, 0.1, 0.3, 0.5, 1.0])
def test_exact_kept_count_per_tensor(k):
    model = convert(make_zoo(), k)
    got = masks(model)
    assert sorted(got) == sorted(ALL_TENSORS)
    for name, m in got.items():
        n = m.numel()
        assert m.dtype == torch.bool
        assert int(m.sum()) == n - math.floor((1 - k) * n), name


def test_only_scores_are_parameters_and_bn_is_never_masked():
    model = convert(make_zoo(), 0.3)
    names = [n for n, _ in model.named_parameters()]
    assert names and all(n.endswith(".scores") for n in names)
    assert "bn.weight" in dict(model.named_buffers())
    assert not any(n.startswith("bn.") for n in masks(model))


def test_frozen_tensors_bit_identical_after_adam_with_requires_grad_toggled():
    model = convert(make_zoo(), 0.1)
    before = frozen_state(model)
    scores_before = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    for _ in range(20):
        for p in model.parameters():  # what StudioGAN's misc.toggle_grad does before every step
            p.requires_grad = True
        opt.zero_grad()
        model(zoo_input()).square().mean().backward()
        opt.step()
    after = frozen_state(model)
    assert before.keys() == after.keys()
    for key in before:
        if "running_" in key or "num_batches" in key or key.endswith(("weight_u", "weight_v")):
            continue  # BN statistics and SN power-iteration vectors are state, not weights
        assert torch.equal(before[key], after[key]), key
    assert any(not torch.equal(a, b) for a, b in zip(scores_before, model.parameters()))


def test_ste_gradient_matches_formula():
    model = convert(nn.Sequential(nn.Linear(9, 7)), 0.3)
    x = torch.randn(5, 9)
    model(x).square().sum().backward()
    (mt_w, mt_b) = masked_tensors(model)
    w, s = mt_w.frozen, mt_w.supermask.scores
    w_eff = (w * mt_w.supermask.mask()).requires_grad_()
    b_eff = (mt_b.frozen * mt_b.supermask.mask()).requires_grad_()
    torch.nn.functional.linear(x, w_eff, b_eff).square().sum().backward()
    torch.testing.assert_close(s.grad, s.sign() * w * w_eff.grad, rtol=0, atol=1e-6)
    torch.testing.assert_close(mt_b.supermask.scores.grad, mt_b.supermask.scores.sign() * mt_b.frozen * b_eff.grad,
                               rtol=0, atol=1e-6)


@pytest.mark.parametrize("weight_init", ["keep", "signed_kaiming_constant", "kaiming_normal"])
def test_same_seed_same_everything(weight_init):
    a = convert(make_zoo(), 0.2, weight_init=weight_init, seed=7)
    b = convert(make_zoo(), 0.2, weight_init=weight_init, seed=7)
    c = convert(make_zoo(), 0.2, weight_init=weight_init, seed=8)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[key], sb[key]) for key in sa)
    assert all(torch.equal(masks(a)[n], masks(b)[n]) for n in ALL_TENSORS)
    assert not torch.equal(sa["fc.parametrizations.weight.0.scores"], sc["fc.parametrizations.weight.0.scores"])


def test_materialize_is_plain_and_identical():
    model = convert(make_zoo(), 0.1, weight_init="signed_kaiming_constant", bias_init="uniform")
    model(zoo_input())  # a forward first: old-style SN then holds a non-leaf tensor that deepcopy cannot copy
    plain = materialize(model)
    reference = make_zoo()
    assert sorted(plain.state_dict()) == sorted(reference.state_dict())
    assert [type(m) for m in plain.modules()] == [type(m) for m in reference.modules()]
    assert sorted(n for n, _ in plain.named_parameters()) == sorted(n for n, _ in reference.named_parameters())
    assert not any(isinstance(m, Supermask) for m in plain.modules())
    assert not any(k.startswith("_slt") for k in vars(plain))
    model.eval()
    plain.eval()
    with torch.no_grad():
        assert torch.equal(model(zoo_input()), plain(zoo_input()))
    assert torch.equal(plain.fc.weight, model.fc.weight * masks(model)["fc.weight"])
    # the original keeps working after the copy was stripped
    assert isinstance(model.fc.parametrizations.weight[0], Supermask)


def test_global_scope_counts():
    k = 0.1
    layer = masks(convert(make_zoo(), k, score_init="uniform"))
    glob = masks(convert(make_zoo(), k, score_init="uniform", scope="global"))
    total = sum(m.numel() for m in glob.values())
    assert sum(int(m.sum()) for m in glob.values()) == total - math.floor((1 - k) * total)
    # one threshold over all |scores|: every kept score is >= every dropped one
    model = convert(make_zoo(), k, scope="global")
    kept = torch.cat([mt.supermask.scores.abs()[mt.supermask.mask()] for mt in masked_tensors(model)])
    dropped = torch.cat([mt.supermask.scores.abs()[~mt.supermask.mask()] for mt in masked_tensors(model)])
    assert kept.min() >= dropped.max()
    assert any(int(layer[n].sum()) != int(glob[n].sum()) for n in layer)


def test_selection_options():
    assert set(masks(convert(make_zoo(), 0.5, mask_bias=False))) == {n for n in ALL_TENSORS if "bias" not in n}
    assert set(masks(convert(make_zoo(), 0.5, types=["Linear", "Embedding"]))) == {"embed.weight", "fc.weight",
                                                                                     "fc.bias"}
    assert set(masks(convert(make_zoo(), 0.5, include=[r"^up\."]))) == {"up.weight", "up.bias"}
    assert "sn.weight_orig" not in masks(convert(make_zoo(), 0.5, exclude=[r"^sn\."]))
    model = convert(make_zoo(), 0.5, first_last_dense=True)
    assert set(masks(model)) == set(ALL_TENSORS) - {"embed.weight", "conv1d.weight", "conv1d.bias"}
    assert [n for n, _ in model.named_parameters() if not n.endswith("scores")] == []


def test_weight_inits():
    k = 0.25
    model = convert(make_zoo(), k, weight_init="signed_kaiming_constant", scaled=True, bias_init="uniform")
    w = dict((mt.name, mt) for mt in masked_tensors(model))["up.weight"].frozen
    fan = w.shape[1] * 9
    assert torch.equal(w.abs().unique(), torch.tensor([math.sqrt(2) / math.sqrt(fan * k)], dtype=torch.float32))
    model = convert(make_zoo(), k, weight_init="kaiming_normal")
    w = dict((mt.name, mt) for mt in masked_tensors(model))["fc.weight"].frozen
    assert abs(w.std().item() / (math.sqrt(2) / 3.0) - 1) < 0.2
    spec = dict((mt.name, mt) for mt in masked_tensors(model))["fc.weight"].init
    assert spec["init"] == "kaiming_normal" and spec["key"] == "fc.weight"
    assert dict((mt.name, mt) for mt in masked_tensors(model))["fc.bias"].init is None


def test_zero_bias_warning():
    model = make_zoo()
    with torch.no_grad():
        model.fc.bias.zero_()
    with pytest.warns(UserWarning, match="all zero"):
        convert(model, 0.5)
    model = make_zoo()
    with torch.no_grad():
        model.fc.bias.zero_()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        convert(model, 0.5, bias_init="uniform")
    assert model.fc.parametrizations.bias.original.any()


def test_rescale_multiplies_weights_only():
    k = 0.25
    plain = convert(make_zoo(), k)
    scaled = convert(make_zoo(), k, rescale=True)
    with torch.no_grad():
        torch.testing.assert_close(scaled.fc.weight, plain.fc.weight / math.sqrt(k))
        assert torch.equal(scaled.fc.bias, plain.fc.bias)


def test_constant_scores_tie_break_is_deterministic():
    model = convert(nn.Linear(10, 3, bias=False), 0.3, score_init="constant")
    m = masks(model)["weight"].reshape(-1)
    assert m.tolist() == [True] * 9 + [False] * 21


@pytest.mark.parametrize("bad, message", [
    (dict(k=0), "k must be"), (dict(k=1.5), "k must be"), (dict(k="0.1"), "k must be"),
    (dict(k=0.1, scop="layer"), "unknown option 'scop'"), (dict(k=0.1, score_init="normal"), "score_init must be"),
    (dict(k=0.1, weight_init="xavier"), "weight_init must be"), (dict(k=0.1, scope="net"), "scope must be"),
    (dict(k=0.1, types=["BatchNorm2d"]), "nothing to mask"), (dict(k=0.1, seed=1.5), "seed must be"),
])
def test_bad_options_raise_one_line_value_error(bad, message):
    with pytest.raises(ValueError, match=message) as info:
        convert(make_zoo(), **bad)
    assert "\n" not in str(info.value)


def test_convert_twice_refused_and_options_recorded():
    model = convert(make_zoo(), 0.1, seed=3)
    assert slt_options(model)["k"] == 0.1 and slt_options(model)["seed"] == 3
    with pytest.raises(ValueError, match="already converted"):
        convert(model, 0.1)
    assert convert_mod.DEFAULTS["scope"] == "layer"
