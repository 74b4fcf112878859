import json
import math
import random

import pytest
import torch

from studiogan_slt import convert, report, save_ticket
from studiogan_slt.ticket.report import EXECUTED_NOTE, ticket_report
from studiogan_slt.ticket.save_load import read_ticket

from tests.supermask.models import make_zoo, zoo_input
from tests.ticket.tiny_generator import Z_DIM, searched, tiny_generator


def kept(n, k):
    return n - math.floor((1 - k) * n)


def test_rows_of_every_layer_kind():
    r = report(convert(make_zoo(), 0.3), sizes=False)
    got = {row.name: (row.type, tuple(row.shape), row.total, row.kept) for row in r.rows}
    assert got["embed.weight"] == ("Embedding", (11, 9), 99, kept(99, 0.3))
    assert got["raw.weight"] == ("RawLayer", (29, 37), 1073, kept(1073, 0.3))
    assert got["up.weight"][:2] == ("ConvTranspose2d", (29, 13, 3, 3))
    assert got["sn.weight_orig"][:2] == ("Conv2d", (7, 13, 3, 3))
    assert got["conv1d.bias"] == ("Conv1d", (5,), 5, kept(5, 0.3))
    assert r.k == 0.3 and r.scope == "layer"
    assert r.totals["total"] == sum(row.total for row in r.rows)
    assert r.totals["kept"] == sum(row.kept for row in r.rows)
    assert all(row.macs is None for row in r.rows) and r.model_macs is None


def test_macs_match_layer_formulas():
    g = searched(tiny_generator(width=24))  # Linear 16->384, ConvT 24->11 4x4/2 on 4x4, Conv 11->3 3x3 on 8x8
    r = report(g, torch.randn(3, Z_DIM), sizes=False)  # MACs are per image, whatever the batch
    macs = {row.name: row.macs for row in r.rows}
    assert macs["0.weight"] == 16 * 384
    assert macs["4.weight"] == (24 * 4 * 4) * 11 * 4 * 4  # transposed conv: every input pixel scatters a kernel
    assert macs["7.weight_orig"] == (3 * 8 * 8) * 11 * 3 * 3
    assert macs["0.bias"] is None  # bias adds are not multiply-accumulates
    for row in r.rows:
        if row.macs is not None:
            assert row.ideal_macs == round(row.macs * row.kept / row.total)
    t = r.totals
    assert t["masked_macs"] == sum(macs[n] for n in ("0.weight", "4.weight", "7.weight_orig"))
    assert t["model_macs"] == t["masked_macs"] + t["other_macs"] and t["other_macs"] >= 0
    assert t["model_ideal_macs"] == t["model_macs"] - t["masked_macs"] + t["masked_ideal_macs"]


def test_measuring_macs_does_not_touch_bn_or_mode():
    g = searched(tiny_generator())
    g.train()
    before = {k: v.clone() for k, v in g.state_dict().items()}
    report(g, torch.randn(4, Z_DIM), sizes=False)
    assert g.training
    assert all(torch.equal(before[k], v) for k, v in g.state_dict().items())


def test_table_and_json():
    g = searched(tiny_generator(), weight_init="kaiming_normal", bias_init="uniform")
    r = report(g, torch.randn(1, Z_DIM))
    text = str(r)
    lines = text.splitlines()
    assert lines[0].startswith("Strong lottery ticket: k = 0.1 kept (layer scope), 6 masked tensors")
    header = lines[1]
    assert header.split() == ["name", "type", "shape", "total", "kept", "kept", "%", "dense", "MACs", "ideal", "MACs"]
    rows = [line for line in lines if line.startswith(("0.", "4.", "7."))]
    assert len(rows) == 6 and len({len(line) for line in rows + [header]}) == 1  # aligned columns
    assert EXECUTED_NOTE in text and "File size:" in text and "x smaller" in text
    data = json.loads(r.to_json())
    assert [row["name"] for row in data["rows"]] == [row.name for row in r.rows]
    assert data["rows"][0]["fraction"] == pytest.approx(r.rows[0].kept / r.rows[0].total)
    assert data["note"] == EXECUTED_NOTE and data["totals"]["kept"] == r.totals["kept"]
    s = data["sizes"]
    assert s["dense_fp32"] > s["bitmask_raw"] > s["ticket"] > 0


def test_ticket_report_matches_module_report(tmp_path):
    g = searched(tiny_generator(), weight_init="kaiming_normal", bias_init="uniform")
    z = torch.randn(1, Z_DIM)
    path = save_ticket(g, tmp_path / "g.slt")
    ticket = read_ticket(path)
    from_ticket = ticket_report(ticket, ticket.build(tiny_generator()), z)
    from_module = report(g, z)
    assert [(r.name, r.type, r.shape, r.total, r.kept, r.macs) for r in from_ticket.rows] == \
        [(r.name, r.type, r.shape, r.total, r.kept, r.macs) for r in from_module.rows]
    assert from_ticket.sizes["ticket"] == path.stat().st_size == from_module.sizes["ticket"]
    assert from_ticket.sizes["bitmask_raw"] == from_module.sizes["bitmask_raw"]
    assert from_ticket.model_macs == from_module.model_macs


def test_module_report_sizes_the_ticket_as_it_will_be_saved(tmp_path):
    g = searched(tiny_generator(), weight_init="kaiming_normal", bias_init="uniform")
    options = {"builder": "tests.ticket.tiny_generator:tiny_generator", "sampler": {"z_dim": Z_DIM},
               "run": random.Random(0).randbytes(500).hex()}  # a large header entry that the coded header keeps
    path = save_ticket(g, tmp_path / "g.slt", **options)
    sizes = report(g, ticket_options=options).sizes
    assert sizes["ticket"] == path.stat().st_size > report(g).sizes["ticket"] + 500
    assert sizes["bitmask_raw"] == len(read_ticket(path).recode("none"))


def test_unconverted_module_is_refused():
    with pytest.raises(ValueError, match="not converted"):
        report(tiny_generator())
