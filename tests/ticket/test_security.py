"""A ticket never runs code its file chooses: builders come from the registry (ticket/builders.py), their kwargs
must match the builder's schema, and an import path runs only with trust_builder.

Crafted files are sealed with the container's own dumps(), so their checksums are valid and only the trust rule can
stop them."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from studiogan_slt import load_ticket, save_ticket
from studiogan_slt.cli import main
from studiogan_slt.errors import SLTError
from studiogan_slt.studiogan.rebuild import builder
from studiogan_slt.ticket import builders
from studiogan_slt.ticket import container
from studiogan_slt.ticket.save_load import read_ticket
from tests.ticket.tiny_generator import SAMPLER, searched, tiny_generator

PROJECT = Path(__file__).resolve().parents[2]
STUDIOGAN_CFGS = {"DATA": {"name": "digits", "img_size": 8, "num_classes": 10, "img_channels": 1},
                  "MODEL": {"backbone": "deep_conv", "z_dim": 16, "attn_g_loc": ["N/A"], "apply_g_ema": False},
                  "STYLEGAN": {"stylegan_kwargs": "N/A"}}


def _crafted(tmp_path, architecture):
    """A well-formed ticket of the tiny generator whose header names `architecture`, with valid checksums."""
    path = save_ticket(searched(tiny_generator()), tmp_path / "honest.slt", sampler=SAMPLER)
    ticket = read_ticket(path)
    header = {key: v for key, v in ticket.header.items() if key not in ("blobs", "header_sha256")}
    header["architecture"] = architecture
    crafted = tmp_path / "crafted.slt"
    crafted.write_bytes(container.dumps(header, ticket.blobs))
    return crafted


def _cli(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(PROJECT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "studiogan_slt", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _assert_one_line_error(result, text):
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and text in lines[0], lines


def test_crafted_import_path_runs_nothing_from_the_cli(tmp_path):
    marker = tmp_path / "MARKER"
    ticket = _crafted(tmp_path, {"builder": "studiogan_slt.moments.extractors:FeatureExtractor",
                                 "kwargs": {"specs": [{"network": "os:system",
                                                       "kwargs": {"command": f"touch {marker}"}}]}})
    read_ticket(ticket)  # the container itself is valid: only the builder rule can refuse it
    for args in (["sample", ticket, "-n", 1, "-o", tmp_path / "x.png"], ["report", ticket, "--json"]):
        _assert_one_line_error(_cli(*args, cwd=tmp_path), "--trust-builder")
        assert not marker.exists()


@pytest.mark.parametrize("architecture, text", [
    ({"builder": "nosuch", "kwargs": {}}, "builder 'nosuch' is not registered"),
    ({"builder": "studiogan", "kwargs": {"cfgs": dict(STUDIOGAN_CFGS, MODEL={"backbone": "os"})}},
     "kwargs.cfgs.MODEL.backbone must be one of"),
    ({"builder": "studiogan", "kwargs": {"cfgs": STUDIOGAN_CFGS, "studiogan_root": "/tmp/elsewhere"}},
     "kwargs.studiogan_root is not allowed"),
    ({"builder": "studiogan", "kwargs": {"cfgs": dict(STUDIOGAN_CFGS, DATA={"name": {"network": "os:system"}})}},
     "kwargs.cfgs.DATA.name must be a string, finite number, boolean or null"),
    ({"builder": "studiogan", "kwargs": {"cfgs": {"DATA": {}, "MODEL": {"backbone": "resnet"}}}},
     "kwargs.cfgs.STYLEGAN is missing"),
])
def test_unregistered_names_and_bad_kwargs_are_refused(tmp_path, architecture, text):
    ticket = _crafted(tmp_path, architecture)
    with pytest.raises(SLTError, match="^" + str(ticket).replace(".", r"\.") + ": .*" + text.replace(".", r"\.")):
        load_ticket(ticket)
    result = CliRunner().invoke(main, ["report", str(ticket)])
    assert result.exit_code == 2 and text in result.output.strip().splitlines()[-1], result.output


def test_trust_does_not_bypass_the_schema(tmp_path):
    ticket = _crafted(tmp_path, {"builder": "studiogan", "kwargs": {"cfgs": STUDIOGAN_CFGS, "x": 1}})
    with pytest.raises(SLTError, match="kwargs.x is not allowed"):
        load_ticket(ticket, trust_builder=True)


def test_a_valid_studiogan_ticket_resolves_to_the_adapter_builder(tmp_path):
    """Building needs a StudioGAN checkout (tests/studiogan/test_export.py loads exported tickets end to end); the
    registry part is checked here: the short name, the schema, and the function it resolves to."""
    assert builders.resolve("studiogan", {"cfgs": STUDIOGAN_CFGS}, trust_builder=False) is builder.build_generator
    ticket = save_ticket(searched(tiny_generator()), tmp_path / "g.slt", builder=builder.build_generator,
                         builder_kwargs={"cfgs": STUDIOGAN_CFGS})
    assert read_ticket(ticket).header["architecture"] == {"builder": "studiogan", "kwargs": {"cfgs": STUDIOGAN_CFGS}}
    with pytest.raises(ValueError, match="backbone must be one of"):
        save_ticket(searched(tiny_generator()), tmp_path / "bad.slt", builder="studiogan",
                    builder_kwargs={"cfgs": dict(STUDIOGAN_CFGS, MODEL={"backbone": "../evil"})})


def test_a_trusted_import_path_runs(tmp_path):
    builder = "tests.ticket.tiny_generator:tiny_generator"
    ticket = save_ticket(searched(tiny_generator()), tmp_path / "g.slt", builder=builder)
    assert read_ticket(ticket).header["architecture"]["builder"] == builder
    with pytest.raises(SLTError, match="trust_builder=True"):
        load_ticket(ticket)
    assert load_ticket(ticket, trust_builder=True) is not None
