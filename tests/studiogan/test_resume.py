"""Resume is exact: a run SIGKILLed at a random moment after its step-4 checkpoint and resumed from it ends
bit-identical to the run that was never interrupted (CPU, fixed seed): models, G_ema, optimizers. In every search
mode (adversarial alone, the mixed loss a bare `SLT: {k}` gets on DIGITS, moment matching) and for a dense run
through the plugin, with StudioGAN's default random flip of the training images (PRE.apply_rflip). Without the
plugin's resume state (a folder of StudioGAN's own files only) the resumed run diverges, which is what StudioGAN
itself guarantees.

StudioGAN's loop saves at steps 2, 4 and 6 here (total_steps 5, save_freq 2); the kill comes at a random moment
between the completed checkpoint of step 4 and the mark of step 6 (kills.killed_at_random: inside a step or inside
the step-6 save), and the resumed run makes the updates of steps 5 and 6. Each mode's moment is drawn from the
test's seed, printed on a failure: SLT_KILL_SEED=N in the environment draws the same fractions of the window again.
"""
import glob
import json
import os
import random
from pathlib import Path

import pytest
import torch
import yaml

from tests.studiogan.driving import run_jobs
from tests.studiogan.tiny_config import ADVERSARIAL_ONLY

BASE = {"DATA": {"name": "DIGITS", "img_size": 32, "num_classes": 10},
        "MODEL": {"g_cond_mtd": "W/O", "d_cond_mtd": "W/O", "g_conv_dim": 8, "d_conv_dim": 8, "z_dim": 16,
                  "apply_g_ema": True, "g_ema_decay": 0.5, "g_ema_start": 0},
        "OPTIMIZATION": {"batch_size": 8, "d_updates_per_step": 1, "total_steps": 5}}
QUICK = ["-metrics", "none", "--num_workers", "1", "--print_freq", "1", "--save_freq", "2", "--seed", "0"]
FINAL = 6
pytestmark = pytest.mark.slow  # about a minute: 4 modes, each trained 3 times, and StudioGAN's own files resumed


def _modes(extractor):
    return {
        "adversarial": {**BASE, "SLT": {"k": 0.3, "bias_init": "uniform", **ADVERSARIAL_ONLY}},
        "mixed": {**BASE, "SLT": {"k": 0.3, "bias_init": "uniform"}},  # DIGITS' default: the built-in digits CNN
        "moment_matching": {**BASE, "SLT": {"k": 0.3, "bias_init": "uniform", "train_mode": "moment_matching",
                                            "moments": {"extractors": [{
                                                "network": "studiogan_slt.metrics.digits_net:digits_cnn",
                                                "weights": str(extractor), "kwargs": {"width": 8}}]}}},
        "dense": BASE,
    }


@pytest.fixture(scope="module")
def runs(studiogan_root, digits, tmp_path_factory):
    from studiogan_slt.metrics import digits_net

    work = tmp_path_factory.mktemp("resume")
    torch.manual_seed(0)
    torch.save(digits_net.digits_cnn(width=8).state_dict(), work / "extractor.pt")
    # the built-in extractor of the mixed default, untrained, in a user cache of the test's own (training it is
    # tested in test_digits_defaults.py)
    patch = pytest.MonkeyPatch()
    patch.setenv("XDG_CACHE_HOME", str(work / "cache"))
    digits_net.cached_weights_path().parent.mkdir(parents=True)
    torch.save(digits_net.digits_cnn().state_dict(), digits_net.cached_weights_path())
    seed = int(os.environ.get("SLT_KILL_SEED", random.randrange(2**32)))
    jobs = []
    for mode, sections in _modes(work / "extractor.pt").items():
        cfg = work / f"{mode}.yaml"
        cfg.write_text(yaml.safe_dump(sections))
        # StudioGAN names a run after its config file and the second it starts, and on -ckpt it deletes the log of
        # the new run's name: a resume starting in the same second as the killed run (a fast dense run) would
        # delete the killed run's log. Another file name for the same config keeps the two names apart.
        resume_cfg = work / f"{mode}-resume.yaml"
        resume_cfg.write_text(cfg.read_text())
        argv = ["-cfg", str(cfg), "-data", str(digits), *QUICK]
        resume_argv = ["-cfg", str(resume_cfg), "-data", str(digits), *QUICK]
        killed = work / mode / "killed"
        jobs += [
            {"name": f"{mode}/full", "kind": "train", "argv": [*argv, "-save", str(work / mode / "full")]},
            {"name": f"{mode}/kill", "kind": "call", "function": "kills:killed_at_random",
             "kwargs": {"argv": [*argv, "-save", str(killed)], "after": 4, "before": FINAL,
                        "seed": f"{seed}/{mode}"}},
            # StudioGAN's own files of step 4, without the plugin's resume state
            {"name": f"{mode}/copy", "kind": "copy", "src": str(killed / "checkpoints" / "*" / "model=[DG]*-step=4.pth"),
             "dst": str(work / mode / "plain")},
            {"name": f"{mode}/resumed", "kind": "train",
             "argv": [*resume_argv, "-save", str(killed), "-ckpt", "glob:" + str(killed / "checkpoints" / "*")]},
        ]
        if mode == "adversarial":
            jobs.append({"name": f"{mode}/plain", "kind": "train",
                         "argv": [*argv, "-save", str(work / mode / "plain_save"), "-ckpt", str(work / mode / "plain")]})
    try:
        results = run_jobs(work, jobs, studiogan_root, must_succeed=[job["name"] for job in jobs])
    finally:
        patch.undo()
    kills = {mode: results[f"{mode}/kill"]["value"] for mode in _modes(None)}
    assert all(kill["killed"] for kill in kills.values()), f"a run was not killed after step 4: {kills}"
    return work


def _final(folder, model):
    (path,) = glob.glob(os.path.join(glob.escape(str(folder)), f"model={model}-current-weights-step=*.pth"))
    return path, torch.load(path, map_location="cpu", weights_only=False)


def _differences(a, b, where=""):
    if isinstance(a, torch.Tensor):
        return [] if isinstance(b, torch.Tensor) and torch.equal(a, b) else [where]
    if isinstance(a, dict):
        if not isinstance(b, dict) or a.keys() != b.keys():
            return [where + " (keys)"]
        return [d for key in a for d in _differences(a[key], b[key], f"{where}.{key}")]
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return [where + " (length)"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _differences(x, y, f"{where}[{i}]")]
    return [] if a == b else [where]


def _compare(full, other, models=("G", "G_ema", "D"), keys=("state_dict", "optimizer"), final=FINAL):
    differences = []
    for model in models:
        (path_a, a), (path_b, b) = _final(full, model), _final(other, model)
        assert os.path.basename(path_a) == os.path.basename(path_b) == \
            f"model={model}-current-weights-step={final}.pth"
        differences += [d for key in keys if key in a for d in _differences(a[key], b[key], f"{model}.{key}")]
    return differences


@pytest.mark.parametrize("mode", ["adversarial", "mixed", "moment_matching", "dense"])
def test_a_killed_and_resumed_run_ends_bit_identical(runs, mode):
    (full,) = glob.glob(str(runs / mode / "full" / "checkpoints" / "*"))
    (resumed,) = glob.glob(str(runs / mode / "killed" / "checkpoints" / "*"))
    kill = json.loads((runs / "results.json").read_text())[f"{mode}/kill"]["value"]
    assert not _compare(full, resumed), f"killed {kill['delay']:.3f} s after the checkpoint of step 4 (fraction " \
        f"{kill['fraction']:.3f} of the window{', cut short at the mark of step 6' if kill['cut_short'] else ''}; " \
        f"SLT_KILL_SEED={kill['seed'].split('/')[0]})"
    log = Path(glob.glob(str(runs / mode / "killed" / "logs" / "*.log"))[0]).read_text()
    assert "resuming the generators and the data position from model=RESUME-current-weights-step=4.pth" in log
    if mode in ("mixed", "moment_matching"):
        assert not _compare(full, resumed, models=("MM",), keys=("ama", "schedulers"))


def test_studiogan_s_own_checkpoint_files_do_not_resume_exactly(runs):
    """The control: the same step-4 files without the plugin's resume state give another run, so the test above
    would see a resume that restores less."""
    (full,) = glob.glob(str(runs / "adversarial" / "full" / "checkpoints" / "*"))
    assert _compare(full, runs / "adversarial" / "plain")
