import json
import struct
import zlib

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from studiogan_slt import load_ticket, save_ticket
from studiogan_slt.cli import main
from studiogan_slt.ticket import sample as sampling
from tests.ticket.tiny_generator import SAMPLER, searched, tiny_generator

BUILDER = "tests.ticket.tiny_generator:tiny_generator"


def read_png(path):
    """uint8 (H, W, C) of a PNG written by ticket.sample.write_png (8-bit, no interlace, filter 0 on every row)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        tag, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        assert struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(tag + body)
        chunks[tag] = chunks.get(tag, b"") + body
        pos += 12 + n
    w, h, depth, color = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    c = {0: 1, 2: 3, 6: 4}[color]
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(h, 1 + w * c)
    assert depth == 8 and not rows[:, 0].any()
    return rows[:, 1:].reshape(h, w, c)


@pytest.fixture(scope="module")
def ticket(tmp_path_factory):
    model = searched(tiny_generator(), weight_init="kaiming_normal", bias_init="uniform")
    return save_ticket(model, tmp_path_factory.mktemp("t") / "g.slt", builder=BUILDER, sampler=SAMPLER)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_sample_pngs_match_the_generator_and_ignore_batch_size(ticket, tmp_path):
    a = run("sample", ticket, "-n", 5, "-o", tmp_path / "a", "--seed", 3, "--batch-size", 2, "--trust-builder")
    b = run("sample", ticket, "-n", 5, "-o", tmp_path / "b", "--seed", 3, "--batch-size", 5, "--trust-builder")
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == [f"{i:06d}.png" for i in range(5)]
    assert all((tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes() for n in names)
    spec = sampling.check_sampler(SAMPLER)
    z, _ = sampling.latents(spec, 5, 3)
    with torch.no_grad():
        expected = sampling.to_uint8(load_ticket(ticket, trust_builder=True)(z))
    assert np.array_equal(read_png(tmp_path / "a" / "000003.png"), expected[3])
    other = run("sample", ticket, "-n", 1, "-o", tmp_path / "c", "--seed", 4, "--trust-builder")
    assert other.exit_code == 0
    assert (tmp_path / "c" / "000000.png").read_bytes() != (tmp_path / "a" / "000000.png").read_bytes()


def test_sample_grid(ticket, tmp_path):
    result = run("sample", ticket, "-n", 6, "-o", tmp_path / "grid.png", "--trust-builder")
    assert result.exit_code == 0, result.output
    grid = read_png(tmp_path / "grid.png")
    assert grid.shape == (2 * (8 + 2) + 2, 3 * (8 + 2) + 2, 3)  # 6 images of 8x8: 3 columns, 2 rows, padding 2
    spec = sampling.check_sampler(SAMPLER)
    z, _ = sampling.latents(spec, 6, 0)
    with torch.no_grad():
        first = sampling.to_uint8(load_ticket(ticket, trust_builder=True)(z[:1]))[0]
    assert np.array_equal(grid[2:10, 2:10], first)


def test_a_one_hot_sampler_passes_each_label_as_a_one_hot_row_and_needs_a_label():
    spec = sampling.check_sampler({"z_dim": 3, "num_classes": 4, "pass_label": True, "one_hot": True})
    z, labels = sampling.latents(spec, 6, 0)
    seen = sampling.call(lambda z, c: c, spec, z, labels)
    assert seen.dtype == z.dtype and torch.equal(seen.argmax(1), labels) and torch.equal(seen.sum(1), torch.ones(6))
    with pytest.raises(ValueError, match="one_hot"):
        sampling.check_sampler({"z_dim": 3, "one_hot": True})


def test_report_table_and_json(ticket):
    result = run("report", ticket, "--trust-builder")
    assert result.exit_code == 0, result.output
    assert "Executed MACs stay dense" in result.output and "dense MACs" in result.output
    assert "4.weight" in result.output and "this ticket" in result.output
    data = json.loads(run("report", ticket, "--json", "--trust-builder").output)
    assert data["k"] == 0.1 and len(data["rows"]) == 6
    assert data["sizes"]["ticket"] == ticket.stat().st_size
    assert data["totals"]["model_macs"] > data["totals"]["model_ideal_macs"] > 0


def _assert_user_error(result, text):
    assert result.exit_code == 2, result.output
    assert text in result.output and "Traceback" not in result.output


def test_untrusted_builder_is_refused(ticket, tmp_path):
    _assert_user_error(run("sample", ticket, "-n", 1, "-o", tmp_path / "x.png"), "--trust-builder")


def test_corrupted_ticket_is_one_line_exit_2(ticket, tmp_path):
    bad = tmp_path / "bad.slt"
    data = ticket.read_bytes()
    bad.write_bytes(data[:-10])
    for args in (("report", bad), ("sample", bad, "-n", 1, "-o", tmp_path / "x.png")):
        result = run(*args, "--trust-builder")
        _assert_user_error(result, "Error: ")
        assert len(result.output.strip().splitlines()) == 1


def test_ticket_without_sampler(tmp_path):
    path = save_ticket(searched(tiny_generator()), tmp_path / "g.slt", builder=BUILDER)
    _assert_user_error(run("sample", path, "-o", tmp_path / "x.png", "--trust-builder"), "no sampler")


def test_export_needs_a_checkpoint_folder(tmp_path):
    _assert_user_error(run("export", "-ckpt", tmp_path / "missing", "-o", tmp_path / "t.slt"), "does not exist")


def test_sample_output_that_cannot_be_written(ticket, tmp_path):
    (tmp_path / "a_file").write_text("")
    _assert_user_error(run("sample", ticket, "-n", 1, "-o", tmp_path / "a_file", "--trust-builder"),
                       "cannot create the folder")
    _assert_user_error(run("sample", ticket, "-n", 1, "-o", tmp_path / "no" / "g.png", "--trust-builder"),
                       "does not exist")
