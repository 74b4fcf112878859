"""Weights & Biases: the real wandb is kept when installed, StudioGAN's 4-D wandb.Image call is adapted, the stub
stands in without wandb, and a short real run with WANDB_MODE=offline writes an offline run folder holding
StudioGAN's losses and its image canvas."""
import glob
import json
import struct
import sys
import types
from pathlib import Path

import pytest
import torch

from studiogan_slt.studiogan.host.wandb_log import WANDB_STUB, StudioGANWandb, studiogan_wandb
from tests.studiogan.driving import drive
from tests.studiogan.tiny_config import write_tiny_cfg


class _FakeWandb(types.ModuleType):
    def __init__(self, logged_in):
        super().__init__("wandb")
        self.calls, self.logged_in, self.run = [], logged_in, None

    def Image(self, data, **kwargs):  # noqa: N802
        self.calls.append(("Image", tuple(data.shape)))

    def init(self, **kwargs):
        self.calls.append(("init", kwargs))

    def login(self, prompt, verify):
        return self.logged_in


def test_stub_without_wandb_and_real_module_with_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb", WANDB_STUB)
    assert studiogan_wandb() is WANDB_STUB
    fake = _FakeWandb(logged_in=True)
    monkeypatch.setitem(sys.modules, "wandb", fake)
    adapted = studiogan_wandb()
    assert isinstance(adapted, StudioGANWandb) and adapted.login == fake.login


def test_image_of_a_batch_becomes_one_grid():
    fake = _FakeWandb(logged_in=True)
    adapted = StudioGANWandb(fake)
    adapted.Image(torch.rand(16, 3, 32, 32) * 2 - 1)  # worker.py:798's canvas batch
    adapted.Image(torch.rand(3, 32, 32))
    assert fake.calls == [("Image", (3, 2 * 32 + 3 * 2, 8 * 32 + 9 * 2)), ("Image", (3, 32, 32))]


@pytest.mark.parametrize("logged_in, env, expected", [(False, None, "disabled"), (True, None, None),
                                                      (False, "offline", None)])
def test_init_without_credentials_is_disabled_not_an_error(monkeypatch, logged_in, env, expected):
    if env:
        monkeypatch.setenv("WANDB_MODE", env)
    else:
        monkeypatch.delenv("WANDB_MODE", raising=False)
    fake = _FakeWandb(logged_in=logged_in)
    StudioGANWandb(fake).init(project=None, name="run")
    assert fake.calls == [("init", {"project": None, "name": "run", **({"mode": expected} if expected else {})})]


def _history(run_file):
    """{key: [value_json, ...]} of the history records of a .wandb file: a LevelDB-style log (7-byte header, then
    32 KiB blocks of chunks with a 7-byte header: crc32, length, type 1 full / 2 first / 3 middle / 4 last)
    holding wandb's Record protobufs."""
    from wandb.proto import wandb_internal_pb2

    data, block, pos, buffer, history = Path(run_file).read_bytes(), 32768, 7, b"", {}
    assert data.startswith(b":W&B")
    while pos + 7 <= len(data):
        if block - pos % block < 7:
            pos += block - pos % block
            continue
        _, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
        buffer += data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(buffer)
            buffer = b""
            for item in record.history.item if record.WhichOneof("record_type") == "history" else []:
                history.setdefault(item.key or "/".join(item.nested_key), []).append(item.value_json)
    return history


def test_offline_run_holds_studiogan_metrics(studiogan_root, digits, tmp_path):
    pytest.importorskip("wandb")
    cfg = write_tiny_cfg(tmp_path / "tiny.yaml", total_steps=2, k=0.3)
    save = tmp_path / "save"
    jobs = [{"name": "train", "kind": "train", "argv": ["-cfg", str(cfg), "-data", str(digits), "-save", str(save),
                                                        "-metrics", "none", "--num_workers", "1", "--print_freq",
                                                        "1", "--save_freq", "3", "--seed", "0"]}]
    results, output = drive(tmp_path, jobs, studiogan_root,
                            env={"WANDB_MODE": "offline", "WANDB_DIR": str(tmp_path),
                                 "WANDB_CACHE_DIR": str(tmp_path / "wandb-cache"),
                                 "WANDB_CONFIG_DIR": str(tmp_path / "wandb-config")})
    assert all(r["ok"] for r in results.values()), output[-3000:] + str(results)
    # StudioGAN's wandb.init(dir=-save) (worker.py:180)
    (run_file,) = glob.glob(str(save / "wandb" / "offline-run-*" / "run-*.wandb"))
    history = _history(run_file)
    # StudioGAN's loss_dict (worker.py:712) at every print_freq step and its canvas at the save (worker.py:798)
    assert len(history["gen_loss"]) == len(history["dis_loss"]) == 3
    assert history["generated_images/_type"] == ['"image-file"']
    assert [json.loads(v) for v in history["_step"]] == [1, 2, 3]
