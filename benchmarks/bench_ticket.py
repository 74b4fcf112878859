"""Ticket sizes and load time at k = 0.1 with a seeded weight init (issue 6 targets).

Generators (plain PyTorch stand-ins with the exact layer shapes):
  dcgan   StudioGAN's CIFAR10 DCGAN generator (models/deep_conv.py): Linear z(128) -> 4x4x512, three
          ConvTranspose2d 4x4/2 with BN, Conv 3x3 -> RGB; 3.8M weights.
  resnet  GFMN ResnetG at 64 px (IBM/gfmn, the paper's generator): ConvT z(128) -> 4x4x1024, four residual up-blocks
          1024 -> 64, BN-ReLU-Conv 3x3 -> RGB; 12.2M weights.
Targets: ticket >= 60x smaller than the fp32 state_dict file (entropy bound about 68x), raw-bitmask tier >= 30x,
load + verify of the 12M-weight generator < 5 s. Run: OMP_NUM_THREADS=1 python benchmarks/bench_ticket.py
"""
import argparse
import io
import math
import os
import tempfile
import time

import torch
from torch import nn

import studiogan_slt
from studiogan_slt.core.ticket import encode, load_ticket


def dcgan_generator(z_dim=128):
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
    def __init__(self, z_dim=128, ngf=64):
        super().__init__()
        widths = [16 * ngf, 8 * ngf, 4 * ngf, 2 * ngf, ngf]
        self.firstConv = nn.ConvTranspose2d(z_dim, widths[0], 4, 1, 0, bias=False)
        self.blocks = nn.Sequential(*[ResBlockUp(a, b) for a, b in zip(widths, widths[1:])])
        self.bn = nn.BatchNorm2d(ngf)
        self.lastConv = nn.Conv2d(ngf, 3, 3, 1, 1)

    def forward(self, z):
        x = self.blocks(self.firstConv(z[:, :, None, None]))
        return torch.tanh(self.lastConv(torch.relu(self.bn(x))))


GENERATORS = {"dcgan": dcgan_generator, "resnet": ResnetG}


def entropy_bytes(n, k):
    h = -(k * math.log2(k) + (1 - k) * math.log2(1 - k)) if 0 < k < 1 else 0.0
    return n * h / 8


def run(name, k, weight_init, tmp):
    torch.manual_seed(0)
    model = GENERATORS[name]()
    studiogan_slt.convert(model, k, weight_init=weight_init, bias_init="uniform", seed=1)
    model.train()
    with torch.no_grad():
        model(torch.randn(8, 128))  # non-trivial BN running statistics, as after a search
    model.eval()
    z = torch.randn(4, 128)
    with torch.no_grad():
        reference = model(z)
    buf = io.BytesIO()
    torch.save(studiogan_slt.materialize(model).state_dict(), buf)
    dense = buf.tell()
    raw = len(encode(model, codec="none"))
    t0 = time.perf_counter()
    data = encode(model)
    save_s = time.perf_counter() - t0
    path = os.path.join(tmp, f"{name}.slt")
    with open(path, "wb") as f:
        f.write(data)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        loaded = load_ticket(path, model=GENERATORS[name]())  # includes building the fresh generator
        times.append(time.perf_counter() - t0)
    with torch.no_grad():
        identical = torch.equal(loaded(z).view(torch.int32), reference.view(torch.int32))
    masks = studiogan_slt.masks(model)
    n_masked = sum(m.numel() for m in masks.values())
    bound = entropy_bytes(n_masked, k)
    print(f"{name:7s} k={k} {weight_init}: {n_masked / 1e6:.2f}M masked weights; dense fp32 state_dict "
          f"{dense:,} B; raw-bitmask ticket {raw:,} B ({dense / raw:.1f}x); ticket {len(data):,} B "
          f"({dense / len(data):.1f}x; entropy bound of the masks alone {dense / bound:.1f}x); "
          f"encode {save_s:.2f} s; load+verify min {min(times):.2f} s (of {', '.join(f'{t:.2f}' for t in times)}); "
          f"reloaded output bit-identical: {identical}")
    return {"dense": dense, "raw": raw, "ticket": len(data), "load_s": min(times), "identical": identical}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=float, default=0.1)
    parser.add_argument("--weight-init", default="kaiming_normal",
                        choices=["kaiming_normal", "signed_kaiming_constant"])
    parser.add_argument("--only", choices=sorted(GENERATORS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread")
    with tempfile.TemporaryDirectory() as tmp:
        for name in [args.only] if args.only else list(GENERATORS):
            r = run(name, args.k, args.weight_init, tmp)
            verdict = (r["dense"] >= 60 * r["ticket"] and r["dense"] >= 30 * r["raw"] and r["identical"]
                       and (name != "resnet" or r["load_s"] < 5.0))
            print(f"  targets (ticket >= 60x, raw >= 30x, bit-identical{', load < 5 s' if name == 'resnet' else ''}):"
                  f" {'met' if verdict else 'NOT met'}")


if __name__ == "__main__":
    main()
