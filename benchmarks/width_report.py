"""docs/width-diagnosis.md from the points width_diagnosis.py keeps (one JSON per point): `python
benchmarks/width_diagnosis.py report`. Every number on the page is read or computed from those files."""
import json
import math
import re
from pathlib import Path

from study_rules import TARGET

HIDDEN = re.compile(r"blocks\.\d+\.conv[12]\.weight")  # the 3x3 convs of the residual blocks: fan_in = 9 x channels


def load_points(data):
    return [json.loads(p.read_text()) for p in sorted(Path(data).glob("*.json"))]


def _median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def _windows(point):
    """{layer: [rows in step order]}."""
    found = {}
    for row in sorted(point["rows"], key=lambda r: r["step"]):
        found.setdefault(row["layer"], []).append(row)
    return found


def hidden(point, key, window):
    """The median over the hidden 3x3 convs of `key` in window `window` (0: first, -1: last)."""
    values = [rows[window][key] for layer, rows in _windows(point).items() if HIDDEN.fullmatch(layer)]
    return _median(values) if values and None not in values else None


def hidden_start(point, key):
    values = [v[key] for layer, v in point["start"].items() if HIDDEN.fullmatch(layer)]
    return _median(values) if values and None not in values else None


def fan_in(point):
    return int(_median([rows[0]["fan_in"] for layer, rows in _windows(point).items() if HIDDEN.fullmatch(layer)]))


def exponent(points, value):
    """a of value ~ fan_in^a over `points` (one per width)."""
    return slope([(fan_in(p), value(p)) for p in points])


def step_size(point):
    """The median hidden conv's relative change of its effective weight per step, in the last window."""
    return hidden(point, "rel_change_per_step", -1)


def flips(point):
    """The median hidden conv's mask flips per 100 steps, in the last window."""
    return hidden(point, "flips_per_100_steps", -1)


def _num(value, spec):
    return "-" if value is None else f"{value:{spec}}"


def slope(pairs):
    """The least-squares slope of log(value) on log(fan_in): value ~ fan_in^slope over the widths measured."""
    pairs = [(math.log(x), math.log(y)) for x, y in pairs if y and y > 0]
    if len(pairs) < 2:
        return None
    mx, my = sum(x for x, _ in pairs) / len(pairs), sum(y for _, y in pairs) / len(pairs)
    sxx = sum((x - mx) ** 2 for x, _ in pairs)
    return sum((x - mx) * (y - my) for x, y in pairs) / sxx if sxx else None


def reach(x, ratio, a):
    """Where the power law ratio ~ x^a (`slope`), at `ratio` for `x`, would bring the ratio to TARGET."""
    return x * (TARGET / ratio) ** (1 / a)


def summary(points):
    lines = ["## Every point at its last step", "",
             "Digits metrics of the generator after its last step (BN in eval mode, as a ticket is sampled; "
             "studiogan_slt.metrics.digits_metrics.score on 1,501 images from latent seed 0).", "",
             "| width | arm | steps | seed | train-split FID | KID | held-out KID | memorisation ratio | classes | "
             "moment-distance drop | CPU minutes |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for p in sorted(points, key=lambda p: (p["width"], p["arm"], p["steps"], p["seed"])):
        m = p["metrics"]
        lines.append(f"| {p['width']} | {p['arm']} | {p['steps']} | {p['seed']} | {_num(m['fid_train'], '.1f')} | "
                     f"{m['kid']:.4f} | {m['kid_valid']:.4f} | {m['memorisation']:.2f} | {m['classes_covered']} | "
                     f"{p['moment_distance_drop']:.1%} | {p['cpu_seconds'] / 60:.1f} |")
    lines.append("")
    lines.append(f"Total CPU time of these points: {sum(p['cpu_seconds'] for p in points) / 60:.0f} minutes.")
    return lines


def scaling(points):
    """The hidden 3x3 convs' medians per width, arm and budget of one seed, and how each scales with fan_in."""
    lines = ["", f"## How each arm's step scales with width (median over the six hidden 3x3 convs, seed "
             f"{points[0]['seed']})", "",
             "rel. change = ||W(t+1) - W(t)|| / ||W(t)|| of the effective weight (frozen x mask x scale for the "
             "search), per step, averaged over a window; flips = mask entries that change per 100 steps, as a "
             "fraction of the layer's entries (summed over steps, so above 1 when entries flip back and forth; net: "
             "between the window's two ends). First and last window of the run.", "",
             "| arm | steps | width | fan_in | score mean abs at start | weight RMS at start | rel. change / step, "
             "first window | last window | flips / 100 steps, first window | last window | net flips / 100 steps, "
             "last window |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    by_arm = {}
    for p in sorted(points, key=lambda p: (p["arm"], p["steps"], p["width"])):
        by_arm.setdefault((p["arm"], p["steps"]), []).append(p)
        lines.append(f"| {p['arm']} | {p['steps']} | {p['width']} | {fan_in(p)} | "
                     f"{_num(hidden_start(p, 'score_abs'), '.4f')} | "
                     f"{hidden_start(p, 'weight_rms'):.4f} | {hidden(p, 'rel_change_per_step', 0):.4f} | "
                     f"{hidden(p, 'rel_change_per_step', -1):.4f} | "
                     f"{_num(hidden(p, 'flips_per_100_steps', 0), '.3g')} | "
                     f"{_num(hidden(p, 'flips_per_100_steps', -1), '.3g')} | "
                     f"{_num(hidden(p, 'net_flips_per_100_steps', -1), '.3g')} |")
    lines += ["", "Exponent a of a power law value ~ fan_in^a fitted over the widths of each arm (least squares on "
              "logs; 0: does not scale with width):", "",
              "| arm | steps | widths | score mean abs at start | weight RMS at start | rel. change / step, last "
              "window | flips / 100 steps, last window |", "|---|---|---|---|---|---|---|"]
    for (arm, steps), group in sorted(by_arm.items()):
        if len(group) < 2:
            continue
        fits = [slope([(fan_in(p), value(p)) for p in group]) for value in (
            lambda p: hidden_start(p, "score_abs"), lambda p: hidden_start(p, "weight_rms"),
            lambda p: hidden(p, "rel_change_per_step", -1), lambda p: hidden(p, "flips_per_100_steps", -1))]
        lines.append(f"| {arm} | {steps} | {', '.join(str(p['width']) for p in group)} | "
                     + " | ".join(_num(f, "+.2f") for f in fits) + " |")
    lines += _reading(by_arm)
    return lines


def _reading(by_arm):
    """The two plain arms side by side: how much larger dense's step is than the search's at each width."""
    lines = []
    for (arm, steps), group in sorted(by_arm.items()):
        dense = {p["width"]: p for p in by_arm.get(("dense", steps), [])}
        if arm != "slt" or not dense:
            continue
        ratios = [(p["width"], hidden(dense[p["width"]], "rel_change_per_step", -1)
                   / hidden(p, "rel_change_per_step", -1)) for p in group if p["width"] in dense]
        lines += ["", f"Dense's relative change per step over the search's (hidden convs, last window, {steps} steps): "
                  + ", ".join(f"width {w}: {r:.3f}" for w, r in ratios) + "."]
    return lines


def layers(points):
    lines = ["", f"## Per layer (last window, seed {points[0]['seed']}, {points[0]['steps']} steps)", ""]
    for width in sorted({p["width"] for p in points}):
        arms = {p["arm"]: p for p in points if p["width"] == width}
        names = sorted(arms)
        lines += [f"### g_conv_dim {width}", "",
                  "| layer | fan_in | " + " | ".join(f"{a}: rel. change / step | {a}: flips / 100 steps" for a in names)
                  + " |", "|---|---|" + "---|---|" * len(names)]
        reference = _windows(arms[names[0]])
        for layer, rows in reference.items():
            cells = []
            for a in names:
                last = _windows(arms[a]).get(layer, [None])[-1]
                cells.append("- | -" if last is None else f"{last['rel_change_per_step']:.4f} | "
                             f"{_num(last['flips_per_100_steps'], '.3g')}")
            lines.append(f"| {layer} | {rows[0]['fan_in']} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines
