"""Top-k supermasks over frozen tensors: exact kept counts, a straight-through estimator, and mask caching.

A `Supermask` is a `torch.nn.utils.parametrize` parametrization: `owner.weight` reads as
`frozen * topk(|scores|, k) * scale`. The frozen tensor is a buffer, the scores the only Parameter.
"""
import math

import torch
from torch import nn

# Above this size the j-th smallest value is bracketed from a strided sample first, so that kthvalue only runs over
# the few elements inside the bracket: a couple of O(n) comparisons instead of a kthvalue over n elements.
_SAMPLE_ABOVE = 1 << 16
_SAMPLE_SIZE = 1 << 14


def kept_count(n, k):
    """Number of elements a tensor of n elements keeps: n - floor((1 - k) n), as in the paper's code."""
    return n - math.floor((1.0 - k) * n)


def _kth_smallest(a, j):
    """(the j-th smallest value t of the 1-D tensor a, exactly; how many entries are <= t, or None when unknown)."""
    n = a.numel()
    if n > _SAMPLE_ABOVE:
        stride = n // _SAMPLE_SIZE
        sample = a[::stride]
        m = sample.numel()
        q = j / n
        margin = 4.0 * math.sqrt(m * q * (1.0 - q)) + 8.0
        lo = sample.kthvalue(max(1, int(q * m - margin))).values
        hi = sample.kthvalue(min(m, int(q * m + margin) + 1)).values
        band = a >= lo
        below = n - int(torch.count_nonzero(band))
        band &= a <= hi
        inside = a[band]
        if below < j <= below + inside.numel():
            t = inside.kthvalue(j - below).values
            # every entry <= t is below the band or inside it, so the count needs no pass over a
            return t, below + int(torch.count_nonzero(inside <= t))
    return a.kthvalue(j).values, None


def fill_ties(flat, t, kept):
    """Bool mask of the `kept` largest entries of the 1-D tensor flat, given t, its kept-th largest value: every
    entry above t, then the entries equal to t by lowest index. Shapes never depend on the data, so nothing is read
    back to the host."""
    mask = flat > t
    tied = flat == t
    missing = kept - mask.sum()
    return mask | (tied & (torch.cumsum(tied, 0, dtype=torch.int32) <= missing))


def _mask_by_kthvalue(flat, kept):
    """CPU selection: kthvalue is a quickselect there, and reading a count into Python is a plain memory read."""
    n = flat.numel()
    t, at_most_t = _kth_smallest(flat, n - kept)
    mask = flat > t
    missing = kept - (n - at_most_t if at_most_t is not None else int(torch.count_nonzero(mask)))
    if missing:
        tied = flat == t
        mask |= tied & (tied.cumsum(0) <= missing)
    return mask


def _mask_by_topk(flat, kept):
    """Accelerator selection without a host synchronisation: topk (a radix select on CUDA, where kthvalue sorts)
    over the smaller side gives the threshold as a device tensor."""
    n = flat.numel()
    if kept <= n - kept:
        t = flat.topk(kept, sorted=False).values.min()
    else:
        t = flat.topk(n - kept + 1, largest=False, sorted=False).values.max()
    return fill_ties(flat, t, kept)


def topk_mask(a, kept):
    """Bool mask of the `kept` largest entries of a (any shape). Ties at the threshold go to the lowest flat index,
    so the result is deterministic and the count exact."""
    flat = a.reshape(-1)
    n = flat.numel()
    if kept >= n:
        return torch.ones_like(a, dtype=torch.bool)
    if kept <= 0:
        return torch.zeros_like(a, dtype=torch.bool)
    select = _mask_by_kthvalue if flat.device.type == "cpu" else _mask_by_topk
    return select(flat, kept).reshape(a.shape)


class _MaskedTensor(torch.autograd.Function):
    """frozen * mask * scale, with d/d(scores) = sign(scores) * frozen * scale * grad (identity through the mask)."""

    @staticmethod
    def forward(ctx, frozen, scores, mask, scale):
        ctx.save_for_backward(frozen, scores)
        ctx.scale = scale
        out = frozen * mask
        return out * scale if scale != 1.0 else out

    @staticmethod
    def backward(ctx, grad):
        frozen, scores = ctx.saved_tensors
        g = (grad * frozen).mul_(scores.sign())
        return None, (g.mul_(ctx.scale) if ctx.scale != 1.0 else g), None, None


class Supermask(nn.Module):
    """Parametrization holding the scores of one tensor.

    The mask is cached under a key of the scores' identity and version counter: any in-place change (optimizer
    step, EMA update, load_state_dict) bumps the version and forces a recompute, and nothing else does, so repeated
    reads in evaluation, sampling and export cost one multiply (or nothing, under no_grad). `train()` drops the
    cache as a second line of defence against writes through `.data`, which do not bump the version.
    """

    def __init__(self, scores, k, scale=1.0):
        super().__init__()
        self.scores = nn.Parameter(scores)
        self.k = float(k)
        self.scale = float(scale)
        self.scope = None  # a GlobalScope shared by all masks of a model, or None for layer-wise selection
        self._mask_cache = None
        self._value_cache = None

    def _key(self):
        s = self.scores
        return (s._version, s.data_ptr(), s.device, self.k)

    def mask(self):
        if self.scope is not None:
            return self.scope.mask_of(self)
        key = self._key()
        if self._mask_cache is None or self._mask_cache[0] != key:
            a = self.scores.detach().abs()
            self._mask_cache = (key, topk_mask(a, kept_count(a.numel(), self.k)))
        return self._mask_cache[1]

    def forward(self, frozen):
        m = self.mask()
        if torch.is_grad_enabled() and self.scores.requires_grad:
            return _MaskedTensor.apply(frozen, self.scores, m, self.scale)
        key = (frozen._version, frozen.data_ptr())
        cache = self._value_cache
        if cache is None or cache[0] is not m or cache[1] != key:
            value = frozen * m
            self._value_cache = (m, key, value * self.scale if self.scale != 1.0 else value)
        return self._value_cache[2]

    def train(self, mode=True):
        self._mask_cache = None
        self._value_cache = None
        if self.scope is not None:
            self.scope.invalidate()
        return super().train(mode)

    def extra_repr(self):
        return f"k={self.k}, shape={tuple(self.scores.shape)}" + (", global" if self.scope is not None else "")


class GlobalScope:
    """One threshold over the |scores| of all member masks: the model keeps N - floor((1-k) N) in total."""

    def __init__(self, members, k):
        self.members = list(members)
        self.k = float(k)
        self._cache = None
        for sm in self.members:
            sm.scope = self

    def invalidate(self):
        self._cache = None

    def mask_of(self, supermask):
        key = tuple(sm._key() for sm in self.members)
        if self._cache is None or self._cache[0] != key:
            flat = torch.cat([sm.scores.detach().abs().reshape(-1) for sm in self.members])
            mask = topk_mask(flat, kept_count(flat.numel(), self.k))
            parts = mask.split([sm.scores.numel() for sm in self.members])
            self._cache = (key, {id(sm): p.reshape(sm.scores.shape) for sm, p in zip(self.members, parts)})
        return self._cache[1][id(supermask)]
