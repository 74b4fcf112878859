"""Score and frozen-weight initialisers.

Everything random is drawn from `studiogan_slt.supermask.rng` keyed by (seed, tensor name), so the same seed and
options give bit-identical scores, weights and masks on any machine, and a ticket can regenerate seeded weights
from a small JSON spec (`generate`).
"""
import math

import numpy as np
import torch

from studiogan_slt.supermask import rng

SCORE_INITS = ("kaiming_uniform", "uniform", "constant")
WEIGHT_INITS = ("keep", "signed_kaiming_constant", "kaiming_normal")
BIAS_INITS = ("keep", "uniform")

_RELU_GAIN = math.sqrt(2.0)
_PAPER_SCORE_BOUND = 0.1  # U(-0.1, 0.1) for weight scores (paper, `score_init: dense`)
_PAPER_BIAS_SCORE_BOUND = 1.0  # U(-1, 1) for bias scores


def fan_in(shape):
    """torch's fan-in convention (dim 1 times the receptive field), the one kaiming_* initialisers use."""
    if len(shape) < 2:
        raise ValueError(f"fan_in needs a tensor with at least 2 dimensions, got shape {tuple(shape)}")
    return shape[1] * math.prod(shape[2:])


_STREAMS = {"signed_kaiming_constant": "signs", "kaiming_normal": "normal", "uniform": "uniform"}


def _scaled(kind, draws, scale):
    if kind == "uniform":
        return (draws * 2.0 - 1.0) * scale
    return draws * scale


def _kind(spec):
    if spec["init"] not in _STREAMS:
        raise ValueError(f"unknown init {spec['init']!r} in a seeded weight spec; expected one of "
                         f"{', '.join(_STREAMS)}")
    return spec["init"]


def generate(spec, shape):
    """The frozen tensor described by a seeded init spec {"init", "seed", "key", "scale"}."""
    kind, seed, key, scale = _kind(spec), spec["seed"], spec["key"], torch.tensor(spec["scale"], dtype=torch.float32)
    draw = {"signs": rng.signs, "normal": rng.normal, "uniform": rng.uniform}[_STREAMS[kind]]
    return _scaled(kind, draw(seed, key, shape), scale)


def drawn(spec, index, draws):
    """float32 values of the flat elements `index` of a seeded tensor whose element i holds draw draws[i] of its own
    sequence: draw 0 is generate()'s value, draw j > 0 the same init from the stream "<key>#draw<j>". A value is a
    pure function of (seed, key, element index, draw), so re-randomised weights are regenerated from their draws."""
    kind, scale = _kind(spec), torch.tensor(spec["scale"], dtype=torch.float32)
    index, draws = np.asarray(index, dtype=np.int64), np.asarray(draws, dtype=np.int64)
    out = torch.empty(index.size, dtype=torch.float32)
    for j in np.unique(draws):
        chosen = draws == j
        key = spec["key"] if j == 0 else f"{spec['key']}#draw{j}"
        values = torch.from_numpy(rng.at(_STREAMS[kind], spec["seed"], key, index[chosen]))
        out[torch.from_numpy(chosen)] = _scaled(kind, values, scale)
    return out


def with_draws(spec, shape, draws):
    """generate()'s tensor with every element i replaced by draw draws[i] of its sequence (draws: same shape)."""
    frozen = generate(spec, shape)
    flat, d = frozen.view(-1), torch.as_tensor(draws).reshape(-1).to(torch.int64)
    index = torch.nonzero(d > 0).reshape(-1)
    if index.numel():
        flat[index] = drawn(spec, index.numpy(), d[index].numpy())
    return frozen


def weight_spec(kind, seed, key, shape, k, scaled):
    """Spec of a re-initialised weight: std = gain / sqrt(fan_in), with fan_in * k for edge-popup's "scaled" variant."""
    fan = fan_in(shape) * (k if scaled else 1.0)
    return {"init": kind, "seed": int(seed), "key": key, "scale": _RELU_GAIN / math.sqrt(fan)}


def bias_spec(seed, key, weight_shape):
    """PyTorch's default bias init U(-1/sqrt(fan_in), 1/sqrt(fan_in)), seeded."""
    return {"init": "uniform", "seed": int(seed), "key": key, "scale": 1.0 / math.sqrt(fan_in(weight_shape))}


def scores(kind, seed, key, shape, bound, is_bias):
    """Initial scores. `bound` None means the scheme's default."""
    if kind == "constant":
        return torch.full(tuple(shape), 1.0 if bound is None else float(bound))
    if kind == "uniform" or is_bias:
        default = _PAPER_BIAS_SCORE_BOUND if is_bias else _PAPER_SCORE_BOUND
        b = default if bound is None else float(bound)
    else:  # kaiming_uniform(a=sqrt(5)) as edge-popup: bound = 1/sqrt(fan_in)
        b = 1.0 / math.sqrt(fan_in(shape)) if len(shape) >= 2 else 1.0
    return (rng.uniform(seed, key + "#scores", shape) * 2.0 - 1.0) * b
