"""docs/results.md of the reproduction: statistics over seeds and the page's prose, from the runs' files."""
import json
import os
import platform
import statistics

from digits_plan import ADVERSARIAL, DENSE_LR, GENERATOR, LONGER, MOMENTS, PRE, SLT_LR, SLT_RECIPE


def _mean_std(values, digits=1):
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def _configuration(spec):
    return spec.name.rsplit("-s", 1)[0]  # the name without its seed


def _k(spec):
    slt = spec.yaml.get("SLT") or {}
    return 1.0 if slt.get("train_mode", "dense_moment_matching") == "dense_moment_matching" else slt["k"]


def _budget_effect(longer, slt01_rows, dense_mean):
    """How much of its seed's gap to the dense mean the longer search closed ('' without a longer run)."""
    for r in longer:
        same = [g for g in slt01_rows if g["spec"].seed == r["spec"].seed]
        if same and same[0]["fid"] > dense_mean:
            closed = (same[0]["fid"] - r["fid"]) / (same[0]["fid"] - dense_mean)
            return f" Doubling the search budget closed {closed:.0%} of seed {r['spec'].seed}'s gap."
    return ""


def summarize(out, specs, compare_rows, args):
    """docs/results.md from the runs' result files and `compare --json`; every number is read, none typed."""
    by_name = {row["run"].split("-train-")[0].replace("DIGITS-", ""): row for row in compare_rows}
    rows = []
    for spec in specs:
        save = out / "runs" / spec.name
        res = json.loads((save / "digits_fid.json").read_text())
        cmp = by_name.get(spec.name, {})
        ticket = save / "ticket.slt"
        rows.append({"spec": spec, "fid": res["fid"], "covered": res["classes_covered"], "tv": res["hist_tv"],
                     "hist": res["hist"], "wall": res["wall_seconds"], "kept": cmp.get("kept"),
                     "total": cmp.get("total"), "ticket_bytes": ticket.stat().st_size if ticket.is_file() else None})
    groups = {}
    for r in rows:
        groups.setdefault(_configuration(r["spec"]), []).append(r)

    def fids(configuration):
        return [r["fid"] for r in groups[configuration]]

    dense, slt01 = fids("MM-dense"), fids("MM-SLT-k0.1")
    dense_steps = groups["MM-dense"][0]["spec"].yaml["OPTIMIZATION"]["total_steps"]
    control_steps = groups["MM-dense-untrained"][0]["spec"].yaml["OPTIMIZATION"]["total_steps"]
    controls = {"random mask at k = 0.1": fids("MM-SLT-k0.1-random-mask"),
                "untrained dense generator": fids("MM-dense-untrained")}
    gap = statistics.mean(slt01) / statistics.mean(dense) - 1.0
    held = gap <= 0.10
    ratios = {name: statistics.mean(v) / statistics.mean(dense) for name, v in controls.items()}
    adv_dense, adv_slt = fids("ADV-DCGAN-dense"), fids("ADV-DCGAN-SLT-k0.1")
    real = json.loads((out / "real_train_fid.json").read_text())
    lines = ["# Reproduction on digits: is the k = 0.1 ticket as good as the dense generator?", "",
             "Written by `benchmarks/reproduce_digits.py` from the runs' output files; no number here is typed by "
             "hand. Metric: FID between 296 generated images and the 296-image digits valid split on an evaluation "
             "network that is not the loss's extractor (`studiogan-slt digits-fid`, lower is better; 296 real "
             f"train images, a seeded random sample, score {real['fid']:.1f}), and the class histogram under that "
             "network.", "",
             "## Verdict", "",
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
    longer = [r for r in rows if r["spec"].group == LONGER]
    for r in longer:
        steps = r["spec"].yaml["OPTIMIZATION"]["total_steps"]
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
    lines += ["", "## Summary (mean ± std over seeds where several were run)", "",
              "| configuration | k | seeds | digits FID | classes covered | class-histogram TV | kept / total (G) | "
              "ticket bytes |", "|---|---|---|---|---|---|---|---|"]
    for name, group in groups.items():
        first = group[0]
        kept = f"{first['kept']:,} / {first['total']:,}" if first["kept"] else "dense"
        lines.append(f"| {name} | {_k(first['spec'])} | {len(group)} | {_mean_std([r['fid'] for r in group])} | "
                     f"{_mean_std([r['covered'] for r in group])} | {_mean_std([r['tv'] for r in group], 3)} | "
                     f"{kept} | {first['ticket_bytes'] or '-'} |")
    lines += ["", "![digits FID against k](fid_vs_k.png)", "", "## Every run", "",
              "| run | steps | digits FID | class histogram (0-9) | train s | evaluate s |",
              "|---|---|---|---|---|---|"]
    for r in rows:
        s = r["spec"]
        lines.append(f"| {s.name} | {s.yaml['OPTIMIZATION']['total_steps']} | {r['fid']:.1f} | {r['hist']} | "
                     f"{r['wall']['train']:.0f} | {r['wall']['evaluate']:.0f} |")
    run_time = sum(sum(r["wall"].values()) for r in rows)
    lines += ["", "## Recipe (the constants of benchmarks/digits_plan.py)", "",
              f"- Data: the digits of `studiogan-slt data digits` at 32x32, StudioGAN `PRE: {json.dumps(PRE)}` (no "
              "random mirroring: a mirrored digit is not a digit).",
              f"- Generator (StudioGAN MODEL section): `{json.dumps(GENERATOR)}`; batch 64, Adam betas (0.5, 0.999).",
              f"- Moment matching (SLT.moments): `{json.dumps(MOMENTS)}`, extractor: the digits CNN of "
              "`studiogan-slt extractor digits`, every ReLU of its conv trunk, BatchNorm in train mode.",
              f"- Dense arm: Adam lr {DENSE_LR} on the weights. SLT arm: Adam lr {SLT_LR} on the scores, "
              f"`{json.dumps(SLT_RECIPE)}`. Controls: the same configs with g_lr 0 and {control_steps} steps (BN "
              "running statistics only).",
              f"- Adversarial arm: `{json.dumps(ADVERSARIAL)}`; the SLT run uses the same SLT options.",
              "", "## How it was run", "",
              f"- Command: `python benchmarks/reproduce_digits.py {' '.join(args)}`: {run_time / 60:.0f} min of "
              f"single-threaded run time in all (train + evaluate, summed over runs; the study runs two at a time, "
              f"so about {run_time / 120:.0f} min of wall time).",
              f"- Machine: {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), no GPU; "
              f"Python {platform.python_version()}, torch {_torch_version()}.",
              "- Per run: `studiogan-slt train -cfg RUN.yaml -data DATA -save SAVE --num_workers 1 -metrics none "
              "--seed S`, `studiogan-slt eval ... -ckpt CKPT -sf -sf_num 296 -ref valid`, `studiogan-slt export "
              "-ckpt CKPT -o ticket.slt` (SLT runs), `studiogan-slt digits-fid SAVE/samples/RUN/fake --out "
              "SAVE/statistics/RUN/digits_fid.json`; each run's YAML and command log are in its SAVE folder.",
              "- Then `studiogan-slt compare runs/*` and `studiogan-slt plot runs/* --metric digits_FID "
              "-o docs/fid_vs_k.png --csv docs/fid_vs_k.csv --log-y`."]
    return "\n".join(lines) + "\n"


def _torch_version():
    import torch

    return torch.__version__
