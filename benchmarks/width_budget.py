"""The width diagnosis's budget curves (issue 25, item 5): each pair of width_seeds.pairs run at two or more budgets,
how its ratio moves with steps, whether each arm has flattened, at how many steps the search reaches dense's
quality, and which arm reached the real-vs-real floor; as a table, sentences and a figure."""
import math

from study_cli import save_figure
from study_rules import TARGET, UNORDERED, direction
from width_report import reach, slope
from width_seeds import CHOSEN_STEPS, METRICS, cell, pair_ratio, pairs
from width_verdict import SAME

FLAT = 0.1  # an arm whose train-split FID moves less than this fraction between its last two budgets has flattened
FIGURE = "width-diagnosis-budget.png"


def curves(points):
    """{(width, search arm, seed): {steps: (search point, dense point)}} for the pairs run at two or more budgets."""
    found = {}
    for steps in sorted({p["steps"] for p in points}):
        for (arm, width), by_seed in pairs(points, steps).items():
            for seed, pair in by_seed.items():
                found.setdefault((width, arm, seed), {})[steps] = pair
    return {key: curve for key, curve in sorted(found.items()) if len(curve) > 1}


def _flat(curve, side):
    """Whether one arm (0: search, 1: dense) has flattened: its train-split FID over its last two budgets."""
    (_, before), (_, after) = sorted(curve.items())[-2:]
    a, b = before[side]["metrics"]["fid_train"], after[side]["metrics"]["fid_train"]
    return abs(b - a) < FLAT * a, f"{a:.1f} -> {b:.1f}"


def budget_law(budgets, ratios):
    """"steps^a ...": the ratio's power law in steps over the budgets (width_report.slope on steps), and the
    budget where it would reach TARGET if it shrinks; "" with fewer than three budgets. A ratio that does not move
    one way gets no law: with one run per budget, a slope through 2.50, 3.33, 2.24 would be noise extrapolated."""
    known = [(steps, r) for steps, r in zip(budgets, ratios) if r]
    a = slope(known) if len(known) > 2 else None
    if a is None:
        return ""
    if direction([r for _, r in known]) == UNORDERED:
        return "not one way, so no power law"
    if a > -SAME / 2 or known[-1][1] <= TARGET:
        return f"steps^{a:+.2f}"
    at = reach(*known[-1], a)
    return (f"steps^{a:+.2f}, which would reach {TARGET}x near {at:,.0f} steps (an extrapolation of "
            f"{len(known)} budgets)")


def _matching_budgets(curve):
    """" The search reaches dense's train-split FID at B steps after about N steps (Mx) ...": for each dense budget
    whose FID lies within the search's curve, the search's budget of the same FID, interpolated linearly in
    log(steps) and log(FID) between the two budgets around it; "" where no dense FID lies within it."""
    search = sorted((steps, pair[0]["metrics"]["fid_train"]) for steps, pair in curve.items())
    cells = []
    for steps, pair in sorted(curve.items()):
        target = pair[1]["metrics"]["fid_train"]
        for (s0, f0), (s1, f1) in zip(search, search[1:]):
            if min(f0, f1) <= target <= max(f0, f1) and f0 != f1:
                at = math.exp(math.log(s0) + (math.log(target) - math.log(f0)) / (math.log(f1) - math.log(f0))
                              * (math.log(s1) - math.log(s0)))
                cells.append(f"dense's {target:.1f} at {steps} steps after about {at:,.0f} steps ({at / steps:.1f}x)")
                break
    return (" The search reaches " + "; ".join(cells) + " (train-split FID, interpolated in log-log between "
            "budgets).") if cells else " No dense train-split FID lies within the search's curve."


def lines(points, floors):
    """Each pair's curve over budgets (same seed and width), how its ratio moves (a held-out KID's above its
    real-vs-real floor, width_seeds.pair_ratio), whether each arm has flattened by its longest budget, and which arm
    reached the train-split FID's real-vs-real floor (`floors`: digits_metrics's, its first train-split FID floor:
    the valid split)."""
    found = curves(points)
    if not found:
        return [f"- One budget ({CHOSEN_STEPS} steps) only: no budget trend yet."]
    lines = [f"Each pair at every budget it was run at (a budget is a run of its own: the cosine schedule ends at its "
             f"last step); the figure {FIGURE} draws the same points (`width_diagnosis.py report`).", "",
             "| width | search arm / dense arm | seed | steps | search held-out KID | dense held-out KID | "
             "search / dense held-out KID above the floor | search train-split FID | dense train-split FID | "
             "search / dense train-split FID | memorisation ratio (search, dense) | CPU minutes (search, dense) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    floor = floors["fid_train"][0]["value"]
    sentences, used = [], []
    for (width, arm, seed), curve in found.items():
        for steps, pair in sorted(curve.items()):
            used += [p for p in pair if p["steps"] > CHOSEN_STEPS]
            s, d = (p["metrics"] for p in pair)
            lines.append(f"| {width} | `{arm}` / `{pair[1]['arm']}` | {seed} | {steps} | {s['kid_valid']:.4f} | "
                         f"{d['kid_valid']:.4f} | {cell([pair_ratio(pair, 'kid_valid', floors)], '.2f')} | "
                         f"{s['fid_train']:.1f} | {d['fid_train']:.1f} | "
                         f"{cell([pair_ratio(pair, 'fid_train', floors)], '.2f')} | {s['memorisation']:.2f}, "
                         f"{d['memorisation']:.2f} | {pair[0]['cpu_seconds'] / 60:.1f}, "
                         f"{pair[1]['cpu_seconds'] / 60:.1f} |")
        budgets = sorted(curve)
        moves = []
        for name, key, _ in METRICS:
            ratios = [pair_ratio(curve[steps], key, floors) for steps in budgets]
            known = [r for r in ratios if r is not None]
            moved = ("-" if len(known) < 2 else "shrinks" if known[-1] < known[0] * (1 - SAME / 2) else
                     "grows" if known[-1] > known[0] * (1 + SAME / 2) else "holds")
            law = budget_law(budgets, ratios)
            moves.append(f"on {name} the ratio {moved} ({' -> '.join(cell([r], '.2f') for r in ratios)}"
                         + (f"; {law}" if law else "") + ")")
        (search_flat, search_fid), (dense_flat, dense_fid) = _flat(curve, 0), _flat(curve, 1)
        flat = ("both arms have flattened" if search_flat and dense_flat else "neither arm has flattened"
                if not (search_flat or dense_flat) else
                f"only {'the search' if search_flat else 'dense'} has flattened")
        at_floor = [f"{label} {pair[side]['metrics']['fid_train']:.1f} at {steps} steps"
                    for steps, pair in sorted(curve.items()) for side, label in ((0, "search"), (1, "dense"))
                    if pair[side]["metrics"]["fid_train"] <= floor]
        sentences.append(f"- Width {width}, seed {seed}, `{arm}` / `{curve[budgets[0]][1]['arm']}`, "
                         f"{' -> '.join(map(str, budgets))} steps: {'; '.join(moves)}. Between the last two budgets "
                         f"({budgets[-2]} -> {budgets[-1]} steps) train-split FID moves search {search_fid}, dense "
                         f"{dense_fid}: {flat} (a move under {FLAT:.0%})." + _matching_budgets(curve)
                         + (f" At or below the real-vs-real floor ({floor:.1f}, the valid split against the train "
                            f"split), where a lower FID no longer means a better generator: {', '.join(at_floor)}."
                            if at_floor else ""))
    used = list({id(p): p for p in used}.values())
    return lines + ["", *sentences,
                    f"- Moved: a ratio that changes by more than {SAME / 2:.0%} from the first budget to the last. "
                    f"The points beyond {CHOSEN_STEPS} steps cost {sum(p['cpu_seconds'] for p in used) / 60:.0f} CPU "
                    "minutes."]


def figure(points, path, floors):
    """Held-out KID and train-split FID of each arm against steps, one line per pair of curves(), with the
    real-vs-real floors (digits_metrics's: what real digits score)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    found = curves(points)
    if not found:
        return
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for (width, arm, seed), curve in found.items():
        steps = sorted(curve)
        for side, style in ((0, "-o"), (1, "--s")):
            label = f"width {width}, {curve[steps[0]][side]['arm']}"
            for ax, key in zip(axes, ("kid_valid", "fid_train")):
                ax.plot(steps, [curve[n][side]["metrics"][key] for n in steps], style, label=label)
    for ax, (name, key, _) in zip(axes, METRICS):
        ax.axhline(floors[key][0]["value"], color="gray", linestyle=":", label="real vs real")
        ax.set(xscale="log", xlabel="steps (each a run of its own)", ylabel=name,
               title=f"resnet mirror, seed 0: {name} against budget")
    axes[1].set_yscale("log")
    axes[0].legend(fontsize=7)
    save_figure(fig, path)
