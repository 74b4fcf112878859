"""GFMN moment matching: real feature statistics (streamed, cached on disk) and the generator loss.

Real statistics are the per-feature mean and UNBIASED variance over a whole data split, accumulated batch by batch
in float64 (Chan et al.'s pairwise merge), so memory is O(F) whatever the number of images. They are cached in a
safetensors file whose name and metadata carry the key (data set, image size, extractor, layers, ...) and a sha256
of the numbers; a different key misses, and an unreadable, mismatched or altered file is recomputed.

Loss (paper eqs. (2)-(4), GFMN's gfmn.py): with Δμ = μ_real - μ_fake and Δσ² = σ²_real - σ²_fake of the batch,
- AMA (default): v_μ, v_σ are moved one Adam step (lr 1e-5, betas (0.5, 0.999)) along MSE(v, Δ.detach()), and the
  generator loss is v_μ·Δμ + v_σ·Δσ² with the freshly updated v detached;
- plain: MSE(μ_fake, μ_real) + MSE(σ²_fake, σ²_real) (GFMN's regular moving average with alpha = 1).
The returned `distance` is always the plain value (detached): it measures the fit, the AMA loss does not.
"""
import copy
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import nn

from studiogan_slt import atomic
from studiogan_slt.digests import sha256

CACHE_FORMAT = "studiogan-slt-moments-1"
AMA_INITS = ("zeros", "linear")


def batch_moments(features):
    """Per-feature mean and unbiased variance of a [B, F] batch (B >= 2)."""
    return features.mean(0), features.var(0, correction=1)


class RunningMoments:
    """Streaming mean/unbiased variance over batches of [B, F] features; float64, memory O(F)."""

    def __init__(self):
        self.n, self.mean, self.m2 = 0, None, None

    def update(self, features):
        f = features.detach().to(torch.float64)
        b = f.shape[0]
        mean = f.mean(0)
        m2 = (f - mean).square_().sum(0)
        if self.n == 0:
            self.n, self.mean, self.m2 = b, mean, m2
            return
        total = self.n + b
        delta = mean - self.mean
        self.mean += delta * (b / total)
        self.m2 += m2 + delta.square_() * (self.n * b / total)
        self.n = total

    def result(self):
        if self.n < 2:
            raise ValueError(f"real statistics need at least 2 images, got {self.n}")
        return self.mean.float(), (self.m2 / (self.n - 1)).float()


@dataclass
class RealStats:
    mean: torch.Tensor
    var: torch.Tensor
    n: int
    from_cache: bool = False


def cache_file(cache_dir, key):
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
    return os.path.join(cache_dir, f"moments-{digest}.safetensors")


def load_cached(path, key):
    """RealStats from a valid cache file for `key`, or (None, reason) when it must be recomputed."""
    from safetensors.torch import safe_open

    if not os.path.exists(path):
        return None, "no cache file"
    try:
        with safe_open(path, framework="pt") as f:
            meta = f.metadata() or {}
            mean, var = f.get_tensor("mean"), f.get_tensor("var")
    except Exception as exc:  # truncated or overwritten: safetensors/OS errors of every kind
        return None, f"unreadable cache file ({type(exc).__name__})"
    if meta.get("format") != CACHE_FORMAT or meta.get("key") != json.dumps(key, sort_keys=True):
        return None, "cache file made for a different key"
    if mean.shape != var.shape or mean.dim() != 1 or meta.get("sha256") != sha256(mean, var):
        return None, "cache file content does not match its checksum"
    return RealStats(mean, var, int(meta["n"]), from_cache=True), "cache hit"


def save_cached(path, key, stats):
    """Write atomically (temp file + rename), so a crash or a concurrent DDP rank never leaves half a file."""
    from safetensors.torch import save_file

    mean, var = stats.mean.detach().cpu().contiguous(), stats.var.detach().cpu().contiguous()
    meta = {"format": CACHE_FORMAT, "key": json.dumps(key, sort_keys=True), "n": str(stats.n),
            "sha256": sha256(mean, var)}
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with atomic.replacing(path) as tmp:
        save_file({"mean": mean, "var": var}, str(tmp), metadata=meta)


def real_statistics(extractor, batches, *, key=None, cache_dir=None, device="cpu",
                    log: Optional[Callable[[str], None]] = None):
    """Mean and unbiased variance of extractor(images) over every image in `batches`.

    `batches` yields image tensors in [-1, 1] (or (images, labels) pairs, as a DataLoader does); it is only
    iterated on a cache miss. With `cache_dir` and a JSON-able `key`, results are cached under that key.
    With the extractor's BatchNorm in train mode the batches' composition matters: shuffle them as the generator's
    batches are mixed (a data set stored class by class gives one-class batches in its stored order)."""
    log = log or (lambda msg: None)
    path = cache_file(cache_dir, key) if cache_dir is not None and key is not None else None
    if path is not None:
        stats, reason = load_cached(path, key)
        if stats is not None:
            log(f"real feature statistics: loaded {path} ({stats.n} images, {stats.mean.numel()} features)")
            return RealStats(stats.mean.to(device), stats.var.to(device), stats.n, True)
        log(f"real feature statistics: computing ({reason}: {path})")
    running = RunningMoments()
    with torch.no_grad():
        for batch in batches:
            images = batch[0] if isinstance(batch, (tuple, list)) else batch
            running.update(extractor(images.to(device)))
    mean, var = running.result()
    stats = RealStats(mean, var, running.n)
    if path is not None:
        save_cached(path, key, stats)
        log(f"real feature statistics: {stats.n} images, {mean.numel()} features, saved to {path}")
    return stats


def _average_over_ranks(t):
    # Keeps v_mu/v_var identical on every DDP rank: each rank sees only its share of the fake batch.
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        t = t.clone()
        dist.all_reduce(t)
        t /= dist.get_world_size()
    return t


@dataclass
class MomentLoss:
    loss: torch.Tensor       # what to back-propagate
    distance: torch.Tensor   # detached MSE(mean) + MSE(var) of this batch: the fit, comparable across modes
    mean_distance: torch.Tensor
    var_distance: torch.Tensor


class MomentMatchingLoss(nn.Module):
    """loss(fake_features [B, F]) -> MomentLoss. Holds the real statistics and, with AMA, v_mu, v_var and their Adam.

    ama_init: "zeros" (paper pseudocode) or "linear" (GFMN's nn.Linear(F, 1) default, U(±1/sqrt(F)))."""

    def __init__(self, real_mean, real_var, *, ama=True, ama_lr=1e-5, ama_betas=(0.5, 0.999), ama_init="zeros"):
        super().__init__()
        if real_mean.shape != real_var.shape or real_mean.dim() != 1:
            raise ValueError("real_mean and real_var must be vectors of the same length")
        if ama_init not in AMA_INITS:
            raise ValueError(f"ama_init must be one of {', '.join(AMA_INITS)}, got {ama_init!r}")
        self.register_buffer("real_mean", real_mean.detach().clone())
        self.register_buffer("real_var", real_var.detach().clone())
        self.ama = bool(ama)
        if not self.ama:
            return
        n = real_mean.numel()
        self.v_mean = nn.Parameter(torch.zeros(n, device=real_mean.device))
        self.v_var = nn.Parameter(torch.zeros(n, device=real_mean.device))
        if ama_init == "linear":
            with torch.no_grad():
                for v in (self.v_mean, self.v_var):
                    v.uniform_(-1 / n ** 0.5, 1 / n ** 0.5)
        self.ama_optimizer = torch.optim.Adam([self.v_mean, self.v_var], lr=ama_lr, betas=tuple(ama_betas))

    def forward(self, fake_features):
        mean_f, var_f = batch_moments(fake_features)
        d_mean, d_var = self.real_mean - mean_f, self.real_var - var_f
        mean_dist, var_dist = d_mean.detach().square().mean(), d_var.detach().square().mean()
        if not self.ama:
            loss = d_mean.square().mean() + d_var.square().mean()
        else:
            self._ama_step(_average_over_ranks(d_mean.detach()), _average_over_ranks(d_var.detach()))
            loss = torch.dot(self.v_mean.detach(), d_mean) + torch.dot(self.v_var.detach(), d_var)
        return MomentLoss(loss, mean_dist + var_dist, mean_dist, var_dist)

    def _ama_step(self, d_mean, d_var):
        with torch.enable_grad():
            self.ama_optimizer.zero_grad(set_to_none=True)
            (F.mse_loss(self.v_mean, d_mean) + F.mse_loss(self.v_var, d_var)).backward()
            self.ama_optimizer.step()

    def ama_state_dict(self):
        """v_mu, v_var and their Adam state (empty without AMA); the real statistics come from the cache."""
        if not self.ama:
            return {}
        return {"v_mean": self.v_mean.detach().clone(), "v_var": self.v_var.detach().clone(),
                "optimizer": copy.deepcopy(self.ama_optimizer.state_dict())}  # not views of the live state

    def load_ama_state_dict(self, state):
        if not self.ama:
            return
        with torch.no_grad():
            self.v_mean.copy_(state["v_mean"])
            self.v_var.copy_(state["v_var"])
        self.ama_optimizer.load_state_dict(state["optimizer"])
