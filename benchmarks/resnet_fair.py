"""Issue 25's fair dense arm on StudioGAN's resnet G, read from search_curves.py's kept points: at each width, budget
and seed, dense at every lr of its bracket (the plain folder's DENSE_LR and the dense-only folders of
`search_curves.py run --dense-lrs`), the fair arm being the one with the lowest held-out KID at its last checkpoint;
then every search arm of the same seed against it, at the last checkpoint and at the best save by train-split FID
(the save a sweep keeps, picked by the metric it reports: it flatters both arms). Only points that carry the held-out
metrics count: the points kept before issue 25 have none. `evaluators` reads the same pairing under every digits
evaluation network, from second_network.py's scores of the points' checkpoints."""
import re
from pathlib import Path

import network_agreement
import second_network
from digits_plan import DENSE_LR
from study_cli import MEMORISATION_FLAG, TARGET, TARGET_SEEDS, best, finished
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


def _ratio(a, b):
    """a / b, or None where b is at or below 0 (held-out KID at the floor: the ratio means nothing there)."""
    return a / b if b > 0 else None


def _cell(value, spec):
    return "-" if value is None else format(value, spec)


def fair(seed_arms):
    """(the fair dense arm's name, the lrs bracketed): the dense arm with the lowest held-out KID at its last
    checkpoint."""
    dense = {arm: rows for arm, rows in seed_arms.items() if arm.startswith(DENSE)}
    if not dense:
        return None, []
    return min(dense, key=lambda arm: dense[arm][-1]["kid_valid"]), sorted(float(a[len(DENSE):]) for a in dense)


def lines(kept, network, floors):
    """The section of search-curves.md: a table of every arm at its last checkpoint and best save, then `readings`."""
    found = arms(kept, network)
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
    """Each search arm of `found` (`arms`) against the fair dense arm of its width, budget and seed, saying where
    that arm is at a real-vs-real floor (`floors`: digits_metrics.floors), and the memorisation ratios."""
    if not found:
        return []
    out, low = [], []
    for (width, steps), seeds in sorted(found.items()):
        for seed, seed_arms in sorted(seeds.items()):
            out += _against_fair(width, steps, seed, seed_arms, floors)
            low += [f"`{arm}` at width {width}, seed {seed} ({rows[-1]['memorisation']:.2f})"
                    for arm, rows in sorted(seed_arms.items()) if rows[-1]["memorisation"] < MEMORISATION_FLAG]
    out += _width_lines(found, floors)
    seeds = max(len(s) for s in found.values())
    if seeds < TARGET_SEEDS:
        out.append(f"- At most {seeds} of the {TARGET_SEEDS} seeds of a verdict at any width: these are brackets, not "
                   "yet a verdict.")
    memo = [rows[-1]["memorisation"] for seeds in found.values() for s in seeds.values() for rows in s.values()]
    out.append(f"- Memorisation ratios at the last checkpoint {min(memo):.2f}-{max(memo):.2f}: "
               + (f"below {MEMORISATION_FLAG:g}, closer to the training digits than unseen digits are: "
                  + ", ".join(low) + "." if low else f"every arm at or above {MEMORISATION_FLAG:g}, none copies the "
                                                     "training digits."))
    return out


def _ratios(search, dense, floors):
    """Search over dense at the last checkpoint: held-out KID (None where dense is at or below 0), held-out KID above
    its real-vs-real floor, train-split FID; and train-split FID at each arm's best save."""
    kid_floor = floors["kid_valid"][0]["value"]
    s, d = search[-1], dense[-1]
    return {"kid": _ratio(s["kid_valid"], d["kid_valid"]),
            "above": _ratio(s["kid_valid"] - kid_floor, d["kid_valid"] - kid_floor),
            "fid": s["fid_train"] / d["fid_train"], "best_fid": best(search)["value"] / best(dense)["value"]}


def _against_fair(width, steps, seed, seed_arms, floors):
    name, lrs = fair(seed_arms)
    searches = sorted(arm for arm in seed_arms if not arm.startswith(DENSE))
    if name is None or not searches:
        return []
    bracket = ", ".join(f"{lr:g}" for lr in lrs)
    fairness = "" if len(lrs) >= BRACKET else f" (only {len(lrs)} of the {BRACKET} lrs a fair arm needs)"
    cells = []
    for arm in searches:
        r = _ratios(seed_arms[arm], seed_arms[name], floors)
        within = r["kid"] is not None and r["kid"] <= TARGET and r["fid"] <= TARGET
        cells.append(f"`{arm}` held-out KID {_cell(r['kid'], '.2f')} (above the floor: {_cell(r['above'], '.2f')}), "
                     f"train-split FID {r['fid']:.2f} at the last checkpoint (best saves: FID {r['best_fid']:.2f})"
                     + (f", within {TARGET:g}x" if within else ""))
    # the floors of the valid split: what unseen real digits score; a generator there is as good as the metric sees
    d_last = seed_arms[name][-1]
    at_floor = [f"{metric} {d_last[key]:.4g} (floor {floors[key][0]['value']:.4g})" for key, metric in
                (("kid_valid", "held-out KID"), ("fid_train", "train-split FID"))
                if d_last[key] <= floors[key][0]["value"] + (floors[key][0]["std"] or 0)]
    floor = (f" It is at the real-vs-real floor on {' and '.join(at_floor)}: a ratio to it compares the search with "
             "real digits." if at_floor else "")
    return [f"- Width {width}, {steps} steps, seed {seed}: the fair dense arm is `{name}` of lrs {bracket}{fairness}."
            f"{floor} Search / it: " + "; ".join(cells) + "."]


def _width_lines(found, floors):
    """Per budget and search arm, its train-split FID ratio to the fair dense arm against width (mean over the seeds
    with a fair pairing), and the power law in width fitted to it: how the fair gap changes with width."""
    by_arm = {}
    for (width, steps), seeds in found.items():
        for seed_arms in seeds.values():
            name, _ = fair(seed_arms)
            for arm in (a for a in seed_arms if name and not a.startswith(DENSE)):
                fid = _ratios(seed_arms[arm], seed_arms[name], floors)["fid"]
                by_arm.setdefault((steps, arm), {}).setdefault(width, []).append(fid)
    out = []
    for (steps, arm), widths in sorted(by_arm.items()):
        if len(widths) < 2:
            continue
        means = {w: sum(v) / len(v) for w, v in sorted(widths.items())}
        a, widest = slope(list(means.items())), max(means)
        at = reach(widest, means[widest], a) if a < 0 and means[widest] > TARGET else None
        out.append(f"- `{arm}` / the fair dense arm, {steps} steps, train-split FID at the last checkpoint: "
                   + ", ".join(f"{m:.2f} at width {w} ({len(widths[w])} seed{'s' * (len(widths[w]) > 1)})"
                               for w, m in means.items())
                   + f": width^{a:+.2f}, the gap {'grows' if a > 0 else 'shrinks'} with width"
                   + (f"; that law reaches {TARGET:g}x at width {at:.0f}" if at else "") + ".")
    return out


def evaluators(data):
    """Issue 25 item 7 on the resnet: per width and budget, the plain search against the fair dense arm at the last
    checkpoint under each evaluation network that scored both (second_network.py's JSONs in `data`, the kept points'
    folders), the fair arm picked under each network by that network's own held-out KID; whether the verdict is the
    same under every network, and the memorisation ratios."""
    found = {}
    for folder in sorted(Path(data).iterdir()):
        m = FOLDER.fullmatch(folder.name)
        lever = m and m.group(4)
        if not m or m.group(3) or (lever and not lever.startswith(DENSE_LR_LEVER)):
            continue
        ticket, dense = found.setdefault((int(m.group(1)), int(m.group(2))), ({}, {}))
        if not lever:
            ticket.update(second_network.records(folder, "k0.1"))
        dense[arm_name(lever, "dense")] = second_network.records(folder, "dense")
    out = []
    for (width, steps), (ticket, dense) in sorted(found.items()):
        fair, names = {}, {}
        for key in ticket:
            scored = {arm: records[key] for arm, records in dense.items() if key in records}
            if scored:
                names[key] = min(scored, key=lambda arm: scored[arm]["checkpoints"]["last"]["kid_valid"])
                fair[key] = scored[names[key]]
        by_network = network_agreement.by_network(ticket, fair, "last")
        if not by_network:
            continue
        seeds = sorted({seed for seed, network in fair if network in by_network})
        out += [] if out else [
            "Under every digits evaluation network: each network scores the same 1,501 images of each last checkpoint "
            "(`python benchmarks/second_network.py run --folders`, its docstring), and the fair dense arm is picked "
            "under each network by that network's own held-out KID.", ""]
        out.append(f"- Width {width}, {steps} steps, seeds {', '.join(map(str, seeds))}: the verdict is "
                   f"{network_agreement.agreement(by_network)}. Search / the fair dense arm at the last checkpoint:")
        for network, r in by_network.items():
            keys = [(s, network) for s in seeds if (s, network) in fair]
            last = {name: [arm[k]["checkpoints"]["last"] for k in keys] for name, arm in (("search", ticket),
                                                                                        ("dense", fair))}
            kid_floor = ticket[keys[0]]["floors"]["kid_valid"][0]["value"]  # each network has its own floors
            above = _ratio(*(sum(c["kid_valid"] for c in last[name]) / len(keys) - kid_floor
                             for name in ("search", "dense")))
            memo = [c["memorisation"] for checkpoints in last.values() for c in checkpoints]
            out.append(f"  - {network}: train-split FID {_cell(r['fid_train'], '.2f')}, held-out KID "
                       f"{_cell(r['kid_valid'], '.2f')} (above the floor: {_cell(above, '.2f')}); fair arm "
                       + ", ".join(f"`{c}`" for c in sorted({names[k] for k in keys}))
                       + f"; memorisation ratios {min(memo):.2f}-{max(memo):.2f}.")
    return out
