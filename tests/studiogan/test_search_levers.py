"""The search levers inside the real StudioGAN trainer (moment-matching mode, digits, CPU): sparsity annealing,
re-randomisation, a learned BN affine and SGD with momentum and weight decay on the scores, all at once; a run
resumed from a checkpoint saved mid-schedule continues on the schedule and the redraw stream, and the exported
ticket reloads bit-identically. Each run is a fresh process (StudioGAN's modules must not leak into this one)."""
import glob
import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from studiogan_slt.supermask.search.k_schedule import k_at
from tests.studiogan.test_moment_modes import _child, _config, small_digits  # noqa: F401 (a fixture)
from tests.studiogan.train_setup import _assert_one_line_error

SLT = textwrap.dedent("""\
    k: 0.2
    train_mode: "moment_matching"
    weight_init: "signed_kaiming_constant"
    bias_init: "uniform"
    learn_bn: true
    rerandomize: {every: 2, fraction: 0.5}
    k_schedule: {start: 0.8, steps: 6}""")
SGD = "  type_: SGD\n  momentum: 0.9\n  nesterov: false\n  g_weight_decay: 0.0001\n"
# Records every step the levers are called with and the kept fraction they set, then trains.
RECORDING = textwrap.dedent("""\
    import json, sys
    from studiogan_slt.supermask import search
    from studiogan_slt.supermask.convert import masked_tensors
    from studiogan_slt.studiogan import launch

    before = search.Levers.before_step
    def recording(self, step):
        before(self, step)
        if self.source is None:
            with open(sys.argv[1], "a") as f:
                f.write(json.dumps([step, masked_tensors(self.module)[0].supermask.k]) + "\\n")
    search.Levers.before_step = recording
    launch.run(sys.argv[2:])
""")
CHECK_TICKET = textwrap.dedent("""\
    import json, sys, torch
    from studiogan_slt import load_ticket
    from tests.studiogan.export_checks import _identical, _loaded_slt, _plain_generator

    slt_cfg, dense_cfg, ckpt_dir, ticket = sys.argv[1:]
    reference, cfgs = _plain_generator(dense_cfg)
    reference = _loaded_slt(reference, slt_cfg, ckpt_dir, "G_ema")
    loaded = load_ticket(ticket)
    z = torch.randn(8, cfgs.MODEL.z_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a, b = reference(z, None, eval=True), loaded(z, None, eval=True)
    print(json.dumps({"identical": _identical(a, b), "std": float(a.std())}))
""")


def _env(studiogan_root):
    return dict(os.environ, OMP_NUM_THREADS="1", STUDIOGAN_ROOT=str(studiogan_root), WANDB_MODE="disabled")


def _run(studiogan_root, script, *argv):
    done = subprocess.run([sys.executable, "-c", script, *map(str, argv)], env=_env(studiogan_root),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _with_sgd(path):
    text = path.read_text().replace("OPTIMIZATION:\n", "OPTIMIZATION:\n" + SGD)
    path.write_text(text)
    return path


def _checkpoint(run_dir, kind, step):
    return torch.load(os.path.join(run_dir, f"model={kind}-current-weights-step={step}.pth"), weights_only=False)


@pytest.mark.slow
def test_levers_in_a_resumed_studiogan_run_and_its_ticket(studiogan_root, small_digits, tmp_path):
    data = small_digits
    common = ["-data", data / "data", "-save", tmp_path / "save", "--num_workers", "1", "-metrics", "none",
              "--print_freq", "1", "--seed", "0"]
    steps_file = tmp_path / "steps.jsonl"
    first = _with_sgd(_config(tmp_path / "a.yaml", data, SLT, 0.1, steps=3))
    _run(studiogan_root, RECORDING, steps_file, "-cfg", first, *common, "--save_freq", 4)
    (run_dir,) = glob.glob(str(tmp_path / "save" / "checkpoints" / "*"))
    G4, ema4 = _checkpoint(run_dir, "G", 4), _checkpoint(run_dir, "G_ema", 4)

    # SGD with momentum and weight decay on exactly the scores and the BN affine, as OPTIMIZATION names it
    (group,) = G4["optimizer"]["param_groups"]
    assert (group["momentum"], group["weight_decay"], group["nesterov"]) == (0.9, 1e-4, False)
    state = G4["state_dict"]
    affine = [k for k in state if k.endswith((".weight", ".bias")) and f"{k.rsplit('.', 1)[0]}.running_mean" in state]
    assert affine and len(group["params"]) == len(affine) + sum(k.endswith(".scores") for k in state)
    assert all("momentum_buffer" in s for s in G4["optimizer"]["state"].values())
    # learned BN affine: moved away from its init (weight 1, bias 0)
    assert all(not torch.equal(state[k], torch.full_like(state[k], float(k.endswith(".weight")))) for k in affine)
    # re-randomisation at step 2: draw counts in the checkpoint, G_ema's frozen weights are G's
    draws = [k for k in state if k.endswith(".draws")]
    assert draws and sum(int(state[k].sum()) for k in draws) > 0
    frozen = [k for k in state if k.endswith(".original") or k.endswith(".draws")]
    assert all(torch.equal(state[k], ema4["state_dict"][k]) for k in frozen)

    # resume mid-schedule (k_schedule.steps = 6) with a longer run: the schedule continues from step 4
    longer = _with_sgd(_config(tmp_path / "b.yaml", data, SLT, 0.1, steps=7))
    _run(studiogan_root, RECORDING, steps_file, "-cfg", longer, *common, "--save_freq", 2, "-ckpt", run_dir)
    calls = [json.loads(line) for line in steps_file.read_text().splitlines()]
    seen = {}
    for step, k in calls:
        seen.setdefault(step, k)
        assert k == k_at(step, 0.2, 0.8, 6)
    assert sorted(seen) == list(range(8))  # 0-3 in the first process, 4-7 in the resumed one
    G8 = _checkpoint(run_dir, "G", 8)["state_dict"]
    grew = sum(int(G8[k].sum()) - int(state[k].sum()) for k in draws)
    assert grew > 0  # steps 4 and 6 redrew more weights in the resumed run
    ema8 = _checkpoint(run_dir, "G_ema", 8)["state_dict"]
    assert all(torch.equal(G8[k], ema8[k]) for k in frozen)

    # the exported ticket of the final checkpoint reloads the run's generator bit-identically
    ticket = tmp_path / "g.slt"
    _run(studiogan_root, "from studiogan_slt.cli import main; main()", "export", "-ckpt", run_dir, "-o", ticket)
    dense = tmp_path / "dense.yaml"
    dense.write_text(longer.read_text().split("SLT:")[0])
    result = json.loads(_run(studiogan_root, CHECK_TICKET, longer, dense, run_dir, ticket).splitlines()[-1])
    assert result["identical"] and result["std"] > 0


def test_sgd_without_momentum_is_a_one_line_error(studiogan_root, small_digits, tmp_path):
    cfg = _config(tmp_path / "sgd.yaml", small_digits, 'k: 0.2\ntrain_mode: "moment_matching"', 0.1, steps=1)
    cfg.write_text(cfg.read_text().replace("OPTIMIZATION:\n", "OPTIMIZATION:\n  type_: SGD\n"))
    done = subprocess.run([sys.executable, "-c", "from studiogan_slt.cli import main; main()", "train", "-cfg",
                           str(cfg), "-data", str(small_digits / "data"), "-save", str(tmp_path / "save"),
                           "--num_workers", "1"], env=_env(studiogan_root), capture_output=True, text=True,
                          timeout=120)
    _assert_one_line_error(done.returncode, done.stderr, tmp_path / "save", "OPTIMIZATION.momentum", "type_ SGD")


def test_levers_in_the_adversarial_mode(studiogan_root, digits, tmp_path):
    """StudioGAN's own D and G steps: both call the levers (D first), G_ema keeps G's redrawn weights."""
    from tests.studiogan.train_setup import BACKBONES, QUICK, _cfg

    dcgan = BACKBONES["DCGAN"]
    slt = dict(dcgan["SLT"], weight_init="kaiming_normal", rerandomize={"every": 1, "fraction": 0.5},
               k_schedule={"start": 0.6, "steps": 2})
    cfg = _cfg(tmp_path, "adv", dict(dcgan, SLT=slt, OPTIMIZATION=dict(dcgan["OPTIMIZATION"], total_steps=2)))
    steps_file = tmp_path / "steps.jsonl"
    _run(studiogan_root, RECORDING, steps_file, "-cfg", cfg, "-data", digits, "-save", tmp_path / "save",
         "-metrics", "none", *QUICK)
    calls = [json.loads(line) for line in steps_file.read_text().splitlines()]
    assert [step for step, _ in calls] == [0, 0, 1, 1, 2, 2]  # before the D step and before the G step
    assert all(k == k_at(step, 0.3, 0.6, 2) for step, k in calls)
    (run_dir,) = glob.glob(str(tmp_path / "save" / "checkpoints" / "*"))
    G, ema = _checkpoint(run_dir, "G", 3)["state_dict"], _checkpoint(run_dir, "G_ema", 3)["state_dict"]
    draws = [k for k in G if k.endswith(".draws")]
    assert draws and sum(int(G[k].sum()) for k in draws) > 0
    assert all(torch.equal(G[k], ema[k]) for k in G if k.endswith((".original", ".draws")))
