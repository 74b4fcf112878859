"""A counter-based random number generator that gives the same bits on every platform and torch version.

A ticket stores frozen weights as (seed, key) and regenerates them on load, so the generator must never change
and must not depend on torch's or numpy's RNG streams (neither is guaranteed stable across releases or platforms).

Stream: the 64-bit state for element i of stream (seed, key) is `base + (i + 1) * golden`, where `base` comes from
sha256("<seed>:<key>"); the output is splitmix64's finaliser of that state. Everything is uint64 arithmetic
(wrapping), so it is exact. Floats are built from integer bits by exact scaling; the normal transform uses only
+, -, *, / and sqrt in float64, each a separate correctly rounded numpy operation (no libm, no fused multiply-add),
so it is bit-reproducible too. tests/supermask/test_rng_known_answers.py pins the output: changing anything here
breaks old tickets.
"""
import hashlib

import numpy as np
import torch

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_LN2 = 0.6931471805599453
_CHUNK = 1 << 20  # bounds the float64 temporaries of the normal transform


def _base(seed, key):
    digest = hashlib.sha256(f"{int(seed)}:{key}".encode()).digest()
    return np.frombuffer(digest[:8], dtype="<u8")[0].astype(np.uint64)


def bits(seed, key, n, start=0):
    """n uint64 values: elements start..start+n-1 of stream (seed, key)."""
    return bits_at(seed, key, np.arange(start, start + n, dtype=np.uint64))


def bits_at(seed, key, index):
    """uint64 values of the elements `index` (any integer array) of stream (seed, key): each element is a pure
    function of (seed, key, index), so any subset can be drawn without the rest."""
    with np.errstate(over="ignore"):
        z = _base(seed, key) + ((np.asarray(index, dtype=np.uint64) + np.uint64(1)) * _GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def _numel(shape):
    return int(np.prod(shape, dtype=np.int64))


def _uniform(raw):
    return (raw >> np.uint64(40)).astype(np.float32) * np.float32(2.0 ** -24)


def _signs(raw):
    return np.float32(1.0) - np.float32(2.0) * (raw >> np.uint64(63)).astype(np.float32)


def uniform(seed, key, shape):
    """float32 in [0, 1): the top 24 bits of each draw, scaled exactly."""
    return torch.from_numpy(_uniform(bits(seed, key, _numel(shape))).reshape(shape))


def signs(seed, key, shape):
    """float32 +1/-1 from the top bit of each draw."""
    return torch.from_numpy(_signs(bits(seed, key, _numel(shape))).reshape(shape))


def _poly(x, coeffs):
    acc = np.full_like(x, coeffs[0])
    for c in coeffs[1:]:
        acc = acc * x
        acc = acc + c
    return acc


# ln(m) = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.1716 for m in [sqrt(1/2), sqrt(2)): odd series to s^23 (< 1e-19).
_ATANH = [1.0 / n for n in range(23, 0, -2)]
# cos and sin on [0, pi/2] by Taylor series to degree 24/25 (truncation < 1e-16).
_COS = [(-1.0) ** (n // 2) / float(np.prod(np.arange(1, n + 1, dtype=np.float64))) for n in range(24, -1, -2)]
_SIN = [(-1.0) ** (n // 2) / float(np.prod(np.arange(1, n + 1, dtype=np.float64))) for n in range(25, 0, -2)]


def _log(u):
    m, e = np.frexp(u)  # exact: u = m * 2**e, m in [0.5, 1)
    low = m < 0.7071067811865476
    m = np.where(low, m * 2.0, m)
    e = np.where(low, e - 1, e).astype(np.float64)
    s = (m - 1.0) / (m + 1.0)
    return e * _LN2 + 2.0 * s * _poly(s * s, _ATANH)


def _cos_2pi(t):
    """cos(2 pi t) for t in [0, 1), reduced to a quarter turn exactly (4t - floor(4t) is exact)."""
    q = np.floor(t * 4.0)
    theta = (t * 4.0 - q) * (np.pi / 2.0)
    t2 = theta * theta
    c = _poly(t2, _COS)
    s = theta * _poly(t2, _SIN)
    return np.select([q == 0, q == 1, q == 2], [c, -s, -c], s)


def _box_muller(first, second):
    u1 = ((first >> np.uint64(11)).astype(np.float64) + 1.0) * 2.0 ** -53  # (0, 1]: log is finite
    u2 = (second >> np.uint64(11)).astype(np.float64) * 2.0 ** -53  # [0, 1)
    return (np.sqrt(-2.0 * _log(u1)) * _cos_2pi(u2)).astype(np.float32)


def normal(seed, key, shape):
    """float32 N(0, 1) by Box-Muller over two independent draws per element."""
    n = _numel(shape)
    out = np.empty(n, dtype=np.float32)
    for start in range(0, n, _CHUNK):
        m = min(_CHUNK, n - start)
        raw = bits(seed, key, 2 * m, start=2 * start)
        out[start:start + m] = _box_muller(raw[0::2], raw[1::2])
    return torch.from_numpy(out.reshape(shape))


def at(kind, seed, key, index):
    """float32 numpy values of elements `index` (flat) of a stream, as uniform(), signs() or normal() draw them."""
    index = np.asarray(index, dtype=np.uint64)
    if kind == "normal":
        return _box_muller(bits_at(seed, key, 2 * index), bits_at(seed, key, 2 * index + np.uint64(1)))
    return {"uniform": _uniform, "signs": _signs}[kind](bits_at(seed, key, index))
