"""Ticket size at k = 0.1 with each search lever of issue 15, next to the plain seeded ticket (bench_ticket.py's 64x).

On bench_ticket.py's generators (StudioGAN's CIFAR10 DCGAN G with a checkout, else its stand-in; `--only resnet`
for GFMN's ResnetG), weight_init kaiming_normal, bias_init uniform:
  baseline     the plain seeded ticket
  k_schedule   converted with k_schedule {start: 0.5, steps: 100} and saved at step 50 (the ticket stores k = 0.1)
  learn_bn     every BN weight and bias set to arbitrary values (N(1, 0.1), N(0, 0.1)), as after learning them
  rerandomize  fraction 0.1, EVENTS redraws; between redraws the scores drift by N(0, (sigma * std)^2), which turns
               over some of the kept entries (measured, printed); the kept weights' draw counts go in the ticket
Every ticket is reloaded and its output compared bit for bit. Run: OMP_NUM_THREADS=1 python benchmarks/bench_levers.py
"""
import argparse
import os
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_ticket import Z_DIM, _identical, converted, generators  # noqa: E402

import studiogan_slt  # noqa: E402
from studiogan_slt.supermask.convert import masked_tensors  # noqa: E402
from studiogan_slt.supermask.search import Levers, final_k  # noqa: E402
from studiogan_slt.ticket.report import dense_bytes  # noqa: E402
from studiogan_slt.ticket.save_load import encode  # noqa: E402

SEEDED = {"weight_init": "kaiming_normal", "bias_init": "uniform"}


def _learned_bn(model):
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._NormBase) and m.weight is not None:
                m.weight.copy_(1 + 0.1 * torch.randn(m.weight.shape, generator=g))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
    return model


def _rerandomized(model, events, sigma):
    """EVENTS redraws with score drift in between; returns the mean share of kept entries that changed per drift."""
    levers, g, turnover = Levers(model), torch.Generator().manual_seed(7), []
    for event in range(1, events + 1):
        before = studiogan_slt.masks(model)
        with torch.no_grad():
            for mt in masked_tensors(model):
                s = mt.supermask.scores
                s.add_(torch.randn(s.shape, generator=g) * sigma * s.std())
        after = studiogan_slt.masks(model)
        kept = sum(int(m.sum()) for m in before.values())
        turnover.append(sum(int((before[n] & ~after[n]).sum()) for n in before) / kept)
        levers.before_step(event)
    return sum(turnover) / len(turnover)


def run(gen, k, events, sigmas, tmp):
    cases = {"baseline": converted(gen, k, **SEEDED)}
    mid = converted(gen, k, k_schedule={"start": 0.5, "steps": 100}, **SEEDED)
    Levers(mid).before_step(50)
    cases["k_schedule (saved at step 50 of 100)"] = mid
    cases["learn_bn"] = _learned_bn(converted(gen, k, learn_bn=True, **SEEDED))
    for sigma in sigmas:
        model = converted(gen, k, rerandomize={"every": 1, "fraction": 0.1}, **SEEDED)
        turnover = _rerandomized(model, events, sigma)
        cases[f"rerandomize, {events} redraws, kept turnover {turnover:.1%}/redraw"] = model
    dense = dense_bytes(studiogan_slt.materialize(cases["baseline"]))
    z = torch.randn(4, Z_DIM)
    print(f"{gen.label}, k={k}: dense fp32 state_dict {dense:,} B")
    base = None
    for label, model in cases.items():
        data = encode(model, **gen.ticket)
        path = Path(tmp) / "t.slt"
        path.write_bytes(data)
        with torch.no_grad(), final_k(model, k):  # the ticket's k, whatever step a schedule is at
            same = _identical(gen(gen.load(path), z), gen(model, z))
        base = base or len(data)
        print(f"  {label:55s} {len(data):>10,} B  {dense / len(data):5.1f}x smaller  "
              f"({len(data) - base:+,} B vs baseline); reload {'bit-identical' if same else 'NOT bit-identical'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=float, default=0.1)
    parser.add_argument("--events", type=int, default=8, help="rerandomize redraws (800 steps every 100: 8)")
    parser.add_argument("--sigma", type=float, nargs="+", default=[0.05, 0.3])
    parser.add_argument("--only", choices=["dcgan", "resnet"], default="dcgan")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        for gen in generators(args.only).values():
            run(gen, args.k, args.events, args.sigma, tmp)
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
