"""Bit-level payloads of a ticket: packed masks and signs, and the entropy coding of them.

A keep-k mask carries H(k) bits per weight (0.47 at k = 0.1); np.packbits stores 1 bit. Codecs: "rans" codes the
masks with a model of k (rans.py, about 0.1% over H(k)) and the other payloads with xz; "xz" codes every payload
with xz, which brings masks to within about 3% of H(k) (tickets before format version 4); "none" stores them as
they are. The literal-context options (lc=lp=pb=0) matter: mask bytes have no byte-to-byte structure, and the
defaults spend about 1% more on modelling one that is not there.
"""
import lzma

import numpy as np
import torch

from studiogan_slt.ticket import rans

CODECS = ("none", "xz", "rans")
_XZ_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9, "lc": 0, "lp": 0, "pb": 0}]


class PayloadError(ValueError):
    """A payload that does not decode to the expected number of bits."""


def pack(bits):
    """Bool tensor (any shape) -> uint8 numpy array of its row-major bits, most significant bit first."""
    return np.packbits(bits.reshape(-1).cpu().numpy())


def unpack(packed, n):
    """Inverse of pack(): the first n bits as a flat bool tensor. The length must be exactly ceil(n / 8) bytes and
    the padding bits zero, so that a changed length or stray bits are caught rather than ignored."""
    packed = np.asarray(packed, dtype=np.uint8).reshape(-1)
    if packed.size != (n + 7) // 8:
        raise PayloadError(f"{packed.size} bytes hold {8 * packed.size} bits, expected {n}")
    bits = np.unpackbits(packed)
    if bits[n:].any():
        raise PayloadError("non-zero padding bits")
    return torch.from_numpy(bits[:n].astype(bool))


def encode(packed, codec, k=None):
    """Coded bytes of a payload; k, the kept fraction, when the payload is mask bytes (what "rans" models)."""
    if codec == "rans":
        return rans.encode(packed, k) if k is not None else encode(packed, "xz")
    if codec == "none":
        return np.asarray(packed, dtype=np.uint8)
    if codec == "xz":
        data = lzma.compress(np.asarray(packed, dtype=np.uint8).tobytes(), format=lzma.FORMAT_XZ,
                             check=lzma.CHECK_NONE, filters=_XZ_FILTERS)
        return np.frombuffer(data, dtype=np.uint8).copy()  # writable: torch.from_numpy warns on read-only
    raise ValueError(f"codec must be one of {', '.join(CODECS)}; got {codec!r}")


def decode(blob, codec, nbytes, k=None):
    """Decode a payload that must expand to exactly nbytes (bounded, so a crafted stream cannot exhaust memory);
    k as for encode()."""
    if codec == "rans" and k is not None:
        try:
            return rans.decode(blob, k, nbytes)
        except rans.StreamError as e:
            raise PayloadError(f"rANS stream is corrupt ({e})") from None
    if codec == "rans":
        codec = "xz"
    if codec == "none":
        return np.asarray(blob, dtype=np.uint8)
    if codec != "xz":
        raise PayloadError(f"unknown codec {codec!r}")
    d = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    try:
        out = d.decompress(np.asarray(blob, dtype=np.uint8).tobytes(), max_length=nbytes + 1)
    except lzma.LZMAError as e:
        raise PayloadError(f"xz stream is corrupt ({e})") from None
    if len(out) != nbytes or not d.eof or d.unused_data:
        raise PayloadError(f"xz stream does not decode to exactly {nbytes} bytes")
    return np.frombuffer(out, dtype=np.uint8)
