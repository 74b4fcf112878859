"""Turn any nn.Module into a supermasked one in place, read its masks, and turn it back into a plain module."""
import copy
import math
import warnings
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils import parametrize

from studiogan_slt.supermask import inits
from studiogan_slt.supermask import options as options_mod
from studiogan_slt.supermask.parametrize import GlobalScope, Supermask
from studiogan_slt.supermask.select import find_targets, is_normalisation

_OPTIONS_ATTR = "_slt_options"
_FROZEN_ATTR = "_slt_frozen_parameters"


@dataclass
class MaskedTensor:
    name: str  # the tensor's name before conversion, e.g. "blocks.0.conv.weight_orig"
    owner: nn.Module
    attr: str
    supermask: Supermask
    init: dict  # seeded init spec of the frozen values, or None when they came from the host

    @property
    def frozen(self):
        return self.owner.parametrizations[self.attr].original


def _set_tensor(module, attr, value, as_parameter):
    module._parameters.pop(attr, None)
    module._buffers.pop(attr, None)
    if as_parameter:
        module.register_parameter(attr, nn.Parameter(value))
    else:
        module.register_buffer(attr, value)


def _install(module, attr, name, opts, weight_shape, is_bias):
    """Re-initialise the frozen tensor when asked, make it a buffer, and put a Supermask on it."""
    current = getattr(module, attr)
    spec = None
    if not is_bias and opts["weight_init"] != "keep":
        spec = inits.weight_spec(opts["weight_init"], opts["seed"], name, current.shape, opts["k"], opts["scaled"])
    elif is_bias and opts["bias_init"] == "uniform":
        spec = inits.bias_spec(opts["seed"], name, weight_shape)
    frozen = inits.generate(spec, current.shape).to(current) if spec else current.detach()
    bound = opts["bias_score_bound"] if is_bias else opts["score_bound"]
    scores = inits.scores(opts["score_init"], opts["seed"], name, current.shape, bound, is_bias).to(current)
    scale = 1.0 / math.sqrt(opts["k"]) if opts["rescale"] and not is_bias else 1.0
    sm = Supermask(scores, opts["k"], scale)
    sm.init_spec = spec
    sm.was_parameter = isinstance(current, nn.Parameter)
    if opts["rerandomize"] and spec is not None:
        # Which draw of its seeded sequence each element holds (search/rerandomize.py), a buffer so that it travels
        # with the host's checkpoints. float32, not an integer type: StudioGAN's EMA lerps every buffer
        # (utils/ema.py:38), which integer tensors refuse; counts stay exact up to 2**24.
        sm.register_buffer("draws", torch.zeros_like(scores))
    _set_tensor(module, attr, frozen, as_parameter=False)
    parametrize.register_parametrization(module, attr, sm)
    return sm


def _freeze_parameters(model, learn_bn):
    """Every Parameter that is not a score (nor, with learn_bn, a normalisation layer's affine) becomes a buffer
    (same storage), so optimizers and requires_grad toggles cannot reach it. Returns their names so materialize()
    can give them back."""
    frozen = []
    for mod_name, module in model.named_modules():
        if isinstance(module, Supermask) or (learn_bn and is_normalisation(module)):
            continue
        for attr, p in list(module._parameters.items()):
            if p is not None:
                _set_tensor(module, attr, p.detach(), as_parameter=False)
                frozen.append(f"{mod_name}.{attr}" if mod_name else attr)
    return frozen


def convert(module, k, **options):
    """Convert `module` in place so that every selected weight (and bias) is frozen * top-k(|scores|) mask.

    k is the fraction KEPT. Options and defaults: see options.DEFAULTS; README.md explains each. Returns `module`.
    """
    opts = options_mod.validate(k, options)
    if hasattr(module, _OPTIONS_ATTR):
        raise ValueError("module is already converted; call materialize() first to get a plain copy")
    targets, dense = find_targets(module, opts["types"], opts["include"], opts["exclude"],
                                  opts["first_last_dense"], opts["mask_bias"])
    if not targets:
        raise ValueError("nothing to mask: no layer with a weight tensor matched "
                         f"types={opts['types']}, include={opts['include']}, exclude={opts['exclude']}")
    supermasks, zero_biases = [], 0
    with torch.no_grad():
        for t in dense:
            if opts["weight_init"] != "keep":
                w = getattr(t.module, t.weight_attr)
                name = t.tensor_name(t.weight_attr)
                spec = inits.weight_spec(opts["weight_init"], opts["seed"], name, w.shape, 1.0, False)
                w.copy_(inits.generate(spec, w.shape))
        for t in targets:
            weight_shape = getattr(t.module, t.weight_attr).shape
            supermasks.append(_install(t.module, t.weight_attr, t.tensor_name(t.weight_attr), opts, weight_shape,
                                       is_bias=False))
            if t.bias_attr:
                if opts["bias_init"] == "keep" and not getattr(t.module, t.bias_attr).any():
                    zero_biases += 1
                supermasks.append(_install(t.module, t.bias_attr, t.tensor_name(t.bias_attr), opts, weight_shape,
                                           is_bias=True))
    if zero_biases:
        warnings.warn(f"{zero_biases} masked bias tensors are all zero (the host zero-initialises biases), so their "
                      "masks can never matter or learn; set bias_init='uniform' or mask_bias=False", stacklevel=2)
    if opts["scope"] == "global":
        GlobalScope(supermasks, opts["k"])
    if opts["learn_bn"] and not any(is_normalisation(m) and any(p is not None for p in m._parameters.values())
                                    for m in module.modules()):
        warnings.warn("learn_bn: the model has no normalisation layer with an affine to learn (a conditional BN "
                      "computes its gain and bias with layers that are masked instead)", stacklevel=2)
    setattr(module, _FROZEN_ATTR, _freeze_parameters(module, opts["learn_bn"]))
    opts["types"] = [t if isinstance(t, str) else t.__name__ for t in opts["types"]] if opts["types"] else None
    setattr(module, _OPTIONS_ATTR, opts)
    return module


def slt_options(module):
    """The options convert() was called with (JSON-able), or raise ValueError for a module that was not converted."""
    opts = getattr(module, _OPTIONS_ATTR, None)
    if opts is None:
        raise ValueError("module was not converted by studiogan_slt.convert()")
    return dict(opts)


def masked_tensors(module):
    """Every supermasked tensor of `module`, in registration order."""
    found = []
    for mod_name, owner in module.named_modules():
        if not parametrize.is_parametrized(owner):
            continue
        for attr, plist in owner.parametrizations.items():
            for p in plist:
                if isinstance(p, Supermask):
                    name = f"{mod_name}.{attr}" if mod_name else attr
                    found.append(MaskedTensor(name, owner, attr, p, p.init_spec))
    return found


def masks(module):
    """{tensor name before conversion: bool mask}."""
    with torch.no_grad():
        return {mt.name: mt.supermask.mask().clone() for mt in masked_tensors(module)}


def _nonleaf_tensors(module):
    """deepcopy memo entries for tensors that cannot be deep-copied: old-style spectral norm leaves a non-leaf
    `weight` attribute on its module after a forward pass (recomputed by its pre-hook before every use anyway)."""
    memo = {}
    for m in module.modules():
        for value in vars(m).values():
            if isinstance(value, torch.Tensor) and not value.is_leaf:
                memo[id(value)] = value.detach().clone()
    return memo


def materialize(module):
    """A plain deep copy with the original classes, parameters and state_dict keys, where weight = w * mask."""
    plain = copy.deepcopy(module, _nonleaf_tensors(module))
    # parametrize.remove_parametrizations() would delete the property from the parametrized class, which a deep
    # copy shares with the original module; swapping the copy's class back leaves the original untouched.
    with torch.no_grad():
        values = [(mt.owner, mt.attr, getattr(mt.owner, mt.attr).detach().clone(), mt.supermask.was_parameter)
                  for mt in masked_tensors(plain)]
    for owner, attr, value, was_parameter in values:
        if parametrize.is_parametrized(owner):
            owner.__class__ = parametrize.type_before_parametrizations(owner)
            del owner._modules["parametrizations"]
        _set_tensor(owner, attr, value, as_parameter=was_parameter)
    for name in getattr(plain, _FROZEN_ATTR, []):
        owner_name, _, attr = name.rpartition(".")
        owner = plain.get_submodule(owner_name)
        _set_tensor(owner, attr, owner._buffers[attr], as_parameter=True)
    for attr in (_OPTIONS_ATTR, _FROZEN_ATTR):
        if hasattr(plain, attr):
            delattr(plain, attr)
    return plain
