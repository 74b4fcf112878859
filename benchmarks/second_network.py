"""Issue 25 item 7: does the DCGAN verdict of adversarial_study.py hold at each arm's last checkpoint, and under
other evaluation networks? For every finished point of the given variants, the last checkpoint (and the best one,
where it is another step) generates 1,501 images per draw of latents (`studiogan-slt eval -sf --seed`, --draws of
them), and every evaluation network (digits_eval.NETWORKS: lenet, strided, mlp) scores the same images
(`studiogan-slt digits-fid`).

    python benchmarks/second_network.py run --out /work/adv-mm /work/adv-dense-mm-lr0.0005 \
        --variants mm dense-mm-lr0.0005 --steps 1200 --draws 3  # resumable; reads the points, never writes there
    python benchmarks/second_network.py report --ticket mm --dense dense-mm-lr0.0005 --steps 1200

`run` writes one JSON per point and network, DATA/<variant>-<steps>steps/<point>-on-<network>.json (DATA:
docs/adversarial-study-data, committed beside the point's curve), adding the draws a JSON lacks (one write per
draw); its scratch (copied checkpoints, images) goes under --scratch. `report` pairs ticket and dense by seed and splices its block into
docs/results.md.
"""
import argparse
import json
import re
import shutil
import sys
import time
from pathlib import Path

from study_cli import MEMORISATION_FLAG, TARGET, TARGET_SEEDS, cli, floor_lines, mean_std, splice

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "docs" / "adversarial-study-data"
IMAGES = 1501  # the digits train split: the train-split FID needs as many generated images
CHECKPOINTS = {"last": "current", "best": "best"}  # the name in the JSON: StudioGAN's file name (run_files)
METRICS = {"fid_train": "train-split FID", "kid": "KID", "kid_valid": "held-out KID"}
KEPT = ("fid", "fid_train", "kid", "kid_std", "kid_valid", "kid_valid_std", "memorisation", "classes_covered",
        "network", "seconds")  # network: the version digits_eval names it by; seconds: digits-fid's
NAME = re.compile(r"(.+)-s(\d+)-on-([a-z]+)")


def _networks():
    sys.path.insert(0, str(ROOT))
    from studiogan_slt.metrics.digits_eval import NETWORKS

    return list(NETWORKS)


def _step(point, when):
    from studiogan_slt.studiogan import run_files

    return run_files.complete_step(run_files.checkpoint_folders(point)[0], when)


def _images(point, when, draw, scratch, data, log):
    """The folder of IMAGES images that the point's checkpoint `when` generates from the latents of `draw`, made on
    first use. StudioGAN's eval reloads the best checkpoint after loading the one asked for, whenever one exists
    (loader.py:443), so the checkpoint's files are copied alone into a folder of their own: that also leaves the
    point's folder untouched by run_files.settle, which may remove files there."""
    from studiogan_slt.studiogan import run_files

    ckpt, step = run_files.checkpoint_folders(point)[0], _step(point, when)
    fake = scratch / "samples" / ckpt.name / "fake"
    if fake.is_dir() and sum(1 for _ in fake.rglob("*.png")) >= IMAGES:
        return step, fake, None  # made by an earlier sitting, whose time is not known
    if scratch.exists():
        shutil.rmtree(scratch)  # a cut-off eval: StudioGAN's save_images_png refuses an existing folder
    copy = scratch / "checkpoints" / ckpt.name
    copy.mkdir(parents=True)
    for (_, s), path in run_files.files(ckpt, when).items():
        if s == step:
            shutil.copy2(path, copy)
    start = time.time()
    cli(["eval", "-cfg", point / f"{point.name}.yaml", "-data", data, "-save", scratch, "-ckpt", copy,
         "--seed", latent_seed(point.name, draw), "-sf", "-sf_num", IMAGES, "-metrics", "none",
         *(["-best"] if when == run_files.BEST else [])], log=log)
    return step, fake, round(time.time() - start, 1)


def latent_seed(point_name, draw):
    """The seed StudioGAN's eval draws the latents of `draw` with: draw 0 the point's own seed (the first sitting's
    scores), each further draw 1000 past the last, so that no two points' draws share latents."""
    return int(re.search(r"-s(\d+)$", point_name).group(1)) + 1000 * draw


def _score(fake, network, log):
    out = fake.parents[2] / f"digits-fid-{network}.json"
    if not out.is_file():
        cli(["digits-fid", fake, "--network", network, "--out", out], log=log)
    return json.loads(out.read_text())


def _drawn(record):
    """How many latent draws every checkpoint of a kept record has (0: none kept)."""
    return min((len(c["draws"]) for c in record["checkpoints"].values()), default=0) if record else 0


def _add_draw(record, point, network, draw, scored):
    """The record with one more draw per checkpoint; each metric's value at a checkpoint is its mean over draws."""
    record = record or {"point": point, "images": IMAGES, "network": network,
                        "floors": scored["last"][2]["floors"], "checkpoints": {}}
    for label, (step, seconds, r) in scored.items():
        kept = record["checkpoints"].setdefault(label, {"step": step, "draws": []})
        kept["draws"].append({"latent_seed": latent_seed(point, draw), "eval_seconds": seconds,
                              **{k: r[k] for k in KEPT}})
        kept.update({m: mean_std([d[m] for d in kept["draws"]])[0] for m in (*METRICS, "fid", "memorisation")})
    return record


def run(a):
    from studiogan_slt import atomic
    from studiogan_slt.sweep.point import DONE

    networks, scratch = _networks(), Path(a.scratch).resolve()
    for out in map(Path, a.out):
        for variant in a.variants:
            folder = f"{variant}-{a.steps}steps"
            for done in sorted((out / folder / "points").glob(f"*/{DONE}")):
                point = done.parent
                targets = {n: Path(a.data) / folder / f"{point.name}-on-{n}.json" for n in networks}
                kept = {n: json.loads(t.read_text()) if t.is_file() else None for n, t in targets.items()}
                for draw in range(a.draws):
                    lacking = [n for n in networks if _drawn(kept[n]) == draw]
                    if not lacking:
                        continue
                    work = scratch / folder / point.name / f"z{draw}"
                    work.mkdir(parents=True, exist_ok=True)
                    with open(work / "log.txt", "a") as log:
                        made = {}
                        for label, when in CHECKPOINTS.items():  # a best save that is the last one is scored once
                            same = [found for found in made.values() if found[0] == _step(point, when)]
                            made[label] = same[0] if same else _images(point, when, draw, work / label,
                                                                       out / "data", log)
                        for network in lacking:
                            scored = {label: (step, seconds, _score(fake, network, log))
                                      for label, (step, fake, seconds) in made.items()}
                            kept[network] = _add_draw(kept[network], point.name, network, draw, scored)
                            targets[network].parent.mkdir(parents=True, exist_ok=True)
                            atomic.write_text(targets[network], json.dumps(kept[network], indent=1) + "\n")
                            print(f"wrote {targets[network]} (draw {draw})", flush=True)
                    shutil.rmtree(work)  # 1,501 images per checkpoint and draw: the scores are what is kept


def records(data, variant, steps):
    """{(seed, network): record} of the JSONs `run` kept for one variant and budget."""
    found = {}
    for path in sorted((Path(data) / f"{variant}-{steps}steps").glob("*-on-*.json")):
        m = NAME.fullmatch(path.stem)
        if m:
            found[int(m.group(2)), m.group(3)] = json.loads(path.read_text())
    return found


def ratios(ticket, dense, network, checkpoint):
    """{metric: (per-seed ratios, ratio over seeds)} of ticket over dense at the seeds both have under `network`:
    the train-split FID's over seeds is the mean of the per-seed ratios, a KID's the ratio of the means (as
    study_cli.gap), since a KID near 0 makes a per-seed ratio noise. None where the dense mean is not above 0."""
    seeds = sorted(s for s, n in ticket if n == network and (s, n) in dense)
    found = {}
    for metric in METRICS:
        pairs = [(ticket[s, network]["checkpoints"][checkpoint][metric],
                  dense[s, network]["checkpoints"][checkpoint][metric]) for s in seeds]
        per_seed = [t / d if d > 0 else None for t, d in pairs]
        if metric == "fid_train":
            over = mean_std(per_seed)[0] if pairs and None not in per_seed else None
        else:
            dense_mean = mean_std([d for _, d in pairs])[0] if pairs else 0
            over = mean_std([t for t, _ in pairs])[0] / dense_mean if dense_mean > 0 else None
        found[metric] = (dict(zip(seeds, per_seed)), over)
    return found


def by_network(ticket, dense, checkpoint):
    """{network: {metric: ratio over seeds}} at `checkpoint`, for the networks under which both arms have paired
    seeds: agreement()'s input."""
    found = {n: ratios(ticket, dense, n, checkpoint) for n in sorted({n for _, n in ticket} & {n for _, n in dense})}
    return {n: {metric: over for metric, (_, over) in r.items()} for n, r in found.items() if r["fid_train"][0]}


def verdict(ratio):
    """The ticket against dense on one metric: within TARGET either way, ahead, behind (None: no ratio)."""
    if ratio is None:
        return None
    return "behind" if ratio > TARGET else "ahead" if ratio < 1 / TARGET else f"within {TARGET}x"


def agreement(by_network):
    """The sentence saying whether each metric's verdict is the same under every network, from {network: {metric:
    ratio over seeds}} of one checkpoint."""
    names = sorted(by_network)
    if len(names) < 2:
        return f"not checked: paired seeds under {' and '.join(names) or 'no network'} only"
    same, flips, none = [], [], []
    for metric, label in METRICS.items():
        words = {n: verdict(by_network[n][metric]) for n in names}
        if None in words.values():
            none.append(f"{label} under {' and '.join(n for n in names if words[n] is None)}")
            continue
        text = ", ".join(f"{words[n]} under {n}" for n in names)
        (same if len(set(words.values())) == 1 else flips).append(f"{label} ({text})")
    lines = []  # a flip first: it is what the check is for
    if flips:
        lines.append(f"NOT the same on {'; '.join(flips)}: a verdict that flips between networks is not a verdict")
    if same:
        lines.append(f"the same under {' and '.join(names)} on {'; '.join(same)}")
    if none:  # a dense mean at or below 0, where real digits score too (the KID floors are negative)
        lines.append(f"without a ratio on {'; '.join(none)} (the dense arm's mean is at or below 0)")
    return "; ".join(lines)


def _cell(ratio):
    return "-" if ratio is None else f"{ratio:.2f}"


def lines(ticket_name, dense_name, steps, ticket, dense):
    """The markdown of the comparison: per network and checkpoint, each metric's ticket / dense ratio per seed and
    over seeds, each arm's mean, the agreement sentence per checkpoint and the noise of the latent draws."""
    networks = sorted({n for _, n in ticket} & {n for _, n in dense})
    seeds = sorted({s for s, _ in ticket} & {s for s, _ in dense})
    draws = sorted({len(c["draws"]) for arm in (ticket, dense) for r in arm.values()
                    for c in r["checkpoints"].values()})
    draws_text = f"{draws[0]}" if len(draws) == 1 else f"{draws[0]} to {draws[-1]}"
    out = [f"## DCGAN, {steps} steps: {ticket_name} (k = 0.1) against {dense_name}, at the last and the best "
           f"checkpoint, under {len(networks)} evaluation networks", "",
           "Written by `python benchmarks/second_network.py report` from the JSONs `second_network.py run` keeps in "
           "docs/adversarial-study-data/ (each checkpoint generates 1,501 images per latent draw, `studiogan-slt eval "
           "-sf --seed`, and every network scores those same images, `studiogan-slt digits-fid`; a checkpoint's "
           f"value is its mean over {draws_text} draws). "
           "Ratios are ticket / dense, paired by seed; over seeds the train-split FID's is the mean of the per-seed "
           f"ratios, a KID's the ratio of the means. Seeds: {', '.join(map(str, seeds)) or 'none'} ({len(seeds)} of "
           f"{TARGET_SEEDS}).", "",
           "| checkpoint | network | metric | ticket (mean) | dense (mean) | ticket / dense per seed | over seeds | "
           "verdict |", "|---|---|---|---|---|---|---|---|"]
    sentences = []
    for checkpoint in CHECKPOINTS:
        for network in networks:
            found = ratios(ticket, dense, network, checkpoint)
            paired = sorted(found["fid_train"][0])
            if not paired:
                continue
            for metric, (per_seed, over) in found.items():
                means = [mean_std([arm[s, network]["checkpoints"][checkpoint][metric] for s in per_seed])[0]
                         for arm in (ticket, dense)]
                steps_text = ", ".join(f"s{s}: {_cell(r)}" for s, r in per_seed.items())
                out.append(f"| {checkpoint} | {network} | {METRICS[metric]} | {means[0]:.4g} | {means[1]:.4g} | "
                           f"{steps_text} | {_cell(over)} | {verdict(over) or '-'} |")
            sentences.append(_memorisation(ticket, dense, network, checkpoint, paired))
        sentences.append(f"- At the {checkpoint} checkpoint the verdict is "
                         f"{agreement(by_network(ticket, dense, checkpoint))}.")
    sentences.append(_draw_noise(ticket, dense, networks))
    for network in networks:  # each network has its own floors: its numbers compare with each other only
        record = next(r for (_, n), r in sorted(ticket.items()) if n == network)
        if "floors" in record:
            sentences += ["", f"Under the {network} network:", *floor_lines(record["floors"])]
    return out + ["", *sentences]


def _draw_noise(ticket, dense, networks):
    """The sentence of how much one draw of latents moves a checkpoint's train-split FID: the std over its draws,
    averaged over the checkpoints that have several, per arm and network (last checkpoints)."""
    parts = []
    for network in networks:
        for name, arm in (("ticket", ticket), ("dense", dense)):
            stds = [mean_std([d["fid_train"] for d in r["checkpoints"]["last"]["draws"]])[1]
                    for (_, n), r in sorted(arm.items()) if n == network]
            stds = [s for s in stds if s is not None]
            if stds:
                parts.append(f"{name} under {network} {mean_std(stds)[0]:.2f} ({len(stds)} checkpoints)")
    if not parts:
        return "- Each checkpoint was scored from one draw of latents: the draws' own noise is not measured."
    return ("- One draw of latents moves a last checkpoint's train-split FID by (std over its draws, mean over "
            f"checkpoints): {'; '.join(parts)}.")


def _memorisation(ticket, dense, network, checkpoint, seeds):
    """The sentence of each arm's memorisation ratio (mean over `seeds`), flagged below MEMORISATION_FLAG."""
    parts = []
    for name, arm in (("ticket", ticket), ("dense", dense)):
        value = mean_std([arm[s, network]["checkpoints"][checkpoint]["memorisation"] for s in seeds])[0]
        flag = (f", below {MEMORISATION_FLAG}: closer to the training digits than unseen digits are, so its "
                "train-split metrics flatter it") if value < MEMORISATION_FLAG else ""
        parts.append(f"{name} {value:.2f}{flag}")
    return f"- Memorisation ratio at the {checkpoint} checkpoint under {network}: {'; '.join(parts)}."


def report(a):
    sys.path.insert(0, str(ROOT))
    from studiogan_slt import atomic

    text = "\n".join(lines(a.ticket, a.dense, a.steps, records(a.data, a.ticket, a.steps),
                           records(a.data, a.dense, a.steps)))
    results = Path(a.docs) / "results.md"
    atomic.write_text(results, splice(results.read_text(), "second-network", text))
    print(text)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="score the finished points DATA lacks (resumable)")
    rep = sub.add_parser("report", help="the ratios and the agreement sentence, spliced into docs/results.md")
    for command in (r, rep):
        command.add_argument("--data", default=str(DATA), help="where the JSONs are kept")
        command.add_argument("--steps", type=int, default=1200)
    r.add_argument("--out", nargs="+", required=True, help="adversarial_study.py's --out folders (read only)")
    r.add_argument("--variants", nargs="+", required=True)
    r.add_argument("--draws", type=int, default=3, help="latent draws per checkpoint, each 1,501 images")
    r.add_argument("--scratch", default=str(ROOT / "runs" / "second-network"), help="copied checkpoints, images")
    rep.add_argument("--ticket", default="mm")
    rep.add_argument("--dense", default="dense-mm-lr0.0005")
    rep.add_argument("--docs", default=str(ROOT / "docs"))
    a = p.parse_args(argv)
    (run if a.command == "run" else report)(a)


if __name__ == "__main__":
    main()
