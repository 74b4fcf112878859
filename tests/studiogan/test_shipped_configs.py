"""Every shipped digits config that searches a ticket trains, at a small budget, to a ticket whose samples the
digits metric scores clearly better than those of the random-mask control (the same run with the score learning rate
0: the mask the search started from, BatchNorm statistics updated). configs/digits/MM-SLT.yaml is the main job's
(test_main_job.py); the CIFAR10 configs cannot train offline (no CIFAR10 here) and are validated in test_configs.py.
StyleGAN2.yaml trains only where CUDA is available: StudioGAN fixes its widths (512 channels at 32 px), and on 2 CPU
cores one step took about 70 s and one evaluation of the digits metric (1,501 images) 11 minutes, so its 30 steps and
one evaluation per arm do not fit a test run there.

Only the budget is cut (to STEPS, one save, scored by `SLT.digits_metric: fid`); everything else is as a user runs
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
# 30 steps, except where a search needs more to leave its random mask behind: SNGAN's adversarial search (hinge,
# 2 D steps per G step) first moves away from the digits. Seeded (--seed 0, so that a failure repeats), on 2026-12-06:
# 921.5 at step 30 against its control's 645.8 (a ratio of 0.70); seed 0 saving every 20 steps: 733, 550, 271, 236,
# 259, 151 at steps 20-120. So SNGAN gets 80 steps.
STEPS = {"SNGAN": 80}


def steps(name):
    return STEPS.get(name, 30)


# "Clearly better": control / search at the last save, measured at each config's budget. BigGAN and DCGAN (30 steps)
# seeded: 3.01 and 4.40; with the random seed StudioGAN draws when none is given, 2.6-2.8 and 4.6-4.9, a control
# scoring the same in every run. SNGAN (80 steps, 2026-12-07, this cut config run with --seed 0, 1, 2): controls
# 642.9 (seed 0) and 645.3 (seed 1); searches 221.3, 267.1, 206.5 (seeds 0-2): ratios 2.91, 2.41, 3.11. Each margin
# leaves the lowest ratio measured about 1.25x of headroom. An SNGAN search is noisy from one update to the next
# (seed 0 scored 431.5 at step 80, one update before its last save), which the seeded test does not see but a
# change of the search's arithmetic would. StyleGAN2 was never measured (CUDA only).
MARGINS = {"BigGAN": 2.0, "DCGAN": 3.5, "SNGAN": 1.9, "StyleGAN2": 1.25}
NEEDS_CUDA = {"StyleGAN2"}
TRAINED = [name for name in SEARCHES if torch.cuda.is_available() or name not in NEEDS_CUDA]


def _shipped(name):
    return yaml.safe_load((CONFIGS / f"{name}.yaml").read_text())


def _cut(name, path, g_lr=None):
    data = _shipped(name)
    data["OPTIMIZATION"]["total_steps"] = steps(name)
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
                            "--save_freq", str(steps(name)), "--print_freq", str(steps(name)), "--seed", "0"]}
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
