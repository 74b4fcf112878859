"""The `.slt` container: a safetensors file of a few payloads and one JSON header.

Layout (format_version 4)::

    tensors       "masks"   uint8: every mask's np.packbits bytes, concatenated in header order, then coded
                  "signs"   uint8: packed signs of the kept weights of "signs"-tier tensors, concatenated (if any)
                  "values"  float32|float16: kept values of "values"-tier tensors, concatenated (if any)
                  "draws"   uint8: the kept weights' draw counts of re-randomised seeded tensors, each tensor's as
                            its entry's "draws" integer type, concatenated, then coded (if any)
                  "state"   uint8: little-endian bytes of every other state_dict entry (BN parameters and running
                            statistics, unmasked layers), concatenated in header order, then coded
                  "header"  uint8: the canonical JSON of the header, xz-coded
    __metadata__  {"studiogan_slt": '{"format": "studiogan-slt-ticket", "format_version": 4, "header_bytes": n}'}

    header = {"format": "studiogan-slt-ticket", "format_version": 4, "plugin_version", "rng",
              "options" (convert()'s, with k and scope), "codec": "rans"|"xz"|"none", "values_dtype",
              "architecture": {"builder": registered name | "module:function", "kwargs": {...}} | null,
              "sampler": {...} | null,
              "meta": {...},
              "masked":  [{"name", "type", "shape", "dtype", "kept", "scale", "tier",
                           + "init", "sha256", optional "draws" (seeded) | "constant" (signs) | nothing (values)}],
              "tensors": [{"name", "shape", "dtype"}],
              "blobs": {tensor name: sha256 of its bytes, for every tensor but "header"},
              "header_sha256": sha256 of the canonical JSON of everything else}

A few large payloads instead of one per tensor keep the header small: at k = 0.1 a ticket is ~1/67 of the dense
file, so per-tensor bookkeeping would otherwise be a visible share of it. For the same reason version 4 stores the
header xz-coded (a fifth of its JSON, which metadata would also escape): with masks coded near their entropy
(codec "rans", bitpack.py), the header was 2% of a ticket. Payload offsets follow from the order and shapes in the
header. Version 1 named its builder by import path and stored k twice; version 2 names a registered builder
(builders.py) and keeps k only in "options"; version 3 adds the optional draw counts; version 4 moves the header
into the "header" payload. Versions 2 and 3 (the header itself in the metadata) are still read. safetensors parses
no pickle and runs no code. Every payload byte is covered by a sha256 in the header, and the header by its own, so
a truncated, flipped or edited file is rejected before anything is rebuilt from it.
"""
import hashlib
import json
import math
import struct

import numpy as np
import torch

from studiogan_slt.digests import sha256 as sha256_tensor
from studiogan_slt.errors import SLTError
from studiogan_slt.supermask import options
from studiogan_slt.ticket import TIERS
from studiogan_slt.ticket import bitpack
from studiogan_slt.ticket.bitpack import CODECS

DRAWS_DTYPES = ("uint8", "int16", "int32")  # integer types a seeded entry's draw counts may be stored in

FORMAT = "studiogan-slt-ticket"
FORMAT_VERSION = 4
READABLE_VERSIONS = (2, 3, 4)  # a version 2 ticket is a version 3 one without draw counts
METADATA_KEY = "studiogan_slt"
HEADER_BLOB = "header"
_MAX_HEADER_BYTES = 64 << 20  # bounds what a crafted "header_bytes" can make the reader allocate
# A header's shapes decide what reading allocates (masks, regenerated weights, state), and a coded payload of a few
# kB can claim any size: these bound it before anything is decoded. 2^27 elements (512 MiB in float32) is several
# times StudioGAN's largest generator; 8 dimensions and 64 levels of JSON are far beyond any honest ticket.
MAX_ELEMENTS = 1 << 27
_MAX_DIMS = 8
_MAX_DEPTH = 64
PAYLOADS = ("masks", "signs", "values", "draws", "state")

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16, "float64": torch.float64,
           "int64": torch.int64, "int32": torch.int32, "int16": torch.int16, "int8": torch.int8,
           "uint8": torch.uint8, "bool": torch.bool}


def dtype_name(dtype):
    for name, d in _DTYPES.items():
        if d == dtype:
            return name
    raise ValueError(f"tensors of dtype {dtype} cannot be stored in a ticket; supported: {', '.join(_DTYPES)}")


def torch_dtype(name):
    return _DTYPES[name]


def numel(shape):
    return math.prod(shape)  # Python integers: a crafted [2**70] is a large number, not an overflow


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def tensor_from_bytes(buf, dtype_str, shape):
    if len(buf) == 0:  # torch.frombuffer refuses empty buffers
        return torch.empty(shape, dtype=torch_dtype(dtype_str))
    return torch.frombuffer(bytearray(buf), dtype=torch_dtype(dtype_str)).reshape(shape)


def dumps(header, blobs):
    """Container bytes for a header (without "blobs"/"header_sha256", which are added here) and named tensors."""
    blobs = {name: torch.from_numpy(np.require(b, requirements=["C", "W"])) if isinstance(b, np.ndarray)
             else b.contiguous() for name, b in blobs.items()}
    header = dict(header, format_version=FORMAT_VERSION,
                  blobs={name: sha256_tensor(b) for name, b in sorted(blobs.items())})
    header["header_sha256"] = hashlib.sha256(canonical(header)).hexdigest()
    return assemble(header, blobs)


def assemble(header, blobs):
    """Container bytes of a finished header and its payloads, stored as given (dumps seals the header first)."""
    from safetensors.torch import save

    body = canonical(header)
    index = {"format": FORMAT, "format_version": header.get("format_version"), "header_bytes": len(body)}
    coded = torch.from_numpy(bitpack.encode(np.frombuffer(body, dtype=np.uint8), "xz"))
    return save(dict(blobs, **{HEADER_BLOB: coded}), metadata={METADATA_KEY: canonical(index).decode()})


def _metadata(data):
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n]).get("__metadata__") or {}


def loads(data, source):
    """(header, blobs) of a container, with every check that needs no model: container integrity, format and
    version, header checksum and schema, and each payload against its sha256. Raises SLTError naming `source`."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    try:
        blobs = load(data)
        meta = _metadata(data)
    except (SafetensorError, ValueError, struct.error) as e:
        raise SLTError(f"{source}: not a readable ticket (truncated or not a safetensors file: {e})") from None
    if METADATA_KEY not in meta:
        raise SLTError(f"{source}: a safetensors file, but not a studiogan-slt ticket (no {METADATA_KEY!r} header)")
    index = _json(meta[METADATA_KEY], source)
    version = index.get("format_version")
    if version not in READABLE_VERSIONS:
        raise SLTError(f"{source}: ticket format version {version!r} is not supported; this studiogan-slt reads "
                       f"versions {', '.join(map(str, READABLE_VERSIONS))}")
    header = _json(_inflated(index, blobs, source), source) if version >= 4 else index
    if header.get("format_version") != version:
        raise SLTError(f"{source}: the header's format version does not match the container's")
    body = {key: value for key, value in header.items() if key != "header_sha256"}
    if header.get("header_sha256") != hashlib.sha256(canonical(body)).hexdigest():
        raise SLTError(f"{source}: the ticket header was modified or corrupted (header checksum mismatch)")
    problem = _schema_problem(header)
    if problem:
        raise SLTError(f"{source}: invalid ticket header: {problem}")
    if set(blobs) != set(header["blobs"]):
        raise SLTError(f"{source}: the tensors in the file do not match the ticket header")
    for name, digest in header["blobs"].items():
        if sha256_tensor(blobs[name]) != digest:
            raise SLTError(f"{source}: payload {name!r} is corrupted (sha256 mismatch)")
    return header, blobs


def _finite(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a finite number")
    return value


def _refuse_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def _depth(value):
    deepest, level = 0, [value]
    while level:
        deepest += 1
        if deepest > _MAX_DEPTH:
            return deepest
        level = [v for item in level if isinstance(item, (dict, list))
                 for v in (item.values() if isinstance(item, dict) else item)]
    return deepest


def _json(text, source):
    try:
        header = json.loads(text, parse_float=_finite, parse_constant=_refuse_constant)
    except RecursionError:
        raise SLTError(f"{source}: the ticket header is nested too deeply") from None
    except ValueError as e:
        raise SLTError(f"{source}: the ticket header is not valid JSON ({str(e)[:200]}; the file was edited or "
                       "corrupted)") from None
    if _depth(header) > _MAX_DEPTH:
        raise SLTError(f"{source}: the ticket header is nested more than {_MAX_DEPTH} levels deep")
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise SLTError(f"{source}: the header does not describe a {FORMAT}")
    return header


def _inflated(index, blobs, source):
    """The JSON text of a version 4 header; removes its payload from blobs."""
    size, coded = index.get("header_bytes"), blobs.pop(HEADER_BLOB, None)
    if not options.is_int(size) or not 0 < size <= _MAX_HEADER_BYTES:
        raise SLTError(f"{source}: the container's header size {size!r} is invalid")
    if coded is None or coded.dtype != torch.uint8 or coded.dim() != 1:
        raise SLTError(f"{source}: the ticket has no {HEADER_BLOB!r} payload")
    try:
        return bitpack.decode(coded.numpy(), "xz", size).tobytes()
    except bitpack.PayloadError as e:
        raise SLTError(f"{source}: the ticket header is corrupted ({e})") from None


def _is_shape(v):
    return isinstance(v, list) and len(v) <= _MAX_DIMS and all(options.is_int(d) and d >= 0 for d in v)


_COMMON = {"name": str, "type": str, "shape": _is_shape, "dtype": _DTYPES.__contains__, "kept": options.is_int,
           "scale": options.is_number, "tier": TIERS.__contains__}
_PER_TIER = {"seeded": {"init": dict, "sha256": str}, "signs": {"constant": options.is_number}, "values": {}}
_TENSOR = {"name": str, "shape": _is_shape, "dtype": _DTYPES.__contains__}
_TOP = {"plugin_version": str, "rng": str, "options": dict, "codec": CODECS.__contains__,
        "values_dtype": ("float32", "float16").__contains__, "masked": list, "tensors": list, "blobs": dict,
        "meta": dict}


def _fields_problem(entry, fields, where):
    if not isinstance(entry, dict):
        return f"{where} is not an object"
    for key, check in fields.items():
        value = entry.get(key)
        ok = isinstance(value, check) if isinstance(check, type) else value is not None and check(value)
        if not ok:
            return f"{where}: field {key!r} is missing or has the wrong type"
    return None


def _schema_problem(header):
    problem = _fields_problem(header, _TOP, "header")
    if problem:
        return problem
    for key in ("architecture", "sampler"):
        if header.get(key) is not None and not isinstance(header[key], dict):
            return f"{key!r} must be an object or null"
    k, scope = header["options"].get("k"), header["options"].get("scope")
    if options.k_problem(k) or scope not in options.CHOICES["scope"]:
        return f"k={k!r}, scope={scope!r} are out of range"
    for i, entry in enumerate(header["masked"]):
        where = f"masked tensor {i}"
        problem = _fields_problem(entry, _COMMON, where) or _fields_problem(entry, _PER_TIER[entry["tier"]], where)
        if problem:
            return problem
        if "draws" in entry and (entry["tier"] != "seeded" or entry["draws"] not in DRAWS_DTYPES):
            return f"{where} ({entry['name']}): draws must be one of {', '.join(DRAWS_DTYPES)} in the seeded tier"
        if not 0 <= entry["kept"] <= numel(entry["shape"]):
            return f"{where} ({entry['name']}): kept is not within its shape"
    for i, entry in enumerate(header["tensors"]):
        problem = _fields_problem(entry, _TENSOR, f"tensor {i}")
        if problem:
            return problem
    names = [e["name"] for e in header["masked"] + header["tensors"]]
    if len(set(names)) != len(names):
        return "a tensor name appears twice"
    total = sum(numel(e["shape"]) for e in header["masked"] + header["tensors"])
    if total > MAX_ELEMENTS:
        return f"its tensors hold {total} elements, more than the {MAX_ELEMENTS} a ticket may"
    unknown = sorted(set(header["blobs"]) - set(PAYLOADS))
    if unknown:
        return f"payload {unknown[0][:100]!r} is not one a ticket has ({', '.join(PAYLOADS)})"
    return None
