"""Issue 15's verdict, the block `mm-gap` of docs/results.md: is the k = 0.1 moment-matching ticket within 10% of
the dense generator trained with the same loss (same generator, budget and metric, 5 seeds each), on train-split
FID and on KID?

No run of its own: it reads the points the two studies keep under docs/ (study_cli.py), StudioGAN's resnet G at
g_conv_dim 8-32 from search_curves.py (plain search against dense, and the levers) and StudioGAN's DCGAN from
adversarial_study.py (variant mm, and mm with a lever: mm-*, against dense-mm and each lr of its bracket), and
draws docs/mm-gap-dcgan.png.

    python benchmarks/mm_verdict.py            # after search_curves.py report and adversarial_study.py report

Each arm's score is its best save by train-split FID (the best checkpoint a search keeps) and the KID of that save.
"""
import argparse
import re
from itertools import product
from pathlib import Path
from typing import NamedTuple

import adversarial_variants
import results_verdict
import search_curves
from study_cli import points, save_figure, splice
from study_rules import MEMORISATION_FLAG, TARGET, TARGET_SEEDS as SEEDS, best as _best, direction, floor_lines, \
    fmt_mean_std as _fmt, gap, held_out, last, mean_above, mean_std as _stats, ratio, ratio_text, t_interval
from studiogan_slt import atomic
from studiogan_slt.metrics import digits_eval, digits_metrics

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
DCGAN_SLT, DCGAN_DENSE = "mm", "dense-mm"
FIGURE = "mm-gap-dcgan.png"


class Verdict(NamedTuple):
    """One row of the verdict table as the verdict sentences and results_verdict.block read it."""
    generator: str
    steps: int
    within: bool  # within TARGET on both metrics
    enough: bool  # on at least SEEDS seeds
    ratio: float  # mean of the per-seed train-split FID ratios
    interval: str  # its 95% interval, "-" for one seed
    dense_mean: float  # the dense arm's mean best train-split FID
    kid_ratio: float  # ratio of the mean KIDs above the floor, None where dense is at or below it
    pairing: tuple  # a DCGAN row's (ticket's generator, dense variant), None for the resnet (mm_verdict.main)


def _minutes(records):
    """The summed train minutes, or None where a point's record has none (kept before sweeps timed their steps)."""
    timed = [r["seconds"]["train"] for r in records if r and "train" in r["seconds"]]
    return sum(timed) / 60 if timed and len(timed) == len(records) else None


def _resnet(kept):
    """[(generator, steps, {seed: (SLT rows, dense rows)}, train minutes, None)] of search_curves' finished points: the
    plain search, then each lever, both against the dense run of the same width, budget and seed. None: no
    (ticket, dense arm) pairing, which only the DCGAN rows have (one ticket against several dense arms)."""
    groups = []
    plain = search_curves._curves(kept)
    for (width, steps), arms in sorted(plain.items(), key=lambda i: (i[0][1], i[0][0])):
        pairs = search_curves.finished_pairs(arms, steps)
        records = [record for (folder, _), (_, record) in kept.items()
                   if folder == search_curves.folder_name(width, steps)]
        if pairs:
            groups.append((f"resnet, g_conv_dim {width}", steps, pairs, _minutes(records), None))
    for (width, steps), arms in sorted(search_curves._curves(kept, levers=True).items()):
        dense = {key: rows for key, rows in plain.get((width, steps), {}).items() if key[0] == "dense"}
        for lever in sorted({arm for arm, _ in arms}):
            pairs = search_curves.finished_pairs(
                {**dense, **{key: rows for key, rows in arms.items() if key[0] == lever}}, steps)
            records = [record for (folder, point), (_, record) in kept.items()
                       if folder == search_curves.folder_name(width, steps, lever=lever)
                       or (folder == search_curves.folder_name(width, steps)
                           and point.endswith(tuple(f"-dense-s{s}" for s in pairs)))]
            if pairs:
                groups.append((f"resnet, g_conv_dim {width}, lever {lever}", steps, pairs, _minutes(records), None))
    return groups


def _dcgan(kept):
    """{variant: {steps: {seed: rows}}} of adversarial_study's finished mm and dense-mm points, the same for the
    lr bracket (dense-mm-lr*)."""
    found = {}
    for (folder, point), (rows, record) in kept.items():
        m = adversarial_variants.VARIANT_FOLDER.fullmatch(folder)
        if m and m.group(1).startswith((DCGAN_SLT, DCGAN_DENSE)) and record is not None:
            seed = int(re.search(r"-s(\d+)$", point).group(1))
            found.setdefault(m.group(1), {}).setdefault(int(m.group(2)), {})[seed] = (rows, record)
    return found


def _row(generator, steps, pairs, minutes, floors, pairing):
    """(one line of the verdict table, its Verdict), KID ratios taken above the `floors` of the studies' network."""
    seeds = sorted(pairs)
    slt = [_best(pairs[s][0]) for s in seeds]
    dense = [_best(pairs[s][1]) for s in seeds]
    ratios, kid_ratio, within = gap(list(zip(slt, dense)), floors["kid"][0]["value"])
    diffs = ", ".join(f"{s['value'] - d['value']:+.1f}" for s, d in zip(slt, dense))
    mean = _stats(ratios)[0]
    bounds = t_interval(ratios)
    interval = "-" if bounds is None else f"{bounds[0]:.2f}-{bounds[1]:.2f}"
    verdict = ("yes" if within else "no") + ("" if len(seeds) >= SEEDS else f" ({len(seeds)} of {SEEDS} seeds)")
    # the last save beside the best: picking the best save by the reported metric flatters both arms (issue 25)
    lasts = [(last(pairs[s][0]), last(pairs[s][1])) for s in seeds]
    scored = [(s["kid_valid"], d["kid_valid"]) for s, d in lasts if None not in (s.get("kid_valid"), d.get("kid_valid"))]
    last_kid = "-" if not scored else ratio_text(mean_above(scored, floors["kid_valid"][0]["value"])) + (
        "" if len(scored) == len(seeds) else f" ({len(scored)} of {len(seeds)} seeds)")
    line = (f"| {generator} | {steps} | {len(seeds)} | {_fmt([s['value'] for s in slt], '.1f')} | "
            f"{_fmt([d['value'] for d in dense], '.1f')} | {_fmt(ratios, '.2f')} | {interval} | "
            f"{diffs} | "
            f"{_fmt([s['kid'] for s in slt], '.4f')} | {_fmt([d['kid'] for d in dense], '.4f')} | "
            f"{ratio_text(kid_ratio)} | "
            f"{held_out(slt, 'kid_valid', '.4f')} | {held_out(dense, 'kid_valid', '.4f')} | "
            f"{held_out(slt, 'memorisation', '.2f')} | {held_out(dense, 'memorisation', '.2f')} | "
            f"{_fmt([s['value'] / d['value'] for s, d in lasts], '.2f')} | {last_kid} | "
            f"**{verdict}** | {'-' if minutes is None else f'{minutes:.0f}'} |")
    return line, Verdict(generator, steps, within, len(seeds) >= SEEDS, mean, interval,
                         _stats([d["value"] for d in dense])[0], kid_ratio, pairing)


def _dcgan_figure(dcgan, floor, plt):
    """FID against step of each DCGAN point: colour the arm, line style the budget, one line per seed."""
    fig, ax = plt.subplots(figsize=(6, 4))
    budgets = sorted({steps for variant in (DCGAN_SLT, DCGAN_DENSE) for steps in dcgan.get(variant, {})})
    for variant, colour, arm in ((DCGAN_SLT, "C0", "SLT k0.1"), (DCGAN_DENSE, "C1", "dense")):
        for steps, seeds in sorted(dcgan.get(variant, {}).items()):
            style = ["-", "--", ":", "-."][budgets.index(steps) % 4]
            for i, (seed, (rows, _)) in enumerate(sorted(seeds.items())):
                ax.plot([r["step"] for r in rows], [r["value"] for r in rows], style, color=colour, marker=".",
                        alpha=0.7, label=f"{arm}, {steps} steps ({len(seeds)} seeds)" if i == 0 else None)
    ax.axhline(floor, color="grey", linestyle=":", label="real vs real (valid split)")
    ax.set(xlabel="step", ylabel="train-split FID (digits)", yscale="log",
           title="digits, StudioGAN DCGAN: moment matching, FID against step")
    ax.legend(fontsize=7)
    save_figure(fig, DOCS / FIGURE)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--docs", default=str(DOCS))
    a = p.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    floors = digits_metrics.floors(digits_eval.load_eval_net())
    curves = points(None, results_verdict.CURVES_DATA)
    dcgan = _dcgan(points(None, results_verdict.ADVERSARIAL_DATA))
    groups = _resnet(curves)
    # each SLT variant (mm, and mm with a lever: mm-*) against each dense arm (dense-mm and each lr of its bracket)
    for ticket, reference in product([DCGAN_SLT] + sorted(v for v in dcgan if v.startswith(DCGAN_SLT + "-")),
                                     [DCGAN_DENSE] + sorted(v for v in dcgan if v.startswith(DCGAN_DENSE + "-lr"))):
        for steps, seeds in sorted(dcgan.get(ticket, {}).items()):
            dense = dcgan.get(reference, {}).get(steps, {})
            pairs = {seed: (seeds[seed][0], dense[seed][0]) for seed in seeds if seed in dense}
            if pairs:
                minutes = _minutes([r for s in pairs for r in (seeds[s][1], dense[s][1])])
                generator = f"StudioGAN DCGAN (deep_conv), {ticket}"
                groups.append((f"{generator} against {reference}", steps, pairs, minutes, (generator, reference)))
    lines = ["## Issue 15: the k = 0.1 moment-matching ticket against the dense generator trained with the same loss",
             "", "Written by `python benchmarks/mm_verdict.py` from the points that `benchmarks/search_curves.py` and "
             "`benchmarks/adversarial_study.py` keep ([search-curves.md](search-curves.md), "
             "[adversarial-study.md](adversarial-study.md): every run, curve and command). Each arm's score is its "
             "best save by train-split FID (1,501 generated images against the 1,501-image train split) and the KID "
             "of that save; the last save of each arm is beside it. Same generator, budget and metric for both "
             "arms; the ratios are paired by seed. Target: SLT / dense at most "
             f"{TARGET} on both FID (mean of the per-seed ratios) and KID (ratio of the means); a KID ratio is taken "
             f"above its real-vs-real floor (below): (SLT - floor) / (dense - floor). Over {SEEDS} seeds.", "",
             *floor_lines(floors), "",
             "| generator | steps | seeds | SLT FID | dense FID | SLT / dense FID | its 95% interval (t, over seeds) | "
             "SLT - dense FID, per seed | SLT KID | dense KID | SLT / dense KID above the floor | SLT held-out KID | "
             "dense held-out KID | SLT memorisation ratio | dense memorisation ratio | last save: SLT / dense FID | "
             "last save: SLT / dense held-out KID above the floor | within 10% on both | train minutes (both arms) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    verdicts = []
    for generator, steps, pairs, minutes, pairing in groups:
        line, verdict = _row(generator, steps, pairs, minutes, floors, pairing)
        lines.append(line)
        verdicts.append(verdict)
    lines += _memorisation_lines(groups)
    lines += ["", "DCGAN arms (adversarial_study.py's variants): "
              + "; ".join(f"`{v}`: {adversarial_variants.VARIANTS[v][0]}" for v in sorted(dcgan)) + "."]
    lines += ["", "### Verdict", "", *_verdict_lines(verdicts), *_bracket_lines(dcgan, floors)]
    _dcgan_figure(dcgan, floors["fid_train"][0]["value"], plt)
    lines += ["", f"![the DCGAN search and its dense reference against step]({FIGURE})", "",
              "(regenerated by `python benchmarks/mm_verdict.py`)", "",
              "![the k = 0.1 gap against width (resnet)](search-gap-vs-width.png)",
              "![FID against step, resnet width 16, 3200 steps](search-curve-w16-3200steps.png)", "",
              "(regenerated by `python benchmarks/search_curves.py report --out runs/curves`)"]
    results = Path(a.docs) / "results.md"
    text = splice(results.read_text(), "mm-gap", "\n".join(lines))
    atomic.write_text(results, splice(text, "verdict", results_verdict.block(groups, verdicts, curves)))
    print("\n".join(lines))


def _memorisation_lines(groups):
    """A sentence for every arm whose best saves lie closer to the training digits than unseen digits do."""
    lines = []
    for generator, steps, pairs, *_ in groups:
        for arm, index in (("SLT", 0), ("dense", 1)):
            values = [_best(pair[index]).get("memorisation") for pair in pairs.values()]
            if values and None not in values and _stats(values)[0] < MEMORISATION_FLAG:
                lines.append(f"- {generator}, {steps} steps: the {arm} arm's memorisation ratio is "
                             f"{_fmt(values, '.2f')}, below {MEMORISATION_FLAG}: its best saves lie closer to the "
                             "training digits than unseen digits do, and its train-split FID flatters it.")
    return ["", *lines] if lines else []


def _verdict_lines(verdicts):
    def listed(pick):
        return [f"{v.generator}, {v.steps} steps (mean FID ratio {v.ratio:.2f}, 95% interval {v.interval})"
                for v in verdicts if v.enough and v.within is pick]

    met, missed = listed(True), listed(False)
    lines = [f"- **Target met** ({SEEDS} seeds, both metrics) at: {'; '.join(met)}." if met else
             f"- **Target not met** at any generator and budget with {SEEDS} seeds on both metrics."]
    if met and missed:
        lines.append(f"- **Target not met** ({SEEDS} seeds) at: {'; '.join(missed)}.")
    # a ticket at par with a dense arm means little if another lr trains that dense arm better: one rule picks it
    if any(v.pairing for v in verdicts):
        lines.append("- Each DCGAN ticket against its best dense arm (the lowest held-out KID at the last checkpoint): "
                     "the first screen, [today's verdict](#results-on-digits-todays-verdict).")
    for pick, word in ((True, "Within"), (False, "Not within")):
        short = [f"{v.generator}, {v.steps} steps" for v in verdicts if not v.enough and v.within is pick]
        if short:
            lines.append(f"- {word} 10% on both so far, on fewer than {SEEDS} seeds: {'; '.join(short)}.")
    by_steps = {}
    for v in verdicts:
        m = re.fullmatch(r"resnet, g_conv_dim (\d+)", v.generator)
        if m:
            by_steps.setdefault(v.steps, []).append((int(m.group(1)), v.ratio))
    for steps, curve in sorted(by_steps.items()):
        if len(curve) > 1:
            trend = direction([r for _, r in sorted(curve)])
            lines.append(f"- resnet, {steps} steps: SLT / dense FID against width "
                         f"{', '.join(f'{w}: {r:.2f}' for w, r in sorted(curve))}; the gap {trend} with width.")
    for g in sorted({v.generator for v in verdicts}):
        budget = sorted((v.steps, v.ratio) for v in verdicts if v.generator == g)
        if len(budget) > 1:
            trend = direction([r for _, r in budget])
            lines.append(f"- {g}: SLT / dense FID against budget {', '.join(f'{s} steps: {r:.2f}' for s, r in budget)}"
                         f"; the gap {trend} with the budget.")
    return lines


def _bracket_lines(dcgan, floors):
    """Whether dense-mm's lr handicaps it: each bracket lr's best FID against dense-mm's, same seed and budget."""
    lines = []
    for variant in sorted(v for v in dcgan if v.startswith(DCGAN_DENSE + "-lr")):
        for steps, seeds in sorted(dcgan[variant].items()):
            for seed, (rows, _) in sorted(seeds.items()):
                ref = dcgan.get(DCGAN_DENSE, {}).get(steps, {}).get(seed)
                ticket = dcgan.get(DCGAN_SLT, {}).get(steps, {}).get(seed)
                if ref and ticket:
                    dense, slt = _best(rows), _best(ticket[0])
                    kid = ratio("kid", slt["kid"], dense["kid"], floors)
                    lines.append(f"- DCGAN dense lr bracket, {steps} steps, seed {seed}: {variant} {dense['value']:.1f} "
                                 f"(KID {dense['kid']:.4f}) against {DCGAN_DENSE}'s {_best(ref[0])['value']:.1f}; the "
                                 f"ticket is {slt['value'] / dense['value']:.2f} of it on FID, {ratio_text(kid)} on "
                                 "KID above its floor.")
    return lines


if __name__ == "__main__":
    main()
