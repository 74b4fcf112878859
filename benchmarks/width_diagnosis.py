"""Why the resnet ticket's gap to dense grows with width (issue 25, item 3): per layer and width, how far each
optimiser step moves the generator in each arm.

For the moment-matching SLT search (k = 0.1) and the dense generator trained with the same loss, each with the
studies' recipe (digits_plan.py: the search's init, Adam 0.03 on the scores against Adam 2e-3 on the weights, cosine,
AMA), at g_conv_dim 8, 16 and 32, it records per layer (supermask.diagnostics.LayerMonitor) and per window of
--window steps: the relative change of the effective weight per step, and for the search the fraction of mask
entries that flip per 100 steps (summed, and net over the window), and once per point each layer's mean |score|
and the RMS of its effective weight at the start. The generator is search_recipe.py's plain-PyTorch mirror of
StudioGAN's resnet G (the loop of that study, no StudioGAN), so a point of 100 steps takes minutes, not hours.

    python benchmarks/width_diagnosis.py run --out runs/widthdiag              # resumable; widths 8 16 32, 100 steps
    python benchmarks/width_diagnosis.py run --out runs/widthdiag --widths 32 8 \
        --arms dense:lr=0.0005 slt:score-init=uniform slt:lr=0.01              # the levers, one at a time
    python benchmarks/width_diagnosis.py run --out runs/widthdiag --widths 8 16 32 --arms dense:lr=0.008  # the bracket
    python benchmarks/width_diagnosis.py run --out runs/widthdiag --widths 64
    # the verdict pairs over seeds: each width's dense arm chosen on seed 0, the two search levers (issue 25)
    for s in 1 2 3 4; do
      python benchmarks/width_diagnosis.py run --out runs/widthdiag --seed $s --widths 8 \
          --arms dense:lr=0.008 slt:lr=0.01 slt:score-init=uniform
      python benchmarks/width_diagnosis.py run --out runs/widthdiag --seed $s --widths 16 32 \
          --arms dense slt:lr=0.01 slt:score-init=uniform
    done
    python benchmarks/width_diagnosis.py run --out runs/widthdiag --steps 400 --widths 8 \
        --arms dense:lr=0.008 slt:score-init=uniform                          # the budget trend
    python benchmarks/width_diagnosis.py run --out runs/widthdiag --steps 400 --widths 32 \
        --arms dense slt:score-init=uniform
    python benchmarks/width_diagnosis.py run --out runs/widthdiag --arms slt:lr-fan-in-exp=0.38  # width-aware lr
    python benchmarks/width_diagnosis.py run --out runs/widthdiag --widths 8 \
        --arms slt:opt=sgd,lr=0.3 slt:opt=sgd,lr=3 slt:opt=sgd,lr=30          # SGD + momentum on the scores
    python benchmarks/width_diagnosis.py run --out runs/widthdiag --widths 32 --arms slt:opt=sgd,lr=3
    python benchmarks/width_diagnosis.py run --out runs/widthdiag --widths 8 32 --arms slt:batch=256  # less noise
    python benchmarks/width_diagnosis.py run --out runs/widthdiag \
        --arms slt:train-bn,bn-lr=0.002 dense:no-train-bn                     # BatchNorm frozen at init
    python benchmarks/width_diagnosis.py report                                # docs/width-diagnosis.md

`run` trains the points docs/width-diagnosis-data/ lacks, one after another, single-threaded, and writes each
finished point there as one JSON file (atomically); kill it at any time and run it again to go on.
"""
import argparse
import json
import os
import resource
import time
from pathlib import Path

import width_budget
import width_report
import width_seeds
import width_verdict
from studiogan_slt import atomic
from studiogan_slt.metrics import digits_metrics
from studiogan_slt.supermask.diagnostics import LayerMonitor, effective_weights
from studiogan_slt.ticket import LATENT_SEED

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "docs" / "width-diagnosis-data"
PAGE = ROOT / "docs" / "width-diagnosis.md"
ARMS = ("slt", "dense")


def _recipe(arm):
    """search_recipe.py's options of an arm: "slt" or "dense", the studies' recipe (digits_plan.py, not a copy of
    its values), or a variant "slt:lr=0.01,score-init=uniform" that changes search_recipe options of it."""
    from digits_plan import DENSE_LR, MOMENTS, SLT_LR, SLT_RECIPE

    base, _, changes = arm.partition(":")
    common = ["--opt", "adam", "--cosine", "--ama", "--ama-lr", str(MOMENTS["ama_lr"])]
    if base == "dense":
        options = ["--mode", "dense", "--lr", str(DENSE_LR), *common]
    elif base == "slt":
        options = ["--mode", "slt", "--k", "0.1", "--lr", str(SLT_LR), "--weight-init", SLT_RECIPE["weight_init"],
                   "--scaled" if SLT_RECIPE["scaled"] else "--no-scaled", "--score-init", SLT_RECIPE["score_init"],
                   "--mask-bias" if SLT_RECIPE["mask_bias"] else "--no-mask-bias", *common]
    else:
        raise SystemExit(f"{arm!r}: an arm is slt or dense, optionally with :option=value,... changes")
    for change in filter(None, changes.split(",")):
        key, _, value = change.partition("=")
        options += [f"--{key}", value] if value else [f"--{key}"]  # argparse: the last occurrence wins
    return options


def point_name(width, arm, steps, seed):
    return f"w{width}-{arm.replace(':', '+').replace('=', '').replace(',', '+')}-{steps}steps-s{seed}"


def _cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _start_state(gen):
    """{layer: {"score_abs", "weight_rms"}} of the generator as built: the scales the two arms start from."""
    import torch

    # loads torch: lazy, as study_cli's docstring says why
    from studiogan_slt.supermask.convert import masked_tensors

    scores = {mt.name: float(mt.supermask.scores.detach().abs().mean()) for mt in masked_tensors(gen)}
    with torch.no_grad():
        return {name: {"score_abs": scores.get(name), "weight_rms": float(w.pow(2).mean().sqrt())}
                for name, w in effective_weights(gen).items()}


def run_point(width, arm, steps, seed, window, workdir):
    import search_recipe  # loads torch: lazy, as study_cli's docstring says why

    a = search_recipe.parser().parse_args([*_recipe(arm), "--width", str(width), "--steps", str(steps),
                                           "--seed", str(seed), "--threads", "1", "--workdir", str(workdir)])
    rows, state, built = [], {}, []

    def watch(gen):
        built.append(gen)
        state.update(_start_state(gen))
        monitor, done = LayerMonitor(gen), [0]

        def after_step(g):
            monitor.step(g)
            done[0] += 1
            if done[0] % window == 0 or done[0] == steps:
                rows.extend(monitor.window(done[0]))
        return after_step

    cpu, wall = _cpu_seconds(), time.time()
    result = search_recipe.run(a, str(workdir), search_recipe.Evaluator(str(workdir)), watch=watch)
    return {"width": width, "arm": arm, "steps": steps, "seed": seed, "window": window,
            "options": _recipe(arm), "rows": rows, "start": state, "metrics": _metrics(built[0]),
            "moment_distance_drop": result["reduction"],
            "cpu_seconds": _cpu_seconds() - cpu, "wall_seconds": time.time() - wall}


def _metrics(gen):
    """The digits metrics (digits_metrics.score) of the generator at its last step, in eval mode as a ticket is
    sampled: train-split FID and KID, held-out KID, memorisation ratio."""
    import numpy as np
    import torch

    # loads torch: lazy, as study_cli's docstring says why
    from studiogan_slt.studiogan.loop.digits_selection import NUM_IMAGES
    from studiogan_slt.ticket.sample import to_uint8

    gen.eval()
    z = torch.randn(NUM_IMAGES, 128, generator=torch.Generator().manual_seed(LATENT_SEED))
    with torch.no_grad():
        images = np.concatenate([to_uint8(gen(batch)) for batch in z.split(256)])
    r = digits_metrics.score(images)
    return {key: r[key] for key in ("fid", "fid_train", "kid", "kid_valid", "memorisation", "classes_covered")}


def run(a):
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    Path(a.data).mkdir(parents=True, exist_ok=True)
    workdir = Path(a.out).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    for width in a.widths:
        for arm in a.arms:
            path = Path(a.data) / f"{point_name(width, arm, a.steps, a.seed)}.json"
            if path.is_file():
                print(f"{path.name}: kept", flush=True)
                continue
            print(f"{path.stem}: running", flush=True)
            record = run_point(width, arm, a.steps, a.seed, a.window, workdir)
            atomic.write_text(path, json.dumps(record, indent=1) + "\n")
            print(f"{path.stem}: done in {record['cpu_seconds'] / 60:.1f} CPU minutes, {record['metrics']}",
                  flush=True)


def write_page(data, page):
    """docs/width-diagnosis.md from the kept points."""
    points = width_report.load_points(data)
    if not points:
        raise SystemExit(f"{data}: no finished point yet (python benchmarks/width_diagnosis.py run --out ...)")
    chosen, floors = width_seeds.chosen(points), width_seeds.floors()
    lines = ["# Width diagnosis: how far each step moves the resnet generator, per layer and width", "",
             "Generated by `python benchmarks/width_diagnosis.py report` from the points of `width_diagnosis.py run` "
             "(see its docstring) kept in docs/width-diagnosis-data/. One point at a time, single-threaded, on 2 "
             "shared CPU cores; search_recipe.py's plain-PyTorch mirror of StudioGAN's resnet G with the studies' "
             "recipe (digits_plan.py). An arm `slt:lr=0.01` is the search with that search_recipe option changed. "
             f"The diagnosis proper is seed {width_seeds.CHOSEN_SEED} at {width_seeds.CHOSEN_STEPS} steps; the "
             f"verdict pairs it chose were run on more seeds and budgets. {width_seeds.KID_RATIO}", "",
             "## The verdict over seeds", "", *width_seeds.lines(points, floors), "", "### Budget", "",
             *width_budget.lines(points, floors), "",
             *width_verdict.page_lines(chosen, floors), *width_report.summary(points),
             *width_report.scaling([p for p in points if p["seed"] == width_seeds.CHOSEN_SEED]),
             *width_report.layers(chosen)]
    width_budget.figure(points, page.parent / width_budget.FIGURE, floors)
    atomic.write_text(page, "\n".join(lines).rstrip("\n") + "\n")
    print("\n".join(lines))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="train the points the data folder lacks (resumable)")
    r.add_argument("--out", required=True, help="work folder (extractor, evaluation network, statistics cache)")
    r.add_argument("--widths", type=int, nargs="+", default=[8, 16, 32])
    r.add_argument("--steps", type=int, default=100)
    r.add_argument("--window", type=int, default=25, help="steps per row of the per-layer numbers")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--arms", nargs="+", default=list(ARMS),
                   help="slt, dense, or a variant of either: slt:lr=0.01,score-init=uniform (search_recipe options)")
    rep = sub.add_parser("report", help=f"write {PAGE.relative_to(ROOT)} from the kept points")
    rep.add_argument("--page", default=str(PAGE))
    for command in (r, rep):
        command.add_argument("--data", default=str(DATA))
    a = p.parse_args(argv)
    if a.command == "run":
        run(a)
    else:
        write_page(Path(a.data), Path(a.page))


if __name__ == "__main__":
    main()
