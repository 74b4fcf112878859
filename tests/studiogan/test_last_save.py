"""A finished run always leaves the checkpoint of its last update, and its progress line ends at it.

StudioGAN saves only at multiples of --save_freq (2,000 steps by default), and its loop makes total_steps + 1
updates: a 3-update run with save_freq 100 used to end with no checkpoint at all (so `eval`, `export` and a sweep
point failed after training), and its progress line ended at `step 3/2`.
"""
import re

from tests.studiogan.driving import run_jobs
from tests.studiogan.tiny_config import write_tiny_cfg

STEPS = 2


def test_a_run_shorter_than_save_freq_saves_its_last_update(studiogan_root, digits, tmp_path):
    cfg = write_tiny_cfg(tmp_path / "short.yaml", total_steps=STEPS, k=0.5)
    save = tmp_path / "save"
    run_jobs(tmp_path, [{"name": "train", "kind": "train", "argv": [
        "-cfg", str(cfg), "-data", str(digits), "-save", str(save), "-metrics", "none", "--num_workers", "1",
        "--print_freq", "1", "--save_freq", "100", "--seed", "0"]}], studiogan_root, must_succeed=["train"])
    (folder,) = (save / "checkpoints").iterdir()
    last = STEPS + 1
    assert sorted(p.name for p in folder.glob("model=*")) == [
        f"model={m}-current-weights-step={last}.pth" for m in ("D", "G", "RESUME")]
    (log,) = (save / "logs").glob("*.log")
    assert re.findall(r"progress: step (\d+)/(\d+)", log.read_text())[-1] == (str(last), str(last))
