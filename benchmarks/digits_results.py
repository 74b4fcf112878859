"""docs/results.md of the reproduction: statistics over seeds and the page's prose, from the files its sweeps wrote."""
import json
import os
import platform
import shlex
import statistics
from pathlib import Path

from digits_plan import ADVERSARIAL, DENSE_LR, GENERATOR, LONGER, MOMENTS, PRE, SLT_LR, SLT_RECIPE


def _mean_std(values, digits=1):
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def _configuration(row):
    return row["name"].rsplit("-s", 1)[0]  # the point's name without its seed


def _budget_effect(longer, slt01_rows, dense_mean):
    """How much of its seed's gap to the dense mean the longer search closed ('' without a longer run)."""
    for r in longer:
        same = [g for g in slt01_rows if g["seed"] == r["seed"]]
        if same and same[0]["fid"] > dense_mean:
            closed = (same[0]["fid"] - r["fid"]) / (same[0]["fid"] - dense_mean)
            return f" Doubling the search budget closed {closed:.0%} of seed {r['seed']}'s gap."
    return ""


def _rows(out, planned):
    """One row per point of the sweeps, in table order: what its done.json, digits_fid.json, ticket and the
    sweep's compare.json (kept counts) say."""
    # loads torch: lazy, as study_cli's docstring says why
    from studiogan_slt.sweep.point import done_record

    compare = {}
    for folder in {sweep.folder for sweep, _ in planned}:
        for row in json.loads((out / folder / "compare.json").read_text()):
            compare[str(Path(row["save_dir"]).resolve())] = row
    rows = []
    for sweep, points in planned:
        for point in points:
            save = (out / sweep.folder / point.name).resolve()
            record = done_record(save)
            res = json.loads((save / "statistics" / record["run"] / "digits_fid.json").read_text())
            cmp, ticket, seconds = compare.get(str(save), {}), save / "ticket.slt", record["seconds"]
            rows.append({"name": point.name, "section": sweep.section, "seed": point.seed,
                         "steps": point.sections["OPTIMIZATION"]["total_steps"],
                         "k": point.sections["SLT"]["k"] if point.masked else 1.0, "fid": res["fid"],
                         "covered": res["classes_covered"], "tv": res["hist_tv"], "hist": res["hist"],
                         "images": (res["num_fake"], res["num_real"]), "floor": res["floors"]["fid"][0],
                         "train": seconds["train"], "evaluate": sum(v for k, v in seconds.items() if k != "train"),
                         "kept": cmp.get("kept"), "total": cmp.get("total"),
                         "ticket_bytes": ticket.stat().st_size if ticket.is_file() else None})
    sections = list(dict.fromkeys(sweep.section for sweep, _ in planned))
    return sorted(rows, key=lambda r: (sections.index(r["section"]), -r["k"]))  # stable: seeds stay in order


def summarize(out, planned, commands, args):
    """docs/results.md from the points of the sweeps ([(Sweep, its points)]) and the `sweep` commands that made
    them; every number is read, none typed."""
    rows = _rows(out, planned)
    if len({round(r["floor"]["value"], 1) for r in rows}) > 1:  # at the precision the page prints
        raise SystemExit("the points were scored by different evaluation networks (their real-vs-real floors "
                         "differ); run them again with one --digits-net")
    real, (num_fake, num_real) = rows[0]["floor"], rows[0]["images"]
    groups = {}
    for r in rows:
        groups.setdefault(_configuration(r), []).append(r)

    def fids(configuration):
        return [r["fid"] for r in groups[configuration]]

    dense, slt01 = fids("MM-dense"), fids("MM-SLT-k0.1")
    dense_steps = groups["MM-dense"][0]["steps"]
    control_steps = groups["MM-dense-untrained"][0]["steps"]
    controls = {"random mask at k = 0.1": fids("MM-SLT-random-mask-k0.1"),
                "untrained dense generator": fids("MM-dense-untrained")}
    gap = statistics.mean(slt01) / statistics.mean(dense) - 1.0
    held = gap <= 0.10
    ratios = {name: statistics.mean(v) / statistics.mean(dense) for name, v in controls.items()}
    adv_dense, adv_slt = fids("ADV-DCGAN-dense"), fids("ADV-DCGAN-SLT-k0.1")
    # history under today's verdict (study_cli.RESULTS_ORDER): its sections a level below the page's
    lines = ["## History: the first reproduction on digits, is the k = 0.1 ticket as good as the dense generator?", "",
             "Written by `benchmarks/reproduce_digits.py` from the output files of its `studiogan-slt sweep` runs; no "
             f"number here is typed by hand. Metric: FID between {num_fake} generated images and the {num_real}-image "
             "digits valid split on an evaluation network that is not the loss's extractor (`studiogan-slt "
             f"digits-fid`, lower is better; real against real, {real['sample']}: {real['value']:.1f} ± "
             f"{real['std']:.1f}), and the class histogram under that network.", "",
             "### Verdict", "",
             f"- **Claim: \"SLT at k = 0.1 matches the dense moment-matching generator\" "
             f"{'held' if held else 'did not hold'} here.** Ticket (moment-matching search, {len(slt01)} seeds): "
             f"FID {_mean_std(slt01)}; dense generator trained with the same loss, generator and step budget "
             f"({len(dense)} seeds): {_mean_std(dense)}. The ticket's mean FID is {abs(gap):.1%} "
             f"{'lower (better)' if gap < 0 else 'higher (worse)'} than dense (target: at most 10% higher).",
             "- Controls: " + "; ".join(f"{name} {_mean_std(v)} ({ratios[name]:.1f}x dense)"
                                        for name, v in controls.items())
             + f" (target: both at least 2x worse): **{'met' if min(ratios.values()) >= 2 else 'missed'}**.",
             f"- Adversarial search (StudioGAN DCGAN, same step budget): dense {_mean_std(adv_dense)}, SLT k = 0.1 "
             f"{_mean_std(adv_slt)}."]
    longer = [r for r in rows if r["section"] == LONGER]
    for r in longer:
        steps = r["steps"]
        lines.append(f"- Longer search: one k = 0.1 ticket searched for {steps} steps "
                     f"({steps / dense_steps:.1f}x the budget) reaches FID {r['fid']:.1f}, "
                     f"{r['fid'] / statistics.mean(dense) - 1:+.1%} against the dense mean at the common budget.")
    if not held:
        k01 = groups["MM-SLT-k0.1"][0]
        lines.append(f"- Tried before this study ([recipe-study.md](recipe-study.md)): score and weight inits, score "
                     "learning rates, cosine decay, AMA on/off, a 2x wider generator. Likely cause of the gap, "
                     f"more capacity than budget: the generator is small ({k01['total']:,} weights and biases, "
                     f"{k01['kept']:,} kept at k = 0.1; the paper's have millions), and a strong ticket's existence "
                     "rests on over-parameterisation." + _budget_effect(longer, groups["MM-SLT-k0.1"],
                                                                              statistics.mean(dense)))
    lines += ["", "### Summary (mean ± std over seeds where several were run)", "",
              "| configuration | k | seeds | digits FID | classes covered | class-histogram TV | kept / total (G) | "
              "ticket bytes |", "|---|---|---|---|---|---|---|---|"]
    for name, group in groups.items():
        first = group[0]
        kept = f"{first['kept']:,} / {first['total']:,}" if first["kept"] else "dense"
        lines.append(f"| {name} | {first['k']} | {len(group)} | {_mean_std([r['fid'] for r in group])} | "
                     f"{_mean_std([r['covered'] for r in group])} | {_mean_std([r['tv'] for r in group], 3)} | "
                     f"{kept} | {first['ticket_bytes'] or '-'} |")
    lines += ["", "![digits FID against k](fid_vs_k.png)", "", "(regenerated by the command of How it was run, below)", "",
              "### Every run", "",
              "| run | steps | digits FID | class histogram (0-9) | train s | evaluate s |",
              "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['steps']} | {r['fid']:.1f} | {r['hist']} | {r['train']:.0f} | "
                     f"{r['evaluate']:.0f} |")
    run_time = sum(r["train"] + r["evaluate"] for r in rows)
    lines += ["", "### Recipe (the constants of benchmarks/digits_plan.py)", "",
              f"- Data: the digits of `studiogan-slt data digits` at 32x32, StudioGAN `PRE: {json.dumps(PRE)}` (no "
              "random mirroring: a mirrored digit is not a digit).",
              f"- Generator (StudioGAN MODEL section): `{json.dumps(GENERATOR)}`; batch 64, Adam betas (0.5, 0.999).",
              f"- Moment matching (SLT.moments): `{json.dumps(MOMENTS)}`, extractor: the digits CNN of "
              "`studiogan-slt extractor digits`, every ReLU of its conv trunk, BatchNorm in train mode.",
              f"- Dense arm: Adam lr {DENSE_LR} on the weights. SLT arm: Adam lr {SLT_LR} on the scores, "
              f"`{json.dumps(SLT_RECIPE)}`. Controls: the same configs with g_lr 0 and {control_steps} steps (BN "
              "running statistics only).",
              f"- Adversarial arm: `{json.dumps(ADVERSARIAL)}`; the SLT run uses the same SLT options.",
              "", "### How it was run", "",
              f"- Command: `python benchmarks/reproduce_digits.py {' '.join(args)}`: {run_time / 60:.0f} min of "
              "single-threaded run time in all (train + evaluate, summed over the points' done.json; a point resumed "
              "after a stop counts its last attempt only). Each sweep runs --jobs points at a time, the sweeps one "
              "after another.",
              f"- Machine: {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), no GPU; "
              f"Python {platform.python_version()}, torch {_torch_version()}.",
              "- The sweeps, in this order (OUT is --out; OUT/configs holds the YAMLs, and each point's YAML, "
              "point.log and done.json are in OUT/points/<point>/, the longer search's in OUT/longer/<point>/):",
              *[f"  - `studiogan-slt {shlex.join(map(str, c)).replace(str(out), 'OUT')}`" for c in commands],
              f"- Each point: `train` with the sweep's flags and `--seed S`, `eval -sf -sf_num {num_fake} -metrics none` "
              "(plus --eval-flags) of its checkpoint, `export` of its ticket (SLT points), `digits-fid` of the samples on the network of "
              "--digits-net (one for all points); after each sweep, `compare` and `plot` over its -save. "
              "fid_vs_k.png and fid_vs_k.csv here are OUT/points' (every point but the longer search)."]
    return "\n".join(lines) + "\n"


def _torch_version():
    import torch

    return torch.__version__
