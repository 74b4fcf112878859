"""Small-scale reproduction of the paper's claim on real data (digits, 32x32, CPU), through the public CLI only.

Claim (Yeo et al., AAAI 2023): a strong lottery ticket at k = 0.1 of a random generator, found by moment matching,
matches the dense generator trained with the same moment-matching loss. Runs, all with the same step budget:
  (1) dense generator trained with the moment-matching loss (train_mode dense_moment_matching), 3 seeds;
  (2) SLT search (train_mode moment_matching) at k in {0.5, 0.3, 0.1, 0.05}, k = 0.1 with 3 seeds;
  (3) controls: the random mask at k = 0.1 (the SLT run with g_lr 0: scores never trained) and the untrained dense
      generator (the dense run with g_lr 0); both still run CONTROL_STEPS forward passes so that BatchNorm's running
      statistics describe their own outputs, as they do for trained runs;
  (4) StudioGAN's DCGAN (deep_conv) trained adversarially: dense vs SLT k = 0.1 with adversarial search.
Every run is `studiogan-slt train`, then `studiogan-slt eval -sf` (296 images from the checkpoint, BatchNorm in eval
mode), then `studiogan-slt digits-fid` (FID on an evaluation network that is not the loss's extractor, against the
296-image valid split, plus the class histogram); SLT runs are also exported as tickets (`studiogan-slt export`).
Finally `studiogan-slt compare` and `plot` run over all runs and docs/results.md is written from their output.

    python benchmarks/reproduce_digits.py --out runs/repro            # the full study (about 90 min on 2 cores)
    python benchmarks/reproduce_digits.py --out /tmp/smoke --smoke    # every command once, tiny budgets

Runs whose result file exists are not run again, so an interrupted study resumes where it stopped. Needs a
StudioGAN checkout (STUDIOGAN_ROOT, --studiogan-root or `studiogan-slt studiogan fetch`).
"""
import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXTRACTOR_NETWORK = "studiogan_slt.metrics.digits_net:digits_cnn"
NUM_IMAGES = 296  # the digits valid split: the metric compares as many generated images as real ones
CONTROL_STEPS = 100
LONGER = "moment matching, longer search"

DATA = {"name": "DIGITS", "img_size": 32, "num_classes": 10}
# StudioGAN flips training images at random by default (PRE.apply_rflip); a mirrored digit is not a digit
# (docs/recipe-study.md, "Two traps in StudioGAN's data path").
PRE = {"apply_rflip": False}

# The search recipe (benchmarks/search_recipe.py; docs/recipe-study.md has the study). Both moment-matching arms
# use the same loss, generator, batch and budget; each arm has its own optimiser settings, tuned the same way.
GENERATOR = {"backbone": "resnet", "g_cond_mtd": "W/O", "d_cond_mtd": "W/O", "g_conv_dim": 16, "d_conv_dim": 16,
             "z_dim": 128, "apply_g_ema": False}
MOMENTS = {"ama": True, "ama_lr": 1e-5, "lr_schedule": "cosine"}  # the paper's AMA loss
SLT_RECIPE = {"weight_init": "signed_kaiming_constant", "scaled": True, "score_init": "kaiming_uniform",
              "bias_init": "uniform", "mask_bias": True}
DENSE_LR, SLT_LR = 2e-3, 0.03
# StudioGAN's CIFAR10 DCGAN config takes 2 D steps per G step; with 2, D's loss was 1e-4 by step 50 in a first
# study and both generators collapsed, so one D step (also a third less time per step).
ADVERSARIAL = {"model": {"backbone": "deep_conv", "g_conv_dim": "N/A", "d_conv_dim": "N/A"},
               "batch_size": 64, "d_updates_per_step": 1, "dense_lr": 2e-4, "slt_lr": 0.1}


@dataclass
class Spec:
    name: str          # config basename, hence StudioGAN's run name
    group: str         # table section
    yaml: dict
    seed: int
    ticket: bool = False
    wall: dict = field(default_factory=dict)


def _moment_cfg(steps, lr, slt):
    return {"DATA": dict(DATA), "PRE": dict(PRE), "MODEL": dict(GENERATOR),
            "OPTIMIZATION": {"batch_size": 64, "g_lr": lr, "beta1": 0.5, "beta2": 0.999, "total_steps": steps},
            "SLT": slt}


def plan(steps, seeds, extractor, adversarial_steps, longer):
    # One cache of the real statistics for every run (the key is the same; writes are atomic).
    moments = {**MOMENTS, "extractors": [{"network": EXTRACTOR_NETWORK, "weights": str(extractor)}],
               "cache_dir": str(extractor.parent / "moments")}
    dense = {"train_mode": "dense_moment_matching", "moments": moments}

    def slt(k, seed):
        return {"k": k, "train_mode": "moment_matching", "seed": seed, **SLT_RECIPE, "moments": moments}

    specs = [Spec(f"MM-dense-s{s}", "moment matching", _moment_cfg(steps, DENSE_LR, dense), s) for s in seeds]
    for k in (0.5, 0.3, 0.1, 0.05):
        for s in (seeds if k == 0.1 else seeds[:1]):
            specs.append(Spec(f"MM-SLT-k{k}-s{s}", "moment matching", _moment_cfg(steps, SLT_LR, slt(k, s)), s,
                              ticket=True))
    s = seeds[0]
    if longer:
        specs.append(Spec(f"MM-SLT-k0.1-{longer}steps-s{s}", LONGER,
                          _moment_cfg(longer, SLT_LR, slt(0.1, s)), s, ticket=True))
    specs.append(Spec(f"MM-dense-untrained-s{s}", "controls", _moment_cfg(CONTROL_STEPS, 0.0, dense), s))
    specs.append(Spec(f"MM-SLT-k0.1-random-mask-s{s}", "controls", _moment_cfg(CONTROL_STEPS, 0.0, slt(0.1, s)), s,
                      ticket=True))
    a = ADVERSARIAL
    for name, lr, section in (("ADV-DCGAN-dense", a["dense_lr"], None),
                              ("ADV-DCGAN-SLT-k0.1", a["slt_lr"], {"k": 0.1, "train_mode": "adversarial",
                                                                  "seed": s, **SLT_RECIPE})):
        cfg = {"DATA": dict(DATA), "PRE": dict(PRE), "MODEL": dict(a["model"]),
               "OPTIMIZATION": {"batch_size": a["batch_size"], "d_updates_per_step": a["d_updates_per_step"],
                                "g_lr": lr, "total_steps": adversarial_steps}}
        if section:
            cfg["SLT"] = section
        specs.append(Spec(f"{name}-s{s}", "adversarial (StudioGAN DCGAN)", cfg, s, ticket=section is not None))
    return specs


class Study:
    def __init__(self, out, root_flag, threads):
        self.out = Path(out).resolve()
        self.root_flag = root_flag
        self.env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
                        PYTHONUNBUFFERED="1")
        self.cli = [sys.executable, "-m", "studiogan_slt"]
        self.reference = self.out / "real_train_fid.json"

    def command(self, args, log, capture=False):
        """One `studiogan-slt` command; its output goes to `log` (and is returned with capture)."""
        with open(log, "a") as f:
            f.write(f"$ studiogan-slt {' '.join(map(str, args))}\n")
            f.flush()
            done = subprocess.run(self.cli + [str(a) for a in args], env=self.env, cwd=self.out, text=True,
                                  stdout=subprocess.PIPE if capture else f, stderr=f)
        if done.returncode != 0:
            raise RuntimeError(f"`studiogan-slt {' '.join(map(str, args))}` failed ({done.returncode}); see {log}")
        return done.stdout

    def prepare(self):
        data, extractor = self.out / "data", self.out / "digits_cnn.pt"
        log = self.out / "prepare.log"
        if not (data / "valid").is_dir():
            self.command(["data", "digits", "-o", data], log)
        if not extractor.is_file():
            self.command(["extractor", "digits", "-o", extractor], log)
        if not self.reference.is_file():
            # Real against real: the best score a generator could get. A seeded random sample, because the data
            # set's file order follows its writers, which a generator's i.i.d. images do not.
            sample = self.out / "real_train_sample"
            files = sorted((data / "train").rglob("*.png"))
            sample.mkdir(exist_ok=True)
            for i, j in enumerate(random.Random(0).sample(range(len(files)), NUM_IMAGES)):
                shutil.copyfile(files[j], sample / f"{i:04d}.png")
            self.command(["digits-fid", sample, "--net", self.out / "digits_eval.pt", "--out", self.reference], log)
        return data, extractor

    def run(self, spec, data):
        import yaml

        save = self.out / "runs" / spec.name
        result = save / "digits_fid.json"
        if result.is_file():
            return spec
        if save.exists():
            shutil.rmtree(save)  # a run cut off half way: start it again from scratch
        save.mkdir(parents=True)
        cfg = save / f"{spec.name}.yaml"
        cfg.write_text(yaml.safe_dump(spec.yaml, sort_keys=False))
        log = save / "commands.log"
        common = ["-cfg", cfg, "-data", data, "-save", save, "--num_workers", "1", "-metrics", "none",
                  *self.root_flag]
        steps = spec.yaml["OPTIMIZATION"]["total_steps"]
        t = time.time()
        self.command(["train", *common, "--seed", spec.seed, "--print_freq", min(steps, 50), "--save_freq", steps],
                     log)
        spec.wall["train"] = time.time() - t
        (ckpt,) = (save / "checkpoints").iterdir()
        t = time.time()
        self.command(["eval", *common, "-ckpt", ckpt, "-sf", "-sf_num", NUM_IMAGES, "-ref", "valid"], log)
        if spec.ticket:
            self.command(["export", "-ckpt", ckpt, "-o", save / "ticket.slt", *self.root_flag], log)
        stats = save / "statistics" / ckpt.name
        stats.mkdir(parents=True, exist_ok=True)
        self.command(["digits-fid", save / "samples" / ckpt.name / "fake", "--net", self.out / "digits_eval.pt",
                      "--out", stats / "digits_fid.json"], log)
        spec.wall["evaluate"] = time.time() - t
        result.write_text(json.dumps({"wall_seconds": spec.wall, **json.loads(
            (stats / "digits_fid.json").read_text())}, indent=1) + "\n")
        return spec


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
    lines += ["", "## Recipe (the constants of benchmarks/reproduce_digits.py)", "",
              f"- Data: the digits of `studiogan-slt data digits` at 32x32, StudioGAN `PRE: {json.dumps(PRE)}` (no "
              "random mirroring: a mirrored digit is not a digit).",
              f"- Generator (StudioGAN MODEL section): `{json.dumps(GENERATOR)}`; batch 64, Adam betas (0.5, 0.999).",
              f"- Moment matching (SLT.moments): `{json.dumps(MOMENTS)}`, extractor: the digits CNN of "
              "`studiogan-slt extractor digits`, every ReLU of its conv trunk, BatchNorm in train mode.",
              f"- Dense arm: Adam lr {DENSE_LR} on the weights. SLT arm: Adam lr {SLT_LR} on the scores, "
              f"`{json.dumps(SLT_RECIPE)}`. Controls: the same configs with g_lr 0 and {CONTROL_STEPS} steps (BN "
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


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="work folder (data, extractor, one -save folder per run)")
    p.add_argument("--steps", type=int, default=800, help="training steps of every moment-matching run")
    p.add_argument("--adversarial-steps", type=int, default=800, help="training steps of the two DCGAN runs")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--longer", type=int, default=0, help="also search one k = 0.1 ticket for this many steps: how "
                                                         "many more steps parity takes (adds its run time)")
    p.add_argument("--jobs", type=int, default=2, help="runs at a time (each single-threaded)")
    p.add_argument("--studiogan-root", default=None)
    p.add_argument("--docs", default=str(ROOT / "docs"), help="where results.md and the figure go")
    p.add_argument("--smoke", action="store_true", help="tiny budgets, results in OUT/docs: check that every "
                                                        "command works, in minutes")
    args = p.parse_args(argv)
    if args.smoke:
        args.steps, args.adversarial_steps, args.seeds = 4, 2, args.seeds[:1]
        args.longer = 8 if args.longer else 0
        global CONTROL_STEPS
        CONTROL_STEPS = 2
    start = time.time()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    study = Study(out, ["--studiogan-root", args.studiogan_root] if args.studiogan_root else [], threads=1)
    data, extractor = study.prepare()
    specs = plan(args.steps, args.seeds, extractor, args.adversarial_steps, args.longer)
    # Longest runs first, so the two lanes finish together.
    order = sorted(specs, key=lambda s: -s.yaml["OPTIMIZATION"]["total_steps"] * (5 if "ADV" in s.name else 1))
    with ThreadPoolExecutor(args.jobs) as pool:
        for done in as_completed([pool.submit(study.run, s, data) for s in order]):
            spec = done.result()
            print(f"[{(time.time() - start) / 60:5.1f} min] done {spec.name}", flush=True)
    docs = out / "docs" if args.smoke else Path(args.docs)
    docs.mkdir(parents=True, exist_ok=True)
    runs = [str(out / "runs" / s.name) for s in specs]
    compare_rows = json.loads(study.command(["compare", "--json", *runs], out / "summary.log", capture=True))
    # The figure compares equal budgets: the longer search would be averaged into the k = 0.1 point.
    equal = [str(out / "runs" / s.name) for s in specs if s.group != LONGER]
    study.command(["plot", *equal, "--metric", "digits_FID", "-o", docs / "fid_vs_k.png", "--csv",
                   docs / "fid_vs_k.csv", "--title", "digits, 32x32: FID against kept fraction k", "--log-y"],
                  out / "summary.log")
    text = summarize(out, specs, compare_rows, sys.argv[1:] if argv is None else argv)
    (docs / "results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
