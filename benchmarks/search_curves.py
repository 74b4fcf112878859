"""The evidence of the moment-matching question (issue 15): FID against step (budget), the k = 0.1 gap against
generator width (over-parameterisation), for the SLT search and the dense generator trained with the same loss, and
the lever ablation (each search lever on, paired by seed with the plain search of the same width and budget).

Every run is an ordinary point of `studiogan-slt sweep` (public CLI; the recipe of the reproduction, digits_plan.py)
with `SLT.digits_metric: fid_train`: at every save (every --every steps) the run scores itself on the digits metrics
(train-split FID on 1,501 images, KID, valid-split FID, class coverage) into statistics/<run>/digits_metric.csv and
keeps its best checkpoint by the train-split FID. So one run gives its whole curve, and the best-checkpoint
comparison the paper makes falls out of the same file.

    python benchmarks/search_curves.py run --out runs/curves --widths 16 --steps 3200 --seeds 0   # resumable
    python benchmarks/search_curves.py run --out runs/curves --widths 8 16 32 --steps 800 --seeds 0 1
    python benchmarks/search_curves.py run --out runs/curves --widths 16 --steps 800 --seeds 0 1 --levers all
    python benchmarks/search_curves.py report --out runs/curves --docs docs                       # md + figures

The fair dense arm of issue 25 (resnet_fair.py reads it; resumable, each process on its own folders): seed 2
brackets dense's lr at every width and the score lr at width 8, beside the width-aware search (lever score_init,
width-diagnosis.md); then the verdict pairs on the other seeds: the plain search, its dense reference (lr 0.002, the
arm seed 2 chose at width 32) and dense at 0.008 (the arm seed 2 chose at widths 8 and 16). Their plain points kept
before the held-out metrics existed had to be deleted from the data folder first (done for seeds 0 and 1):

    python benchmarks/search_curves.py run --out runs/curves --widths 8 16 32 --steps 800 --seeds 2 \
        --levers score_init
    python benchmarks/search_curves.py run --out runs/curves --widths 8 --steps 800 --seeds 2 \
        --no-plain --dense-lrs 0.0005 0.008 0.032           # 16: 0.008 0.032; 32: 0.0005 0.008
    python benchmarks/search_curves.py run --out runs/curves --widths 8 --steps 800 --seeds 2 --no-plain \
        --levers lr0.0075 lr0.12 score_init+lr0.0075 score_init+lr0.12
    python benchmarks/search_curves.py run --out runs/curves --widths 8 16 --steps 800 --seeds 0 1 3 4 \
        --no-plain --dense-lrs 0.008                        # beside: --widths 8 16 32 --seeds 0 1 3 4 (the plain pair)
    python benchmarks/search_curves.py report --out runs/curves --docs docs
    python benchmarks/mm_verdict.py

`run` is resumable (sweep skips finished points, and continues a point cut off half way from its checkpoint,
exactly: README "Safety"), and the curve of every finished point is kept in docs/search-curves-data/ (committed;
study_cli.py), which `run` skips and `report` reads: a study spreads over several sittings and checkouts. Each
point is single-threaded.
"""
from pathlib import Path

import yaml

from digits_plan import DATA, DENSE_LR, GENERATOR, MOMENTS, PRE, SLT_LR, SLT_RECIPE
from resnet_fair import DENSE_LR_LEVER, FOLDER, POINT, arms as fair_arms, evaluators, lines as fair_lines
from search_levers import COMBINE, LEVERS, lever_changes
from study_cli import archive, cli, digits_inputs, points as kept_points, save_figure, seeds_to_run, study_main, \
    wall_time_lines
from study_rules import TARGET_SEEDS, best as _best, finished, floor_lines, gap, held_out, ratio_text, seeds_text
from studiogan_slt import atomic
from studiogan_slt.metrics import digits_eval, digits_metrics
from studiogan_slt.metrics.digits_eval import DEFAULT_NETWORK, NETWORKS

METRIC = "fid_train"


def network_tag(network):
    """What names a run folder, page and figure of an evaluation network but the default: no table mixes the numbers
    of two networks."""
    return "" if network == DEFAULT_NETWORK else f"-on-{network}"


def folder_name(width, steps, network=DEFAULT_NETWORK, lever=None):
    """A run folder: its points share width, budget, evaluation network and lever (none: the plain search and its
    dense reference)."""
    return f"w{width}-{steps}steps{network_tag(network)}" + (f"-{lever}" if lever else "")


def _cfg(width, steps, lr, slt, network, name=None):
    cfg = {"DATA": dict(DATA), "PRE": dict(PRE), "MODEL": dict(GENERATOR, g_conv_dim=width, d_conv_dim=width),
           "OPTIMIZATION": {"batch_size": 64, "g_lr": lr, "beta1": 0.5, "beta2": 0.999, "total_steps": steps},
           "SLT": {**slt, "digits_metric": METRIC, "digits_network": network}}
    for section, values in (lever_changes(name, steps)[1] if name else {}).items():
        for key, value in values.items():  # a lever's {"moments": {...}} changes moments, it does not replace them
            cfg[section][key] = {**cfg[section][key], **value} if isinstance(value, dict) and key in cfg[section] \
                else value
    return cfg


def run(a):
    out, data, extractor = digits_inputs(a.out)
    moments = {**MOMENTS, "extractors": [{"network": "studiogan_slt.metrics.digits_net:digits_cnn",
                                          "weights": str(extractor)}], "cache_dir": str(out / "moments")}
    levers = list(LEVERS) if a.levers == ["all"] else a.levers
    unknown = sorted({part for name in levers for part in name.split(COMBINE)} - set(LEVERS))
    if unknown:
        raise SystemExit(f"unknown lever {unknown[0]!r}; known: {', '.join(LEVERS)} (or all; {COMBINE} joins several)")
    slt_section = {"k": 0.1, "train_mode": "moment_matching", **SLT_RECIPE, "moments": moments}
    flags = ["-data", data, "--jobs", a.jobs, "-metrics", "none",
             "--num_workers", 1, "--print_freq", min(50, a.every), "--save_freq", a.every]
    dense_section = {"train_mode": "dense_moment_matching", "moments": moments}
    bracket = {f"{DENSE_LR_LEVER}{lr:g}": lr for lr in a.dense_lrs}  # issue 25's fair dense arm: dense alone
    for width in a.widths:
        # the plain search and its dense reference first (every lever is paired with them), then the levers, then
        # dense alone at each other lr of its bracket
        for lever in ([] if a.no_plain else [None]) + levers + list(bracket):
            folder = out / folder_name(width, a.steps, a.network, lever)
            seeds = seeds_to_run(a.data, folder.name, a.seeds, 1 if lever else 2)  # lever folders: one arm
            if not seeds:
                print(f"{folder.name}: seeds {' '.join(map(str, a.seeds))} kept in {a.data}", flush=True)
                continue
            folder.mkdir(exist_ok=True)
            arms = []
            if lever not in bracket:
                slt = folder / "MM-SLT.yaml"
                slt.write_text(yaml.safe_dump(_cfg(width, a.steps, SLT_LR, slt_section, a.network, lever)))
                arms = ["-cfg", slt, "--k", 0.1]
            if lever is None or lever in bracket:
                dense = folder / "MM-dense.yaml"
                dense.write_text(yaml.safe_dump(_cfg(width, a.steps, bracket.get(lever, DENSE_LR), dense_section,
                                                     a.network)))
                arms += ([] if arms else ["-cfg", dense]) + ["--dense", "--dense-cfg", dense]
            cli(["sweep", *arms, "-save", folder / "points", "--seeds", *seeds, *flags])
            archive(out, a.data)


def _curves(kept, levers=False, network=DEFAULT_NETWORK):
    """{(width, steps): {(arm, seed): [rows]}} of study_cli.points scored by `network`: the plain arms, or with
    `levers` the lever arms (arm = lever name)."""
    found = {}
    for (folder, point), (rows, _) in kept.items():
        m = FOLDER.fullmatch(folder)
        if not m or (m.group(3) or DEFAULT_NETWORK) != network or bool(m.group(4)) != levers \
                or (m.group(4) or "").startswith(DENSE_LR_LEVER):  # the dense bracket: resnet_fair.py reads it
            continue
        p = POINT.search(point)
        arm = m.group(4) or ("dense" if p.group(1) == "dense" else f"SLT {p.group(1)}")
        found.setdefault((int(m.group(1)), int(m.group(2))), {})[(arm, int(p.group(2)))] = rows
    return found


def _first_step_at_or_below(rows, value):
    return next((r["step"] for r in rows if r["value"] <= value), None)


def report(a):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    docs = Path(a.docs)
    floors = digits_metrics.floors(digits_eval.load_eval_net(name=a.network))
    tag = network_tag(a.network)
    lines = ["# Search curves: SLT (k = 0.1) and dense moment matching against step and width", "",
             "Generated by `python benchmarks/search_curves.py report --out runs/curves"
             + ("" if a.network == DEFAULT_NETWORK else f" --network {a.network}") + "` from the points of "
             "`search_curves.py run` (see its docstring) kept in docs/search-curves-data/; every number below is read "
             "from the points' `digits_metric.csv` (train-split FID on 1,501 generated images, scored at every save "
             f"by the `{a.network}` evaluation network). A run still in "
             "progress shows the last step it scored as `step/total`; its numbers are not a result yet.", ""]
    lines += floor_lines(floors)
    lines += ["", "| width | steps | arm | seed | best train-split FID (step) | last | KID at best | held-out KID at "
              "best | memorisation ratio at best | classes at best | steps to reach dense's best | dense's first step "
              "at or below this best (step ratio) |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    figures = []
    kept = kept_points(a.out, a.data)
    plain = _curves(kept, network=a.network)
    for (width, steps), points in sorted(plain.items()):
        fig, ax = plt.subplots(figsize=(6, 4))
        dense_rows = {seed: rows for (arm, seed), rows in points.items() if arm == "dense"}
        dense_best = {seed: min(r["value"] for r in rows) for seed, rows in dense_rows.items()}
        for (arm, seed), rows in sorted(points.items()):
            best = min(rows, key=lambda r: r["value"])
            reach = _first_step_at_or_below(rows, dense_best[seed]) if seed in dense_best else None
            # the budget ratio the other way round: how much sooner dense got as good as this arm's best
            dense_at = _first_step_at_or_below(dense_rows[seed], best["value"]) if seed in dense_rows else None
            sooner = "-" if arm == "dense" or dense_at is None else f"{dense_at} ({best['step'] / dense_at:.2f})"
            unseen = f"{held_out([best], 'kid_valid', '.4f')} | {held_out([best], 'memorisation', '.2f')}"
            lines.append(f"| {width} | {rows[-1]['step']}/{steps} | {arm} | {seed} | {best['value']:.1f} "
                         f"({best['step']}) | {rows[-1]['value']:.1f} | {best['kid']:.4f} | {unseen} | "
                         f"{best['classes']} | {reach if reach is not None else 'not reached'} | {sooner} |")
            ax.plot([r["step"] for r in rows], [r["value"] for r in rows], marker=".", label=f"{arm}, seed {seed}")
        ax.axhline(floors["fid_train"][0]["value"], color="grey", linestyle=":", label="real vs real (valid split)")
        ax.set(xlabel="step", ylabel="train-split FID (digits)", yscale="log",
               title=f"digits, g_conv_dim {width}: moment matching, FID against step")
        ax.legend(fontsize=7)
        figure = docs / f"search-curve-w{width}-{steps}steps{tag}.png"
        save_figure(fig, figure)
        figures.append(f"![FID against step, width {width}]({figure.name})")
    lines += _width_gap(plain, floors, docs / f"search-gap-vs-width{tag}.png", figures, plt)
    lines += _lever_table(_curves(kept, levers=True, network=a.network), plain)
    found = fair_arms(kept, a.network)
    lines += fair_lines(found, floors)
    checked = evaluators(a.data, found) if a.network == DEFAULT_NETWORK else []
    if checked:
        lines += ["", "## The fair pairing under every evaluation network (issue 25 item 7)", "", *checked]
    lines += wall_time_lines(kept)
    text = "\n".join([*lines, "", *figures]) + "\n"
    atomic.write_text(docs / f"search-curves{tag}.md", text)
    print(text)


def finished_pairs(points, steps):
    """{seed: (SLT rows, dense rows)} of one (width, budget) of `_curves`, both arms finished."""
    return {seed: (rows, points[("dense", seed)]) for (arm, seed), rows in sorted(points.items())
            if arm != "dense" and ("dense", seed) in points and finished(rows, steps)
            and finished(points[("dense", seed)], steps)}


def _width_gap(plain, floors, figure, figures, plt):
    """The over-parameterisation curve: per budget, the SLT/dense ratio of the best train-split FID and the KID
    difference against width, paired by seed (finished points only); the KID ratio above its floor in `floors`."""
    lines = ["", "## The k = 0.1 gap against width (finished points, paired by seed)", "",
             "| steps | width | seeds | SLT best FID | dense best FID | SLT / dense FID | SLT - dense KID | "
             "SLT / dense KID (means, above the floor) | within 10% on both (issue 15's target) |",
             "|---|---|---|---|---|---|---|---|---|"]
    curves = {}
    for (width, steps), points in sorted(plain.items(), key=lambda item: (item[0][1], item[0][0])):
        pairs = [(_best(slt), _best(dense)) for slt, dense in finished_pairs(points, steps).values()]
        if not pairs:
            continue
        ratios, kid_ratio, within = gap(pairs, floors["kid"][0]["value"])
        curves.setdefault(steps, []).append((width, ratios))
        lines.append(f"| {steps} | {width} | {len(pairs)} | {seeds_text([s['value'] for s, _ in pairs])} | "
                     f"{seeds_text([d['value'] for _, d in pairs])} | {seeds_text(ratios)} | "
                     f"{seeds_text([s['kid'] - d['kid'] for s, d in pairs])} | {ratio_text(kid_ratio)} | "
                     f"{'yes' if within else 'no'}"
                     f"{'' if len(pairs) >= TARGET_SEEDS else f' ({len(pairs)} of {TARGET_SEEDS} seeds)'} |")
    if any(len(points) > 1 for points in curves.values()):
        fig, ax = plt.subplots(figsize=(5, 3.5))
        for steps, points in sorted(curves.items()):
            for width, ratios in points:
                ax.scatter([width] * len(ratios), ratios, color="grey", s=10)
            ax.plot([w for w, _ in points], [sum(r) / len(r) for _, r in points], marker="o", label=f"{steps} steps")
        ax.axhline(1.1, color="green", linestyle=":", label="target: within 10% of dense")
        ax.set(xlabel="g_conv_dim (generator width)", ylabel="SLT k=0.1 / dense best train-split FID", xscale="log",
               title="digits, moment matching: the gap against width")
        ax.legend(fontsize=7)
        save_figure(fig, figure)
        figures.append(f"![the k = 0.1 gap against width]({figure.name})")
    return lines


def _lever_table(levers, plain):
    """The ablation: each lever's (`_curves` of its arms) best train-split FID and KID against the plain search of
    the same width, budget and seed (paired differences; negative is better)."""
    if not levers:
        return []
    lines = ["", "## Lever ablation (each lever on, paired by seed with the plain search; negative is better)", "",
             "| width | steps | lever | what | seed | best FID (step) | last | KID at best | held-out KID at best | "
             "memorisation ratio at best | classes | FID - plain | KID - plain | FID / dense |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    summary = []
    for (width, steps), points in sorted(levers.items()):
        base = plain.get((width, steps), {})
        for lever in sorted({arm for arm, _ in points}):
            fid_diffs, kid_diffs, dense_ratios, dense_kid = [], [], [], []
            for (arm, seed), rows in sorted(points.items()):
                if arm != lever:
                    continue
                best = _best(rows)
                ref = base.get(("SLT k0.1", seed))
                dense = base.get(("dense", seed))
                paired = ref is not None and finished(ref, steps) and finished(rows, steps)
                if paired:
                    fid_diffs.append(best["value"] - _best(ref)["value"])
                    kid_diffs.append(best["kid"] - _best(ref)["kid"])
                if dense is not None and finished(dense, steps) and finished(rows, steps):
                    dense_ratios.append(best["value"] / _best(dense)["value"])
                    dense_kid.append(best["kid"] - _best(dense)["kid"])
                what = lever_changes(arm, steps)[0]
                lines.append(f"| {width} | {rows[-1]['step']}/{steps} | {lever} | {what} | {seed} | "
                             f"{best['value']:.1f} ({best['step']}) | {rows[-1]['value']:.1f} | {best['kid']:.4f} | "
                             f"{held_out([best], 'kid_valid', '.4f')} | {held_out([best], 'memorisation', '.2f')} | "
                             f"{best['classes']} | "
                             + (f"{fid_diffs[-1]:+.1f} | {kid_diffs[-1]:+.4f} |" if paired else "- | - |")
                             + (f" {best['value'] / _best(dense)['value']:.2f} |" if dense else " - |"))
            if fid_diffs or dense_ratios:
                summary.append(f"| {width} | {steps} | {lever} | {seeds_text(fid_diffs) if fid_diffs else '-'} | "
                               f"{seeds_text(kid_diffs) if kid_diffs else '-'} | "
                               f"{seeds_text(dense_ratios) if dense_ratios else '-'} | "
                               f"{seeds_text(dense_kid) if dense_kid else '-'} |")
    lines += ["", "Paired differences, mean ± std over seeds (the target of issue 15: lever / dense FID at most 1.1, "
              "and KID as close, over 5 seeds):", "",
              "| width | steps | lever | FID - plain | KID - plain | FID / dense | KID - dense |",
              "|---|---|---|---|---|---|---|", *summary]
    return lines


def _arguments(r):
    r.add_argument("--widths", type=int, nargs="+", default=[16], help="g_conv_dim of the generator")
    r.add_argument("--jobs", type=int, default=2, help="points at a time (each single-threaded)")
    r.add_argument("--levers", nargs="+", default=[], help=f"also the SLT search with each of: {', '.join(LEVERS)} "
                                                           "(or all), one at a time")
    r.add_argument("--no-plain", action="store_true", help="not the plain search and its dense reference (e.g. a "
                                                           "second process running other arms beside the first)")
    r.add_argument("--dense-lrs", type=float, nargs="+", default=[],
                   help=f"also dense alone at each of these lrs (the bracket of the fair dense arm; {DENSE_LR:g} is "
                        "the plain folder's)")
    _network(r)


def _network(command):
    command.add_argument("--network", default=DEFAULT_NETWORK, choices=sorted(NETWORKS),
                         help="the digits evaluation network that scores every save (SLT.digits_network); another "
                              "than the default gets its own run folders, page and figures")


if __name__ == "__main__":
    study_main(__file__, __doc__, run, report, 3200, 200, _arguments, _network)
