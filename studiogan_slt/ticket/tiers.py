"""Payloads of a ticket: from a converted module to header entries + blobs, and back to masks + a state_dict.

Frozen weights of each masked tensor go in the first tier that reproduces them exactly:
  1. "seeded": regenerated from the init spec (seed, key, scale) by studiogan_slt.supermask.rng; the header keeps the
     sha256 of the regenerated tensor, and reading refuses a mismatch;
  2. "signs": signed-constant weights: the signs of the kept weights (one bit each) plus the constant;
  3. "values": the kept values (fp32, or fp16 when asked, which is lossy).
A re-randomised seeded tensor (convert's `rerandomize`) also stores, per kept weight, which draw of its seeded
sequence it holds ("draws" payload, xz-coded; the entry's "draws" names the integer type); its sha256 is that of
the regenerated tensor, whose pruned positions are at draw 0.
"""
import numpy as np
import torch
from torch.nn.utils import parametrize

from studiogan_slt.digests import sha256, tensor_bytes
from studiogan_slt.errors import SLTError
from studiogan_slt.supermask import inits
from studiogan_slt.supermask.convert import masked_tensors, materialize
from studiogan_slt.supermask.parametrize import kept_count
from studiogan_slt.ticket import TIER_CHOICES, bitpack
from studiogan_slt.ticket import container as fmt

# Draw counts are stored in the narrowest of these that holds the largest kept count.
_DRAWS_DTYPES = tuple(zip(fmt.DRAWS_DTYPES, (255, 2 ** 15 - 1, 2 ** 31 - 1)))


def original_type(owner):
    """Class name before conversion (parametrize swaps in a subclass)."""
    return parametrize.type_before_parametrizations(owner).__name__


def _draws_dtype(largest):
    return next(name for name, top in _DRAWS_DTYPES if largest <= top)


def _frozen_fields(mt, frozen, mask, tier):
    """(tier fields, signs bits or None, kept values or None, kept draw counts or None) of one masked tensor, in the
    first tier that fits."""
    if tier in ("auto", "seeded") and mt.init is not None:
        draws = getattr(mt.supermask, "draws", None)
        kept_draws = draws.cpu()[mask].to(torch.int64) if draws is not None else None
        if kept_draws is not None and kept_draws.any():
            regenerated = inits.with_draws(mt.init, tuple(frozen.shape), draws.cpu() * mask)
            fields = {"draws": _draws_dtype(int(kept_draws.max()))}
        else:
            regenerated, fields, kept_draws = inits.generate(mt.init, tuple(frozen.shape)), {}, None
        regenerated = regenerated.to(frozen.dtype)
        # Re-randomised tensors: only kept weights matter, and pruned ones are regenerated at draw 0.
        same = (sha256(regenerated[mask]) == sha256(frozen[mask]) if draws is not None
                else sha256(regenerated) == sha256(frozen))
        if same:
            return {"tier": "seeded", "init": dict(mt.init), "sha256": sha256(regenerated), **fields}, None, None, \
                kept_draws
    if tier == "seeded":
        raise ValueError(f"tier='seeded' impossible for {mt.name}: its values were not produced by a seeded init "
                         "(convert with weight_init='signed_kaiming_constant' or 'kaiming_normal', bias_init='uniform')")
    kept = frozen[mask]
    magnitude = kept.abs()
    if tier in ("auto", "signs") and kept.numel() and bool((magnitude == magnitude[0]).all()) and magnitude[0] > 0:
        return {"tier": "signs", "constant": float(magnitude[0])}, bitpack.pack(kept > 0), None, None
    if tier == "signs":
        raise ValueError(f"tier='signs' impossible for {mt.name}: its kept values are not +-one constant")
    return {"tier": "values"}, None, kept, None


def pack_module(module, tier, values_dtype, codec, k):
    """(masked entries, tensor entries, blobs) of a converted module whose masks keep k."""
    if tier not in TIER_CHOICES:
        raise ValueError(f"tier must be one of {', '.join(TIER_CHOICES)}; got {tier!r}")
    masked, tensors, mask_parts, sign_parts, value_parts, state_parts, draw_parts = [], [], [], [], [], [], []
    with torch.no_grad():
        for mt in masked_tensors(module):
            frozen, mask = mt.frozen.detach().cpu(), mt.supermask.mask().cpu()
            fields, signs, values, draws = _frozen_fields(mt, frozen, mask, tier)
            masked.append({"name": mt.name, "type": original_type(mt.owner), "shape": list(frozen.shape),
                           "dtype": fmt.dtype_name(frozen.dtype), "kept": int(mask.sum()),
                           "scale": mt.supermask.scale, **fields})
            mask_parts.append(bitpack.pack(mask))
            if signs is not None:
                sign_parts.append(signs)
            if values is not None:
                value_parts.append(values.to(fmt.torch_dtype(values_dtype)))
            if draws is not None:
                draw_parts.append(tensor_bytes(draws.to(fmt.torch_dtype(fields["draws"]))))
        masked_names = {e["name"] for e in masked}
        for name, t in materialize(module).state_dict().items():
            if name not in masked_names:
                tensors.append({"name": name, "shape": list(t.shape), "dtype": fmt.dtype_name(t.dtype)})
                state_parts.append(tensor_bytes(t))
    blobs = {"masks": bitpack.encode(_cat(mask_parts), codec, k), "state": bitpack.encode(_cat(state_parts), codec)}
    if sign_parts:
        blobs["signs"] = _cat(sign_parts)
    if draw_parts:
        blobs["draws"] = bitpack.encode(_cat(draw_parts), codec)
    if value_parts:
        blobs["values"] = torch.cat(value_parts)
    return masked, tensors, blobs


def _cat(parts):
    return np.concatenate(parts) if parts else np.zeros(0, np.uint8)


class _Reader:
    """Consumes a flat payload front to back; the payload must be used up exactly."""

    def __init__(self, data, what, source):
        self.data, self.pos, self.what, self.source = data, 0, what, source

    def take(self, n):
        if self.pos + n > len(self.data):
            raise SLTError(f"{self.source}: payload {self.what!r} is shorter than the header says")
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def done(self):
        if self.pos != len(self.data):
            raise SLTError(f"{self.source}: payload {self.what!r} is longer than the header says")


def _decoded(blobs, name, codec, nbytes, source, k=None):
    try:
        return bitpack.decode(_uint8_blob(blobs, name, source), codec, nbytes, k)
    except bitpack.PayloadError as e:
        raise SLTError(f"{source}: payload {name!r}: {e}") from None


def _uint8_blob(blobs, name, source, required=True):
    if name not in blobs:
        if required:
            raise SLTError(f"{source}: the ticket has no {name!r} payload")
        return np.zeros(0, np.uint8)
    t = blobs[name]
    if t.dtype != torch.uint8 or t.dim() != 1:
        raise SLTError(f"{source}: payload {name!r} must be a flat uint8 tensor")
    return t.numpy()


def check_counts(header, source):
    """Kept counts must follow from k and the scope: n - floor((1 - k) n) per tensor, or over all of them."""
    k, scope, entries = header["options"]["k"], header["options"]["scope"], header["masked"]
    totals = [fmt.numel(e["shape"]) for e in entries]
    if scope == "layer":
        bad = [e["name"] for e, n in zip(entries, totals) if e["kept"] != kept_count(n, k)]
    else:
        bad = [] if sum(e["kept"] for e in entries) == kept_count(sum(totals), k) else ["the model as a whole"]
    if bad:
        raise SLTError(f"{source}: kept counts do not match k={k} ({scope} scope) for {bad[0]}")


def _draws_nbytes(entries):
    return sum(e["kept"] * fmt.torch_dtype(e["draws"]).itemsize for e in entries if "draws" in e)


def _frozen(entry, mask, signs, values, draws, source):
    """The frozen tensor of one masked entry (dropped positions are 0 in the signs and values tiers, and at draw 0
    in a re-randomised seeded one)."""
    shape, dtype, name, n = tuple(entry["shape"]), fmt.torch_dtype(entry["dtype"]), entry["name"], entry["kept"]
    if entry["tier"] == "seeded":
        try:
            if "draws" in entry:
                counts = torch.zeros(shape, dtype=torch.int64)
                counts[mask] = fmt.tensor_from_bytes(draws.take(n * fmt.torch_dtype(entry["draws"]).itemsize),
                                                     entry["draws"], [n]).to(torch.int64)
                if bool((counts < 0).any()):
                    raise ValueError("negative draw counts")
                frozen = inits.with_draws(entry["init"], shape, counts).to(dtype)
            else:
                frozen = inits.generate(entry["init"], shape).to(dtype)
        except (KeyError, TypeError, ValueError) as e:
            raise SLTError(f"{source}: the seeded init spec of {name} is invalid ({e})") from None
        if sha256(frozen) != entry["sha256"]:
            raise SLTError(f"{source}: the regenerated weights of {name} do not match the ticket's sha256 (the "
                           "header was edited, or this RNG differs from the one that wrote the ticket)")
        return frozen
    frozen = torch.zeros(shape, dtype=dtype)
    if entry["tier"] == "signs":
        try:
            positive = bitpack.unpack(signs.take((n + 7) // 8), n)
        except bitpack.PayloadError as e:
            raise SLTError(f"{source}: signs of {name}: {e}") from None
        c = torch.tensor(entry["constant"], dtype=dtype)
        frozen[mask] = torch.where(positive, c, -c)
    else:
        assert entry["tier"] == "values", entry["tier"]  # the header schema (container.py) admits only TIERS
        frozen[mask] = values.take(n).to(dtype)
    return frozen


def unpack(header, blobs, source):
    """(masks, materialized state_dict) from a header and blobs that ticket_format.loads has verified."""
    check_counts(header, source)
    codec, entries = header["codec"], header["masked"]
    masks_data = _decoded(blobs, "masks", codec, sum((fmt.numel(e["shape"]) + 7) // 8 for e in entries), source,
                          header["options"]["k"])
    mask_bits = _Reader(masks_data, "masks", source)
    signs = _Reader(_uint8_blob(blobs, "signs", source, required=False), "signs", source)
    stored = blobs.get("values", torch.zeros(0, dtype=fmt.torch_dtype(header["values_dtype"])))
    if stored.dtype != fmt.torch_dtype(header["values_dtype"]) or stored.dim() != 1:
        raise SLTError(f"{source}: payload 'values' must be a flat {header['values_dtype']} tensor")
    values = _Reader(stored, "values", source)
    draws_nbytes = _draws_nbytes(entries)
    draws = _Reader(_decoded(blobs, "draws", codec, draws_nbytes, source) if draws_nbytes else np.zeros(0, np.uint8),
                    "draws", source)
    masks, state = {}, {}
    for entry in entries:
        n, name = fmt.numel(entry["shape"]), entry["name"]
        try:
            mask = bitpack.unpack(mask_bits.take((n + 7) // 8), n).reshape(entry["shape"])
        except bitpack.PayloadError as e:
            raise SLTError(f"{source}: mask of {name}: {e}") from None
        if int(mask.sum()) != entry["kept"]:
            raise SLTError(f"{source}: the mask of {name} keeps {int(mask.sum())}, the header says {entry['kept']}")
        value = _frozen(entry, mask, signs, values, draws, source) * mask  # the same ops as Supermask.forward
        masks[name] = mask
        state[name] = value * entry["scale"] if entry["scale"] != 1.0 else value
    if not draws_nbytes and "draws" in blobs:
        raise SLTError(f"{source}: payload 'draws' is there, but no tensor of the header has draw counts")
    for reader in (mask_bits, signs, values, draws):
        reader.done()
    sizes = [fmt.numel(e["shape"]) * fmt.torch_dtype(e["dtype"]).itemsize for e in header["tensors"]]
    state_bytes = _Reader(_decoded(blobs, "state", codec, sum(sizes), source), "state", source)
    for entry, size in zip(header["tensors"], sizes):
        state[entry["name"]] = fmt.tensor_from_bytes(state_bytes.take(size), entry["dtype"], entry["shape"])
    state_bytes.done()
    return masks, state


def repack_masks(header, masks, blobs, codec):
    """Blobs of the same ticket with masks, state and draw counts in another codec."""
    state_nbytes = sum(fmt.numel(e["shape"]) * fmt.torch_dtype(e["dtype"]).itemsize for e in header["tensors"])
    state = bitpack.decode(blobs["state"].numpy(), header["codec"], state_nbytes)
    packed = _cat([bitpack.pack(masks[e["name"]]) for e in header["masked"]])
    out = dict(blobs, masks=bitpack.encode(packed, codec, header["options"]["k"]), state=bitpack.encode(state, codec))
    if "draws" in blobs:
        draws = bitpack.decode(blobs["draws"].numpy(), header["codec"], _draws_nbytes(header["masked"]))
        out["draws"] = bitpack.encode(draws, codec)
    return out
