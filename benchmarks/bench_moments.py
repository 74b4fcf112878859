"""Peak memory of the real-statistics pass does not grow with the number of images.

For each N, a fresh process builds the digits extractor, then streams N digits images (the 1,501-image train split,
cycled when N is larger) through studiogan_slt.moments.loss.real_statistics in batches of 64. It resets the
process's peak resident memory (Linux /proc/self/clear_refs) before the pass and reports how far the peak (VmHWM)
rose above the resident memory at the start of the pass, next to what holding all N x F features
would take (the O(N*F) approach the streaming avoids).

    OMP_NUM_THREADS=1 python benchmarks/bench_moments.py [--sizes 750 1500 3000 6000] [--extractor digits|vgg19_bn]

`--extractor vgg19_bn` uses randomly initialised VGG19-BN (F = 303,104 at 32x32, the paper's layer set) because
the ImageNet weights are not downloadable here; memory does not depend on the weights' values.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

BATCH = 64


def _status_mib(field):
    with open("/proc/self/status") as f:
        return int(re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M).group(1)) / 1024


def _reset_peak():
    # Without a reset the process peak is set by start-up (imports, loading the data), which would hide the pass.
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def child(n, extractor_name, weights):
    # lazy: torch loads in the child, the process measured; the parent loads it only to train the extractor
    import torch

    from studiogan_slt.metrics.digits_net import NETWORK
    from studiogan_slt.moments.extractors import FeatureExtractor
    from studiogan_slt.moments.loss import real_statistics
    from studiogan_slt.data.digits import digits_arrays

    torch.set_num_threads(1)
    spec = {"network": NETWORK, "weights": weights} if extractor_name == "digits" else \
        {"name": "vgg19_bn", "weights": None}
    extractor = FeatureExtractor(spec)
    images = torch.from_numpy(digits_arrays("train")[0]).permute(0, 3, 1, 2).contiguous()  # uint8, 4.6 MB

    def batches():
        for start in range(0, n, BATCH):
            idx = torch.arange(start, min(start + BATCH, n)) % len(images)
            yield images[idx].float().div(127.5).sub(1.0)

    with torch.no_grad():  # warm-up: first forward settles taps; allocator reaches its steady state
        features = extractor(next(batches())).shape[1]
    _reset_peak()
    before = _status_mib("VmRSS")
    t = time.time()
    stats = real_statistics(extractor, batches())
    seconds = time.time() - t
    print(json.dumps({"n": stats.n, "features": features, "rss_before_mib": before,
                      "peak_during_mib": _status_mib("VmHWM"), "seconds": seconds}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[750, 1500, 3000, 6000])
    parser.add_argument("--extractor", choices=["digits", "vgg19_bn"], default="digits")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--weights", help="digits extractor state_dict (default: a freshly trained one)")
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.extractor, args.weights)
    weights = args.weights
    if args.extractor == "digits" and weights is None:
        import tempfile

        from studiogan_slt.metrics.digits_net import train_digits_cnn  # loads torch: only without --weights

        weights = os.path.join(tempfile.mkdtemp(), "digits_cnn.pt")
        train_digits_cnn(weights, log=lambda msg: None)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    print(f"extractor {args.extractor}, batch {BATCH}, one fresh process per N")
    print(f"{'N':>7} {'F':>8} {'RSS before MiB':>15} {'peak during MiB':>16} {'growth MiB':>11} {'N*F*4 MiB':>10} "
          f"{'s':>6}")
    for n in args.sizes:
        cmd = [sys.executable, __file__, "--child", str(n), "--extractor", args.extractor]
        if weights:
            cmd += ["--weights", weights]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        growth = r["peak_during_mib"] - r["rss_before_mib"]
        naive = r["n"] * r["features"] * 4 / 2 ** 20
        print(f"{r['n']:>7} {r['features']:>8} {r['rss_before_mib']:>15.1f} {r['peak_during_mib']:>16.1f} "
              f"{growth:>11.1f} {naive:>10.0f} {r['seconds']:>6.1f}")


if __name__ == "__main__":
    main()
