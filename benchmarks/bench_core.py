"""Cost of supermasking a DCGAN-size generator on this machine, printed as ratios against the dense model.

    python benchmarks/bench_core.py [--threads N] [--repeats R]

Generator: StudioGAN's CIFAR10 DCGAN shape (Linear 128 -> 4x4x512, ConvTranspose2d x3 with BN, Conv 3x3 -> RGB,
about 3.8M weights), batch 64, 32x32. Measures, interleaved so that machine noise hits every variant alike:
  1. training step (forward, backward, Adam) dense vs converted k=0.1 vs converted with a full-argsort selection;
  2. eval throughput (no_grad) dense vs converted with its cached masks;
  3. mask selection alone: studiogan_slt's threshold selection vs a full argsort, over the same scores.
Targets (issue 3): converted/dense step <= 1.10, cached eval >= 0.95 of dense, selection <= 0.15 of argsort.
"""
import argparse
import statistics
import time

import torch
from torch import nn

from studiogan_slt import convert
from studiogan_slt.supermask import parametrize as supermask
from studiogan_slt.supermask.convert import masked_tensors
from studiogan_slt.supermask.parametrize import kept_count, topk_mask


def dcgan_generator(z_dim=128):
    torch.manual_seed(0)

    def up(cin, cout):
        return [nn.ConvTranspose2d(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout), nn.ReLU()]

    return nn.Sequential(nn.Linear(z_dim, 4 * 4 * 512), nn.Unflatten(1, (512, 4, 4)), nn.BatchNorm2d(512), nn.ReLU(),
                         *up(512, 256), *up(256, 128), *up(128, 64), nn.Conv2d(64, 3, 3, 1, 1), nn.Tanh())


def argsort_mask(a, kept):
    """The original edge-popup selection: a full sort of every layer on every forward."""
    flat = a.reshape(-1)
    mask = torch.zeros_like(flat, dtype=torch.bool)
    mask[flat.argsort(descending=True)[:kept]] = True
    return mask.reshape(a.shape)


def train_step_fn(model, z):
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        model(z).square().mean().backward()
        opt.step()
    return step


def eval_fn(model, z):
    model.eval()

    def run():
        with torch.no_grad():
            model(z)
    return run


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def interleaved(fns, repeats, warmup=2):
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(timed(fn))
    return {name: statistics.median(t) for name, t in times.items()}


class ArgsortSelection:
    """Swaps the selection function of the converted model for a full argsort while `fn` runs."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self):
        original = supermask.topk_mask
        supermask.topk_mask = argsort_mask
        try:
            self.fn()
        finally:
            supermask.topk_mask = original


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    z = torch.randn(64, 128, generator=torch.Generator().manual_seed(1))

    dense = dcgan_generator()
    n_weights = sum(p.numel() for n, p in dense.named_parameters() if n.endswith("weight") and p.dim() > 1)
    slt = convert(dcgan_generator(), 0.1)
    slt_argsort = convert(dcgan_generator(), 0.1)
    print(f"generator: {n_weights / 1e6:.2f}M weights, batch 64, 32x32, {args.threads} threads, "
          f"median of {args.repeats} interleaved runs")

    steps = interleaved({"dense": train_step_fn(dense, z), "slt": train_step_fn(slt, z),
                         "slt_argsort": ArgsortSelection(train_step_fn(slt_argsort, z))}, args.repeats)
    evals = interleaved({"dense": eval_fn(dcgan_generator(), z), "slt_cached": eval_fn(slt, z)}, args.repeats)
    scores = [mt.supermask.scores.detach().abs() for mt in masked_tensors(slt)]
    select = interleaved({
        "threshold": lambda: [topk_mask(a, kept_count(a.numel(), 0.1)) for a in scores],
        "argsort": lambda: [argsort_mask(a, kept_count(a.numel(), 0.1)) for a in scores],
    }, args.repeats)

    rows = [
        ("train step  dense", steps["dense"], None),
        ("train step  SLT k=0.1", steps["slt"], steps["slt"] / steps["dense"]),
        ("train step  SLT k=0.1, argsort", steps["slt_argsort"], steps["slt_argsort"] / steps["dense"]),
        ("eval batch  dense", evals["dense"], None),
        ("eval batch  SLT cached masks", evals["slt_cached"], evals["dense"] / evals["slt_cached"]),
        ("selection   threshold (all layers)", select["threshold"], select["threshold"] / select["argsort"]),
        ("selection   argsort (all layers)", select["argsort"], None),
    ]
    for name, seconds, ratio in rows:
        print(f"{name:38s} {seconds * 1000:9.1f} ms" + (f"   ratio {ratio:.3f}" if ratio is not None else ""))
    print(f"converted/dense train step: {steps['slt'] / steps['dense']:.3f} (target <= 1.10)")
    print(f"cached eval throughput / dense: {evals['dense'] / evals['slt_cached']:.3f} (target >= 0.95)")
    print(f"selection / argsort: {select['threshold'] / select['argsort']:.3f} (target <= 0.15)")


if __name__ == "__main__":
    main()
