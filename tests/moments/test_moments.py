"""GFMN moment matching: AMA and loss against hand computations, streamed/cached real statistics, cache invalidation."""
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from studiogan_slt.moments.loss import (MomentMatchingLoss, RunningMoments, batch_moments, cache_file,
                                        real_statistics)


def _features(n=37, f=11, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, f, generator=g) * torch.linspace(0.5, 3, f) + torch.linspace(-2, 5, f)


def test_batch_moments_are_mean_and_unbiased_variance():
    x = _features()
    mean, var = batch_moments(x)
    ref = x.double().numpy()
    np.testing.assert_allclose(mean.numpy(), ref.mean(0), rtol=1e-6)
    np.testing.assert_allclose(var.numpy(), ref.var(0, ddof=1), rtol=1e-5)


def test_running_moments_equal_two_pass_over_uneven_batches():
    x = _features(n=203, f=17)
    running = RunningMoments()
    for chunk in torch.split(x, [64, 64, 64, 11]):
        running.update(chunk)
    mean, var = running.result()
    ref = x.double().numpy()
    assert running.n == 203
    np.testing.assert_allclose(mean.numpy(), ref.mean(0), rtol=1e-6)
    np.testing.assert_allclose(var.numpy(), ((ref - ref.mean(0)) ** 2).sum(0) / 202, rtol=1e-6)


class _Adam:
    """Adam written out (Kingma & Ba, PyTorch's defaults: eps 1e-8 outside the sqrt, no weight decay)."""

    def __init__(self, n, lr, betas):
        self.lr, (self.b1, self.b2), self.t = lr, betas, 0
        self.m, self.v = torch.zeros(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64)

    def step(self, p, grad):
        self.t += 1
        self.m = self.b1 * self.m + (1 - self.b1) * grad
        self.v = self.b2 * self.v + (1 - self.b2) * grad ** 2
        m_hat, v_hat = self.m / (1 - self.b1 ** self.t), self.v / (1 - self.b2 ** self.t)
        return p - self.lr * m_hat / (v_hat.sqrt() + 1e-8)


def test_ama_update_and_loss_match_a_direct_reference():
    real = _features(n=50, f=9, seed=1)
    mu_r, var_r = real.double().mean(0), real.double().var(0)
    lr, betas = 1e-2, (0.5, 0.999)  # a large lr so that the vectors visibly move in three steps
    mm = MomentMatchingLoss(mu_r.float(), var_r.float(), ama=True, ama_lr=lr, ama_betas=betas)
    v_mu, v_var = torch.zeros(9, dtype=torch.float64), torch.zeros(9, dtype=torch.float64)
    adam_mu, adam_var = _Adam(9, lr, betas), _Adam(9, lr, betas)
    for step in range(3):
        fake = _features(n=8, f=9, seed=10 + step).requires_grad_(True)
        out = mm(fake)
        # reference: GFMN gfmn.py, "uses Adam moving average"
        f = fake.detach().double()
        d_mu, d_var = mu_r - f.mean(0), var_r - f.var(0)
        v_mu = adam_mu.step(v_mu, 2 * (v_mu - d_mu) / 9)      # d/dv of MSE(v, d) = 2 (v - d) / F
        v_var = adam_var.step(v_var, 2 * (v_var - d_var) / 9)
        np.testing.assert_allclose(mm.v_mean.detach().double().numpy(), v_mu.numpy(), rtol=1e-5, atol=1e-9)
        np.testing.assert_allclose(mm.v_var.detach().double().numpy(), v_var.numpy(), rtol=1e-5, atol=1e-9)
        fr = fake.double()
        ref_loss = v_mu @ (mu_r - fr.mean(0)) + v_var @ (var_r - fr.var(0))  # v detached (plain tensors)
        (ref_grad,) = torch.autograd.grad(ref_loss, fake)
        out.loss.backward()
        assert out.loss.item() == pytest.approx(ref_loss.item(), rel=1e-5, abs=1e-8)
        np.testing.assert_allclose(fake.grad.double().numpy(), ref_grad.numpy(), rtol=1e-4, atol=1e-9)
        ref_dist = ((d_mu ** 2).mean() + (d_var ** 2).mean()).item()
        assert out.distance.item() == pytest.approx(ref_dist, rel=1e-5)


def test_generator_loss_does_not_train_the_ama_vectors():
    real = _features(n=20, f=5, seed=2)
    mm = MomentMatchingLoss(real.mean(0), real.var(0), ama=True)
    fake = _features(n=6, f=5, seed=3).requires_grad_(True)
    before = mm.v_mean.detach().clone()
    out = mm(fake)
    after_ama = mm.v_mean.detach().clone()
    out.loss.backward()
    assert not torch.equal(before, after_ama)  # the AMA step moved v
    assert torch.equal(mm.v_mean.detach(), after_ama)  # the generator loss left it alone


def test_plain_variant_is_mse_of_the_moments():
    real = _features(n=30, f=7, seed=4)
    mm = MomentMatchingLoss(real.mean(0), real.var(0), ama=False)
    fake = _features(n=10, f=7, seed=5).requires_grad_(True)
    out = mm(fake)
    ref = F.mse_loss(fake.mean(0), real.mean(0)) + F.mse_loss(fake.var(0), real.var(0))
    assert out.loss.item() == pytest.approx(ref.item(), rel=1e-6)
    assert out.distance.item() == pytest.approx(ref.item(), rel=1e-6)
    assert list(mm.parameters()) == []
    assert mm.ama_state_dict() == {}


def test_ama_linear_init_is_gfmn_linear_default_and_zeros_is_default():
    real = _features(n=30, f=400, seed=6)
    assert MomentMatchingLoss(real.mean(0), real.var(0)).v_mean.abs().sum() == 0
    torch.manual_seed(0)
    v = MomentMatchingLoss(real.mean(0), real.var(0), ama_init="linear").v_mean.detach()
    assert v.abs().max() <= 1 / 400 ** 0.5 and v.std() > 0.5 / 400 ** 0.5 / 3 ** 0.5
    with pytest.raises(ValueError, match="ama_init"):
        MomentMatchingLoss(real.mean(0), real.var(0), ama_init="ones")


def test_ama_state_round_trip_continues_identically():
    real = _features(n=30, f=6, seed=7)
    a = MomentMatchingLoss(real.mean(0), real.var(0), ama_lr=1e-2)
    for s in range(3):
        a(_features(n=5, f=6, seed=20 + s))
    b = MomentMatchingLoss(real.mean(0), real.var(0), ama_lr=1e-2)
    b.load_ama_state_dict(a.ama_state_dict())
    fake = _features(n=5, f=6, seed=30)
    assert a(fake).loss.item() == b(fake).loss.item()
    assert torch.equal(a.v_var, b.v_var)


class _Doubler(torch.nn.Module):
    """A stand-in extractor: features [x, 2x^2] flattened, so statistics have a direct reference."""

    def forward(self, images):
        flat = images.flatten(1)
        return torch.cat([flat, 2 * flat ** 2], dim=1)


def _images(n=70, seed=0):
    return torch.rand(n, 3, 4, 4, generator=torch.Generator().manual_seed(seed)) * 2 - 1


class _Forbidden:
    def __iter__(self):
        raise AssertionError("the images were read although the cache should have answered")


def test_cached_real_statistics_equal_a_direct_two_pass_computation(tmp_path):
    images = _images()
    key = {"dataset": "toy", "img_size": 4, "extractor": "doubler", "layers": None}
    batches = [(b, torch.zeros(len(b))) for b in torch.split(images, 16)]
    first = real_statistics(_Doubler(), batches, key=key, cache_dir=str(tmp_path))
    feats = _Doubler()(images).double()
    ref_mean = feats.sum(0) / len(feats)                                   # pass 1
    ref_var = ((feats - ref_mean) ** 2).sum(0) / (len(feats) - 1)          # pass 2
    for stats in (first, real_statistics(_Doubler(), _Forbidden(), key=key, cache_dir=str(tmp_path))):
        assert stats.n == 70
        np.testing.assert_allclose(stats.mean.double().numpy(), ref_mean.numpy(), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(stats.var.double().numpy(), ref_var.numpy(), rtol=1e-5, atol=1e-7)
    assert not first.from_cache
    assert os.path.exists(cache_file(str(tmp_path), key))


def test_changed_key_recomputes(tmp_path):
    key = {"dataset": "toy", "img_size": 4, "layers": None}
    real_statistics(_Doubler(), torch.split(_images(), 16), key=key, cache_dir=str(tmp_path))
    other = dict(key, layers=["features.2"])
    stats = real_statistics(_Doubler(), torch.split(_images(seed=1), 16), key=other, cache_dir=str(tmp_path))
    assert not stats.from_cache
    np.testing.assert_allclose(stats.mean.numpy(), _Doubler()(_images(seed=1)).mean(0).numpy(), rtol=1e-5, atol=1e-6)
    assert len(os.listdir(tmp_path)) == 2
    # a file carrying another key (e.g. copied over) is not trusted either
    os.replace(cache_file(str(tmp_path), key), cache_file(str(tmp_path), other))
    stats = real_statistics(_Doubler(), torch.split(_images(seed=1), 16), key=other, cache_dir=str(tmp_path))
    assert not stats.from_cache


@pytest.mark.parametrize("damage", ["truncate", "flip_a_byte", "garbage"])
def test_corrupt_cache_file_is_detected_and_recomputed(tmp_path, damage):
    key = {"dataset": "toy"}
    good = real_statistics(_Doubler(), torch.split(_images(), 16), key=key, cache_dir=str(tmp_path))
    path = cache_file(str(tmp_path), key)
    data = bytearray(open(path, "rb").read())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip_a_byte":
        data[-5] ^= 0xFF  # inside the tensor data, which safetensors itself does not checksum
    else:
        data = b"not a safetensors file at all"
    open(path, "wb").write(bytes(data))
    messages = []
    again = real_statistics(_Doubler(), torch.split(_images(), 16), key=key, cache_dir=str(tmp_path),
                            log=messages.append)
    assert not again.from_cache and "computing" in messages[0]
    assert torch.equal(again.mean, good.mean) and torch.equal(again.var, good.var)
    assert real_statistics(_Doubler(), _Forbidden(), key=key, cache_dir=str(tmp_path)).from_cache  # rewritten


def test_real_statistics_need_two_images():
    with pytest.raises(ValueError, match="at least 2"):
        real_statistics(_Doubler(), [_images(n=1)])
