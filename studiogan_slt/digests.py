"""sha256 over strings and tensor bytes: the one digest tickets, cached statistics and the DDP check use."""
import hashlib
import sys


def tensor_bytes(t):
    """A tensor's bytes, row-major, little-endian (the byte order of every platform torch ships for)."""
    import torch

    assert sys.byteorder == "little", "tickets are written and read on little-endian machines only"
    return t.detach().contiguous().reshape(-1).cpu().view(torch.uint8).numpy()


def sha256(*parts):
    """Hex sha256 over `parts` in order: strings as UTF-8, tensors as tensor_bytes."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else tensor_bytes(part).tobytes())
    return h.hexdigest()


def tensor_digest(named_tensors):
    """sha256 over the names and bytes of (name, tensor) pairs, in name order; 16 hex digits."""
    pairs = sorted(named_tensors, key=lambda item: item[0])
    return sha256(*(part for pair in pairs for part in pair))[:16]
