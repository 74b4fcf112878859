"""Search-recipe study for the digits reproduction: dense moment matching vs SLT score search at equal step budgets.

Plain PyTorch + the project's core (convert, FeatureExtractor, MomentMatchingLoss, the digits CNN); no StudioGAN.
The generator is resnet_mirror.py's mirror of StudioGAN's `resnet` backbone at 32x32, so a recipe found here
carries over to `configs/digits/SNGAN.yaml`-style runs. Each run prints: moment-distance reduction (first 10 vs
last 10 steps), the reproduction's metric (`studiogan-slt digits-fid`: FID on an evaluation network that is NOT
the loss's extractor, 296 generated vs the 296 valid images) with the generator's BN in eval mode (as tickets are
sampled) and in batch-statistics mode, the class histogram, and seconds per step. Single-threaded by default.

    python benchmarks/search_recipe.py --runs dense slt-best --steps 600          # named presets, one after another
    python benchmarks/search_recipe.py --mode slt --k 0.1 --opt sgd --lr 1 ...    # one ad-hoc run
    python benchmarks/search_recipe.py --report docs/recipe-study.jsonl           # the results as a markdown table
"""
import argparse
import json
import os
import time

import numpy as np
import torch
from torch import nn

from resnet_mirror import ResNetG
from studiogan_slt import convert
from studiogan_slt.supermask.convert import masked_tensors
from studiogan_slt.data.digits import digits_arrays
from studiogan_slt.metrics import digits_eval
from studiogan_slt.metrics.digits_net import NETWORK, train_digits_cnn
from studiogan_slt.moments.extractors import FeatureExtractor
from studiogan_slt.moments.loss import MomentMatchingLoss, real_statistics
from studiogan_slt.ticket.sample import to_uint8

# Presets: the comparisons docs/recipe-study.md reports. Keys are command-line option names.
SLT_BEST = {"mode": "slt", "k": 0.1, "weight_init": "signed_kaiming_constant", "scaled": True,
            "score_init": "kaiming_uniform", "opt": "adam", "lr": 0.03, "ama": False}
PRESETS = {
    "dense": {"mode": "dense", "opt": "adam", "lr": 2e-4, "ama": False},
    "dense-ama-paper": {"mode": "dense", "opt": "adam", "lr": 2e-4, "ama": True, "ama_lr": 1e-5},
    "slt-paper": {"mode": "slt", "k": 0.1, "weight_init": "keep", "n02": True, "score_init": "uniform",
                  "opt": "adam", "lr": 3e-3, "ama": True, "ama_lr": 1e-5},
    "slt-best": SLT_BEST,
    "random-mask": {**SLT_BEST, "mode": "random"},
    "untrained": {**SLT_BEST, "mode": "untrained"},
}


def to_input(images_uint8):
    return torch.from_numpy(images_uint8).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


class Evaluator:
    """The reproduction's metric (studiogan_slt.metrics.digits_eval): FID and class histogram of 296 generated
    images vs the digits valid split, on an evaluation network that is not the loss's extractor."""

    def __init__(self, workdir):
        self.net = digits_eval.load_eval_net(os.path.join(workdir, "digits_eval.pt"), log=print)
        self.n = len(digits_arrays("valid")[0])
        train = digits_arrays("train")[0]
        pick = np.random.default_rng(0).permutation(len(train))[:self.n]
        self.floor = digits_eval.evaluate(train[pick], self.net)["fid"]  # real train vs valid: the best reachable

    def __call__(self, gen, seed=123, batch_stats=False):
        """(FID, class histogram, images) of the generator in eval mode (BN running statistics, as a ticket is
        sampled) or, with batch_stats, with per-batch BN statistics."""
        z = torch.randn(self.n, 128, generator=torch.Generator().manual_seed(seed))
        was_training = gen.training
        gen.train(batch_stats)
        with torch.no_grad():
            fake = to_uint8(gen(z))
        gen.train(was_training)
        result = digits_eval.evaluate(fake, self.net)
        return result["fid"], result["hist"], fake


def extractor(workdir, bn_mode, taps):
    path = os.path.join(workdir, "digits_cnn.pt")
    if not os.path.exists(path):
        print("loss extractor:", train_digits_cnn(path, seed=0, log=lambda m: None))
    spec = {"network": NETWORK, "weights": path}
    if taps:
        spec["layers"] = [f"features.{i}" for i in taps]
    return FeatureExtractor([spec], bn_mode=bn_mode)


def build_generator(a):
    torch.manual_seed(a.seed)
    gen = ResNetG(g_conv_dim=a.width)
    if a.n02:  # the released code's weights_init: N(0, 0.02) weights
        for m in gen.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                nn.init.normal_(m.weight, 0, 0.02)
    if a.mode != "dense":
        k = 1.0 if a.mode == "untrained" else a.k
        gen = convert(gen, k, weight_init=a.weight_init, scaled=a.scaled, score_init=a.score_init,
                      score_bound=a.score_bound, bias_init="uniform", mask_bias=a.mask_bias, rescale=a.rescale,
                      scope=a.scope, seed=a.seed)
    if a.train_bn is not None:
        for p in batch_norm_affine(gen):
            p.requires_grad_(a.train_bn)
    return gen


def batch_norm_affine(gen):
    return [p for m in gen.modules() if isinstance(m, nn.BatchNorm2d) for p in (m.weight, m.bias)]


REFERENCE_FAN_IN = 288  # the hidden 3x3 convs of g_conv_dim 8 (9 x 32 channels): the width the others are matched to


def param_groups(gen, a):
    """The optimiser's groups: with --lr-fan-in-exp e, each layer's scores at lr x (fan_in / REFERENCE_FAN_IN)^e, so
    that a wider layer's mask can flip as often per step as width 8's (at one lr its flips shrink with fan_in:
    docs/width-diagnosis.md); without it, one group at lr. With --bn-lr, the trained BatchNorm affine in a group of
    its own at that lr."""
    bn = [p for p in batch_norm_affine(gen) if p.requires_grad] if a.bn_lr is not None else []
    in_bn = {id(p) for p in bn}
    params = [p for p in gen.parameters() if p.requires_grad and id(p) not in in_bn]
    own_bn = [{"params": bn, "lr": a.bn_lr}] if bn else []
    if not a.lr_fan_in_exp:
        return [{"params": params, "lr": a.lr}, *own_bn]
    masked = masked_tensors(gen)
    fan_in = {id(mt.owner): mt.supermask.scores[0].numel() for mt in masked if mt.attr == "weight"}
    scale = {id(mt.supermask.scores): (fan_in[id(mt.owner)] / REFERENCE_FAN_IN) ** a.lr_fan_in_exp for mt in masked}
    return [*({"params": [p], "lr": a.lr * scale.get(id(p), 1.0)} for p in params), *own_bn]


def run(a, workdir, evaluator, watch=None):
    """One run of `a` (parser()'s options). watch(gen), if given, is called once the generator is built and returns
    the function called with the generator after every optimiser step."""
    torch.set_num_threads(a.threads)
    feats = extractor(workdir, a.bn_mode, a.taps)
    x_train = to_input(digits_arrays("train")[0])
    stats = real_statistics(feats, x_train.split(a.batch), key={"bench": "search_recipe", "bn": a.bn_mode,
                            "taps": a.taps, "batch": a.batch}, cache_dir=workdir)
    loss_fn = MomentMatchingLoss(stats.mean, stats.var, ama=a.ama, ama_lr=a.ama_lr, ama_init=a.ama_init)
    gen = build_generator(a)
    on_step = watch(gen) if watch else None
    params = param_groups(gen, a)
    n_trainable = sum(p.numel() for group in params for p in group["params"])
    if a.opt == "adam":
        opt = torch.optim.Adam(params, lr=a.lr, betas=(0.5, 0.999))
    else:
        opt = torch.optim.SGD(params, lr=a.lr, momentum=0.9, nesterov=True)
    steps = a.steps if a.mode in ("dense", "slt") else 0
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(steps, 1)) if a.cosine else None
    torch.manual_seed(a.seed + 1000)
    dists, curve, start = [], [], time.time()
    for step in range(max(steps, 10)):
        gen.train()
        out = loss_fn(feats(gen(torch.randn(a.batch, 128))))
        dists.append(out.distance.item())
        if step < steps:
            opt.zero_grad(set_to_none=True)
            out.loss.backward()
            opt.step()
            if on_step:
                on_step(gen)
            if sched:
                sched.step()
        if a.eval_every and step and step % a.eval_every == 0:
            curve.append((step, round(evaluator(gen)[0], 2)))
    secs = (time.time() - start) / max(len(dists), 1)
    score, hist, images = evaluator(gen)
    score_batch_stats = evaluator(gen, batch_stats=True)[0]
    first, last = np.mean(dists[:10]), np.mean(dists[-10:])
    result = {"name": a.name, "mode": a.mode, "k": a.k, "steps": steps, "width": a.width, "batch": a.batch,
              "opt": a.opt, "lr": a.lr, "cosine": a.cosine, "ama": a.ama, "weight_init": a.weight_init,
              "scaled": a.scaled,
              "score_init": a.score_init, "bn_mode": a.bn_mode, "trainable": n_trainable,
              "dist_first": first, "dist_last": last, "reduction": 1 - last / first, "fid": score,
              "fid_batch_stats": score_batch_stats, "hist": hist, "sec_per_step": secs, "curve": curve}
    if a.save_images:
        torch.save(images[:64], os.path.join(workdir, f"images-{a.name}.pt"))
    return result


def parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", nargs="*", default=[], help=f"presets to run in order: {', '.join(PRESETS)}")
    p.add_argument("--name", default="adhoc")
    p.add_argument("--mode", choices=("dense", "slt", "random", "untrained"), default="slt")
    p.add_argument("--k", type=float, default=0.1)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--width", type=int, default=16, help="g_conv_dim; the blocks have 4x this many channels")
    p.add_argument("--opt", choices=("adam", "sgd"), default="adam")
    p.add_argument("--lr", type=float, default=0.03)
    p.add_argument("--cosine", action="store_true", help="cosine decay of the lr over the run")
    p.add_argument("--lr-fan-in-exp", dest="lr_fan_in_exp", type=float, default=0.0,
                   help=f"the search's score lr of a layer times (fan_in / {REFERENCE_FAN_IN})^this (0: one lr)")
    p.add_argument("--weight-init", dest="weight_init", default="signed_kaiming_constant",
                   choices=("keep", "signed_kaiming_constant", "kaiming_normal"))
    p.add_argument("--scaled", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--n02", action="store_true", help="N(0, 0.02) weights before conversion (with --weight-init keep)")
    p.add_argument("--score-init", dest="score_init", default="kaiming_uniform",
                   choices=("kaiming_uniform", "uniform", "constant"))
    p.add_argument("--score-bound", dest="score_bound", type=float, default=None)
    p.add_argument("--scope", choices=("layer", "global"), default="layer")
    p.add_argument("--mask-bias", dest="mask_bias", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--rescale", action=argparse.BooleanOptionalAction, default=False)
    p.add_argument("--ama", action=argparse.BooleanOptionalAction, default=False)
    p.add_argument("--ama-lr", dest="ama_lr", type=float, default=1e-5)
    p.add_argument("--ama-init", dest="ama_init", choices=("zeros", "linear"), default="zeros")
    p.add_argument("--train-bn", dest="train_bn", action=argparse.BooleanOptionalAction, default=None,
                   help="train the BatchNorm affine or keep it at init (default: dense trains it, the search, a "
                        "ticket, does not)")
    p.add_argument("--bn-lr", dest="bn_lr", type=float, default=None, help="the BatchNorm affine's lr (default --lr)")
    p.add_argument("--bn-mode", dest="bn_mode", choices=("train", "eval"), default="train")
    p.add_argument("--taps", type=int, nargs="*", default=None,
                   help="indices into the digits CNN's `features` (ReLUs: 2 5 9 12 16); default all")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--eval-every", dest="eval_every", type=int, default=0)
    p.add_argument("--save-images", dest="save_images", action="store_true")
    p.add_argument("--workdir", default="/tmp/recipe")
    p.add_argument("--json", default=None, help="append each result as one JSON line to this file")
    p.add_argument("--report", default=None, help="print the results in this --json file as a markdown table")
    return p


def report(path):
    """Markdown table of the JSON lines written by --json, in file order."""
    lines = ["| run | mode | k | width | steps | optimiser | lr | cosine | AMA | weight init | moment-distance drop | "
             "digits FID (BN eval / batch stats) | FID during the run (step: FID) | s/step |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    with open(path) as f:
        for r in map(json.loads, f):
            k = r["k"] if r["mode"] in ("slt", "random") else 1.0
            init = f"{r['weight_init']}{' scaled' if r['scaled'] else ''}" if r["mode"] != "dense" else "host (ortho)"
            curve = ", ".join(f"{step}: {fid:.0f}" for step, fid in r["curve"]) or "-"
            lines.append(f"| {r['name']} | {r['mode']} | {k} | {r['width']} | {r['steps']} | {r['opt']} | {r['lr']} | "
                         f"{'yes' if r.get('cosine') else 'no'} | {'yes' if r['ama'] else 'no'} | {init} | "
                         f"{r['reduction']:.1%} | {r['fid']:.1f} / {r['fid_batch_stats']:.1f} | {curve} | "
                         f"{r['sec_per_step']:.2f} |")
    return "\n".join(lines)


def main(argv=None):
    p = parser()
    a = p.parse_args(argv)
    if a.report:
        print(report(a.report))
        return
    if a.threads < 1 or a.steps < 0 or a.batch < 2 or not 0 < a.k <= 1:
        p.error("--threads >= 1, --steps >= 0, --batch >= 2 and 0 < --k <= 1 are required")
    if a.lr_fan_in_exp and a.mode != "slt":
        p.error("--lr-fan-in-exp scales the search's score lr: it needs --mode slt")
    unknown = [r for r in a.runs if r not in PRESETS]
    if unknown:
        p.error(f"unknown preset {unknown[0]!r}; choose from {', '.join(PRESETS)}")
    torch.set_num_threads(a.threads)
    os.makedirs(a.workdir, exist_ok=True)
    evaluator = Evaluator(a.workdir)
    print(f"digits FID of 296 real train images vs the valid split (the floor): {evaluator.floor:.2f}")
    configs = []
    for name in a.runs or [a.name]:
        cfg = argparse.Namespace(**vars(a))
        if a.runs:
            defaults = vars(p.parse_args([]))
            cfg = argparse.Namespace(**{**defaults, **PRESETS[name], "name": name, "seed": a.seed, "steps": a.steps,
                                        "width": a.width, "batch": a.batch, "threads": a.threads,
                                        "workdir": a.workdir, "eval_every": a.eval_every})
        configs.append(cfg)
    print(f"{'run':<18}{'k':>5}{'steps':>6}{'loss drop':>10}{'dist last':>11}{'FID':>8}{'FID bs':>8}{'s/step':>8}  class histogram")
    for cfg in configs:
        r = run(cfg, a.workdir, evaluator)
        print(f"{r['name']:<18}{r['k'] if r['mode'] in ('slt', 'random') else 1.0:>5}{r['steps']:>6}{r['reduction']:>10.1%}"
              f"{r['dist_last']:>11.4g}{r['fid']:>8.2f}{r['fid_batch_stats']:>8.2f}{r['sec_per_step']:>8.3f}  {r['hist']}"
              + (f"  curve {r['curve']}" if r["curve"] else ""), flush=True)
        if a.json:
            with open(a.json, "a") as f:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
