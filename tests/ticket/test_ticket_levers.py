"""Tickets of modules searched with the levers of supermask/search: re-randomised weights (draw counts in the
seeded tier), a learned BN affine, a ticket saved mid-way through a k schedule. Each reloads bit-identically."""

import pytest
import torch
from safetensors.torch import load as st_load

from studiogan_slt import convert, load_ticket, materialize, save_ticket
from studiogan_slt.errors import SLTError
from studiogan_slt.supermask.convert import masked_tensors
from studiogan_slt.supermask.parametrize import kept_count
from studiogan_slt.supermask.search import Levers
from studiogan_slt.ticket import container as ticket_format
from studiogan_slt.ticket.save_load import read_ticket
from tests.ticket.test_ticket import _resealed, _write
from tests.ticket.tiny_generator import Z_DIM, tiny_generator

SEEDED = {"weight_init": "kaiming_normal", "bias_init": "uniform"}


def _searched(steps=8, **options):
    model = convert(tiny_generator(), 0.1, **SEEDED, **options)
    levers = Levers(model)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    model.train()
    for step in range(steps):
        levers.before_step(step)
        opt.zero_grad()
        model(torch.randn(6, Z_DIM)).square().mean().backward()
        opt.step()
    return model.eval()


def _identical_reload(model, path):
    z = torch.randn(5, Z_DIM)
    with torch.no_grad():
        expected = model(z)
        loaded = load_ticket(path, model=tiny_generator(seed=3))
        assert torch.equal(loaded(z).view(torch.int32), expected.view(torch.int32))
    reference = materialize(model).state_dict()
    assert all(torch.equal(loaded.state_dict()[n], t) for n, t in reference.items())
    return loaded


def test_rerandomized_ticket_stores_draw_counts_and_reloads_bit_identically(tmp_path):
    model = _searched(rerandomize={"every": 2, "fraction": 0.5})
    path = save_ticket(model, tmp_path / "r.slt")
    header = read_ticket(path).header
    assert {e["tier"] for e in header["masked"]} == {"seeded"}
    with_draws = [e for e in header["masked"] if "draws" in e]
    assert with_draws and all(e["draws"] == "uint8" for e in with_draws)
    blobs = st_load(path.read_bytes())
    assert "values" not in blobs and "draws" in blobs
    _identical_reload(model, path)
    raw = tmp_path / "raw.slt"
    raw.write_bytes(read_ticket(path).recode("none"))
    _identical_reload(model, raw)
    # a kept weight's draw count, edited with every checksum recomputed, regenerates another weight: refused
    blobs = st_load(raw.read_bytes())
    draws = blobs["draws"].clone()
    draws[0] += 1
    blobs["draws"] = draws
    header = ticket_format.loads(raw.read_bytes(), "raw")[0]
    header["blobs"]["draws"] = ticket_format.sha256_tensor(draws)
    _write(raw, _resealed(header), blobs)
    with pytest.raises(SLTError, match="regenerated weights of .* do not match"):
        load_ticket(raw, model=tiny_generator())


def test_without_redraws_of_kept_weights_the_ticket_has_no_draws(tmp_path):
    model = _searched(steps=1, rerandomize={"every": 5, "fraction": 0.5})  # no redraw happened yet
    path = save_ticket(model, tmp_path / "r.slt")
    assert "draws" not in st_load(path.read_bytes())
    assert not any("draws" in e for e in read_ticket(path).header["masked"])
    _identical_reload(model, path)


def test_a_version_2_ticket_still_loads(tmp_path):
    model = _searched(steps=1)
    path = save_ticket(model, tmp_path / "v2.slt")
    header = dict(read_ticket(path).header, format_version=2)
    _write(path, _resealed(header), st_load(path.read_bytes()))
    _identical_reload(model, path)


def test_learned_bn_affine_reloads_bit_identically(tmp_path):
    model = _searched(learn_bn=True)
    assert not torch.equal(model[2].weight, torch.ones_like(model[2].weight))
    path = save_ticket(model, tmp_path / "bn.slt")
    loaded = _identical_reload(model, path)
    assert torch.equal(loaded[2].weight, model[2].weight) and torch.equal(loaded[5].bias, model[5].bias)
    assert isinstance(loaded[2].weight, torch.nn.Parameter)


def test_a_ticket_saved_mid_schedule_stores_the_final_k(tmp_path):
    model = _searched(steps=3, k_schedule={"start": 0.8, "steps": 10})
    assert all(mt.supermask.k > 0.5 for mt in masked_tensors(model))  # mid-schedule
    path = save_ticket(model, tmp_path / "k.slt")
    header = read_ticket(path).header
    assert header["options"]["k"] == 0.1
    assert all(e["kept"] == kept_count(ticket_format.numel(e["shape"]), 0.1) for e in header["masked"])
    assert all(mt.supermask.k > 0.5 for mt in masked_tensors(model))  # saving left the schedule where it was
    Levers(model).before_step(10)
    _identical_reload(model, path)
