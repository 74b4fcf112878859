"""Crafted tickets that anyone can reseal (checksums recomputed): every one is refused with one line and exit 2,
before reading allocates what the header claims. The CLI runs in a subprocess under a 3 GB data-segment limit
(RLIMIT_DATA, `ulimit -d`), so a header that made the reader allocate its claim would fail the test with a
MemoryError traceback or a kill instead of the one line."""
import json
import lzma
import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save as st_save

from studiogan_slt.ticket import bitpack
from studiogan_slt.ticket import container
from studiogan_slt.ticket.save_load import read_ticket
from tests.ticket.test_security import STUDIOGAN_CFGS
from tests.ticket.tiny_generator import SAMPLER, searched, tiny_generator

PROJECT = Path(__file__).resolve().parents[2]
DATA_LIMIT = 3 * 10 ** 9


def _limited():
    resource.setrlimit(resource.RLIMIT_DATA, (DATA_LIMIT, DATA_LIMIT))


def _cli(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(PROJECT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "studiogan_slt", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, preexec_fn=_limited)


def _one_line(result, text):
    assert result.returncode == 2, (result.returncode, result.stderr[-3000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and text in lines[0], lines


@pytest.fixture(scope="module")
def honest(tmp_path_factory):
    path = tmp_path_factory.mktemp("honest") / "g.slt"
    from studiogan_slt import save_ticket
    return read_ticket(save_ticket(searched(tiny_generator()), path, sampler=SAMPLER))


def _sealed(honest, path, edit, blobs=None):
    header = {key: v for key, v in honest.header.items() if key not in ("blobs", "header_sha256")}
    header = json.loads(json.dumps(header))
    edit(header)
    path.write_bytes(container.dumps(header, blobs if blobs is not None else honest.blobs))
    return path


def _raw(path, text, blobs):
    """A version 4 container whose header is the JSON text given, whatever it holds."""
    body = text.encode()
    index = {"format": container.FORMAT, "format_version": 4, "header_bytes": len(body)}
    coded = torch.from_numpy(bitpack.encode(np.frombuffer(body, dtype=np.uint8), "xz"))
    blobs = {name: b for name, b in blobs.items() if name != container.HEADER_BLOB}
    path.write_bytes(st_save(dict(blobs, header=coded), metadata={container.METADATA_KEY: json.dumps(index)}))
    return path


def _zeros_xz(nbytes):
    """A few kB of xz that expand to nbytes of zeros: what a header claiming a huge mask is paired with."""
    d = lzma.LZMACompressor(format=lzma.FORMAT_XZ, check=lzma.CHECK_NONE)
    chunk = bytes(1 << 24)
    out = b"".join(d.compress(chunk) for _ in range(nbytes >> 24)) + d.flush()
    return torch.from_numpy(np.frombuffer(out, dtype=np.uint8).copy())


def _huge_mask(header):
    header["codec"] = "xz"
    entry = header["masked"][0]
    entry.update(shape=[1 << 31], kept=(1 << 31) - int((1 << 31) * (1 - header["options"]["k"])))


def _edit_entry(key, value, which="masked"):
    def edit(header):
        header[which][0][key] = value
    return edit


@pytest.mark.parametrize("edit, text", [
    (_huge_mask, "elements, more than"),
    (_edit_entry("shape", [1 << 70]), "elements, more than"),
    (_edit_entry("shape", [1 << 14, 1 << 14], "tensors"), "elements, more than"),
    (_edit_entry("shape", [1] * 9, "tensors"), "field 'shape'"),
])
def test_sizes_are_bounded_before_anything_is_allocated(honest, tmp_path, edit, text):
    blobs = dict(honest.blobs, masks=_zeros_xz(1 << 28)) if edit is _huge_mask else None
    ticket = _sealed(honest, tmp_path / "crafted.slt", edit, blobs)
    _one_line(_cli("report", ticket, cwd=tmp_path), text)


def test_an_extra_payload_listed_in_the_header_is_refused(honest, tmp_path):
    blobs = dict(honest.blobs, extra=torch.zeros(4, dtype=torch.uint8))
    ticket = _sealed(honest, tmp_path / "crafted.slt", lambda header: None, blobs)
    _one_line(_cli("report", ticket, cwd=tmp_path), "payload 'extra' is not one a ticket has")


@pytest.mark.parametrize("value, text", [
    ("NaN", "not a JSON number"), ("Infinity", "not a JSON number"), ("-Infinity", "not a JSON number"),
    ("1e400", "not a finite number"), ("[" * 100000 + "]" * 100000, "nested"), ("[" * 70 + "]" * 70, "nested"),
])
def test_non_finite_numbers_and_deep_nesting_are_refused(honest, tmp_path, value, text):
    header = dict(honest.header, meta={"note": "PLACEHOLDER"})
    raw = container.canonical(header).decode().replace('"PLACEHOLDER"', value)
    ticket = _raw(tmp_path / "crafted.slt", raw, honest.blobs)
    _one_line(_cli("report", ticket, cwd=tmp_path), text)


def _model(**values):
    return {"builder": "studiogan", "kwargs": {"cfgs": dict(STUDIOGAN_CFGS, MODEL={**STUDIOGAN_CFGS["MODEL"],
                                                                                  **values})}}


@pytest.mark.parametrize("architecture, text", [
    (_model(z_dim=10 ** 7), "MODEL.z_dim must be an integer from 1 to 1024; got 10000000"),
    (_model(z_dim="abc"), "MODEL.z_dim must be an integer"),
    (_model(z_dim=128.5), "MODEL.z_dim must be an integer"),
    (_model(z_dim=True), "MODEL.z_dim must be an integer"),
    (_model(g_conv_dim=10 ** 6), "MODEL.g_conv_dim must be an integer from 1 to 256"),
    (_model(g_act_fn="Foo"), "MODEL.g_act_fn must be one of"),
    (_model(g_cond_mtd="Foo"), "MODEL.g_cond_mtd must be one of"),
    (_model(__class__=1), "MODEL['__class__'] is not allowed"),
    (_model(__dict__={"a": 1}), "MODEL['__dict__'] is not allowed"),
    ({"builder": "studiogan", "kwargs": {"cfgs": dict(STUDIOGAN_CFGS, DATA={"img_size": 10 ** 9})}},
     "DATA.img_size must be an integer from 1 to 1024"),
    ({"builder": "studiogan", "kwargs": {"cfgs": dict(STUDIOGAN_CFGS, DATA={"name": "x" * 10 ** 6 + "\n"},
                                                      STYLEGAN={"x\ny" * 1000: 1})}},
     "STYLEGAN['x\\ny"),
])
def test_builder_values_are_checked_against_the_schema_before_building(honest, tmp_path, architecture, text):
    ticket = _sealed(honest, tmp_path / "crafted.slt", lambda header: header.update(architecture=architecture))
    _one_line(_cli("report", ticket, cwd=tmp_path), text)


# `sample` reads a ticket through the same checks as `report`; what is its own is how it words a builder error
# (it once blamed --device), so a size, a type, a choice and a key are enough there, each a process of its own
@pytest.mark.parametrize("architecture, text", [
    (_model(z_dim=10 ** 7), "MODEL.z_dim must be an integer from 1 to 1024; got 10000000"),
    (_model(z_dim="abc"), "MODEL.z_dim must be an integer"),
    (_model(g_act_fn="Foo"), "MODEL.g_act_fn must be one of"),
    (_model(__class__=1), "MODEL['__class__'] is not allowed"),
])
def test_sample_words_a_bad_builder_value_as_the_ticket_s(honest, tmp_path, architecture, text):
    ticket = _sealed(honest, tmp_path / "crafted.slt", lambda header: header.update(architecture=architecture))
    result = _cli("sample", ticket, "-n", 1, "-o", tmp_path / "x.png", cwd=tmp_path)
    _one_line(result, text)
    assert "--device" not in result.stderr


@pytest.mark.parametrize("sampler, text", [
    ({"z_dim": 10 ** 9}, "sampler z_dim must be from 1 to 65536"),
    ({"z_dim": 17}, "does not take the inputs of the ticket's sampler (z_dim 17)"),
])
def test_the_sampler_is_checked_against_the_model_before_sampling(honest, tmp_path, sampler, text):
    architecture = {"builder": "tests.ticket.tiny_generator:tiny_generator", "kwargs": {}}
    ticket = _sealed(honest, tmp_path / "crafted.slt",
                     lambda header: header.update(sampler=sampler, architecture=architecture))
    _one_line(_cli("sample", ticket, "-n", 10 ** 8, "-o", tmp_path / "x.png", "--trust-builder", cwd=tmp_path),
              text)
