"""The moment-matching modes inside the real StudioGAN trainer, on digits, on CPU.

Each run happens in a fresh Python process: StudioGAN's flat modules (`config`, `utils`, ...) are imported by
top-level name and must not leak into the test process. The child snapshots G's state and the step's own state
(AMA, schedule) when the moment-matching step is built, i.e. before the first update of this process, so the
checkpoint can be compared with the untrained model and a resumed run with what it resumed from.
"""
import glob
import os
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

STEPS = 30

CONFIG = """\
DATA:
  name: "DIGITS"
  img_size: 32
  num_classes: 10
PRE:
  apply_rflip: false
MODEL:
  g_cond_mtd: "W/O"
  d_cond_mtd: "W/O"
  g_conv_dim: 8
  d_conv_dim: 8
  z_dim: 32
  apply_g_ema: True
  g_ema_decay: 0.9
  g_ema_start: 5
OPTIMIZATION:
  batch_size: 16
  g_lr: {lr}
  total_steps: {steps}
SLT:
{slt}
  moments:
    extractors: [{{network: "studiogan_slt.metrics.digits_net:digits_cnn", weights: "{weights}", kwargs: {{width: 8}}}}]
{moments}"""

CHILD = textwrap.dedent("""\
    import sys, torch
    from studiogan_slt.studiogan import launch
    from studiogan_slt.studiogan.loop import moment_mode

    build = moment_mode.MomentMatchingStep.__init__
    lrs = []
    def snapshot_then_build(self, worker):
        torch.save({k: v.detach().clone() for k, v in worker.Gen.state_dict().items()}, sys.argv[1])
        build(self, worker)
        torch.save(self.state_dict(), sys.argv[1] + ".step")
        # the learning rate of every update of G
        worker.OPTIMIZATION.g_optimizer.register_step_pre_hook(lambda o, *_: lrs.append(o.param_groups[0]["lr"]))
    moment_mode.MomentMatchingStep.__init__ = snapshot_then_build
    launch.run(sys.argv[2:])  # StudioGAN from STUDIOGAN_ROOT
    torch.save(lrs, sys.argv[1] + ".lr")
""")


@pytest.fixture(scope="module")
def small_digits(tmp_path_factory):
    """A 300-image digits ImageFolder (30 per class) and a random small digits CNN in the user-network form."""
    from PIL import Image

    from studiogan_slt.metrics.digits_net import digits_cnn
    from studiogan_slt.data.digits import digits_arrays

    base = tmp_path_factory.mktemp("digits")
    images, labels = digits_arrays("train")
    for c in range(10):
        (base / "data" / "train" / str(c)).mkdir(parents=True)
        for i in np.flatnonzero(labels == c)[:30]:
            Image.fromarray(images[i]).save(base / "data" / "train" / str(c) / f"{i:04d}.png")
    torch.manual_seed(0)
    torch.save(digits_cnn(width=8).state_dict(), base / "extractor.pt")
    return base


def _child(studiogan_root, snapshot, argv):
    env = dict(os.environ, OMP_NUM_THREADS="1", STUDIOGAN_ROOT=str(studiogan_root), WANDB_MODE="disabled")
    done = subprocess.run([sys.executable, "-c", CHILD, str(snapshot), *map(str, argv)], env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]


def _config(path, data, slt, lr, steps=STEPS, moments=""):
    path.write_text(CONFIG.format(lr=lr, steps=steps, slt=textwrap.indent(slt, "  "), weights=data / "extractor.pt",
                                  moments=textwrap.indent(moments, "    ")))
    return path


def _train(studiogan_root, data, tmp_path, slt, lr):
    cfg = _config(tmp_path / "mm.yaml", data, slt, lr)
    save, snapshot = tmp_path / "save", tmp_path / "initial_G.pt"
    _child(studiogan_root, snapshot, ["-cfg", cfg, "-data", data / "data", "-save", save, "--num_workers", "1",
                                      "-metrics", "none", "--print_freq", "1", "--save_freq", STEPS, "--seed", "0"])
    (run_dir,) = glob.glob(str(save / "checkpoints" / "*"))
    # the checkpoint of the last of StudioGAN's total_steps + 1 updates
    (ckpt,) = glob.glob(os.path.join(run_dir, f"model=G-current-weights-step={STEPS + 1}.pth"))
    (ema_ckpt,) = glob.glob(os.path.join(run_dir, f"model=G_ema-current-weights-step={STEPS + 1}.pth"))
    (losses,) = glob.glob(str(save / "statistics" / "*" / "losses.npy"))
    (log,) = glob.glob(str(save / "logs" / "*.log"))
    return {"initial": torch.load(snapshot), "final": torch.load(ckpt, weights_only=False)["state_dict"],
            "ema": torch.load(ema_ckpt, weights_only=False)["state_dict"],
            "distance": np.load(losses, allow_pickle=True).item()["gen_loss"], "log": open(log).read(),
            "cache": glob.glob(str(save / "moments" / "*.safetensors"))}


def _assert_distance_fell(distance):
    # gen_loss is the batch's moment distance MSE(mean) + MSE(var); compare the first and last few steps
    assert len(distance) == STEPS + 1
    first, last = np.mean(distance[:5]), np.mean(distance[-5:])
    assert last < 0.5 * first, f"moment distance {first:.4g} -> {last:.4g}"


_STATISTICS = ("running_mean", "running_var", "num_batches_tracked")


def test_moment_matching_trains_only_scores(studiogan_root, small_digits, tmp_path):
    run = _train(studiogan_root, small_digits, tmp_path, 'k: 0.5\ntrain_mode: "moment_matching"\n'
                 'weight_init: "signed_kaiming_constant"\nscaled: false\nbias_init: "uniform"', lr=1e-2)
    _assert_distance_fell(run["distance"])
    initial, final = run["initial"], run["final"]
    assert initial.keys() == final.keys()
    scores = [k for k in final if k.endswith(".scores")]
    frozen = [k for k in final if not k.endswith(".scores") and not k.endswith(_STATISTICS)]
    assert scores and any(".original" in k for k in frozen)
    assert all(torch.equal(initial[k], final[k]) for k in frozen)
    assert sum(not torch.equal(initial[k], final[k]) for k in scores) == len(scores)
    assert all(torch.equal(final[k], run["ema"][k]) for k in frozen)  # G_ema: the same frozen tensors
    assert any(not torch.equal(initial[k], run["ema"][k]) for k in scores)  # ... and EMA-updated scores
    assert "real feature statistics" in run["log"] and len(run["cache"]) == 1


def test_dense_moment_matching_trains_the_weights(studiogan_root, small_digits, tmp_path):
    run = _train(studiogan_root, small_digits, tmp_path, 'train_mode: "dense_moment_matching"', lr=1e-3)
    _assert_distance_fell(run["distance"])
    initial, final = run["initial"], run["final"]
    assert not any(k.endswith(".scores") for k in final)
    weights = [k for k in final if k.endswith(".weight") and "bn" not in k]
    assert weights and all(not torch.equal(initial[k], final[k]) for k in weights)


def _cosine_lr(base, step, total_steps):
    span = total_steps + 1  # StudioGAN's loop makes total_steps + 1 updates
    return base * 0.5 * (1.0 + math.cos(math.pi * step / span))


@pytest.mark.slow  # the resume campaign's tier (docs/testing.md)
def test_resume_restores_ama_and_the_cosine_schedule(studiogan_root, small_digits, tmp_path):
    data, lr = small_digits, 1e-2
    slt = ('k: 0.5\ntrain_mode: "moment_matching"\nweight_init: "signed_kaiming_constant"\nscaled: false\n'
           'bias_init: "uniform"')
    moments = 'ama: true\nlr_schedule: "cosine"'
    common = ["-data", data / "data", "-save", tmp_path / "save", "--num_workers", "1", "-metrics", "none",
              "--print_freq", "1", "--seed", "0"]
    first = _config(tmp_path / "a.yaml", data, slt, lr, steps=4, moments=moments)
    # 5 updates: StudioGAN saves at step 4, the plugin at the last one, 5
    _child(studiogan_root, tmp_path / "first.pt", ["-cfg", first, *common, "--save_freq", 4])
    (run_dir,) = glob.glob(str(tmp_path / "save" / "checkpoints" / "*"))
    saved = torch.load(os.path.join(run_dir, "model=MM-current-weights-step=5.pth"), weights_only=True)
    assert saved["ama"]["v_mean"].abs().sum() > 0 and saved["schedulers"][0]["last_epoch"] == 5
    g_opt = torch.load(os.path.join(run_dir, "model=G-current-weights-step=5.pth"), weights_only=False)["optimizer"]
    assert g_opt["param_groups"][0]["lr"] == pytest.approx(_cosine_lr(lr, 5, 4))

    # resume with a longer run: the step state is restored exactly, and the schedule follows the new length (the
    # old one had ended at lr 0)
    longer = _config(tmp_path / "b.yaml", data, slt, lr, steps=9, moments=moments)
    _child(studiogan_root, tmp_path / "resumed.pt", ["-cfg", longer, *common, "--save_freq", 2, "-ckpt", run_dir])
    restored = torch.load(str(tmp_path / "resumed.pt") + ".step", weights_only=True)
    for key in ("v_mean", "v_var"):
        assert torch.equal(restored["ama"][key], saved["ama"][key])
    assert restored["ama"]["optimizer"]["state"][0]["step"] == saved["ama"]["optimizer"]["state"][0]["step"]
    assert restored["schedulers"][0]["last_epoch"] == 5
    # the first resumed update continues the saved run exactly (the old curve's last lr), the next ones follow the
    # new curve
    lrs = torch.load(str(tmp_path / "resumed.pt") + ".lr")
    assert lrs[0] == g_opt["param_groups"][0]["lr"]
    assert lrs[1:] == pytest.approx([_cosine_lr(lr, step, 9) for step in range(6, 10)]) and lrs[1] > 0.1 * lr
    assert glob.glob(os.path.join(run_dir, "model=MM-current-weights-step=10.pth"))
    g_opt = torch.load(os.path.join(run_dir, "model=G-current-weights-step=10.pth"), weights_only=False)["optimizer"]
    assert g_opt["param_groups"][0]["lr"] == pytest.approx(_cosine_lr(lr, 10, 9))
    (log,) = glob.glob(str(tmp_path / "save" / "logs" / "*.log"))
    assert "resumed AMA and schedule from model=MM-current-weights-step=5.pth" in open(log).read()


def test_real_batches_mix_classes_in_a_fixed_order():
    """StudioGAN's ImageFolder lists images class by class; with the extractor's BatchNorm in train mode, one-class
    real batches would give other statistics than the mixed fake batches they are matched against."""
    from types import SimpleNamespace

    from studiogan_slt.studiogan.loop.moment_mode import MomentMatchingStep

    labels = torch.arange(10).repeat_interleave(20)  # sorted by class, as ImageFolder lists them
    dataset = torch.utils.data.TensorDataset(torch.arange(200.0), labels)
    step = MomentMatchingStep.__new__(MomentMatchingStep)  # only the batching, no StudioGAN worker
    step.batch_size, step.worker = 50, SimpleNamespace(RUN=SimpleNamespace(num_workers=0))
    first = list(step._real_batches(dataset))
    assert all(len(set(y.tolist())) >= 5 for _, y in first)
    assert sorted(torch.cat([x for x, _ in first]).tolist()) == list(range(200))  # every image once
    assert all(torch.equal(a, b) for (a, _), (b, _) in zip(first, step._real_batches(dataset)))


def _with_small_extractor(section, small_digits):
    """`section` with the fixture's digits CNN as its extractor: validating checks that the weights file exists."""
    extractor = {"network": "studiogan_slt.metrics.digits_net:digits_cnn", "weights": str(small_digits / "extractor.pt")}
    return dict(section, moments={**section["moments"], "extractors": [extractor]})


@pytest.mark.parametrize("section, message", [
    ({"k": 0.1, "train_mode": "adversarial", "moments": {"ama": True}}, "SLT.moments.weight: required with"),
    ({"k": 0.1, "train_mode": "moment_matching", "moments": {"weight": 1.0}}, "SLT.moments.weight: only used with"),
    ({"k": 0.1, "train_mode": "adversarial", "moments": {"weight": 0}}, "SLT.moments.weight: 0 is not allowed"),
    ({"k": 0.1, "train_mode": "adversarial", "moments": {"weight": True}}, "SLT.moments.weight: True is not allowed"),
])
def test_the_weight_of_the_added_moment_loss_is_checked(section, message, small_digits):
    from studiogan_slt.errors import SLTError
    from studiogan_slt.studiogan.section import slt_section

    with pytest.raises(SLTError) as err:
        slt_section.validate(_with_small_extractor(section, small_digits))
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


@pytest.mark.parametrize("section, schedule", [
    ({"k": 0.1, "train_mode": "moment_matching", "moments": {}}, "cosine"),
    ({"train_mode": "dense_moment_matching", "moments": {}}, "cosine"),
    ({"k": 0.1, "train_mode": "adversarial", "moments": {"weight": 1.0}}, "constant"),
    ({"k": 0.1, "train_mode": "moment_matching", "moments": {"lr_schedule": "constant"}}, "constant"),
    ({"k": 0.1, "train_mode": "adversarial", "moments": {"weight": 1.0, "lr_schedule": "cosine"}}, "cosine"),
])
def test_the_lr_schedule_default_follows_the_mode(section, schedule, small_digits):
    """cosine where the plugin owns G's optimiser (the searches' evidence, docs/search-curves.md), constant where it
    is StudioGAN's adversarial one; a schedule the YAML names wins."""
    from studiogan_slt.studiogan.section import slt_section

    assert slt_section.validate(_with_small_extractor(section, small_digits))["moments"]["lr_schedule"] == schedule


def test_moment_loss_added_to_the_adversarial_one(studiogan_root, small_digits, tmp_path):
    """train_mode adversarial with moments.weight: StudioGAN's own G step, whose optimizer gets the moment gradient
    at every update (the AMA state counts them and is saved for a resume); against the same run without it, the
    scores differ, the frozen tensors do not."""
    steps, slt = 5, 'k: 0.5\ntrain_mode: "adversarial"\nweight_init: "signed_kaiming_constant"\nbias_init: "uniform"'
    finals = {}
    # dense: no k, the section holds only the moments: the dense generator trained with the same mixed loss
    for name, moments in (("mixed", "weight: 10.0"), ("adversarial", None), ("dense", "weight: 10.0")):
        cfg = _config(tmp_path / f"{name}.yaml", small_digits, "" if name == "dense" else slt, 1e-2, steps=steps,
                      moments=moments or "")
        if moments is None:  # no moments section, and none from the digits default: the plain adversarial search
            cfg.write_text(cfg.read_text().split("  moments:")[0] + '  keep_host: ["SLT.moments"]\n')
        save = tmp_path / name
        _child(studiogan_root, tmp_path / f"{name}.pt", ["-cfg", cfg, "-data", small_digits / "data", "-save", save,
                                                         "--num_workers", "1", "-metrics", "none", "--print_freq",
                                                         "1", "--save_freq", steps, "--seed", "0"])
        (run_dir,) = glob.glob(str(save / "checkpoints" / "*"))
        (ckpt,) = glob.glob(os.path.join(run_dir, f"model=G-current-weights-step={steps + 1}.pth"))
        finals[name] = torch.load(ckpt, weights_only=False)["state_dict"]
        state = glob.glob(os.path.join(run_dir, f"model=MM-current-weights-step={steps + 1}.pth"))
        (log,) = glob.glob(str(save / "logs" / "*.log"))
        lines = [line for line in open(log) if "moment loss added to the adversarial loss with weight 10" in line]
        if moments is None:
            assert not state and not lines
        else:
            saved = torch.load(state[0], weights_only=True)
            # saved after the last of StudioGAN's steps + 1 updates, each logged
            assert saved["ama"]["optimizer"]["state"][0]["step"] == steps + 1
            assert len(lines) == steps + 1 and "moment distance" in lines[-1]
    assert not any(k.endswith(".scores") for k in finals["dense"])
    mixed, plain = finals["mixed"], finals["adversarial"]
    scores = [k for k in mixed if k.endswith(".scores")]
    frozen = [k for k in mixed if not k.endswith(".scores") and not k.endswith(_STATISTICS)]
    assert scores and all(torch.equal(mixed[k], plain[k]) for k in frozen)
    assert any(not torch.equal(mixed[k], plain[k]) for k in scores)
