"""The reading of the width diagnosis, computed from its kept points: "What the numbers say" of
docs/width-diagnosis.md and the width-diagnosis verdict of docs/results.md. Which part of the search does not scale
with width (the fitted exponents of width_report.py), whether dense's best lr moves with width, and the width or
budget the ticket's gap to the best arms extrapolates to, or that it does not."""
from study_rules import TARGET, above, memorisation_line as study_memorisation_line, ratio_text
from width_report import exponent, fan_in, flips, hidden_start, reach, slope, step_size

BRACKET = 3  # dense lrs a width needs for its best dense arm to count as fair (issue 25, item 2)
SAME = 0.1  # two fitted exponents closer than this are read as the same law: 3 widths of one seed fit no finer
# what a search_recipe option of an arm variant changes, in the words of issue 25's list of suspects
LEVER_PART = {"score-init": "the score initialisation scale", "lr": "the size of the score learning rate",
              "lr-fan-in-exp": "a score learning rate that grows with fan_in",
              "opt": "the scores' optimiser (Adam against SGD with momentum)",
              "batch": "the batch size (the noise of the moment estimates)"}

# search_recipe options that train BatchNorm's affine where the arm would not (a ticket keeps it at init, dense
# trains it): issue 25's suspect "BN frozen at init". Such an arm is a diagnostic, never an arm's best: a search that
# trains BN is not a ticket, and dense with BN frozen is not the dense arm the ticket is compared with.
BN_OPTIONS = ("--train-bn", "--no-train-bn")


def _bn_lever(point):
    return any(option in point["options"] for option in BN_OPTIONS)


def _arm_lr(point):
    """The learning rate an arm trained with (search_recipe's --lr, the last occurrence wins as in argparse)."""
    options = point["options"]
    return float(options[len(options) - 1 - options[::-1].index("--lr") + 1])


def _width(point):
    return point["width"]


def arm_kind(point):
    return "bn lever" if _bn_lever(point) else point["arm"].partition(":")[0]


def best_arms(points, kind):
    """{width: the point of `kind` ("slt" or "dense", any variant) with the lowest held-out KID}: the fair arm."""
    found = {}
    for p in points:
        if arm_kind(p) == kind and (p["width"] not in found
                                 or p["metrics"]["kid_valid"] < found[p["width"]]["metrics"]["kid_valid"]):
            found[p["width"]] = p
    return found


def best_pairs(points):
    """[(width, best search, best dense)]. The widths compared are those whose dense lr was bracketed (BRACKET lrs:
    issue 25's fair dense arm) when two or more are, else every width; at each, the best of the arm variants run at
    all of them, so no width's best arm is picked from more tries."""
    lrs = {}
    for p in points:
        if arm_kind(p) == "dense":
            lrs.setdefault(p["width"], set()).add(_arm_lr(p))
    widths = sorted(w for w, tried in lrs.items() if len(tried) >= BRACKET)
    if len(widths) < 2:
        widths = sorted({p["width"] for p in points})
    if not widths:
        return []
    common = set.intersection(*({p["arm"] for p in points if p["width"] == w} for w in widths))
    chosen = [p for p in points if p["width"] in widths and p["arm"] in common]
    slt, dense = best_arms(chosen, "slt"), best_arms(chosen, "dense")
    return [(width, slt[width], dense[width]) for width in sorted(set(slt) & set(dense))]


def gaps(points, floors):
    """[(width, best search, best dense, held-out KID ratio, train-split FID ratio)] of best_pairs: the KID above its
    real-vs-real floor (`floors`: digits_metrics.floors; study_rules.above, None where dense is at or below it)."""
    floor = floors["kid_valid"][0]["value"]
    return [(width, s, d, above(s["metrics"]["kid_valid"], d["metrics"]["kid_valid"], floor),
             s["metrics"]["fid_train"] / d["metrics"]["fid_train"]) for width, s, d in best_pairs(points)]


def _trend(a):
    return "grows" if a > SAME / 2 else "shrinks" if a < -SAME / 2 else "does not change"


def _arms(points, steps):
    found = {}
    for p in sorted(points, key=lambda p: p["width"]):
        if p["steps"] == steps:
            found.setdefault(p["arm"], []).append(p)
    return found


def _headline(slt, dense):
    d, s, f = exponent(dense, step_size), exponent(slt, step_size), exponent(slt, flips)
    return (f"- **What does not scale.** Per step, dense moves its hidden 3x3 convs by a relative amount that "
            f"{_trend(d)} with width (fan_in^{d:+.2f}); the search's {_trend(s)} (fan_in^{s:+.2f}), and the fraction "
            f"of its mask entries that flip per 100 steps {_trend(f)} (fan_in^{f:+.2f}). Dense's step over the "
            f"search's scales as fan_in^{d - s:+.2f} (widths {', '.join(str(p['width']) for p in slt)}).")


def _scaling_lines(arms, floors):
    """Which part of the search does not scale: the plain arms' exponents, then what each lever moved."""
    slt, dense = arms.get("slt", []), arms.get("dense", [])
    if len(slt) < 2 or len(dense) < 2:
        return ["- Too few widths of the plain arms yet to fit how their steps scale."]
    f = exponent(slt, flips)
    lines = [_headline(slt, dense)]
    ws, wd = exponent(slt, lambda p: hidden_start(p, "weight_rms")), exponent(dense, lambda p: hidden_start(
        p, "weight_rms"))
    if abs(ws - wd) < SAME:
        lines.append(f"- The frozen weights follow dense's scale law (RMS at start fan_in^{ws:+.2f}, dense "
                     f"fan_in^{wd:+.2f}): the frozen weight scale is no difference between the arms.")
    cleared = []
    for arm, group in sorted(arms.items()):
        if not arm.startswith("slt:") or len(group) < 2 or _bn_lever(group[0]):
            continue
        widths = {p["width"] for p in group}
        plain = [p for p in slt if p["width"] in widths]
        if len(plain) < 2:
            continue
        a, b = exponent(group, step_size), exponent(plain, step_size)
        score, score_plain = (exponent(g, lambda p: hidden_start(p, "score_abs")) for g in (group, plain))
        same = abs(a - b) < SAME
        lines.append(f"- `{arm}` (score scale at start fan_in^{score:+.2f}, plain fan_in^{score_plain:+.2f}): the "
                     f"search's step scales as fan_in^{a:+.2f} against the plain search's fan_in^{b:+.2f} on the same "
                     f"widths, its flips as fan_in^{exponent(group, flips):+.2f}; "
                     + ("it does not change how the step scales with width." if same else "it moves that law.")
                     + " Held-out KID against the plain search's: " + ", ".join(
                         f"{p['metrics']['kid_valid']:.4f} / {q['metrics']['kid_valid']:.4f} at width {p['width']}"
                         for p, q in zip(sorted(group, key=_width), plain) if p["width"] == q["width"]) + ".")
        if same:
            cleared += [LEVER_PART[key] for key in LEVER_PART if f":{key}=" in arm or f",{key}=" in arm]
    bn_lines, bn_same = _bn_lines(arms, slt, dense, floors)
    lines += bn_lines
    if bn_same:
        cleared.append("BatchNorm frozen at init")
    if cleared:
        lines.append(f"- So neither {' nor '.join(sorted(set(cleared)))} is the part that does not scale: "
                     "changing them leaves the law in place, fewer mask entries cross the top-k threshold per step in "
                     "a wider layer. Not measured by these points: "
                     + ("" if bn_lines else "BatchNorm frozen at init, and ")
                     + f"budgets other than {slt[0]['steps']} steps (the pairs at longer budgets: the verdict over "
                     "seeds).")
    if f < 0:
        ratios = ", ".join(f"{(fan_in(p) / fan_in(slt[0])) ** -f:.2f}x at width {p['width']}" for p in slt[1:])
        lines.append(f"- A budget rule from the flip exponent alone: to flip as large a fraction of its hidden convs "
                     f"as at width {slt[0]['width']}, the search needs (fan_in / {fan_in(slt[0])})^{-f:.2f} times "
                     f"the steps: {ratios}. That equalises flips, not quality: it is the budget a width-aware search "
                     "would start from, not a prediction of parity.")
    return lines


def _bn_lines(arms, slt, dense, floors):
    """(lines, same law): what training BatchNorm's affine in the search, or freezing it in dense, moved. Each lever
    arm is read against the plain arm of its kind (the same lr) on the same widths: how its step scales with width,
    and its held-out KID; then the search's held-out KID over dense's with the lever in place, against the plain
    search's over plain dense, each above the real-vs-real floor (`floors`; study_rules.above). `same law` is True
    when every lever arm's step follows its plain arm's law."""
    plain = {"slt": slt, "dense": dense}
    floor = floors["kid_valid"][0]["value"]
    lines, same = [], []
    for arm, group in sorted(arms.items()):
        if len(group) < 2 or not _bn_lever(group[0]):
            continue
        kind = arm.partition(":")[0]
        widths = {p["width"] for p in group}
        base = [p for p in plain[kind] if p["width"] in widths]
        if len(base) < 2:
            continue
        a, b = exponent(group, step_size), exponent(base, step_size)
        same.append(abs(a - b) < SAME)
        what = ("the search with BatchNorm's affine trained, as dense's is: not a ticket" if kind == "slt" else
                "dense with BatchNorm's affine frozen at init, as a ticket's is")
        flip_law = f", its flips as fan_in^{exponent(group, flips):+.2f}" if kind == "slt" else ""
        kid = {name: {p["width"]: p["metrics"]["kid_valid"] for p in arm_points}
               for name, arm_points in (("slt", slt), ("dense", dense), ("lever", group))}
        held_out = ", ".join(f"{kid['lever'][w]:.4f} / {kid[kind][w]:.4f} at width {w}" for w in sorted(widths)
                             if w in kid[kind])
        # the search over dense with the lever on one side, against the plain search over plain dense
        search, reference = ("lever", "dense") if kind == "slt" else ("slt", "lever")
        ratios = [(w, above(kid[search][w], kid[reference][w], floor), above(kid["slt"][w], kid["dense"][w], floor))
                  for w in sorted(widths) if all(w in kid[name] for name in kid)]
        over_dense = (f" {'This search' if kind == 'slt' else 'The plain search'} over "
                      f"{'`dense`' if kind == 'slt' else 'it'}, against the plain search over `dense`, held-out KID: "
                      + ", ".join(f"{ratio_text(r)} / {ratio_text(r0)} at width {w}" for w, r, r0 in ratios)
                      + ".") if ratios else ""
        lines.append(f"- `{arm}` ({what}): its step scales as fan_in^{a:+.2f} against the plain {kind} arm's "
                     f"fan_in^{b:+.2f} on the same widths{flip_law}; "
                     + ("it does not change how the step scales with width." if same[-1] else "it moves that law.")
                     + f" Held-out KID against the plain arm's: {held_out}.{over_dense}")
    return lines, bool(same) and all(same)


def _dense_lr_lines(points):
    """Whether dense's best lr (by held-out KID) moves with width: the fair dense arm of issue 25 (item 2)."""
    by_width = {}
    for p in points:
        if arm_kind(p) == "dense":
            by_width.setdefault(p["width"], []).append(p)
    if not by_width:
        return []
    best = best_arms(points, "dense")
    cells = [f"width {w}: lr {_arm_lr(best[w]):g} of {', '.join(f'{_arm_lr(p):g}' for p in sorted(group, key=_arm_lr))}"
             for w, group in sorted(by_width.items())]
    bracketed = sorted(w for w, group in by_width.items() if len(group) >= BRACKET)
    moves = len({_arm_lr(best[w]) for w in bracketed}) > 1
    verdict = (f"at the widths bracketed with {BRACKET} lrs ({', '.join(map(str, bracketed))}) the best lr "
               f"{'moves' if moves else 'does not move'} with width" if len(bracketed) > 1 else
               f"fewer than two widths have a {BRACKET}-lr bracket yet: no verdict on whether it moves")
    edge = [str(w) for w in bracketed if _arm_lr(best[w]) == max(_arm_lr(p) for p in by_width[w])]
    if edge:
        verdict += (f"; at width {', '.join(edge)} the best is the largest lr tried, so the bracket does not enclose "
                    "dense's best lr there and the dense arm may be stronger still")
    return [f"- **The fair dense arm.** Dense's best lr by held-out KID: {'; '.join(cells)}; {verdict}."]


def _gap_line(rows):
    return ("- **The gap, best arm against best arm** (each kind's arm with the lowest held-out KID among the "
            "variants run at every width compared; width_verdict.gaps): "
            + "; ".join(f"width {w}: `{s['arm']}` / `{d['arm']}` held-out KID {ratio_text(kid)}, "
                        f"train-split FID {fid:.2f}" for w, s, d, kid, fid in rows) + ".")


def trend_lines(points, floors):
    """The gap's power law in fan_in on each metric of the points of one seed and budget (gaps, with `floors`), the
    width where it reaches the target if it shrinks, and the memorisation ratios against MEMORISATION_FLAG."""
    lines = []
    recipe = [p for p in points if p["arm"] in ("slt", "dense")]
    for which, rows in (("best arm against best arm", gaps(points, floors)),
                        ("the studies' recipe (`slt` against `dense`)", gaps(recipe, floors))):
        for name, column in (("held-out KID", 3), ("train-split FID", 4)):
            pairs = [(fan_in(r[1]), r[column]) for r in rows if r[column]]
            a = slope(pairs)
            if a is None:
                continue
            widest_fan_in, widest = max(pairs)
            start = f"- {which[0].upper()}{which[1:]}, {name} (widths {', '.join(str(r[0]) for r in rows)}): "
            if widest <= TARGET:
                lines.append(f"{start}the search is within {TARGET}x of dense already at the widest width.")
            elif a >= -SAME / 2:
                lines.append(f"{start}the ratio {_trend(a)} with width (fan_in^{a:+.2f}); no width extrapolates to "
                             f"parity ({TARGET}x) at this budget.")
            else:
                fan = reach(widest_fan_in, widest, a)
                lines.append(f"{start}the ratio shrinks as fan_in^{a:+.2f}; that law reaches {TARGET}x at fan_in "
                             f"{fan:,.0f}, g_conv_dim about {fan * rows[-1][0] / fan_in(rows[-1][1]):,.0f} (an "
                             f"extrapolation of {len(pairs)} widths).")
            values = [v for _, v in sorted(pairs)]
            diffs = [later - earlier for earlier, later in zip(values, values[1:])]
            if not (all(d <= 0 for d in diffs) or all(d >= 0 for d in diffs)):
                lines[-1] += (" The ratios do not change monotonically with width ("
                              + ", ".join(f"{v:.2f}" for v in values) + "): on one seed, that law is within the "
                              "noise (the seeds' verdict weighs it).")
    return lines + [memorisation_line(points)]


def memorisation_line(points):
    """study_rules.memorisation_line of the points, each named by arm, width, seed and budget."""
    return "- " + study_memorisation_line([(f"`{p['arm']}` at width {p['width']}, seed {p['seed']}, {p['steps']} steps",
                                            p["metrics"]["memorisation"]) for p in points], "points")


def lines(points, floors):
    """The markdown of the reading, for the points of one seed (the diagnosis runs seed 0); `floors`:
    digits_metrics.floors, that the KID ratios are taken above."""
    out = []
    for steps, arms in sorted({p["steps"]: _arms(points, p["steps"]) for p in points}.items()):
        out += _scaling_lines(arms, floors)
    rows = gaps(points, floors)
    return out + _dense_lr_lines(points) + ([_gap_line(rows)] if rows else []) + trend_lines(points, floors)


def verdict_lines(points, floors):
    """The diagnosis's verdict for docs/results.md: the best arms per width with their held-out metrics, the gap's
    trend (the KID ratios above `floors`), and what does not scale."""
    def arm(p):
        m = p["metrics"]
        return f"`{p['arm']}` | {m['kid_valid']:.4f} | {m['memorisation']:.2f} | {m['fid_train']:.1f}"

    table = ["| width | best search arm | held-out KID | memorisation ratio | train-split FID | best dense arm | "
             "held-out KID | memorisation ratio | train-split FID | search / dense held-out KID above the floor |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    table += [f"| {w} | {arm(s)} | {arm(d)} | {ratio_text(kid)} |" for w, s, d, kid, _ in gaps(points, floors)]
    plain = _arms(points, min(p["steps"] for p in points))
    headline = [_headline(plain["slt"], plain["dense"])] if len(plain.get("slt", [])) > 1 and len(
        plain.get("dense", [])) > 1 else []
    return [*table, "", *_dense_lr_lines(points), *trend_lines(points, floors), *headline]


def page_lines(points, floors):
    return ["## What the numbers say (the diagnosis: one seed, one budget)", "", "Generated from the points of seed "
            f"{points[0]['seed']} at {points[0]['steps']} steps below (width_verdict.py), every number read or fitted "
            "from them; an exponent a is the least-squares slope of log(value) on log(fan_in) of the hidden 3x3 "
            "convs.", "", *lines(points, floors), ""]

