"""The plugin driving the real StudioGAN trainer on digits, on CPU: training, resume, evaluation, DDP, metrics.

Every StudioGAN run of this module happens in ONE driver process (driver.py), started once by the `runs` fixture,
so StudioGAN is imported once and its flat modules never enter the pytest process. The driver snapshots the
models right after conversion (converted.pt) and right after a checkpoint load (loaded.pt). Configurations are
tiny (batch 8, or 2 for StyleGAN2's fixed 512-channel widths; 2 generator updates) and written by the fixture.

StudioGAN's loop (loader.py:392) runs total_steps + 1 updates; with total_steps 1 and save_freq 1 the last
checkpoint is the one of step 2, after two generator updates.
"""
import glob
from pathlib import Path

import pytest
import torch

from tests.studiogan.train_runs import (FAST_BACKBONES, SLOW_BACKBONES, backbone_cfgs, drive, fast_jobs, more_jobs,
                                        train_job)
from tests.studiogan.train_setup import BACKBONES, STATISTICS, _assert_one_line_error, _cfg


@pytest.fixture(scope="module")
def small_valid(digits, tmp_path_factory):
    """The digits train split and a 20-image valid split: the metrics run over the whole reference split."""
    base = tmp_path_factory.mktemp("digits_small")
    (base / "train").symlink_to(digits / "train")
    for c in range(10):
        (base / "valid" / str(c)).mkdir(parents=True)
        for png in sorted((digits / "valid" / str(c)).glob("*.png"))[:2]:
            (base / "valid" / str(c) / png.name).symlink_to(png)
    return base


@pytest.fixture(scope="module")
def slow_backbones(studiogan_root, digits, tmp_path_factory):
    work = tmp_path_factory.mktemp("train_slow")
    jobs = [train_job(work, digits, name, _cfg(work, name, BACKBONES[name])) for name in SLOW_BACKBONES]
    return drive(work, jobs, studiogan_root)


@pytest.fixture(scope="module")
def runs(studiogan_root, digits, small_valid, tmp_path_factory):
    """The fast tier's StudioGAN jobs of this module, in one driver process."""
    work = tmp_path_factory.mktemp("train")
    cfgs, cfg = backbone_cfgs(work)
    return {**drive(work, fast_jobs(work, cfgs, cfg, digits, small_valid, studiogan_root), studiogan_root),
            "cfgs": cfgs, "cfg": cfg}


@pytest.fixture(scope="module")
def more_runs(runs, studiogan_root, digits, small_valid):
    work = runs["dir"]
    jobs = more_jobs(work, runs["cfgs"], runs["cfg"], digits, small_valid, studiogan_root)
    return drive(work, jobs, studiogan_root, prefix="more-")


def _job(runs, name):
    result = runs["results"].get(name)
    assert result is not None, f"the driver never reached job {name}:\n{runs['driver_output'][-5000:]}"
    assert result["ok"], result["traceback"]
    assert result.get("exit_code", 0) == 0, result["traceback"] or result["stderr"][-3000:]
    return result


def _one(pattern):
    (path,) = glob.glob(str(pattern))
    return path


def _checkpoint(save, model, step):
    return torch.load(_one(Path(save) / "checkpoints" / "*" / f"model={model}-current-weights-step={step}.pth"),
                      weights_only=False)


def _log(save):
    return Path(_one(Path(save) / "logs" / "*.log")).read_text()


def _split(state):
    scores = [k for k in state if k.endswith(".scores")]
    frozen = [k for k in state if not k.endswith(".scores") and not k.endswith(STATISTICS)]
    return scores, frozen


def _assert_frozen_kept_and_scores_trained(initial, final, closed=()):
    """closed: blocks whose scores cannot learn (an attention block with its gate frozen at 0)."""
    assert initial.keys() == final.keys()
    scores, frozen = _split(final)
    assert scores and any(k.endswith(".original") for k in frozen)
    changed = [k for k in frozen if not torch.equal(initial[k], final[k])]
    assert not changed, f"frozen tensors changed: {changed[:5]}"
    untrained = [k for k in scores if torch.equal(initial[k], final[k])]
    assert untrained == [k for k in scores if k.startswith(tuple(f"{block}." for block in closed))], untrained
    return scores


def _closed_attention(log, model):
    """The blocks named by the plugin's warning about self-attention gates frozen at 0 (hooks.py)."""
    lines = [line for line in log.splitlines() if f"SLT: {model}'s self-attention blocks" in line]
    return lines[0].split("blocks ")[1].split(" stay")[0].split(", ") if lines else []


def _assert_optimizer_holds_only(optimizer, state, scores):
    """StudioGAN builds its optimizers from named_parameters() (config.py:497-517): parameter i of the optimizer
    is the model's i-th parameter, which state_dict() lists in the same order."""
    ids = [i for group in optimizer["param_groups"] for i in group["params"]]
    assert len(ids) == len(scores), f"the optimizer holds {len(ids)} tensors, the model has {len(scores)} scores"
    assert optimizer["state"], "the optimizer never stepped"
    for i, moments in optimizer["state"].items():
        assert moments["exp_avg"].shape == state[scores[ids.index(int(i))]].shape


def _fixture_of(backbone):
    return "runs" if backbone in FAST_BACKBONES else "slow_backbones" if backbone in SLOW_BACKBONES else "more_runs"


@pytest.mark.parametrize("backbone", [pytest.param(name, marks=[] if name in FAST_BACKBONES else [pytest.mark.slow])
                                      for name in BACKBONES])
def test_training_updates_only_scores(request, backbone):
    runs = request.getfixturevalue(_fixture_of(backbone))
    _job(runs, backbone)
    save = runs["dir"] / backbone / "save"
    converted = torch.load(runs["dir"] / backbone / "converted.pt")
    G, G_ema, D = (_checkpoint(save, m, 2) for m in ("G", "G_ema", "D"))

    log = _log(save)
    assert '"k": 0.3' in log.split("cfgs.SLT =")[1], "the SLT section is not in StudioGAN's run log"
    closed = _closed_attention(log, "G")
    assert bool(closed) == BACKBONES[backbone]["MODEL"].get("apply_attn", False)
    scores = _assert_frozen_kept_and_scores_trained(converted["G"], G["state_dict"], closed)
    _assert_optimizer_holds_only(G["optimizer"], G["state_dict"], scores)
    assert D["step"] == 2
    # G_ema: converted like G with the same scores, its frozen tensors G's; its scores a moving average, i.e.
    # moved away from the start but not a copy of G's (decay 0.5 every update)
    _, frozen = _split(G["state_dict"])
    assert all(torch.equal(converted["G_ema"][k], converted["G"][k]) for k in converted["G"])
    assert all(torch.equal(G_ema["state_dict"][k], G["state_dict"][k]) for k in frozen)
    learning = [k for k in scores if not torch.equal(G["state_dict"][k], converted["G"][k])]
    assert all(not torch.equal(G_ema["state_dict"][k], converted["G"][k]) for k in learning)
    assert all(not torch.equal(G_ema["state_dict"][k], G["state_dict"][k]) for k in learning)
    if "D" in BACKBONES[backbone]["SLT"].get("targets", []):
        d_scores = _assert_frozen_kept_and_scores_trained(converted["D"], D["state_dict"], _closed_attention(log, "D"))
        _assert_optimizer_holds_only(D["optimizer"], D["state_dict"], d_scores)
    else:
        assert not any(k.endswith(".scores") for k in D["state_dict"])


def _assert_same(a, b, where=""):
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


@pytest.mark.slow
def test_resume_continues_from_the_saved_step(more_runs):
    _job(more_runs, "copy")
    _job(more_runs, "resume")
    saved = {m: _checkpoint(more_runs["dir"] / "DCGAN" / "save", m, 2) for m in ("G", "G_ema", "D")}
    loaded = torch.load(more_runs["dir"] / "resume" / "loaded.pt", weights_only=False)
    for m in ("G", "G_ema", "D"):
        _assert_same(loaded[m], saved[m]["state_dict"], m)
    _assert_same(loaded["g_optimizer"], saved["G"]["optimizer"], "g_optimizer")
    _assert_same(loaded["d_optimizer"], saved["D"]["optimizer"], "d_optimizer")
    # One more update (step 2 -> 3), saved into the resumed run's checkpoint folder
    (D,) = glob.glob(str(more_runs["dir"] / "resume_from" / "model=D-current-weights-step=*.pth"))
    assert torch.load(D, weights_only=False)["step"] == 3
    log = _log(more_runs["dir"] / "resume" / "save")
    assert [line.split("Step:")[1].split()[0] for line in log.splitlines() if "Step:" in line] == ["3"]


def test_eval_from_checkpoint_with_metrics(runs):
    """`studiogan-slt eval` on the SLT checkpoint, with StudioGAN's own FID/IS/PRDC code on CPU (a random
    stand-in Inception: the values are meaningless, only that they were computed is checked), -v and -sf."""
    _job(runs, "inception")
    _job(runs, "eval")
    save = runs["dir"] / "eval"
    log = _log(save)
    assert "Generator checkpoint is" in log  # the SLT checkpoint, loaded strictly: scores included
    assert "Inception score (Step: 2" in log and "FID score (Step: 2" in log and "Density (Step: 2" in log
    assert glob.glob(str(save / "figures" / "*" / "*.png"))
    assert len(glob.glob(str(save / "samples" / "*" / "fake" / "*" / "*.png"))) == 12


@pytest.mark.slow
def test_best_checkpoint_is_kept_and_exported(more_runs):
    """A run with -metrics fid (stand-in Inception) keeps StudioGAN's best checkpoint; `export -best` exports that
    checkpoint's generator, not the current one."""
    from studiogan_slt.ticket.save_load import read_ticket

    _job(more_runs, "inception")
    _job(more_runs, "best")
    _job(more_runs, "export-best")
    save = more_runs["dir"] / "best" / "save"
    assert "Best FID score (Step: " in _log(save)
    best = Path(_one(save / "checkpoints" / "*" / "model=G_ema-best-weights-step=*.pth"))
    assert read_ticket(more_runs["dir"] / "best.slt").header["meta"]["studiogan"]["checkpoint"] == best.name


@pytest.mark.slow
def test_ddp_two_processes_end_with_identical_scores(more_runs):
    _job(more_runs, "ddp")
    save = more_runs["dir"] / "ddp"
    # SLTWorker gathers digests of G's trainable tensors (the scores) and effective weights from every rank
    # before each save (search_worker.py in this package); rank 0 logs them
    checks = [line for line in _log(save).splitlines() if "DDP check at step" in line]
    assert [line.split("DDP check at step ")[1].split(":")[0] for line in checks] == ["1", "2"]
    scores = []
    for line in checks:
        digests = line.split("per rank [")[1].split("]")[0].split(", ")
        assert len(digests) == 2 and digests[0] == digests[1], line
        assert line.endswith("(identical)")
        scores.append(digests[0])
    assert scores[0] != scores[1], "the scores did not change between the two saves"
    G = _checkpoint(save, "G", 2)["state_dict"]
    assert any(k.endswith(".scores") for k in G)


@pytest.mark.slow
def test_yaml_without_slt_trains_the_dense_model(more_runs):
    _job(more_runs, "dense")
    save = more_runs["dir"] / "dense" / "save"
    G = _checkpoint(save, "G", 2)
    assert not any("scores" in k or "parametrizations" in k for k in G["state_dict"])
    assert not (more_runs["dir"] / "dense" / "converted.pt").exists()
    ids = [i for group in G["optimizer"]["param_groups"] for i in group["params"]]
    assert len(ids) == sum(1 for k in G["state_dict"] if not k.endswith(STATISTICS))  # every weight trains
    assert "SLT ticket" not in _log(save)


def test_batch_studiogan_cannot_draw_is_refused_before_training(runs):
    result = runs["results"]["canvas"]
    _assert_one_line_error(result["exit_code"], result["stderr"], runs["dir"] / "canvas",
                           "OPTIMIZATION.batch_size: 6", "multiple of 8")
