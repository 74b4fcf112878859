"""The width diagnosis's verdict over seeds and budgets (issue 25), computed from its kept points: every search arm
run on more seeds than the one that chose the arms, paired by seed with the dense arm chosen on that seed, the
trend of their ratio with width given the seeds' spread, and the same search arms against dense with BatchNorm
frozen."""
from study_rules import TARGET, TARGET_SEEDS, fmt_mean_std, mean_std, ratio, t_interval
from studiogan_slt.metrics import digits_eval, digits_metrics
from width_report import fan_in, reach, slope
from width_verdict import arm_kind, best_pairs, memorisation_line

# The dense lr of each width and the search variants worth more seeds were chosen on these points alone, so a
# verdict on them is biased towards the arms that were lucky there: the other seeds are reported apart too.
CHOSEN_SEED, CHOSEN_STEPS = 0, 100
FROZEN_BN_DENSE = "dense:no-train-bn"  # dense with BatchNorm's affine frozen at init, as a ticket's is
METRICS = (("held-out KID", "kid_valid", ".4f"), ("train-split FID", "fid_train", ".1f"))
KID_RATIO = ("A held-out KID ratio is taken above the real-vs-real floor: (search - floor) / (dense - floor) "
             "(study_rules.above), \"-\" where dense is at or below the floor; an FID ratio is a plain ratio.")


def chosen(points):
    """The points that chose the arms (CHOSEN_SEED, CHOSEN_STEPS): the diagnosis proper."""
    return [p for p in points if p["seed"] == CHOSEN_SEED and p["steps"] == CHOSEN_STEPS]


def pair_ratio(pair, key, floors):
    """Search over dense on `key`: a KID above its real-vs-real floor (`floors`: digits_metrics.floors;
    study_rules.above, None where dense is at or below it), an FID plain."""
    return ratio(key, *(p["metrics"][key] for p in pair), floors)


def pairs(points, steps, dense=None):
    """{(search arm, width): {seed: (search point, dense point)}} at `steps`: every search arm (a ticket: no BatchNorm
    lever) against the dense arm `dense` ({width: arm}; by default the one of the lowest held-out KID at its width on
    the chosen points, width_verdict.best_pairs), of the same seed."""
    dense = dense or {w: d["arm"] for w, _, d in best_pairs(chosen(points))}
    index = {(p["arm"], p["width"], p["steps"], p["seed"]): p for p in points}
    found = {}
    for (arm, width, at, seed), p in sorted(index.items(), key=lambda item: item[0]):
        partner = index.get((dense.get(width), width, steps, seed))
        if arm_kind(p) == "slt" and at == steps and partner:
            found.setdefault((arm, width), {})[seed] = (p, partner)
    return found


def _seeded(points, dense=None):
    """pairs() at CHOSEN_STEPS of the search arms run on more than one seed (at any width), at every width."""
    found = pairs(points, CHOSEN_STEPS, dense)
    arms = {arm for (arm, _), by_seed in found.items() if len(by_seed) > 1}
    return {key: by_seed for key, by_seed in found.items() if key[0] in arms}


def cell(values, spec):
    values = [v for v in values if v is not None]
    return fmt_mean_std(values, spec) if values else "-"


def _others(by_seed):
    return [pair for seed, pair in sorted(by_seed.items()) if seed != CHOSEN_SEED]


def table_lines(seeded, floors, dense_label="chosen on seed 0"):
    lines = [f"| width | search arm | dense arm ({dense_label}) | seeds | search held-out KID | dense held-out KID | "
             "search / dense held-out KID above the floor, all seeds | seeds 1-4 | search train-split FID | dense "
             "train-split FID | search / dense train-split FID, all seeds | seeds 1-4 | search memorisation ratio | "
             "dense memorisation ratio |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for (arm, width), by_seed in sorted(seeded.items(), key=lambda item: (item[0][1], item[0][0])):
        every = list(by_seed.values())
        cells = []
        for _, key, spec in METRICS:
            cells += [cell([s["metrics"][key] for s, _ in every], spec),
                      cell([d["metrics"][key] for _, d in every], spec),
                      cell([pair_ratio(pair, key, floors) for pair in every], ".2f"),
                      cell([pair_ratio(pair, key, floors) for pair in _others(by_seed)], ".2f")]
        cells += [cell([pair[i]["metrics"]["memorisation"] for pair in every], ".2f") for i in (0, 1)]
        lines.append(f"| {width} | `{arm}` | `{every[0][1]['arm']}` | {', '.join(map(str, sorted(by_seed)))} | "
                     + " | ".join(cells) + " |")
    return lines


def _floor_line(floors):
    def value(name, i=0):
        f = floors[name][i]
        return f"{f['value']:.4g}" + ("" if f["std"] is None else f" ± {f['std']:.2g}") + f" ({f['sample']})"
    return (f"- Real-vs-real floors beside them (what a perfect generator scores, digits_metrics.floors): held-out "
            f"KID {value('kid_valid')}; train-split FID {value('fid_train')}, {value('fid_train', 1)}; memorisation "
            f"ratio {value('memorisation')}.")


def _fit(by_width, key, seeds, floors):
    """The slope of log(ratio) on log(fan_in) of each seed run at every width (a seed's own width law), and
    their mean with its 95% interval over those seeds: (slopes, mean, interval)."""
    slopes = []
    for seed in seeds:
        found = [(fan_in(by_seed[seed][0]), pair_ratio(by_seed[seed], key, floors)) for by_seed in by_width.values()
                 if seed in by_seed]
        if len(found) == len(by_width) > 1 and None not in [r for _, r in found]:
            slopes.append(slope(found))
    return slopes, (mean_std(slopes)[0] if slopes else None), t_interval(slopes) if len(slopes) > 1 else None


def _law(slopes, mean, interval, which):
    if interval is None:
        return (f"{which}: {len(slopes) or 'no'} seed{'' if len(slopes) == 1 else 's'} run at every width, too few "
                "for an interval")
    low, high = interval
    reading = ("grows with width" if low > 0 else "shrinks with width" if high < 0 else
               "does not grow or shrink with width beyond the seeds' spread (the interval holds 0)")
    return (f"{which}: fan_in^{mean:+.2f} (95% interval {low:+.2f} to {high:+.2f} over {len(slopes)} seeds): the gap "
            f"{reading}")


def _trend_lines(seeded, floors, versus="the chosen dense arm"):
    lines = []
    for arm in sorted({arm for arm, _ in seeded}):
        by_width = {w: by_seed for (a, w), by_seed in sorted(seeded.items(), key=lambda i: i[0][1]) if a == arm}
        seeds = sorted(set.union(*(set(by_seed) for by_seed in by_width.values())))
        for name, key, _ in METRICS:
            ratios = {w: [r for r in (pair_ratio(pair, key, floors) for pair in by_seed.values()) if r]
                      for w, by_seed in by_width.items()}
            means = {w: mean_std(found)[0] for w, found in ratios.items() if found}
            within = [w for w in means if means[w] <= TARGET and len(ratios[w]) >= TARGET_SEEDS]
            fit = _fit(by_width, key, seeds, floors)
            laws = [_law(*fit, "all seeds"),
                    _law(*_fit(by_width, key, [s for s in seeds if s != CHOSEN_SEED], floors), "seeds 1-4")]
            widest = max(means, default=None)
            if fit[2] is not None and fit[2][1] < 0 and means[widest] > TARGET:  # shrinks beyond the spread
                at = fan_in(by_width[widest][min(by_width[widest])][0])
                laws[0] += (f"; if the mean law held, the ratio would reach {TARGET}x at g_conv_dim about "
                            f"{reach(widest, means[widest], fit[1]):,.0f} (fan_in "
                            f"{reach(at, means[widest], fit[1]):,.0f}), an extrapolation of "
                            f"{len(by_width)} widths")
            lines.append(f"- `{arm}` / {versus}, {name}: mean ratio "
                         + ", ".join(f"{means[w]:.2f} at width {w}" for w in means)
                         + (f"; within {TARGET}x over {TARGET_SEEDS} seeds at width {', '.join(map(str, within))}"
                            if within else f"; within {TARGET}x at no width") + ". Its slope on log fan_in, fitted "
                         "per seed over the widths: " + "; ".join(laws) + ".")
    return lines


def _bn_worth_line(points, floors):
    """What training BatchNorm's affine is worth to dense at the same lr: `dense:no-train-bn` over `dense`, per width,
    over the seeds where both ran at CHOSEN_STEPS."""
    index = {(p["arm"], p["width"], p["seed"]): p for p in points if p["steps"] == CHOSEN_STEPS}
    cells = []
    for width in sorted({w for arm, w, _ in index if arm == FROZEN_BN_DENSE}):
        found = [(index[FROZEN_BN_DENSE, width, seed], index["dense", width, seed])
                 for arm, w, seed in sorted(index) if (arm, w) == (FROZEN_BN_DENSE, width)
                 and ("dense", width, seed) in index]
        for name, key, _ in METRICS:
            ratios = [pair_ratio(pair, key, floors) for pair in found]
            cells.append(f"width {width} {name} {cell(ratios, '.2f')} ({len(found)} seed{'s' * (len(found) > 1)})")
    return ("- What training BatchNorm is worth to dense at one lr (`dense`'s, not bracketed with BatchNorm frozen): "
            f"`{FROZEN_BN_DENSE}` over `dense`, " + "; ".join(cells) + ". Above 1: dense is worse with BatchNorm "
            "frozen.")


def lines(points, floors):
    """The markdown of the verdict over seeds (width_budget.py reads the budgets)."""
    seeded = _seeded(points)
    if not seeded:
        return [f"- Seed {CHOSEN_SEED} only: no verdict over seeds yet."]
    used = [p for by_seed in seeded.values() for pair in by_seed.values() for p in pair]
    used = list({id(p): p for p in used}.values())
    minutes, others = (sum(p["cpu_seconds"] for p in used if keep(p)) / 60 for keep in (
        lambda p: True, lambda p: p["seed"] != CHOSEN_SEED))
    return [f"The arms were chosen on seed {CHOSEN_SEED} at {CHOSEN_STEPS} steps: each width's dense lr by held-out "
            "KID (width_verdict.best_pairs), and the search variants run on more seeds. That dense arm is applied to "
            "every seed, so seed 0 favours the arms it chose; seeds 1-4 alone are the unbiased reading. Ratios are "
            "per seed, then mean ± std over seeds; the metrics are each point's last step.", "",
            *table_lines(seeded, floors), "", _floor_line(floors), *_trend_lines(seeded, floors),
            memorisation_line(points),
            f"- These pairs cost {minutes:.0f} CPU minutes, {others:.0f} of them on seeds 1-4 (one core, "
            "single-threaded, on 2 shared cores).", *frozen_bn_lines(points, floors)]


def frozen_bn_lines(points, floors):
    """The same search arms against dense with BatchNorm's affine frozen at init (FROZEN_BN_DENSE), seed by seed: the
    two arms alike in everything but what trains in the convolutions, scores or weights."""
    widths = {p["width"] for p in points}
    seeded = _seeded(points, dict.fromkeys(widths, FROZEN_BN_DENSE))
    if not seeded:
        return []
    frozen = [p for p in points if p["arm"] == FROZEN_BN_DENSE and p["steps"] == CHOSEN_STEPS]
    return ["", "### BatchNorm frozen in both arms", "",
            f"A ticket keeps BatchNorm's affine (gamma, beta) at init; the dense arm trains it. Here each search arm "
            f"is paired, seed by seed, with `{FROZEN_BN_DENSE}`: dense at the studies' lr with BatchNorm frozen "
            "as the ticket's is. It is not the fair dense arm (that one trains BatchNorm, as a StudioGAN user's "
            "does); it asks how much of the gap, and of its growth with width, is BatchNorm.", "",
            *table_lines(seeded, floors, FROZEN_BN_DENSE), "",
            *_trend_lines(seeded, floors, f"`{FROZEN_BN_DENSE}`"), _bn_worth_line(points, floors),
            f"- The `{FROZEN_BN_DENSE}` points cost {sum(p['cpu_seconds'] for p in frozen) / 60:.0f} CPU minutes."]


def floors():
    """The real-vs-real floors of the evaluation network the points were scored with (digits_metrics.score's)."""
    return digits_metrics.floors(digits_eval.load_eval_net())
