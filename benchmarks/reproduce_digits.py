"""Small-scale reproduction of the paper's claim on real data (digits, 32x32, CPU), through `studiogan-slt sweep`.

Claim (Yeo et al., AAAI 2023): a strong lottery ticket at k = 0.1 of a random generator, found by moment matching,
matches the dense generator trained with the same moment-matching loss. Runs, all with the same step budget:
  (1) dense generator trained with the moment-matching loss (train_mode dense_moment_matching), 3 seeds;
  (2) SLT search (train_mode moment_matching) at k in {0.5, 0.3, 0.1, 0.05}, k = 0.1 with 3 seeds;
  (3) controls: the random mask at k = 0.1 (the SLT run with g_lr 0: scores never trained) and the untrained dense
      generator (the dense run with g_lr 0); both still run CONTROL_STEPS forward passes so that BatchNorm's running
      statistics describe their own outputs, as they do for trained runs;
  (4) StudioGAN's DCGAN (deep_conv) trained adversarially: dense vs SLT k = 0.1 with adversarial search.
Each group is one `studiogan-slt sweep` (digits_plan.plan: its YAML, --k, --seeds, and the dense points' YAML),
run one after another into OUT/points (the longer search into OUT/longer, out of the figure). Sweep trains every
point, evaluates it (`eval -sf`, then `digits-fid` of 296 samples on an evaluation network that is not the loss's
extractor, the same OUT/digits_eval.pt for every sweep, so the numbers compare), exports its ticket, and runs
`compare` and `plot`; docs/results.md is written from those files (digits_results.py), the figure and CSV are
OUT/points' own.

    python benchmarks/reproduce_digits.py --out runs/repro            # the full study (about 90 min on 2 cores)
    python benchmarks/reproduce_digits.py --out /tmp/smoke --smoke    # every command once, tiny budgets

Resumable as sweep is: finished points are skipped, a point cut off half way continues, so an interrupted study
resumes where it stopped when run again with the same arguments. Needs a StudioGAN checkout (STUDIOGAN_ROOT,
--studiogan-root, or the pinned clone that the first run makes).
"""
import argparse
import sys
import time
from pathlib import Path

import yaml

from digits_plan import CONTROL_STEPS, plan
from digits_results import summarize
from study_cli import cli, digits_inputs, splice  # the public CLI, single-threaded
from studiogan_slt import atomic

ROOT = Path(__file__).resolve().parents[1]
FIGURE, CSV = "fid_vs_k.png", "fid_vs_k.csv"  # what sweep writes into its -save
TITLE = "digits, 32x32: FID against kept fraction k"
EVAL_FLAGS = "--num_workers 1 -ref valid"  # sweep's --digits-fid adds -sf -sf_num 296 -metrics none


def _yaml(path, sections):
    atomic.write_text(path, yaml.safe_dump(sections, sort_keys=False))
    return path


def _sweep(sweep, out, data, jobs, root_flag):
    """The `sweep` command of one group, with its YAMLs written to OUT/configs, and the points it will run."""
    # loads torch: lazy, as study_cli's docstring says why
    from studiogan_slt.sweep.plan import plan as sweep_points

    configs = out / "configs"
    configs.mkdir(exist_ok=True)
    cfg = _yaml(configs / f"{sweep.name}.yaml", sweep.cfg)
    dense = _yaml(configs / f"{sweep.dense_name}.yaml", sweep.dense) if sweep.dense is not None else None
    command = ["sweep", "-cfg", cfg, "-data", data, "-save", out / sweep.folder, "--k", *sweep.ks,
               "--seeds", *sweep.seeds, *(["--dense", "--dense-cfg", dense] if dense else []), "--jobs", jobs,
               "--digits-fid", "--digits-net", out / "digits_eval.pt", f"--eval-flags={EVAL_FLAGS}", "--log-y",
               "--title", TITLE, *root_flag, "-metrics", "none", "--num_workers", 1,
               "--print_freq", min(sweep.steps, 50), "--save_freq", sweep.steps]
    return command, sweep_points(cfg, list(sweep.ks), list(sweep.seeds), dense=dense is not None, dense_cfg=dense)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="work folder (data, extractor, configs, the sweeps' -save folders)")
    p.add_argument("--steps", type=int, default=800, help="training steps of every moment-matching run")
    p.add_argument("--adversarial-steps", type=int, default=800, help="training steps of the two DCGAN runs")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--longer", type=int, default=0, help="also search one k = 0.1 ticket for this many steps: how "
                                                         "many more steps parity takes (adds its run time)")
    p.add_argument("--jobs", type=int, default=2, help="points at a time in each sweep (each single-threaded)")
    p.add_argument("--studiogan-root", default=None)
    p.add_argument("--docs", default=str(ROOT / "docs"), help="where results.md and the figure go")
    p.add_argument("--smoke", action="store_true", help="tiny budgets, results in OUT/docs: check that every "
                                                        "command works, in minutes")
    args = p.parse_args(argv)
    control_steps = CONTROL_STEPS
    if args.smoke:
        args.steps, args.adversarial_steps, args.seeds = 4, 2, args.seeds[:1]
        args.longer = 8 if args.longer else 0
        control_steps = 2
    start = time.time()
    out, data, extractor = digits_inputs(args.out)
    root_flag = ["--studiogan-root", Path(args.studiogan_root).resolve()] if args.studiogan_root else []
    commands, planned = [], []
    for sweep in plan(args.steps, args.seeds, extractor, args.adversarial_steps, args.longer, control_steps):
        command, points = _sweep(sweep, out, data, args.jobs, root_flag)
        print(f"[{(time.time() - start) / 60:5.1f} min] {sweep.section}: {len(points)} points", flush=True)
        cli(command)
        commands.append(command)
        planned.append((sweep, points))
    docs = out / "docs" if args.smoke else Path(args.docs)
    docs.mkdir(parents=True, exist_ok=True)
    for name in (FIGURE, CSV):
        atomic.write_bytes(docs / name, (out / "points" / name).read_bytes())
    text = summarize(out, planned, commands, sys.argv[1:] if argv is None else argv)
    old = (docs / "results.md").read_text() if (docs / "results.md").is_file() else ""
    atomic.write_text(docs / "results.md", splice(old, "reproduction", text))  # the other studies' blocks stay
    print(text)


if __name__ == "__main__":
    main()
