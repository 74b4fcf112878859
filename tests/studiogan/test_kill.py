"""SIGKILL at random moments: of an export writing over an existing ticket, and of a training run across its
checkpoint saves. After every kill the ticket is the old complete file or the new complete one, the checkpoint
folder holds only complete files, and the run resumes from its last complete checkpoint: the run that was killed
20 times ends bit-identical to the one that never was.

Every victim is a fork of one driver process (kills.py), so 40 kills cost seconds, not 40 StudioGAN start-ups.
"""
import glob
import os
from pathlib import Path

import pytest
import torch
import yaml

from studiogan_slt.ticket.save_load import read_ticket

from tests.studiogan.driving import run_jobs
from tests.studiogan.tiny_config import ADVERSARIAL_ONLY

pytestmark = pytest.mark.slow
KILLS = 20
CFG = {"DATA": {"name": "DIGITS", "img_size": 32, "num_classes": 10}, "PRE": {"apply_rflip": False},
       "MODEL": {"g_cond_mtd": "W/O", "d_cond_mtd": "W/O", "g_conv_dim": 8, "d_conv_dim": 8, "z_dim": 16,
                 "apply_g_ema": True, "g_ema_decay": 0.5, "g_ema_start": 0},
       "OPTIMIZATION": {"batch_size": 8, "d_updates_per_step": 1, "total_steps": 50},
       "SLT": {"k": 0.3, "bias_init": "uniform", **ADVERSARIAL_ONLY}}
# A wider generator for the export: a ticket of a few MB takes milliseconds to write, a window kills can hit.
WIDE = {**CFG, "MODEL": {**CFG["MODEL"], "g_conv_dim": 48}, "OPTIMIZATION": {**CFG["OPTIMIZATION"], "total_steps": 1}}
QUICK = ["-metrics", "none", "--num_workers", "1", "--print_freq", "1", "--save_freq", "1", "--seed", "0"]


@pytest.fixture(scope="module")
def killed(studiogan_root, digits, tmp_path_factory):
    work = tmp_path_factory.mktemp("kill")
    cfg, wide = work / "cfg.yaml", work / "wide.yaml"
    cfg.write_text(yaml.safe_dump(CFG))
    wide.write_text(yaml.safe_dump(WIDE))
    argv = ["-cfg", str(cfg), "-data", str(digits), *QUICK]
    jobs = [
        {"name": "reference", "kind": "train", "argv": [*argv, "-save", str(work / "reference")]},
        {"name": "wide", "kind": "train",
         "argv": ["-cfg", str(wide), "-data", str(digits), *QUICK, "-save", str(work / "wide")]},
        {"name": "export", "kind": "call", "function": "kills:export_kills",
         "kwargs": {"ckpt_glob": str(work / "wide" / "checkpoints" / "*"), "target": str(work / "t" / "g.slt"),
                    "snapshots": str(work / "snapshots"), "kills": KILLS}},
        {"name": "train", "kind": "call", "function": "kills:train_kills",
         "kwargs": {"fresh_argv": [*argv, "-save", str(work / "killed")], "save_dir": str(work / "killed"),
                    "kills": KILLS}},
    ]
    (work / "t").mkdir()
    results = run_jobs(work, jobs, studiogan_root, must_succeed=[job["name"] for job in jobs])
    print({name: result["seconds"] for name, result in results.items()})
    return {"dir": work, **{name: results[name].get("value") for name in ("export", "train")}}


def test_a_killed_export_leaves_the_old_or_the_new_ticket(killed):
    versions, kills = set(killed["export"]["versions"].values()), killed["export"]["kills"]
    assert len(versions) == 2 and len(kills) == KILLS
    for i, kill in enumerate(kills):
        assert kill["killed"], f"kill {i}: the export loop ended before it was killed"
        assert kill["sha"] in versions, f"kill {i} left a ticket that is neither the old nor the new one"
        read_ticket(kill["snapshot"])  # and it loads: header, checksums, masks
    mid_write = sum(bool(k["temp_files"]) for k in kills)
    print(f"tickets of {os.path.getsize(kills[0]['snapshot']):,} bytes; {mid_write} of {KILLS} kills landed while a "
          "new ticket was being written")
    # what the test is for: without a kill inside the write window, old-or-new only says that no write was cut
    assert mid_write, "no kill landed while a ticket was being written"


def _final(folder, model):
    (path,) = glob.glob(str(Path(folder) / f"model={model}-current-weights-step=*.pth"))
    return torch.load(path, map_location="cpu", weights_only=False)


def test_a_killed_training_run_keeps_complete_checkpoints_and_resumes_exactly(killed):
    kills, last = killed["train"]["kills"], 0
    assert len(kills) == KILLS
    for i, kill in enumerate(kills):
        assert kill["killed"], f"kill {i}: the run ended before it was killed"
        broken = [name for name, ok in kill["loadable"].items() if not ok]
        assert not broken, f"kill {i} left damaged checkpoint files {broken}"
        assert kill["complete_steps"], f"kill {i} left no complete checkpoint: {kill['files']}"
        assert kill["complete_steps"][-1] >= last, f"kill {i} lost the checkpoint of step {last}"
        last = kill["complete_steps"][-1]
    assert killed["train"]["final_exit"] == 0
    (reference,) = glob.glob(str(killed["dir"] / "reference" / "checkpoints" / "*"))
    for model in ("G", "G_ema", "D"):
        a, b = _final(reference, model), _final(killed["train"]["ckpt_dir"], model)
        assert a["state_dict"].keys() == b["state_dict"].keys()
        for key in a["state_dict"]:
            assert torch.equal(a["state_dict"][key], b["state_dict"][key]), f"{model}.{key} differs"
        if "step" in a:
            assert a["step"] == b["step"] == CFG["OPTIMIZATION"]["total_steps"] + 1
