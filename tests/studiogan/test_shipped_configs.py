"""Every shipped digits config that searches a ticket trains, at a small budget, to a ticket whose samples the
digits metric scores clearly better than those of the random-mask control (the same run with the score learning rate
0: the mask the search started from, BatchNorm statistics updated). configs/digits/MM-SLT.yaml is the main job's
(test_main_job.py); the CIFAR10 configs cannot train offline (no CIFAR10 here) and are validated in test_configs.py.
StyleGAN2.yaml trains only where CUDA is available: StudioGAN fixes its widths (512 channels at 32 px), and on 2 CPU
cores one step took about 70 s and one evaluation of the digits metric (1,501 images) 11 minutes, so its 30 steps and
one evaluation per arm do not fit a test run there.

Only the budget is cut (STEPS steps, one save, scored by `SLT.digits_metric: fid`); everything else is as a user runs
it: the shipped YAML with the SLT section's defaults, among them the mixed loss a digits search gets where its YAML
names no moment loss (search_defaults.ON_DIGITS), and the digits networks trained as on first use (a briefly trained
extractor slows these searches: DCGAN.yaml scored 445 against 535 for its control at 20 steps with it). The
searches run in one process and the controls in another, at once.
"""
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
import yaml

from tests.studiogan.driving import digits_fid, run_jobs

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "digits"
MAIN_JOB = "MM-SLT.yaml"
SEARCHES = sorted(p.stem for p in CONFIGS.glob("*.yaml")
                  if p.name != MAIN_JOB and "k" in (yaml.safe_load(p.read_text()).get("SLT") or {}))
STEPS = 30
# "Clearly better": measured at this budget with the random seed StudioGAN draws when none is given, a control scores
# the same FID in every run (SNGAN 642.2, 642.7) while a search moves with the seed (SNGAN 441.5, 496.6: ratios 1.46
# and 1.29; BigGAN 2.6-2.8, DCGAN 4.6-4.9). The runs are seeded (--seed 0), so that a failure repeats; seeded, the
# ratios were BigGAN 3.01, DCGAN 4.40, SNGAN 1.32 (490.0 against 647.8). Each margin leaves the lowest ratio
# measured about 1.25x of headroom, except SNGAN's: 1.25 is what keeps a search that does not move the mask (a
# ratio of 1.0) failing, and it leaves 1.03x below SNGAN's lowest. StyleGAN2 was never measured (CUDA only).
# With the digits networks a fresh machine trained on 2026-12-06, the seeded SNGAN search scores 921.5 at step 30
# (the same on the code before that day's changes, 61eeadb) and 749.0 at its last save, against the control's
# 645.8: at this budget it does not beat its control, so this test fails on SNGAN; that is a finding about the
# shipped SNGAN search (or its budget), not a flake, and its margin is left where it was (issue 26).
MARGINS = {"BigGAN": 2.0, "DCGAN": 3.5, "SNGAN": 1.25, "StyleGAN2": 1.25}
NEEDS_CUDA = {"StyleGAN2"}
TRAINED = [name for name in SEARCHES if torch.cuda.is_available() or name not in NEEDS_CUDA]


def _shipped(name):
    return yaml.safe_load((CONFIGS / f"{name}.yaml").read_text())


def _cut(name, path, g_lr=None):
    data = _shipped(name)
    data["OPTIMIZATION"]["total_steps"] = STEPS
    if g_lr is not None:
        data["OPTIMIZATION"]["g_lr"] = g_lr
    data["SLT"]["digits_metric"] = "fid"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def runs(studiogan_root, tmp_path_factory, digits, digits_networks):
    work = tmp_path_factory.mktemp("shipped")
    arms = {"search": None, "control": 0.0}
    jobs = {arm: [{"name": f"{name}-{arm}", "kind": "cli",
                   "args": ["train", "-cfg", str(_cut(name, work / f"{name}-{arm}.yaml", g_lr)), "-data", str(digits),
                            "-save", str(work / f"{name}-{arm}"), "-metrics", "none", "--num_workers", "1",
                            "--save_freq", str(STEPS), "--print_freq", str(STEPS), "--seed", "0"]}
                  for name in TRAINED] for arm, g_lr in arms.items()}
    # the searches and the controls in two processes at once: every run is single-threaded (run_jobs)
    with ThreadPoolExecutor(len(arms)) as pool:
        for arm in arms:
            (work / arm).mkdir()
        done = [pool.submit(run_jobs, work / arm, arm_jobs, studiogan_root, timeout=1800,
                            must_succeed=[job["name"] for job in arm_jobs]) for arm, arm_jobs in jobs.items()]
        for future in done:
            future.result()
    return work


def test_the_digits_configs_that_search_are_found():
    assert SEARCHES == ["BigGAN", "DCGAN", "SNGAN", "StyleGAN2"]


@pytest.mark.slow
@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.skipif(
    name not in TRAINED, reason="needs a CUDA GPU: about 70 s per step on 2 CPU cores")) for name in SEARCHES])
def test_each_shipped_search_beats_its_random_mask_control(runs, name):
    work = runs
    searched, control = digits_fid(work / f"{name}-search"), digits_fid(work / f"{name}-control")
    assert searched < control / MARGINS[name], (searched, control)
    assert list((work / f"{name}-search" / "tickets").glob("*.slt"))
    (log,) = (work / f"{name}-search" / "logs").glob("*.log")
    # the mixed loss: the YAML's own, or the digits default, logged in one line
    assert ("SLT: SLT.moments {} -> " in log.read_text()) == ("moments" not in _shipped(name)["SLT"])
