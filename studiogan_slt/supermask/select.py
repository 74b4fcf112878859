"""Which tensors of a model get a supermask.

A module is maskable when its forward reads a tensor attribute `weight` of 2+ dimensions: nn.Conv*, nn.Linear,
nn.Embedding, and custom layers that hold a raw `weight` (StyleGAN2's). Modules wrapped by the old, hook-based
`torch.nn.utils.spectral_norm` recompute `weight` from `weight_orig` before every forward, so `weight_orig` is
masked instead: spectral normalisation then sees the masked weight. Normalisation layers are never masked.
"""
import re
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.modules.batchnorm import _NormBase
from torch.nn.utils.spectral_norm import SpectralNorm

_NEVER = (_NormBase, nn.GroupNorm, nn.LayerNorm, nn.LocalResponseNorm)


def is_normalisation(module):
    return isinstance(module, _NEVER)


@dataclass
class Target:
    module_name: str
    module: nn.Module
    weight_attr: str  # "weight" or "weight_orig"
    bias_attr: str  # "bias" or "" when the module has no bias tensor

    def tensor_name(self, attr):
        return f"{self.module_name}.{attr}" if self.module_name else attr


def _has_spectral_norm(module):
    return any(isinstance(h, SpectralNorm) for h in module._forward_pre_hooks.values())


def _tensor_attr(module, name):
    value = module._parameters.get(name, module._buffers.get(name))
    return value if isinstance(value, torch.Tensor) else None


def _weight_attr(module):
    if is_normalisation(module):
        return ""
    name = "weight_orig" if _has_spectral_norm(module) else "weight"
    w = _tensor_attr(module, name)
    return name if w is not None and w.dim() >= 2 else ""


def _type_matches(module, types):
    if types is None:
        return True
    names = {t for t in types if isinstance(t, str)}
    classes = tuple(t for t in types if isinstance(t, type))
    return isinstance(module, classes) or any(c.__name__ in names for c in type(module).__mro__)


def find_targets(model, types=None, include=None, exclude=None, first_last_dense=False, mask_bias=True):
    """Returns (targets to mask, targets kept dense), both in registration order.

    include/exclude are regexes searched in each tensor's name; a module is a target when its weight survives them.
    first_last_dense keeps the first and last maskable module (in registration order) dense.
    """
    inc = [re.compile(p) for p in include or []]
    exc = [re.compile(p) for p in exclude or []]

    def wanted(name):
        return (not inc or any(p.search(name) for p in inc)) and not any(p.search(name) for p in exc)

    targets = []
    for mod_name, module in model.named_modules():
        attr = _weight_attr(module)
        if not attr or not _type_matches(module, types):
            continue
        t = Target(mod_name, module, attr, "")
        if not wanted(t.tensor_name(attr)):
            continue
        if mask_bias and _tensor_attr(module, "bias") is not None and wanted(t.tensor_name("bias")):
            t.bias_attr = "bias"
        targets.append(t)
    dense = []
    if first_last_dense and targets:
        dense = [targets[0]] if len(targets) == 1 else [targets[0], targets[-1]]
        targets = targets[1:-1]
    return targets, dense
