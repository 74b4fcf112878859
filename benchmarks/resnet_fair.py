"""Issue 25's fair dense arm on StudioGAN's resnet G, read from search_curves.py's kept points: at each width, budget
and seed, dense at every lr of its bracket (the plain folder's DENSE_LR and the dense-only folders of
`search_curves.py run --dense-lrs`), the fair arm being the one with the lowest held-out KID at its last checkpoint
on the seed that bracketed the most lrs (`choose`); then every search arm of every seed against that arm, at the last
checkpoint and at the best save by train-split FID (the save a sweep keeps, picked by the metric it reports: it
flatters both arms). Only points that carry the held-out metrics count: the points kept before issue 25 have none.
`evaluators` reads the same pairing under every digits evaluation network, from second_network.py's scores of the
points' checkpoints."""
import re
from pathlib import Path

import network_agreement
import second_network
from digits_plan import DENSE_LR
from study_rules import TARGET, TARGET_SEEDS, above, best, direction, finished, fmt_mean_std, mean_above, mean_std, \
    memorisation_line, ratio_text, within
from width_budget import FLAT, budget_law
from width_report import reach, slope
from width_verdict import BRACKET

FOLDER = re.compile(r"w(\d+)-(\d+)steps(?:-on-([a-z]+))?(?:-(.+))?")  # search_curves.folder_name's names
POINT = re.compile(r"-(dense|k[\d.]+)-s(\d+)$")  # sweep's point names: <config>-dense-s<seed>, <config>-k<k>-s<seed>
DENSE_LR_LEVER = "dense_lr"  # the folder of a dense-only point at another lr: w8-800steps-dense_lr0.008
DENSE = "dense lr "


def arm_name(lever, kind):
    """The arm of a kept point (`kind`: POINT's first group): `dense lr <lr>`, `search` (the plain search) or
    `search, <lever>`."""
    if lever and lever.startswith(DENSE_LR_LEVER):
        return DENSE + lever[len(DENSE_LR_LEVER):]
    if kind == "dense":
        return f"{DENSE}{DENSE_LR:g}"
    return "search" + (f", {lever}" if lever else "")


def arms(kept, network):
    """{(width, steps): {seed: {arm: rows}}} of the finished points scored by `network` that carry the held-out
    metrics."""
    found = {}
    for (folder, point), (rows, _) in kept.items():
        m = FOLDER.fullmatch(folder)
        if not m or (m.group(3) or network) != network or not finished(rows, int(m.group(2))) \
                or rows[-1].get("kid_valid") is None:
            continue
        p = POINT.search(point)
        width_steps = found.setdefault((int(m.group(1)), int(m.group(2))), {})
        width_steps.setdefault(int(p.group(2)), {})[arm_name(m.group(4), p.group(1))] = rows
    return found


def choose(kids):
    """(the bracket's seed, the fair dense arm) from {seed: {dense arm: held-out KID at its last checkpoint}}: the
    arm with the lowest held-out KID on the seed that ran the most lrs (the lowest such seed). The other seeds run
    that arm and read it unbiased, as width_seeds.py does on the mirror; the bracket's seed flatters dense."""
    seed = min(kids, key=lambda s: (-len(kids[s]), s))
    return seed, min(kids[seed], key=kids[seed].get)


def fair(seeds):
    """(the bracket's seed, the fair dense arm's name, the lrs bracketed on that seed) of one width and budget of
    `arms`; (None, None, []) where no seed has a dense arm."""
    kids = {seed: {arm: rows[-1]["kid_valid"] for arm, rows in seed_arms.items() if arm.startswith(DENSE)}
            for seed, seed_arms in seeds.items()}
    kids = {seed: arms for seed, arms in kids.items() if arms}
    if not kids:
        return None, None, []
    seed, name = choose(kids)
    return seed, name, sorted(float(arm[len(DENSE):]) for arm in kids[seed])


def lines(found, floors):
    """The section of search-curves.md from `arms`: a table of every arm at its last checkpoint and best save, then
    `readings`."""
    if not found:
        return []
    out = ["", "## The fair dense arm, held-out metrics, last checkpoint against best save (issue 25)", "",
           "Each lr of dense's bracket runs alone (`search_curves.py run --dense-lrs`); the fair dense arm of a width, "
           "budget and seed is the one with the lowest held-out KID at its last checkpoint (resnet_fair.py). Every "
           "metric is read at the last checkpoint, and beside it the best save by train-split FID, the save a sweep "
           "keeps. Only points scored with the held-out metrics are here.", "",
           "| width | steps | seed | arm | held-out KID, last | train-split FID, last | memorisation ratio, last | "
           "best train-split FID (step) | held-out KID at best |", "|---|---|---|---|---|---|---|---|---|"]
    for (width, steps), seeds in sorted(found.items()):
        for seed, seed_arms in sorted(seeds.items()):
            for arm, rows in sorted(seed_arms.items()):
                last, top = rows[-1], best(rows)
                out.append(f"| {width} | {steps} | {seed} | `{arm}` | {last['kid_valid']:.4f} | "
                           f"{last['fid_train']:.1f} | {last['memorisation']:.2f} | {top['value']:.1f} "
                           f"({top['step']}) | {top['kid_valid']:.4f} |")
    return out + ["", *readings(found, floors)]


def readings(found, floors):
    """The verdict first: each search arm's gap to the fair dense arm against width (`_width_lines`), how many seeds
    it rests on and the memorisation ratios; then each search arm of `found` (`arms`) against the fair dense arm of
    its width, budget and seed, saying where that arm is at a real-vs-real floor (`floors`: digits_metrics.floors)."""
    if not found:
        return []
    per_seed, memo = [], []
    for (width, steps), seeds in sorted(found.items()):
        chosen = fair(seeds)
        for seed, seed_arms in sorted(seeds.items()):
            per_seed += _against_fair(width, steps, seed, seed_arms, floors, chosen)
            memo += [(f"`{arm}` at width {width}, seed {seed}, {steps} steps", rows[-1]["memorisation"])
                     for arm, rows in sorted(seed_arms.items())]
    out = _width_lines(found, floors) + _budget_lines(found, floors)
    short = [f"width {width} at {steps} steps (seeds {', '.join(map(str, sorted(seeds)))})"
             for (width, steps), seeds in sorted(found.items()) if len(seeds) < TARGET_SEEDS]
    if short:
        out.append(f"- Fewer than the {TARGET_SEEDS} seeds of a verdict, so not yet a verdict there: "
                   f"{', '.join(short)}.")
    out.append("- " + memorisation_line(memo, "arms at the last checkpoint"))
    return out + ["", "Per seed:", "", *per_seed]


def _ratios(search, dense, floors):
    """Search over dense at the last checkpoint: held-out KID above its real-vs-real floor, train-split FID; and
    train-split FID at each arm's best save."""
    s, d = search[-1], dense[-1]
    return {"above": above(s["kid_valid"], d["kid_valid"], floors["kid_valid"][0]["value"]),
            "fid": s["fid_train"] / d["fid_train"], "best_fid": best(search)["value"] / best(dense)["value"]}


def _against_fair(width, steps, seed, seed_arms, floors, chosen):
    bracket_seed, name, lrs = chosen
    searches = sorted(arm for arm in seed_arms if not arm.startswith(DENSE))
    if name not in seed_arms or not searches:
        return []
    bracket = ", ".join(f"{lr:g}" for lr in lrs)
    fairness = "" if len(lrs) >= BRACKET else f" (only {len(lrs)} of the {BRACKET} lrs a fair arm needs)"
    where = "this seed (so it flatters dense here)" if seed == bracket_seed else f"seed {bracket_seed}"
    cells = []
    for arm in searches:
        r = _ratios(seed_arms[arm], seed_arms[name], floors)
        is_within = within(r["fid"], r["above"])
        cells.append(f"`{arm}` held-out KID above the floor {ratio_text(r['above'])}, "
                     f"train-split FID {r['fid']:.2f} at the last checkpoint (best saves: FID {r['best_fid']:.2f})"
                     + (f", within {TARGET:g}x" if is_within else ""))
    # the floors of the valid split: what unseen real digits score; a generator there is as good as the metric sees
    d_last = seed_arms[name][-1]
    at_floor = [f"{metric} {d_last[key]:.4g} (floor {floors[key][0]['value']:.4g})" for key, metric in
                (("kid_valid", "held-out KID"), ("fid_train", "train-split FID"))
                if d_last[key] <= floors[key][0]["value"] + (floors[key][0]["std"] or 0)]
    floor = (f" It is at the real-vs-real floor on {' and '.join(at_floor)}: a ratio to it compares the search with "
             "real digits." if at_floor else "")
    return [f"- Width {width}, {steps} steps, seed {seed}: the fair dense arm is `{name}`, chosen among lrs "
            f"{bracket}{fairness} on {where}."
            f"{floor} Search / it: " + "; ".join(cells) + "."]


def _fair_pairs(found):
    """(width, steps, seed, search arm, its rows, the fair dense arm's rows, that arm's name, the seed that chose it)
    for every search arm of `found` whose seed ran the fair dense arm of its width and budget."""
    for (width, steps), seeds in found.items():
        bracket_seed, name, _ = fair(seeds)
        for seed, seed_arms in seeds.items():
            for arm in (a for a in seed_arms if name in seed_arms and not a.startswith(DENSE)):
                yield width, steps, seed, arm, seed_arms[arm], seed_arms[name], name, bracket_seed


def _width_lines(found, floors):
    """Per budget and search arm, its train-split FID ratio to the fair dense arm against width (mean ± std over the
    seeds with a fair pairing, and the mean without the seed that chose the arm), the power law in width fitted to
    the means (how the fair gap changes with width), and the held-out KID above its floor as a ratio of the means and
    as the search's excess over dense paired by seed."""
    kid_floor = floors["kid_valid"][0]["value"]
    by_arm = {}
    for width, steps, seed, arm, search, dense, _, bracket_seed in _fair_pairs(found):
        kids = (search[-1]["kid_valid"], dense[-1]["kid_valid"])
        by_arm.setdefault((steps, arm), {}).setdefault(width, {})[seed] = (_ratios(search, dense, floors)["fid"],
                                                                           seed == bracket_seed, kids)
    out = []
    for (steps, arm), widths in sorted(by_arm.items()):
        if len(widths) < 2:
            continue
        ratios = {w: [fid for fid, _, _ in v.values()] for w, v in sorted(widths.items())}
        means = {w: mean_std(r)[0] for w, r in ratios.items()}
        a, widest = slope(list(means.items())), max(means)
        at = reach(widest, means[widest], a) if a < 0 and means[widest] > TARGET else None
        cells, kid_cells, diff_cells, met = [], [], [], []
        for w, r in ratios.items():
            unbiased = [fid for fid, chose, _ in widths[w].values() if not chose]
            cells.append(f"{fmt_mean_std(r, '.2f')} at width {w} ({len(r)} seed{'s' * (len(r) > 1)}"
                         + (f"; {mean_std(unbiased)[0]:.2f} without the seed that chose the dense arm"
                            if unbiased and len(unbiased) < len(r) else "") + ")")
            kid = mean_above([kids for _, _, kids in widths[w].values()], kid_floor)
            kid_cells.append(f"{ratio_text(kid)} at width {w}")
            # the ratio hides how noisy held-out KID is at 296 images: the paired difference shows it
            diffs = [search - dense for _, _, (search, dense) in widths[w].values()]
            mean, std = mean_std(diffs)
            diff_cells.append(f"{mean:+.4f}" + ("" if std is None else f" ± {std / len(diffs) ** 0.5:.4f}")
                              + f" at width {w}")
            if within(means[w], kid):
                met.append(w)
        word = f"within {TARGET:g}x at width {', '.join(map(str, met))}" if met else "behind at every width"
        out.append(f"- `{arm}` / the fair dense arm, {steps} steps: **{word}**. Train-split FID at the last "
                   "checkpoint: " + ", ".join(cells) + f": width^{a:+.2f} (the means), the gap "
                   f"{'grows' if a > 0 else 'shrinks'} with width"
                   + (f"; that law reaches {TARGET:g}x at width {at:.0f}" if at else "")
                   + ". Held-out KID above its floor, ratio of the means: " + ", ".join(kid_cells)
                   + "; search minus dense, paired by seed (mean ± standard error): " + ", ".join(diff_cells) + ".")
    return out


def _budget_lines(found, floors):
    """Per width and search arm run at two or more budgets (each budget a run of its own): its ratios to the fair
    dense arm of each budget at the last checkpoint, on the seeds every budget ran, how the gap moves with steps (over
    three budgets or more, its power law in steps: width_budget.budget_law), and whether each arm's train-split FID
    has flattened over the last two budgets (width_budget.FLAT)."""
    by = {}
    for width, steps, seed, arm, search, dense, name, _ in _fair_pairs(found):
        by.setdefault((width, arm), {}).setdefault(steps, {})[seed] = (search[-1], dense[-1], name)
    out = []
    for (width, arm), budgets in sorted(by.items()):
        budgets = sorted(budgets.items())
        common = sorted(set.intersection(*(set(seeds) for _, seeds in budgets)))
        if len(budgets) < 2 or not common:
            continue
        fids, kids, cells = [], [], []
        for steps, seeds in budgets:
            pairs = [seeds[s][:2] for s in common]
            fids.append(mean_std([t["fid_train"] / d["fid_train"] for t, d in pairs])[0])
            kids.append(mean_above([(t["kid_valid"], d["kid_valid"]) for t, d in pairs],
                                   floors["kid_valid"][0]["value"]))
            cells.append(f"{fids[-1]:.2f} on train-split FID and {ratio_text(kids[-1])} on held-out KID above its "
                         f"floor at {steps} steps (against `{seeds[common[0]][2]}`)")
        all_steps = [s for s, _ in budgets]
        laws = [f"{metric} ratio: {law}" for metric, law in (("the train-split FID", budget_law(all_steps, fids)),
                                                             ("the held-out KID", budget_law(all_steps, kids))) if law]
        moves = []
        for side, label in ((0, "the search"), (1, "dense")):
            before, after = (mean_std([seeds[s][side]["fid_train"] for s in common])[0] for _, seeds in budgets[-2:])
            moves.append(f"{label} {before:.1f} -> {after:.1f} ("
                         + ("flattened" if abs(after - before) < FLAT * before else "still moving") + ")")
        out.append(f"- `{arm}` / the fair dense arm at width {width} by budget, last checkpoint, seed"
                   f"{'s' * (len(common) > 1)} {', '.join(map(str, common))}: " + "; ".join(cells)
                   + f": the gap {direction(fids)} with steps"
                   + (" (fitted over the budgets: " + "; ".join(laws) + ")" if laws else "")
                   + f". Train-split FID from {budgets[-2][0]} to {budgets[-1][0]} steps: " + ", ".join(moves) + ".")
    return out


def evaluators(data, found):
    """Issue 25 item 7 on the resnet: per width and budget, the plain search against the fair dense arm of the
    studies' network (`found`: its `arms`) at the last checkpoint, under each evaluation network that scored both
    (second_network.py's JSONs in `data`, the kept points' folders); whether the verdict is the same under every
    network, where a network's own pick of the dense arm would differ, and the memorisation ratios."""
    scored = {}
    for folder in sorted(Path(data).iterdir()):
        m = FOLDER.fullmatch(folder.name)
        lever = m and m.group(4)
        if not m or m.group(3) or (lever and not lever.startswith(DENSE_LR_LEVER)):
            continue
        ticket, dense = scored.setdefault((int(m.group(1)), int(m.group(2))), ({}, {}))
        if not lever:
            ticket.update(second_network.records(folder, "k0.1"))
        dense[arm_name(lever, "dense")] = second_network.records(folder, "dense")
    out = []
    for (width, steps), (ticket, dense) in sorted(scored.items()):
        bracket_seed, name, _ = fair(found.get((width, steps), {}))
        by_network = network_agreement.by_network(ticket, dense.get(name, {}), "last")
        if not by_network:
            continue
        out += [] if out else [
            "Under every digits evaluation network: each network scores the same 1,501 images of each last checkpoint "
            "(`python benchmarks/second_network.py run --folders`, its docstring), the search against the fair dense "
            "arm above.", ""]
        seeds = sorted({seed for seed, network in ticket if (seed, network) in dense[name]})
        out.append(f"- Width {width}, {steps} steps, `{name}` (chosen on seed {bracket_seed}), seeds "
                   f"{', '.join(map(str, seeds))}: the verdict is {network_agreement.agreement(by_network)}. Search / "
                   "it at the last checkpoint:")
        for network, r in by_network.items():
            keys = [(s, network) for s in seeds if (s, network) in ticket and (s, network) in dense[name]]
            last = {arm: [records[k]["checkpoints"]["last"] for k in keys] for arm, records in (("search", ticket),
                                                                                             ("dense", dense[name]))}
            memo = [c["memorisation"] for checkpoints in last.values() for c in checkpoints]
            kids = {arm: records[bracket_seed, network]["checkpoints"]["last"]["kid_valid"]
                    for arm, records in dense.items() if (bracket_seed, network) in records}
            own = choose({bracket_seed: kids})[1] if kids else name  # the bracket seed unscored: no pick
            out.append(f"  - {network}: train-split FID {ratio_text(r['fid_train'])}, held-out KID above the "
                       f"floor {ratio_text(r['kid_valid'])}; memorisation ratios "
                       f"{min(memo):.2f}-{max(memo):.2f}"
                       + ("" if own == name else f"; this network's own pick on seed {bracket_seed} would be `{own}`")
                       + ".")
    return out
