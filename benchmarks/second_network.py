"""Issue 25 item 7: does the DCGAN verdict of adversarial_study.py hold at each arm's last checkpoint, and under
other evaluation networks? For every finished point of the given variants (or run folders), the last checkpoint (and
the best one, where it is another step) generates 1,501 images per draw of latents (`studiogan-slt eval -sf --seed`,
--draws of them), and every evaluation network (digits_eval.NETWORKS: lenet, strided, mlp) scores the same images
(`studiogan-slt digits-fid`).

    python benchmarks/second_network.py run --out runs/adv --variants mm dense-mm-lr0.0005 --steps 1200 \
        --draws 3                                   # resumable; reads the points, never writes there
    python benchmarks/second_network.py run --out runs/adv --steps 1200 --draws 1 \
        --variants dense-mm-lr0.000125 dense-mm dense-mm-lr0.008 dense-mm-lr0.032  # the dense lr bracket
    python benchmarks/second_network.py report --ticket mm --dense dense-mm-lr0.0005 --steps 300 1200

StudioGAN's resnet (search_curves.py's points; resnet_fair.evaluators reads them into search-curves.md and
results.md): the plain folders and every folder of the dense lr bracket, named as they are:

    python benchmarks/second_network.py run --out runs/curves --data docs/search-curves-data --draws 1 --folders \
        w8-800steps w8-800steps-dense_lr0.0005 w8-800steps-dense_lr0.008 w8-800steps-dense_lr0.032 \
        w16-800steps w16-800steps-dense_lr0.008 w16-800steps-dense_lr0.032 \
        w32-800steps w32-800steps-dense_lr0.0005 w32-800steps-dense_lr0.008

`run` adds the draws a JSON lacks, one write per draw, to DATA/<folder>/<point>-on-<network>.json (DATA:
docs/adversarial-study-data, beside the point's curve; a variant's folder is <variant>-<steps>steps); its scratch
(checkpoint copies, images) is --scratch. `report` pairs ticket and dense by seed, one section per --steps, and
splices its block into docs/results.md.
"""
import argparse
import functools
import json
import re
import shutil
import time
from pathlib import Path

import numpy as np

import network_agreement
from adversarial_variants import variant_folder
from network_agreement import METRICS
from study_cli import cli, splice
from study_rules import mean_std
from studiogan_slt import atomic
from studiogan_slt.data.digits import digits_arrays
from studiogan_slt.metrics.digits_eval import NETWORKS, load_images
from studiogan_slt.studiogan import run_files

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "docs" / "adversarial-study-data"
IMAGES = 1501  # the digits train split: the train-split FID needs as many generated images
# the name in the JSON: StudioGAN's file name (run_files)
CHECKPOINTS = dict(zip(network_agreement.CHECKPOINTS, ("current", "best")))
KEPT = ("fid", "fid_train", "kid", "kid_std", "kid_valid", "kid_valid_std", "memorisation", "classes_covered",
        "network", "seconds")  # network: the version digits_eval names it by; seconds: digits-fid's
NAME = re.compile(r"(.+)-s(\d+)-on-([a-z]+)")  # <point>-on-<network>, the point <config>-<kind>-s<seed>


def _step(point, when):
    return run_files.complete_step(run_files.checkpoint_folders(point)[0], when)


def _images(point, when, draw, scratch, data, log):
    """The folder of IMAGES images that the point's checkpoint `when` generates from the latents of `draw`, made on
    first use. StudioGAN's eval reloads the best checkpoint after loading the one asked for, whenever one exists
    (loader.py:443), so the checkpoint's files are copied alone into a folder of their own: that also leaves the
    point's folder untouched by run_files.settle, which may remove files there."""
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
    networks, scratch = list(NETWORKS), Path(a.scratch).resolve()
    # loads torch: lazy, as study_cli's docstring says why
    from studiogan_slt.sweep.point import DONE

    for out in map(Path, a.out):
        for folder in [variant_folder(variant, a.steps) for variant in a.variants] + a.folders:
            for point in sorted(done.parent for done in (out / folder / "points").glob(f"*/{DONE}")):
                targets = {n: Path(a.data) / folder / f"{point.name}-on-{n}.json" for n in networks}
                kept = {n: json.loads(t.read_text()) if t.is_file() else None for n, t in targets.items()}
                pixels = Path(a.data) / folder / f"{point.name}-pixels.json"
                for draw in range(a.draws):
                    lacking = [n for n in networks if _drawn(kept[n]) == draw]
                    missing = pixels if draw == 0 and not pixels.is_file() else None
                    if lacking or missing:
                        _score_draw(point, draw, {n: targets[n] for n in lacking}, kept, scratch / folder,
                                    out / "data", missing)


def _score_draw(point, draw, targets, kept, scratch, data, pixels=None):
    """Generates the point's checkpoints' images of `draw` and adds their scores under each network of `targets`
    to `kept`, writing each network's JSON, and the last checkpoint's pixel check to `pixels` when given."""
    work = scratch / point.name / f"z{draw}"
    work.mkdir(parents=True, exist_ok=True)
    with open(work / "log.txt", "a") as log:
        made = {}
        for label, when in CHECKPOINTS.items():  # a best save that is the last one is scored once
            same = [found for found in made.values() if found[0] == _step(point, when)]
            made[label] = same[0] if same else _images(point, when, draw, work / label, data, log)
        for network, target in targets.items():
            scored = {label: (step, seconds, _score(fake, network, log))
                      for label, (step, fake, seconds) in made.items()}
            kept[network] = _add_draw(kept[network], point.name, network, draw, scored)
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic.write_text(target, json.dumps(kept[network], indent=1) + "\n")
            print(f"wrote {target} (draw {draw})", flush=True)
        if pixels:
            step, fake, _ = made["last"]
            record = {"point": point.name, "step": step, "latent_seed": latent_seed(point.name, draw),
                      **pixel_check(fake)}
            atomic.write_text(pixels, json.dumps(record, indent=1) + "\n")
            print(f"wrote {pixels}", flush=True)
    shutil.rmtree(work)  # 1,501 images per checkpoint and draw: the scores are what is kept


def _gray(images_uint8):
    return images_uint8.mean(axis=-1).ravel() / 255.0


def pixel_distance(a, b):
    """The Wasserstein-1 distance between the distributions of two sets of pixel values in [0, 1] (from their
    quantiles): a check of the images that no evaluation network stands between."""
    q = np.linspace(0, 1, 1001)
    return float(np.abs(np.quantile(a, q) - np.quantile(b, q)).mean())


def pixel_check(fake):
    """{"pixel_w1": the generated images' pixel values against the train split's, "mean_intensity": theirs and the
    train split's, "floors": the same distance for real digits (the valid split; halvings of the train split)}."""
    real, floors = _real_pixels()
    generated = _gray(load_images(fake, IMAGES))
    return {"pixel_w1": pixel_distance(generated, real), "mean_intensity": float(generated.mean()),
            "train_mean_intensity": float(real.mean()), "floors": floors}


@functools.cache
def _real_pixels():
    """(the train split's pixel values, their real-vs-real floors): the same for every point, so computed once."""
    train, valid = (digits_arrays(split)[0] for split in ("train", "valid"))
    real, half = _gray(train), len(train) // 2
    halves = [np.random.default_rng(seed).permutation(len(train)) for seed in range(5)]
    return real, {"valid": pixel_distance(_gray(valid), real),
                  "train_halves": [pixel_distance(_gray(train[h[:half]]), _gray(train[h[half:]])) for h in halves]}


def pixel_records(folder):
    """{seed: record} of the pixel checks `run` kept in one folder."""
    return {int(re.search(r"-s(\d+)-pixels$", path.stem).group(1)): json.loads(path.read_text())
            for path in sorted(Path(folder).glob("*-pixels.json"))}


def records(folder, kind=None):
    """{(seed, network): record} of the JSONs `run` kept in one folder; with `kind` (dense, k0.1), of the points of
    that kind only: a search_curves.py folder holds the search and its dense reference."""
    found = {}
    for path in sorted(Path(folder).glob("*-on-*.json")):
        m = NAME.fullmatch(path.stem)
        if m and (kind is None or m.group(1).endswith(f"-{kind}")):
            found[int(m.group(2)), m.group(3)] = json.loads(path.read_text())
    return found


def report(a):
    sections = []
    for steps in a.steps:
        ticket, dense = (Path(a.data) / variant_folder(variant, steps) for variant in (a.ticket, a.dense))
        sections.append("\n".join(network_agreement.lines(a.ticket, a.dense, steps, records(ticket), records(dense))
                                  + network_agreement.pixel_lines(pixel_records(ticket), pixel_records(dense))))
    text = "\n\n".join(sections)
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
    r.add_argument("--steps", type=int, default=1200)
    rep.add_argument("--steps", type=int, nargs="+", default=[1200], help="one section per budget, in this order")
    r.add_argument("--out", nargs="+", required=True, help="the studies' --out folders (read only)")
    r.add_argument("--variants", nargs="+", default=[], help="adversarial_study.py's variants (with --steps)")
    r.add_argument("--folders", nargs="+", default=[], help="run folders under --out, every point in them")
    r.add_argument("--draws", type=int, default=3, help="latent draws per checkpoint, each 1,501 images")
    r.add_argument("--scratch", default=str(ROOT / "runs" / "second-network"), help="copied checkpoints, images")
    rep.add_argument("--ticket", default="mm")
    rep.add_argument("--dense", default="dense-mm-lr0.0005")
    rep.add_argument("--docs", default=str(ROOT / "docs"))
    a = p.parse_args(argv)
    (run if a.command == "run" else report)(a)


if __name__ == "__main__":
    main()
