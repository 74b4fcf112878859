"""Known answers of studiogan_slt.supermask.rng and init.generate.

Seeded tickets store (seed, key, scale) instead of weights, and loading regenerates them. If any value here
changes, every ticket written before the change stops loading (its sha256 check fails): do not update these
vectors; add a new RNG version instead and keep reading the old one.
"""
import hashlib

import numpy as np
import pytest
import torch

from studiogan_slt.supermask import inits as init, rng
from studiogan_slt.ticket.save_load import RNG_ID


def _sha(t):
    return hashlib.sha256(t.contiguous().numpy().tobytes()).hexdigest()


def _bits32(t):
    return [hex(v) for v in t.numpy().view(np.uint32).tolist()]


def test_raw_stream():
    assert [hex(int(x)) for x in rng.bits(0, "w", 4)] == [
        "0x7a93967fa9240bd3", "0x5698301a7bee849c", "0x94a269dfc45b7012", "0xa68add06d4a21cbb"]
    # a stream read from an offset is the same stream
    assert [hex(int(x)) for x in rng.bits(12345, "blocks.0.conv.weight", 3, start=1000)] == [
        "0xf922dbfa587cc4a2", "0x624f948bdddc93f3", "0xe972d42d18f6e491"]
    assert np.array_equal(rng.bits(12345, "blocks.0.conv.weight", 1003)[1000:],
                          rng.bits(12345, "blocks.0.conv.weight", 3, start=1000))


def test_float_vectors_bit_exact():
    assert _bits32(rng.uniform(7, "linear0.weight", (6,))) == [
        "0x3e506130", "0x3f49fc07", "0x3f4c502e", "0x3f0711f0", "0x3f54b379", "0x3f410e8c"]
    assert _bits32(rng.signs(7, "linear0.weight", (6,))) == [
        "0x3f800000", "0xbf800000", "0xbf800000", "0xbf800000", "0xbf800000", "0xbf800000"]
    assert _bits32(rng.normal(7, "linear0.weight", (6,))) == [
        "0x3edda847", "0xbf2958fb", "0x3c8156a5", "0x3f9a9b61", "0x3f11d2f9", "0xbe95d30f"]


@pytest.mark.parametrize("fn, digest", [
    (rng.uniform, "e76fde9e9097bdc01986d7bb436e4110b5c01ff11e6b3fcd35630ab9c0b9338e"),
    (rng.signs, "127c0153c8d2dcbdb711f0c27a94ae6c906cb15822c1f1987165e26a73db9fcb"),
    (rng.normal, "488d4644dd36763f8a8f5a6f6ed74298c457db3c7bc6d186683466e9aae79532"),
])
def test_tensor_digests(fn, digest):
    t = fn(2024, "big", (3, 1000, 7))
    assert t.dtype == torch.float32 and t.shape == (3, 1000, 7)
    assert _sha(t) == digest


def test_normal_across_its_internal_chunks():
    # longer than the transform's chunk (2**20), so chunk boundaries are pinned too
    assert _sha(rng.normal(1, "chunked", ((1 << 20) + 5,))) == \
        "aa5dc4da5c728e72b410709fcdebf5e1d31239fd10266ece5358b6acb12cdb16"


@pytest.mark.parametrize("kind, digest", [
    ("signed_kaiming_constant", "6bc569ebed1d33eb4028d5acec4cb9283be12478b835e3cf401012bcdb304b9c"),
    ("kaiming_normal", "9731284dcdee267ff07a431c4570e9da7c41647e62b795a880a20ececb0de24a"),
    ("uniform", "4d414ac7760eb32491311d8191864020880c5f5c3597884b234195a8eb80c9cf"),
])
def test_seeded_init_specs(kind, digest):
    spec = {"init": kind, "seed": 3, "key": "fc.weight", "scale": 0.125}
    assert _sha(init.generate(spec, (37, 9))) == digest


def test_distributions_are_sane():
    u = rng.uniform(5, "u", (200_000,))
    s = rng.signs(5, "s", (200_000,))
    z = rng.normal(5, "z", (200_000,))
    assert 0.0 <= float(u.min()) and float(u.max()) < 1.0 and abs(float(u.mean()) - 0.5) < 0.005
    assert set(s.unique().tolist()) == {-1.0, 1.0} and abs(float(s.mean())) < 0.01
    assert abs(float(z.mean())) < 0.01 and abs(float(z.std()) - 1.0) < 0.01
    assert not torch.equal(rng.normal(5, "z", (8,)), rng.normal(6, "z", (8,)))
    assert not torch.equal(rng.normal(5, "z", (8,)), rng.normal(5, "y", (8,)))


def test_ticket_names_this_rng():
    # tickets record which RNG regenerates them; a new RNG must come with a new id, not a silent change
    assert RNG_ID == "splitmix64-counter/sha256-key/v1"
