import json
import struct

import pytest
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from studiogan_slt import load_ticket, materialize, save_ticket
from studiogan_slt.errors import SLTError
from studiogan_slt.ticket import container as ticket_format
from studiogan_slt.ticket.save_load import read_ticket

from tests.supermask.models import make_zoo, zoo_input
from tests.ticket.tiny_generator import SAMPLER, Z_DIM, searched, tiny_generator

BUILDER = "tests.ticket.tiny_generator:tiny_generator"


def _bits(t):
    return t.contiguous().view(torch.int32) if t.dtype == torch.float32 else t


def _outputs(model, z):
    with torch.no_grad():
        return model(z)


@pytest.mark.parametrize("options, save_options, tiers", [
    ({"weight_init": "kaiming_normal", "bias_init": "uniform"}, {}, {"seeded"}),
    ({"weight_init": "signed_kaiming_constant", "bias_init": "uniform"}, {"codec": "none"}, {"seeded"}),
    ({"weight_init": "signed_kaiming_constant", "mask_bias": False}, {"tier": "signs"}, {"signs"}),
    ({}, {"tier": "values"}, {"values"}),
    ({"weight_init": "kaiming_normal", "scope": "global", "rescale": True}, {}, {"seeded", "values", "signs"}),
])
def test_round_trip_is_bit_identical(tmp_path, options, save_options, tiers):
    model = searched(tiny_generator(), **options)
    z = torch.randn(5, Z_DIM)
    expected = _outputs(model, z)
    path = save_ticket(model, tmp_path / "g.slt", **save_options)
    ticket = read_ticket(path)
    assert {e["tier"] for e in ticket.header["masked"]} <= tiers
    if tiers == {"seeded"} or tiers == {"signs"} or tiers == {"values"}:
        assert {e["tier"] for e in ticket.header["masked"]} == tiers
    loaded = load_ticket(path, model=tiny_generator(seed=1))
    assert type(loaded) is torch.nn.Sequential and not hasattr(loaded, "_slt_options")
    assert torch.equal(_bits(_outputs(loaded, z)), _bits(expected))
    # the masks, and the materialized state (up to the sign of dropped zeros), are those of the converted model
    from studiogan_slt import masks
    assert all(torch.equal(ticket.masks[n], m) for n, m in masks(model).items())
    reference = materialize(model).state_dict()
    assert all(torch.equal(loaded.state_dict()[n], t) for n, t in reference.items())


def test_every_layer_kind_round_trips(tmp_path):
    model = make_zoo()
    from studiogan_slt import convert
    convert(model, 0.3, weight_init="kaiming_normal", bias_init="uniform", seed=4)
    model.eval()
    expected = _outputs(model, zoo_input())
    loaded = load_ticket(save_ticket(model, tmp_path / "zoo.slt"), model=make_zoo(seed=9))
    assert torch.equal(_bits(_outputs(loaded, zoo_input())), _bits(expected))


def test_fp16_values_are_smaller_and_close(tmp_path):
    model = searched(tiny_generator())
    z = torch.randn(3, Z_DIM)
    p32 = save_ticket(model, tmp_path / "a.slt", tier="values")
    p16 = save_ticket(model, tmp_path / "b.slt", tier="values", values_dtype="float16")
    assert p16.stat().st_size < p32.stat().st_size
    out16 = _outputs(load_ticket(p16, model=tiny_generator()), z)
    assert torch.allclose(out16, _outputs(model, z), atol=1e-2)


def test_seeded_tier_stores_no_weights(tmp_path):
    model = searched(tiny_generator(), weight_init="kaiming_normal", bias_init="uniform")
    seeded = save_ticket(model, tmp_path / "s.slt")
    values = save_ticket(model, tmp_path / "v.slt", tier="values")
    kept = sum(e["kept"] for e in read_ticket(seeded).header["masked"])
    assert "values" not in st_load(seeded.read_bytes())
    assert st_load(values.read_bytes())["values"].numel() == kept


def test_builder_and_header_contents(tmp_path):
    model = searched(tiny_generator(width=20), weight_init="kaiming_normal", bias_init="uniform", seed=7)
    path = save_ticket(model, tmp_path / "g.slt", builder=BUILDER, builder_kwargs={"width": 20}, sampler=SAMPLER,
                       run="test", steps=3)
    header = read_ticket(path).header
    assert header["architecture"] == {"builder": BUILDER, "kwargs": {"width": 20}}
    assert header["sampler"]["z_dim"] == Z_DIM and header["meta"] == {"run": "test", "steps": 3}
    assert header["options"]["k"] == 0.1 and header["options"]["scope"] == "layer" and header["options"]["seed"] == 7
    with pytest.raises(SLTError, match="trust_builder"):
        load_ticket(path)  # a builder outside studiogan_slt does not run unless trusted
    z = torch.randn(2, Z_DIM)
    assert torch.equal(_outputs(load_ticket(path, trust_builder=True), z), _outputs(model, z))
    with pytest.raises(SLTError, match="no builder"):
        load_ticket(save_ticket(model, tmp_path / "nobuilder.slt"))


@pytest.mark.parametrize("kwargs, message", [
    ({"tier": "best"}, "tier must be one of"),
    ({"codec": "zip"}, "codec must be one of"),
    ({"values_dtype": "int8"}, "values_dtype must be one of"),
    ({"tier": "seeded"}, "tier='seeded' impossible"),
    ({"builder": lambda: None}, "module-level function"),
    ({"builder": "no_colon"}, "module:function"),
    ({"when": object()}, "JSON values"),
    ({"sampler": {"z_dim": 0}}, "z_dim"),
])
def test_bad_save_options(tmp_path, kwargs, message):
    model = searched(tiny_generator())
    with pytest.raises(ValueError, match=message):
        save_ticket(model, tmp_path / "x.slt", **kwargs)


def test_unconverted_and_converted_models_are_refused(tmp_path):
    with pytest.raises(ValueError, match="not converted"):
        save_ticket(tiny_generator(), tmp_path / "x.slt")
    path = save_ticket(searched(tiny_generator()), tmp_path / "g.slt")
    with pytest.raises(ValueError, match="converted module"):
        load_ticket(path, model=searched(tiny_generator()))


# ---- corruption: every case must raise SLTError, never load a different network ----

def _parts(path):
    """(file bytes, index length, container index without metadata, verified header) of a valid ticket."""
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    index = json.loads(data[8:8 + n])
    index.pop("__metadata__")
    return data, n, index, ticket_format.loads(data, str(path))[0]


def _write(path, header, blobs):
    """Store header and blobs as they are, in the layout of the header's format version (2 and 3: the header in
    the metadata; later: coded in its own payload)."""
    blobs = {name: b for name, b in blobs.items() if name != ticket_format.HEADER_BLOB}
    if header.get("format_version") in (2, 3):
        path.write_bytes(st_save(blobs, metadata={ticket_format.METADATA_KEY: json.dumps(header)}))
    else:
        path.write_bytes(ticket_format.assemble(header, blobs))


def _resealed(header):
    """The header with its own checksum recomputed: an edit a checksum alone cannot catch."""
    body = {k: v for k, v in header.items() if k != "header_sha256"}
    import hashlib
    return dict(body, header_sha256=hashlib.sha256(ticket_format.canonical(body)).hexdigest())


@pytest.fixture
def ticket_path(tmp_path):
    model = searched(tiny_generator(), weight_init="kaiming_normal", bias_init="uniform")
    return save_ticket(model, tmp_path / "g.slt", builder=BUILDER, sampler=SAMPLER)


def _rejected(path, match=None, model=None):
    with pytest.raises(SLTError, match=match):
        load_ticket(path, model=model if model is not None else tiny_generator())


@pytest.mark.parametrize("keep", [0, 5, 100, -1, -200])
def test_truncated_file(ticket_path, keep):
    data = ticket_path.read_bytes()
    ticket_path.write_bytes(data[:keep] if keep >= 0 else data[:len(data) + keep])
    _rejected(ticket_path, "truncated|not a readable ticket")


@pytest.mark.parametrize("blob", ["masks", "state"])
def test_flipped_payload_byte(ticket_path, blob):
    data, n, index, _ = _parts(ticket_path)
    start, end = index[blob]["data_offsets"]
    pos = 8 + n + (start + end) // 2
    ticket_path.write_bytes(data[:pos] + bytes([data[pos] ^ 0xFF]) + data[pos + 1:])
    _rejected(ticket_path, f"{blob}.*corrupted")


def test_flipped_mask_bit_with_rehashed_payload(ticket_path):
    # even with every checksum recomputed, a mask that no longer keeps k is refused
    _, _, _, header = _parts(ticket_path)
    blobs = st_load(ticket_path.read_bytes())
    raw = read_ticket(ticket_path).recode("none")
    blobs = st_load(raw)
    masks = blobs["masks"].clone()
    masks[0] ^= 0x80
    blobs["masks"] = masks
    header = ticket_format.loads(raw, "raw")[0]
    header["blobs"]["masks"] = ticket_format.sha256_tensor(masks)
    _write(ticket_path, _resealed(header), blobs)
    _rejected(ticket_path, "keeps")


@pytest.mark.parametrize("edit, match, reseal", [
    (lambda h: h["options"].update(k=0.2), "checksum", False),
    (lambda h: h["options"].update(k=0.2), "kept counts do not match k=0.2", True),
    (lambda h: h["masked"][0].update(shape=[16, 384 + 8]), "checksum", False),
    (lambda h: h["masked"][0].update(shape=[192, 32]), "does not fit this architecture: 0.weight", True),
    (lambda h: h["masked"][0].update(shape=[384, 15]), "kept counts|mask", True),
    (lambda h: h["tensors"][0].update(shape=[25]), "payload 'state'", True),
    (lambda h: h.update(format_version=1), "format version 1 is not supported", False),
    (lambda h: h.update(format_version=5), "format version 5 is not supported", True),
    (lambda h: h["masked"][0].update(sha256="0" * 64), "regenerated weights of 0.weight do not match", True),
    (lambda h: h["masked"][0]["init"].update(seed=1), "regenerated weights of 0.weight do not match", True),
    (lambda h: h["masked"][0].pop("tier"), "invalid ticket header", True),
    (lambda h: h.update(rng="other"), "RNG", True),
    (lambda h: h.pop("format"), "does not describe", False),
])
def test_edited_header(ticket_path, edit, match, reseal):
    _, _, _, header = _parts(ticket_path)
    blobs = st_load(ticket_path.read_bytes())
    edit(header)
    _write(ticket_path, _resealed(header) if reseal else header, blobs)
    _rejected(ticket_path, match)


def test_wrong_architecture(ticket_path):
    _rejected(ticket_path, "does not fit this architecture: 0.weight", model=tiny_generator(width=20))
    _rejected(ticket_path, "does not fit this architecture", model=make_zoo())


@pytest.mark.parametrize("content", [b"", b"not a ticket at all", st_save({"x": torch.zeros(3)})])
def test_not_a_ticket(tmp_path, content):
    path = tmp_path / "x.slt"
    path.write_bytes(content)
    _rejected(path)


def test_missing_file(tmp_path):
    _rejected(tmp_path / "nope.slt", "cannot read ticket")


@pytest.mark.parametrize("options, save_options", [
    ({"weight_init": "kaiming_normal", "bias_init": "uniform"}, {}),
    ({"weight_init": "signed_kaiming_constant", "mask_bias": False}, {"tier": "signs"}),
    ({}, {"tier": "values", "codec": "none"}),
])
def test_single_byte_flips_anywhere(tmp_path, options, save_options):
    # Flips spread over the whole file: length prefix, container index, header JSON, padding and every payload.
    # Each must be refused, or leave the network exactly as it was: a flip in the last digit of a stored float can
    # parse to the same number, and the header checksum covers the parsed header.
    model = searched(tiny_generator(), **options)
    data = save_ticket(model, tmp_path / "g.slt", **save_options).read_bytes()
    reference = load_ticket(tmp_path / "g.slt", model=tiny_generator()).state_dict()
    bad, refused, tried = tmp_path / "bad.slt", 0, 0
    for pos in range(0, len(data), max(1, len(data) // 100)):
        for flip in (0x01, 0x80):
            tried += 1
            bad.write_bytes(data[:pos] + bytes([data[pos] ^ flip]) + data[pos + 1:])
            try:
                state = load_ticket(bad, model=tiny_generator()).state_dict()
            except SLTError:
                refused += 1
                continue
            assert all(torch.equal(state[n], t) for n, t in reference.items()), f"byte {pos} ^ {flip:#x}"
    assert refused > 0.95 * tried
