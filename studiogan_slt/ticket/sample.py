"""Drawing images from a generator described by a ticket's "sampler" spec, and writing them as PNG files.

Latents come from studiogan_slt.supermask.rng, one row per image, so image i for a given seed is the same on every
machine and for every batch size. PNGs are written with zlib alone (no imaging library needed).
"""
import math
import numbers
import struct
import zlib

import numpy as np
import torch

from studiogan_slt import atomic
from studiogan_slt.errors import SLTError
from studiogan_slt.supermask import rng

PRIORS = ("gaussian", "uniform")
MAX_Z_DIM = 1 << 16  # latents are drawn before the model sees them: a crafted z_dim must not size that draw
_SAMPLER_DEFAULTS = {"prior": "gaussian", "num_classes": 0, "pass_label": False, "one_hot": False, "kwargs": {}}


def check_sampler(spec):
    """A complete sampler spec: {"z_dim": int, "prior": gaussian|uniform, "num_classes": int, "pass_label": bool
    (call model(z, label, **kwargs) instead of model(z, **kwargs)), "one_hot": bool (the label as a one-hot float
    row, as StyleGAN's mapping network takes it), "kwargs": {...}}. Raises ValueError."""
    if not isinstance(spec, dict):
        raise ValueError(f"sampler must be a dict with z_dim and optional {', '.join(_SAMPLER_DEFAULTS)}")
    unknown = sorted(set(spec) - {"z_dim", *_SAMPLER_DEFAULTS})
    if unknown:
        raise ValueError(f"unknown sampler field {unknown[0]!r}; allowed: z_dim, {', '.join(_SAMPLER_DEFAULTS)}")
    out = {**_SAMPLER_DEFAULTS, **spec}
    for key in ("z_dim", "num_classes"):
        if isinstance(out.get(key), bool) or not isinstance(out.get(key), numbers.Integral) or out[key] < 0:
            raise ValueError(f"sampler {key} must be a non-negative integer, got {out.get(key)!r}")
    if not 1 <= out["z_dim"] <= MAX_Z_DIM or out["num_classes"] > MAX_Z_DIM:
        raise ValueError(f"sampler z_dim must be from 1 to {MAX_Z_DIM} and num_classes at most {MAX_Z_DIM}")
    if out["prior"] not in PRIORS:
        raise ValueError(f"sampler prior must be one of {', '.join(PRIORS)}; got {out['prior']!r}")
    if not isinstance(out["pass_label"], bool) or not isinstance(out["one_hot"], bool) \
            or not isinstance(out["kwargs"], dict):
        raise ValueError("sampler pass_label and one_hot must be true/false and kwargs a dict")
    if out["pass_label"] and out["num_classes"] < 1:
        raise ValueError("sampler pass_label needs num_classes >= 1")
    if out["one_hot"] and not out["pass_label"]:
        raise ValueError("sampler one_hot encodes the label: it needs pass_label true")
    return {**out, "z_dim": int(out["z_dim"]), "num_classes": int(out["num_classes"]), "kwargs": dict(out["kwargs"])}


def ticket_sampler(ticket):
    """The checked sampler spec of a read Ticket; SLTError (one line) when it has none or an invalid one."""
    spec = ticket.header.get("sampler")
    if spec is None:
        raise SLTError(f"{ticket.source} has no sampler spec (z size, prior), so it cannot be sampled from; save it "
                       "with save_ticket(..., sampler={'z_dim': ...})")
    try:
        return check_sampler(spec)
    except ValueError as e:
        raise SLTError(f"{ticket.source}: {e}") from None


def latents(spec, n, seed, start=0):
    """(z [n, z_dim], labels [n] or None) for images start..start+n-1: each row is drawn on its own (rng.at), so
    a batch never needs the rows before it."""
    index = np.arange(start * spec["z_dim"], (start + n) * spec["z_dim"], dtype=np.uint64)
    z = torch.from_numpy(rng.at("normal" if spec["prior"] == "gaussian" else "uniform", seed, "sample/z", index)
                         .reshape(n, spec["z_dim"]))
    if spec["prior"] != "gaussian":
        z = z * 2.0 - 1.0
    labels = None
    if spec["pass_label"]:
        u = torch.from_numpy(rng.at("uniform", seed, "sample/label", np.arange(start, start + n, dtype=np.uint64)))
        labels = (u * spec["num_classes"]).long().clamp_(max=spec["num_classes"] - 1)
    return z, labels


def call(model, spec, z, labels):
    if not spec["pass_label"]:
        return model(z, **spec["kwargs"])
    if spec["one_hot"]:
        labels = torch.nn.functional.one_hot(labels, spec["num_classes"]).to(z.dtype)
    return model(z, labels, **spec["kwargs"])


def check_model(model, spec, source):
    """SLTError (one line) unless `model` takes the sampler's inputs: one image, drawn before any real batch."""
    args, kwargs = example_inputs(spec)
    try:
        with torch.no_grad():
            model(*args, **kwargs)
    except (RuntimeError, TypeError, ValueError, IndexError) as e:
        raise SLTError(f"{source}: the generator does not take the inputs of the ticket's sampler (z_dim "
                       f"{spec['z_dim']}): {str(e).splitlines()[0][:200] if str(e) else type(e).__name__}") from None


def example_inputs(spec, batch=1):
    """Positional args and kwargs of one forward pass, for MAC counting."""
    z, labels = latents(spec, batch, 0)
    return ((z, labels) if spec["pass_label"] else (z,)), dict(spec["kwargs"])


def to_uint8(images):
    """[-1, 1] generator output (N, C, H, W) -> uint8 (N, H, W, C), rounded as torchvision.utils.save_image does."""
    x = ((images.detach().float().cpu() + 1.0) * 0.5).mul(255.0).add(0.5).clamp(0, 255).to(torch.uint8)
    return x.permute(0, 2, 3, 1).contiguous().numpy()


def generate(model, spec, n, seed, batch_size, on_batch=None):
    """Yields uint8 image batches (N, H, W, C) for images 0..n-1, drawing each batch's latents only when it is due
    (a hundred million images must not allocate every latent first); calls on_batch(count) after each."""
    device = next((t.device for t in model.state_dict().values()), torch.device("cpu"))
    with torch.no_grad():
        for start in range(0, n, batch_size):
            z, labels = latents(spec, min(batch_size, n - start), seed, start)
            batch = to_uint8(call(model, spec, z.to(device), labels.to(device) if labels is not None else None))
            if on_batch:
                on_batch(len(batch))
            yield batch


def write_png(path, image):
    """uint8 (H, W, C) with C in {1, 3, 4} -> PNG file."""
    h, w, c = image.shape
    color = {1: 0, 3: 2, 4: 6}.get(c)
    if color is None:
        raise ValueError(f"cannot write a {c}-channel image as PNG (1, 3 or 4 channels)")
    rows = np.concatenate([np.zeros((h, 1), np.uint8), image.reshape(h, w * c)], axis=1)

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    atomic.write_bytes(path, b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + chunk(b"IEND", b""))


def grid(images, padding=2):
    """(N, H, W, C) -> one (rows, cols) mosaic with `padding` black pixels around each image."""
    n, h, w, c = images.shape
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    out = np.zeros((rows * (h + padding) + padding, cols * (w + padding) + padding, c), np.uint8)
    for i, img in enumerate(images):
        r, q = divmod(i, cols)
        y, x = padding + r * (h + padding), padding + q * (w + padding)
        out[y:y + h, x:x + w] = img
    return out
