"""The moment-matching modes inside the real StudioGAN trainer, on digits, on CPU.

Each run happens in a fresh Python process: StudioGAN's flat modules (`config`, `utils`, ...) are imported by
top-level name and must not leak into the test process. The child snapshots G's state when the moment-matching
step is built, i.e. before the first update, so the checkpoint can be compared with the untrained model.
"""
import glob
import os
import subprocess
import sys
import tarfile
import textwrap

import numpy as np
import pytest
import torch

TARBALL = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "third_party",
                       "PyTorch-StudioGAN-947b35e.tar.gz")
STEPS = 30

CONFIG = """\
DATA:
  name: "DIGITS"
  img_size: 32
  num_classes: 10
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
    extractors: [{{network: "studiogan_slt.core.digits_net:digits_cnn", weights: "{weights}", kwargs: {{width: 8}}}}]
"""

CHILD = textwrap.dedent("""\
    import sys, torch
    from studiogan_slt.studiogan import launch, moment_mode

    build = moment_mode.MomentMatchingStep.__init__
    def snapshot_then_build(self, worker):
        torch.save({k: v.detach().clone() for k, v in worker.Gen.state_dict().items()}, sys.argv[1])
        build(self, worker)
    moment_mode.MomentMatchingStep.__init__ = snapshot_then_build
    launch.run(sys.argv[2:])  # StudioGAN from STUDIOGAN_ROOT
""")


@pytest.fixture(scope="module")
def studiogan_root(tmp_path_factory):
    root = os.environ.get("STUDIOGAN_ROOT")
    if root:
        return root
    if not os.path.exists(TARBALL):
        if os.environ.get("SLT_REQUIRE_STUDIOGAN"):
            pytest.fail("StudioGAN is required (SLT_REQUIRE_STUDIOGAN) but neither STUDIOGAN_ROOT nor the snapshot "
                        f"{TARBALL} exists")
        pytest.skip("no StudioGAN checkout (set STUDIOGAN_ROOT)")
    dest = tmp_path_factory.mktemp("studiogan")
    with tarfile.open(TARBALL) as tar:
        tar.extractall(dest, filter="data")
    return str(dest)


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """A 300-image digits ImageFolder (30 per class) and a random small digits CNN in the user-network form."""
    from PIL import Image

    from studiogan_slt.core.digits_net import digits_cnn
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


def _train(studiogan_root, digits, tmp_path, slt, lr):
    cfg = tmp_path / "mm.yaml"
    cfg.write_text(CONFIG.format(lr=lr, steps=STEPS, slt=textwrap.indent(slt, "  "),
                                 weights=digits / "extractor.pt"))
    save, snapshot = tmp_path / "save", tmp_path / "initial_G.pt"
    env = dict(os.environ, OMP_NUM_THREADS="1", STUDIOGAN_ROOT=studiogan_root, WANDB_MODE="disabled")
    argv = ["-cfg", str(cfg), "-data", str(digits / "data"), "-save", str(save), "--num_workers", "1",
            "-metrics", "none", "--print_freq", "1", "--save_freq", str(STEPS), "--seed", "0"]
    done = subprocess.run([sys.executable, "-c", CHILD, str(snapshot), *argv], env=env, capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    (run_dir,) = glob.glob(str(save / "checkpoints" / "*"))
    (ckpt,) = glob.glob(os.path.join(run_dir, f"model=G-current-weights-step={STEPS}.pth"))
    (ema_ckpt,) = glob.glob(os.path.join(run_dir, f"model=G_ema-current-weights-step={STEPS}.pth"))
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


def test_moment_matching_trains_only_scores(studiogan_root, digits, tmp_path):
    run = _train(studiogan_root, digits, tmp_path, 'k: 0.5\ntrain_mode: "moment_matching"\n'
                                                   'weight_init: "signed_kaiming_constant"\nbias_init: "uniform"', lr=1e-2)
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


def test_dense_moment_matching_trains_the_weights(studiogan_root, digits, tmp_path):
    run = _train(studiogan_root, digits, tmp_path, 'train_mode: "dense_moment_matching"', lr=1e-3)
    _assert_distance_fell(run["distance"])
    initial, final = run["initial"], run["final"]
    assert not any(k.endswith(".scores") for k in final)
    weights = [k for k in final if k.endswith(".weight") and "bn" not in k]
    assert weights and all(not torch.equal(initial[k], final[k]) for k in weights)
