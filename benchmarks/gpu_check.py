"""Dense vs SLT k = 0.1 on StudioGAN's CIFAR10 generators, on one device, as one table (run by gpu_check.sh).

    python benchmarks/gpu_check.py [--device cuda|cpu] [--batch B] [--repeats R] [--warmup W]

Generators: StudioGAN's own CIFAR10 DCGAN (deep_conv) and BigGAN (big_resnet, spectral norm, cBN, attention),
built from configs/CIFAR10/{DCGAN,BigGAN}-SLT.yaml through the StudioGAN checkout in STUDIOGAN_ROOT; the SLT one
converted with studiogan_slt.convert(k=0.1) and a seeded init (kaiming_normal weights, uniform biases). A step is bench_core's generator training step (forward on a batch of
z with label 0, a square loss, backward, Adam), and dense and SLT steps alternate (bench_core.interleaved), so
machine noise hits both alike; s/step is the median of R. Peak memory, over building the generator and 2 steps
(Adam's state exists from the first step on): on CUDA torch.cuda.max_memory_allocated; on CPU, where torch's
allocator keeps no statistics, the growth of the peak RSS (Linux VmHWM, reset before each variant), which also
counts what the build itself allocates and frees. Ticket: save_ticket of the first generator's trained SLT model, then
load_ticket (read, verify, rebuild through StudioGAN, on CPU), each timed once.

Selection: the mask selection of one training step of the first generator's SLT model (every masked tensor's
|scores|, k = 0.1) by each variant: kthvalue (the CPU's selection), topk (the accelerators'), sort (a full sort for
the threshold) and topk_mask (the new path: what a step calls on this device), each checked equal to the CPU's masks
(which tests/supermask pins to the stable-sort definition) and timed as the median of R. syncs/step: on CUDA the synchronisations
torch's sync debug mode reports in one step's selection; on CPU, which never synchronises, the values read back into
Python (item, int, bool, ...) as their proxy.
"""
import argparse
import contextlib
import ctypes
import gc
import os
import sys
import tempfile
import time
import warnings

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_core import interleaved, train_step_fn  # noqa: E402
from bench_ticket import studiogan_generator  # noqa: E402

import studiogan_slt  # noqa: E402
from studiogan_slt.supermask import parametrize  # noqa: E402
from studiogan_slt.supermask.convert import masked_tensors  # noqa: E402
from studiogan_slt.ticket.report import dense_bytes  # noqa: E402

GENERATORS = {"DCGAN": ("DCGAN-SLT.yaml", "deep_conv"), "BigGAN": ("BigGAN-SLT.yaml", "big_resnet")}
VARIANTS = ("dense", "SLT k=0.1")
PEAK_STEPS = 2


class Labelled(nn.Module):
    """A StudioGAN generator called as g(z), with label 0, so that bench_core's step applies unchanged."""

    def __init__(self, g):
        super().__init__()
        self.g = g

    def forward(self, z):
        return self.g(z, torch.zeros(len(z), dtype=torch.long, device=z.device))


def build(name, variant, device):
    config, backbone = GENERATORS[name]
    gen = studiogan_generator(config, backbone)
    if gen is None:
        sys.exit("gpu_check: set STUDIOGAN_ROOT to a PyTorch-StudioGAN checkout")
    torch.manual_seed(0)
    g = gen.build()
    if variant != "dense":
        studiogan_slt.convert(g, 0.1, seed=1, weight_init="kaiming_normal", bias_init="uniform")  # a seeded ticket
    return gen, Labelled(g.to(device).train())


def step(model, batch, device):
    z = torch.randn(batch, model.g.z_dim, generator=torch.Generator().manual_seed(1)).to(device)
    run = train_step_fn(model, z)
    if device != "cuda":
        return run

    def synced():
        run()
        torch.cuda.synchronize()
    return synced


def _status_kib(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def peak_mb(name, variant, device, batch, steps):
    """Peak memory of building `variant` of `name` and running `steps` training steps, in MB."""
    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM, the peak RSS, to the current RSS (Linux)
        base = _status_kib("VmRSS") * 1024
    run = step(build(name, variant, device)[1], batch, device)
    for _ in range(steps):
        run()
    peak = torch.cuda.max_memory_allocated() if device == "cuda" else _status_kib("VmHWM") * 1024
    return (peak - base) / 2 ** 20


def _flat(select):
    return lambda a, kept: select(a.reshape(-1), kept).reshape(a.shape)


SELECTIONS = {
    "kthvalue": _flat(parametrize._mask_by_kthvalue),
    "topk": _flat(parametrize._mask_by_topk),
    "sort": _flat(lambda flat, kept: parametrize.fill_ties(flat, flat.sort().values[flat.numel() - kept], kept)),
    "topk_mask": parametrize.topk_mask,
}
_READS = ("item", "tolist", "__int__", "__float__", "__bool__", "__index__")


@contextlib.contextmanager
def counting_syncs(device):
    """Yields a list that ends up with one entry per synchronisation (CUDA) or per value read into Python (CPU)."""
    found = []
    if device == "cuda":
        torch.cuda.synchronize()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")
            try:
                yield found
            finally:
                torch.cuda.set_sync_debug_mode("default")
        found += [w for w in caught if "synchroniz" in str(w.message)]
        return
    real = {name: getattr(torch.Tensor, name) for name in _READS}
    for name, method in real.items():
        setattr(torch.Tensor, name, lambda self, *a, _m=method, **kw: found.append(_m) or _m(self, *a, **kw))
    try:
        yield found
    finally:
        for name, method in real.items():
            setattr(torch.Tensor, name, method)


def selection_rows(model, device, repeats, warmup):
    """(variant, s/step, syncs/step, same masks as the CPU's) for one step's mask selection."""
    scores = [mt.supermask.scores.detach().abs() for mt in masked_tensors(model.g)]
    scores = [a for a in scores if parametrize.kept_count(a.numel(), 0.1) < a.numel()]  # the rest keep everything
    kept = [parametrize.kept_count(a.numel(), 0.1) for a in scores]

    def step_of(select):
        def run():
            masks = [select(a, n) for a, n in zip(scores, kept)]
            if device == "cuda":
                torch.cuda.synchronize()
            return masks
        return run

    steps = {name: step_of(select) for name, select in SELECTIONS.items()}
    times = interleaved(steps, repeats, warmup=warmup)
    reference = [parametrize.topk_mask(a.cpu(), n) for a, n in zip(scores, kept)]
    rows = []
    for name, select in SELECTIONS.items():
        with counting_syncs(device) as syncs:
            masks = [select(a, n) for a, n in zip(scores, kept)]
        rows.append((name, times[name], len(syncs), all(torch.equal(m.cpu(), r) for m, r in zip(masks, reference))))
    return rows


def ticket_times(gen, model, tmp):
    path = os.path.join(tmp, "g.slt")
    t0 = time.perf_counter()
    studiogan_slt.save_ticket(model.g, path, **gen.ticket)
    t1 = time.perf_counter()
    loaded = studiogan_slt.load_ticket(path)
    t2 = time.perf_counter()
    dense = dense_bytes(loaded)
    same = all(torch.equal(studiogan_slt.materialize(model.g).cpu().state_dict()[n], t)
               for n, t in loaded.state_dict().items())
    return t1 - t0, t2 - t1, os.path.getsize(path), dense, same


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=20, help="timed steps per variant (median)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--generators", nargs="+", choices=list(GENERATORS), default=list(GENERATORS))
    args = parser.parse_args()
    if args.device == "cpu":
        # M_MMAP_THRESHOLD fixed at 64 KiB: every tensor's memory is mmapped and goes back to the OS when freed, so
        # that one variant's peak RSS does not sit in memory a previous one freed
        ctypes.CDLL("libc.so.6").mallopt(-3, 1 << 16)
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("gpu_check: no CUDA device (run with --cpu)")
    where = torch.cuda.get_device_name() if args.device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"gpu_check on {where}; torch {torch.__version__}, CUDA {torch.version.cuda}; batch {args.batch}, "
          f"median of {args.repeats} interleaved steps after {args.warmup} warm-up")
    memory = "torch.cuda.max_memory_allocated" if args.device == "cuda" else "growth of the peak RSS (VmHWM)"
    rows = []
    for name in args.generators:
        build(name, "dense", args.device)  # StudioGAN's import and first-call allocations, before any peak
        peaks = [peak_mb(name, v, args.device, args.batch, PEAK_STEPS) for v in VARIANTS]
        built = {v: build(name, v, args.device) for v in VARIANTS}
        times = interleaved({v: step(m, args.batch, args.device) for v, (_, m) in built.items()}, args.repeats,
                            warmup=args.warmup)
        params = sum(p.numel() for p in built["dense"][1].parameters())
        rows.append((name, params, times, peaks))
        if name == args.generators[0]:
            gen, model = built["SLT k=0.1"]
            with tempfile.TemporaryDirectory() as tmp:
                ticket = ticket_times(gen, model, tmp)
            selection = selection_rows(model, args.device, args.repeats, args.warmup)
    print("\n| generator | parameters | dense s/step | SLT s/step | SLT/dense | dense peak MB | SLT peak MB | "
          "SLT/dense |\n|---|---|---|---|---|---|---|---|")
    for name, params, times, peaks in rows:
        dense, slt = (times[v] for v in VARIANTS)
        print(f"| {name} | {params / 1e6:.2f}M | {dense:.4f} | {slt:.4f} | {slt / dense:.3f} | {peaks[0]:.0f} | "
              f"{peaks[1]:.0f} | {peaks[1] / peaks[0]:.3f} |")
    print(f"\n{args.generators[0]} mask selection of one step (k=0.1), "
          f"{'synchronisations' if args.device == 'cuda' else 'values read into Python (CPU)'} per step:\n"
          f"| selection | s/step | syncs/step | masks as on CPU |\n|---|---|---|---|")
    for name, seconds, syncs, exact in selection:
        print(f"| {name} | {seconds:.5f} | {syncs} | {'yes' if exact else 'NO'} |")
    save_s, load_s, size, dense, same = ticket
    print(f"\nmemory: {memory}\n{args.generators[0]} ticket (k=0.1): export {save_s:.2f} s, load+verify {load_s:.2f} s (CPU), "
          f"{size:,} B ({dense / size:.1f}x smaller than the fp32 state_dict); reloaded weights "
          f"{'identical to' if same else 'DIFFERENT from'} the trained ones")
    if not same or not all(exact for *_, exact in selection):
        sys.exit(1)


if __name__ == "__main__":
    main()
