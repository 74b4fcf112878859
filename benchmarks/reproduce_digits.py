"""Small-scale reproduction of the paper's claim on real data (digits, 32x32, CPU), through the public CLI only.

Claim (Yeo et al., AAAI 2023): a strong lottery ticket at k = 0.1 of a random generator, found by moment matching,
matches the dense generator trained with the same moment-matching loss. Runs, all with the same step budget:
  (1) dense generator trained with the moment-matching loss (train_mode dense_moment_matching), 3 seeds;
  (2) SLT search (train_mode moment_matching) at k in {0.5, 0.3, 0.1, 0.05}, k = 0.1 with 3 seeds;
  (3) controls: the random mask at k = 0.1 (the SLT run with g_lr 0: scores never trained) and the untrained dense
      generator (the dense run with g_lr 0); both still run CONTROL_STEPS forward passes so that BatchNorm's running
      statistics describe their own outputs, as they do for trained runs;
  (4) StudioGAN's DCGAN (deep_conv) trained adversarially: dense vs SLT k = 0.1 with adversarial search.
Every run is `studiogan-slt train`, then `studiogan-slt eval -sf` (296 images from the checkpoint, BatchNorm in eval
mode), then `studiogan-slt digits-fid` (FID on an evaluation network that is not the loss's extractor, against the
296-image valid split, plus the class histogram); SLT runs are also exported as tickets (`studiogan-slt export`).
Finally `studiogan-slt compare` and `plot` run over all runs and docs/results.md is written from their output.

    python benchmarks/reproduce_digits.py --out runs/repro            # the full study (about 90 min on 2 cores)
    python benchmarks/reproduce_digits.py --out /tmp/smoke --smoke    # every command once, tiny budgets

The plan (recipe and runs) is digits_plan.py, the commands digits_study.py, the statistics and prose of results.md
digits_results.py. Runs whose result file exists are not run again, so an interrupted study resumes where it stopped. Needs a
StudioGAN checkout (STUDIOGAN_ROOT, --studiogan-root or `studiogan-slt studiogan fetch`).
"""
import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from digits_plan import CONTROL_STEPS, LONGER, plan
from digits_results import summarize
from digits_study import Study

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="work folder (data, extractor, one -save folder per run)")
    p.add_argument("--steps", type=int, default=800, help="training steps of every moment-matching run")
    p.add_argument("--adversarial-steps", type=int, default=800, help="training steps of the two DCGAN runs")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--longer", type=int, default=0, help="also search one k = 0.1 ticket for this many steps: how "
                                                         "many more steps parity takes (adds its run time)")
    p.add_argument("--jobs", type=int, default=2, help="runs at a time (each single-threaded)")
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
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    study = Study(out, ["--studiogan-root", args.studiogan_root] if args.studiogan_root else [], threads=1)
    data, extractor = study.prepare()
    specs = plan(args.steps, args.seeds, extractor, args.adversarial_steps, args.longer, control_steps)
    # Longest runs first, so the two lanes finish together.
    order = sorted(specs, key=lambda s: -s.yaml["OPTIMIZATION"]["total_steps"] * (5 if "ADV" in s.name else 1))
    with ThreadPoolExecutor(args.jobs) as pool:
        for done in as_completed([pool.submit(study.run, s, data) for s in order]):
            spec = done.result()
            print(f"[{(time.time() - start) / 60:5.1f} min] done {spec.name}", flush=True)
    docs = out / "docs" if args.smoke else Path(args.docs)
    docs.mkdir(parents=True, exist_ok=True)
    runs = [str(out / "runs" / s.name) for s in specs]
    compare_rows = json.loads(study.command(["compare", "--json", *runs], out / "summary.log", capture=True))
    # The figure compares equal budgets: the longer search would be averaged into the k = 0.1 point.
    equal = [str(out / "runs" / s.name) for s in specs if s.group != LONGER]
    study.command(["plot", *equal, "--metric", "digits_FID", "-o", docs / "fid_vs_k.png", "--csv",
                   docs / "fid_vs_k.csv", "--title", "digits, 32x32: FID against kept fraction k", "--log-y"],
                  out / "summary.log")
    text = summarize(out, specs, compare_rows, sys.argv[1:] if argv is None else argv)
    (docs / "results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
