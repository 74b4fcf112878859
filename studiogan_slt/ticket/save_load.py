"""Strong-lottery-ticket files (`.slt`): save a converted generator as masks plus the smallest exact description of
its frozen weights (tiers.py), in a verified safetensors container (container.py), and load it back as a plain
module.

Rebuilding the architecture: the header's "architecture" names a builder and JSON kwargs. A registered builder
(builders.py, e.g. "studiogan") is resolved from the plugin's own table and its kwargs are checked against its schema
first; a user's own builder is stored as "module:function" and runs only when the caller trusts the file
(`trust_builder=True`, CLI `--trust-builder`). Otherwise pass the model itself.
"""
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from studiogan_slt import __version__, atomic
from studiogan_slt.errors import SLTError
from studiogan_slt.supermask.convert import slt_options
from studiogan_slt.supermask.search import final_k
from studiogan_slt.ticket import bitpack, builders, tiers
from studiogan_slt.ticket import container as fmt
from studiogan_slt.ticket.sample import check_sampler

RNG_ID = "splitmix64-counter/sha256-key/v1"  # studiogan_slt.supermask.rng as pinned by tests/supermask/test_rng_known_answers.py
VALUE_DTYPES = ("float32", "float16")


def _builder_spec(builder, kwargs):
    if builder is None:
        if kwargs:
            raise ValueError("builder_kwargs given without builder")
        return None
    kwargs = dict(kwargs or {})
    if callable(builder) and "<" in builder.__qualname__:
        raise ValueError("builder must be a module-level function (it is stored by name), not a lambda or a "
                         "local function")
    name = builders.registered_name(builder)
    if name is not None:
        builders.check_kwargs(name, kwargs)
        return {"builder": name, "kwargs": kwargs}
    if callable(builder):
        builder = f"{builder.__module__}:{builder.__qualname__}"
    if not isinstance(builder, str) or builder.count(":") != 1:
        raise ValueError(f"builder must be a registered name ({', '.join(builders.BUILDERS)}), 'module:function' "
                         f"or a module-level function, got {builder!r}")
    return {"builder": builder, "kwargs": kwargs}


def encode(module, *, builder=None, builder_kwargs=None, sampler=None, tier="auto", values_dtype="float32",
           codec="rans", **meta):
    """The ticket of a converted module, as bytes. Options: see save_ticket."""
    if values_dtype not in VALUE_DTYPES:
        raise ValueError(f"values_dtype must be one of {', '.join(VALUE_DTYPES)}; got {values_dtype!r}")
    if codec not in bitpack.CODECS:
        raise ValueError(f"codec must be one of {', '.join(bitpack.CODECS)}; got {codec!r}")
    opts = slt_options(module)
    header = {"format": fmt.FORMAT, "format_version": fmt.FORMAT_VERSION, "plugin_version": __version__,
              "rng": RNG_ID, "options": opts, "codec": codec,
              "values_dtype": values_dtype, "architecture": _builder_spec(builder, builder_kwargs),
              "sampler": check_sampler(sampler) if sampler is not None else None, "meta": meta}
    try:
        fmt.canonical(header)
    except (TypeError, ValueError) as e:
        raise ValueError(f"builder_kwargs, sampler and meta must be JSON values (str, number, bool, list, dict): "
                         f"{e}") from None
    with final_k(module, opts["k"]):  # a ticket always stores the final k, even one saved mid-schedule
        header["masked"], header["tensors"], blobs = tiers.pack_module(module, tier, values_dtype, codec, opts["k"])
    return fmt.dumps(header, blobs)


def save_ticket(module, path, *, builder=None, builder_kwargs=None, sampler=None, tier="auto",
                values_dtype="float32", codec="rans", **meta):
    """Write the ticket of a converted module to `path`; returns the path.

    builder / builder_kwargs: how to rebuild the plain generator (a name registered in ticket/builders.py, whose
    kwargs are checked against its schema, or a user's own "module:function" / module-level function, which loads
    only with trust_builder), plus JSON kwargs; without them, load_ticket needs `model=`. sampler: how
    `studiogan-slt sample` calls the generator ({"z_dim", "prior", "num_classes", "pass_label", "one_hot",
    "kwargs"}, see ticket/sample.py). tier: "auto" (the smallest exact tier per tensor) or one of seeded/signs/values for all. values_dtype: float32 (exact) or float16.
    codec: "rans" codes the masks with a model of k (0.47 bit per weight at k = 0.1, 0.1% over the entropy bound)
    and the state with xz; "xz" codes both with xz (about 3% over the bound); "none" stores 1 bit per weight.
    meta: any other JSON values, kept in the header (the StudioGAN adapter stores its run's config here).
    """
    data = encode(module, builder=builder, builder_kwargs=builder_kwargs, sampler=sampler, tier=tier,
                  values_dtype=values_dtype, codec=codec, **meta)
    return atomic.write_bytes(path, data)


@dataclass
class Ticket:
    """A verified ticket: its header, masks and materialized state_dict (original keys, weight = w * mask)."""
    header: dict
    masks: dict
    state: dict
    source: str
    nbytes: int
    blobs: dict = field(repr=False)  # the verified payloads as stored

    def build(self, model=None, *, trust_builder=False):
        """Load into `model` (a plain module of the ticket's architecture) or a fresh one from the builder."""
        if model is None:
            model = self._rebuild(trust_builder)
        elif hasattr(model, "_slt_options"):
            raise ValueError("model is a converted module; load_ticket needs the plain (unconverted) generator")
        self._check_fits(model)
        with torch.no_grad():
            model.load_state_dict(self.state, strict=True)
        return model.eval()

    def _rebuild(self, trust_builder):
        arch = self.header.get("architecture")
        if not arch or not isinstance(arch.get("builder"), str) or not isinstance(arch.get("kwargs"), dict):
            raise SLTError(f"{self.source}: the ticket names no builder for its architecture; pass the plain "
                           "generator as model=")
        try:
            fn = builders.resolve(arch["builder"], arch["kwargs"], trust_builder)
        except (ValueError, PermissionError) as e:
            raise SLTError(f"{self.source}: {e}") from None
        except (ImportError, AttributeError) as e:
            raise SLTError(f"{self.source}: cannot import the ticket's builder {arch['builder']!r}: {e}") from None
        model = fn(**arch["kwargs"])
        if not isinstance(model, nn.Module):
            raise SLTError(f"{self.source}: builder {arch['builder']!r} returned {type(model).__name__}, "
                           "not an nn.Module")
        return model

    def _check_fits(self, model):
        have = model.state_dict()
        missing, extra = sorted(set(self.state) - set(have)), sorted(set(have) - set(self.state))
        problem = None
        if missing or extra:
            problem = (f"the model has no tensor {missing[0]!r}" if missing else
                       f"the ticket has no tensor {extra[0]!r}")
        else:
            for name, t in self.state.items():
                if tuple(have[name].shape) != tuple(t.shape) or have[name].dtype != t.dtype:
                    problem = (f"{name} is {tuple(t.shape)} {t.dtype} in the ticket but "
                               f"{tuple(have[name].shape)} {have[name].dtype} in the model")
                    break
        if problem:
            raise SLTError(f"{self.source}: the ticket does not fit this architecture: {problem}")

    def recode(self, codec):
        """The same ticket with its masks and state in another codec, as bytes (the raw-bitmask tier: "none")."""
        header = {key: v for key, v in self.header.items() if key not in ("blobs", "header_sha256")}
        header["codec"] = codec
        return fmt.dumps(header, tiers.repack_masks(self.header, self.masks, self.blobs, codec))


def read_ticket(path):
    """Read and verify a ticket without building its model: returns a Ticket."""
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise SLTError(f"cannot read ticket {source}: {e.strerror or e}") from None
    header, blobs = fmt.loads(data, source)
    if header["rng"] != RNG_ID:
        raise SLTError(f"{source}: the ticket was written with RNG {header['rng']!r}; this studiogan-slt has "
                       f"{RNG_ID!r}")
    masks, state = tiers.unpack(header, blobs, source)
    return Ticket(header, masks, state, source, len(data), blobs)


def load_ticket(path, model=None, *, trust_builder=False):
    """Read and verify a ticket and return the plain generator with the ticket's masked weights, in eval mode.

    model: a plain module of the same architecture to load into (verified tensor by tensor); when None the
    header's builder rebuilds it (ticket/builders.py says which builders run). Any mismatch, truncation or
    tampering raises SLTError with one line saying what is wrong.
    """
    return read_ticket(path).build(model, trust_builder=trust_builder)
