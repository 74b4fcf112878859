"""Ticket sizes per storage tier and load time at k = 0.1 with a seeded weight init (issue 6 targets).

Generators:
  dcgan   StudioGAN's own CIFAR10 DCGAN generator (models/deep_conv.py, configs/CIFAR10/DCGAN-SLT.yaml), built and
          rebuilt on load through the ticket's StudioGAN builder; 3.8M weights. Without a StudioGAN checkout
          (STUDIOGAN_ROOT) a plain PyTorch stand-in with the same layer shapes is used instead, and said so.
  resnet  GFMN ResnetG at 64 px (IBM/gfmn, the paper's generator), a plain PyTorch copy of its layer shapes:
          ConvT z(128) -> 4x4x1024, four residual up-blocks 1024 -> 64, BN-ReLU-Conv 3x3 -> RGB; 12.2M weights.
Tiers: seeded (the ticket: rANS-coded masks + a seed), seeded xz (the masks xz-coded, as before format version 4),
raw bitmask (the same, 1 bit per weight, no entropy coding), signs
(signed-constant weights stored as one sign bit per kept weight: measured on the same generator converted with
weight_init signed_kaiming_constant and mask_bias false, because seeded uniform biases have no signs form), values
(the kept weights in fp32 / fp16, as for the host's own init).
Targets: ticket >= 66x smaller than the fp32 state_dict file (entropy bound about 68x), raw-bitmask tier >= 30x,
load + verify of the 12M-weight generator < 5 s. Run: OMP_NUM_THREADS=1 python benchmarks/bench_ticket.py
"""
import argparse
import math
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

import studiogan_slt
from studiogan_slt.errors import SLTError
from studiogan_slt.studiogan.host import locate
from studiogan_slt.studiogan.rebuild import builder
from studiogan_slt.ticket.report import dense_bytes
from studiogan_slt.ticket.save_load import encode, load_ticket

Z_DIM = 128


def dcgan_generator(z_dim=Z_DIM):
    layers = [nn.Linear(z_dim, 512 * 4 * 4), nn.Unflatten(1, (512, 4, 4))]
    for cin, cout in ((512, 256), (256, 128), (128, 64)):
        layers += [nn.ConvTranspose2d(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout), nn.ReLU()]
    return nn.Sequential(*layers, nn.Conv2d(64, 3, 3, 1, 1), nn.Tanh())


class ResBlockUp(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.bn1, self.bn2 = nn.BatchNorm2d(cin), nn.BatchNorm2d(cout)
        self.conv1, self.conv2 = nn.Conv2d(cin, cout, 3, 1, 1), nn.Conv2d(cout, cout, 3, 1, 1)
        self.conv_bypass = nn.Conv2d(cin, cout, 1)

    def forward(self, x):
        up = nn.functional.interpolate
        h = self.conv1(up(torch.relu(self.bn1(x)), scale_factor=2))
        return self.conv2(torch.relu(self.bn2(h))) + up(self.conv_bypass(x), scale_factor=2)


class ResnetG(nn.Module):
    def __init__(self, z_dim=Z_DIM, ngf=64):
        super().__init__()
        widths = [16 * ngf, 8 * ngf, 4 * ngf, 2 * ngf, ngf]
        self.firstConv = nn.ConvTranspose2d(z_dim, widths[0], 4, 1, 0, bias=False)
        self.blocks = nn.Sequential(*[ResBlockUp(a, b) for a, b in zip(widths, widths[1:])])
        self.bn = nn.BatchNorm2d(ngf)
        self.lastConv = nn.Conv2d(ngf, 3, 3, 1, 1)

    def forward(self, z):
        x = self.blocks(self.firstConv(z[:, :, None, None]))
        return torch.tanh(self.lastConv(torch.relu(self.bn(x))))


@dataclass
class Generator:
    label: str
    build: callable  # a fresh plain generator
    labels: bool = False  # StudioGAN generators take (z, label)
    ticket: dict = field(default_factory=dict)  # builder and builder_kwargs: load_ticket rebuilds it alone

    def __call__(self, model, z):
        return model(z, torch.zeros(len(z), dtype=torch.long, device=z.device)) if self.labels else model(z)

    def load(self, path):
        return load_ticket(path) if self.ticket else load_ticket(path, model=self.build())


def studiogan_generator(config="DCGAN-SLT.yaml", label="StudioGAN deep_conv"):
    """A generator of StudioGAN's own, as configs/CIFAR10/<config> builds it, or None without a StudioGAN
    checkout."""
    import yaml

    try:
        locate.find_root()
    except SLTError:
        return None
    cfg = yaml.safe_load((Path(__file__).parents[1] / "configs" / "CIFAR10" / config).read_text())
    cfgs = {s: cfg.get(s, {}) for s in builder.SECTIONS}
    return Generator(label, lambda: builder.build_generator(cfgs), labels=True,
                     ticket={"builder": builder.BUILDER, "builder_kwargs": {"cfgs": cfgs}})


def generators(only=None):
    found = {}
    if only in (None, "dcgan"):
        found["dcgan"] = studiogan_generator() or Generator("stand-in (no StudioGAN checkout)", dcgan_generator)
    if only in (None, "resnet"):
        found["resnet"] = Generator("GFMN ResnetG", ResnetG)
    return found


def entropy_bytes(n, k):
    h = -(k * math.log2(k) + (1 - k) * math.log2(1 - k)) if 0 < k < 1 else 0.0
    return n * h / 8


def converted(gen, k, **options):
    torch.manual_seed(0)
    model = gen.build()
    studiogan_slt.convert(model, k, seed=1, **options)
    model.train()
    with torch.no_grad():
        gen(model, torch.randn(8, Z_DIM))  # non-trivial BN running statistics, as after a search
    return model.eval()


def _identical(a, b):
    return torch.equal(a.view(torch.int32), b.view(torch.int32))


def run(name, gen, k, weight_init, tmp):
    model = converted(gen, k, weight_init=weight_init, bias_init="uniform")
    signs_model = converted(gen, k, weight_init="signed_kaiming_constant", mask_bias=False)
    z = torch.randn(4, Z_DIM)
    dense = dense_bytes(studiogan_slt.materialize(model))
    t0 = time.perf_counter()
    tiers = {"seeded": encode(model, **gen.ticket)}
    save_s = time.perf_counter() - t0
    tiers["seeded xz"] = encode(model, codec="xz", **gen.ticket)
    tiers["raw bitmask"] = encode(model, codec="none", **gen.ticket)
    tiers["signs"] = encode(signs_model, tier="signs", **gen.ticket)
    tiers["values fp32"] = encode(model, tier="values", **gen.ticket)
    tiers["values fp16"] = encode(model, tier="values", values_dtype="float16", **gen.ticket)
    identical, times, cpu_times = {}, [], []
    with torch.no_grad():
        for tier, data in tiers.items():
            path = os.path.join(tmp, f"{name}-{tier.replace(' ', '_')}.slt")
            Path(path).write_bytes(data)
            original = signs_model if tier == "signs" else model
            for _ in range(3 if tier == "seeded" else 1):
                t0, c0 = time.perf_counter(), time.process_time()
                loaded = gen.load(path)  # includes building the fresh generator
                if tier == "seeded":
                    times.append(time.perf_counter() - t0)
                    cpu_times.append(time.process_time() - c0)
            identical[tier] = _identical(gen(loaded, z), gen(original, z))
    n_masked = sum(m.numel() for m in studiogan_slt.masks(model).values())
    print(f"{name} ({gen.label}), k={k}, {weight_init}: {n_masked / 1e6:.2f}M masked weights; "
          f"dense fp32 state_dict {dense:,} B; entropy bound of the masks alone {dense / entropy_bytes(n_masked, k):.1f}x")
    for tier, data in tiers.items():
        same = "bit-identical" if identical[tier] else "NOT bit-identical" + (" (lossy by design)" if "fp16" in tier
                                                                                else "")
        print(f"  {tier:12s} {len(data):>12,} B  {dense / len(data):6.1f}x smaller; reloaded output {same}")
    # CPU time as well as wall time: on a shared machine the wall time also counts other processes' turns
    print(f"  seeded ticket: encode {save_s:.2f} s; load+verify min {min(times):.2f} s wall "
          f"(of {', '.join(f'{t:.2f}' for t in times)}), min {min(cpu_times):.2f} s CPU")
    return {"dense": dense, "ticket": len(tiers["seeded"]), "raw": len(tiers["raw bitmask"]), "load_s": min(times),
            "identical": all(v for tier, v in identical.items() if "fp16" not in tier)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=float, default=0.1)
    parser.add_argument("--weight-init", default="kaiming_normal",
                        choices=["kaiming_normal", "signed_kaiming_constant"])
    parser.add_argument("--only", choices=["dcgan", "resnet"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread, {os.cpu_count()} CPU cores, "
          f"load average {os.getloadavg()[0]:.2f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        for name, gen in generators(args.only).items():
            r = run(name, gen, args.k, args.weight_init, tmp)
            checks = {"ticket >= 66x": r["dense"] >= 66 * r["ticket"], "raw >= 30x": r["dense"] >= 30 * r["raw"],
                      "exact tiers bit-identical": r["identical"]}
            if name == "resnet":
                checks["load < 5 s"] = r["load_s"] < 5.0
            print("  targets: " + "; ".join(f"{c}: {'met' if ok else 'NOT met'}" for c, ok in checks.items()))


if __name__ == "__main__":
    main()
