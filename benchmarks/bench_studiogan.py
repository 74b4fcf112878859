"""Seconds per StudioGAN training step, dense vs SLT k=0.1, through the plugin's real launch path.

    python benchmarks/bench_studiogan.py [--rounds R] [--steps N] [--warmup W] [--threads T] [--data DIR]

Model: StudioGAN's CIFAR10 DCGAN architecture (deep_conv, batch 64, 2 D updates per step) as in
configs/digits/DCGAN.yaml, trained on the built-in digits data on CPU. Each round runs StudioGAN twice in this
process through studiogan_slt.studiogan.launch.run, once dense (the YAML without its SLT section) and once as
an SLT run with k=0.1, alternating which goes first, so machine noise hits both alike. A step is one iteration
of StudioGAN's training loop (loader.py:392-405: the G step and the D steps, data loading included), timed
between consecutive generator steps; the first W steps of every run are warm-up and not counted. No logging,
evaluation or checkpoint happens during the timed steps. Target (issue 4): SLT/dense <= 1.10.
"""
import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml

from studiogan_slt.data.digits import write_digits
from studiogan_slt.studiogan import launch
from studiogan_slt.studiogan.host import compat, locate

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "digits" / "DCGAN.yaml"
VARIANTS = ("dense", "SLT k=0.1")


def write_configs(folder, total_steps):
    """The digits DCGAN YAML as a dense and a k=0.1 SLT config, both stopping after total_steps."""
    with open(CONFIG) as f:
        base = yaml.safe_load(f)
    base["OPTIMIZATION"]["total_steps"] = total_steps
    # the same work per step as dense: without keep_host a search takes 1 D step per G step and, on digits, adds
    # the moment loss (search_defaults.py); the YAML's own moment loss is dropped for the same reason
    search = {key: value for key, value in base["SLT"].items() if key != "moments"}
    slt = dict(base, SLT=dict(search, k=0.1, keep_host=["OPTIMIZATION.d_updates_per_step", "SLT.moments"]))
    dense = {key: value for key, value in base.items() if key != "SLT"}
    paths = {}
    for variant, file_name, cfg in zip(VARIANTS, ("dense.yaml", "slt.yaml"), (dense, slt)):
        paths[variant] = Path(folder) / file_name
        paths[variant].write_text(yaml.safe_dump(cfg, sort_keys=False))
    return paths


class StepClock:
    """Time stamps at the start of every generator step of SLTWorker, the worker class launch.run installs."""

    def __init__(self):
        # importable once StudioGAN's src/ is on sys.path
        from studiogan_slt.studiogan.loop.search_worker import SLTWorker

        self.stamps = []
        train_generator = SLTWorker.train_generator

        def stamped(worker, current_step):
            self.stamps.append(time.perf_counter())
            return train_generator(worker, current_step)

        SLTWorker.train_generator = stamped

    def step_times(self, warmup):
        """Seconds of each loop iteration since the last reset, warm-up iterations dropped; then reset."""
        stamps, self.stamps = self.stamps, []
        return [b - a for a, b in zip(stamps, stamps[1:])][warmup:]


def run(cfg, data, save, total_steps, log):
    # save_freq and print_freq beyond the last step: no checkpoint, evaluation or log line inside the timed loop
    quiet = str(10 * (total_steps + 1))
    argv = ["-cfg", str(cfg), "-data", str(data), "-save", str(save), "-metrics", "none", "--num_workers", "1",
            "--print_freq", quiet, "--save_freq", quiet, "--seed", "0"]
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        launch.run(argv, mode="train")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="dense/SLT pairs of runs")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps at the start of every run")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--data", type=Path, default=None, help="digits ImageFolder (default: written to a temp dir)")
    parser.add_argument("--studiogan-root", default=None, help="default: $STUDIOGAN_ROOT")
    parser.add_argument("--log", type=Path, default=Path(tempfile.gettempdir()) / "bench_studiogan.log",
                        help="where StudioGAN's own output goes")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    compat.import_studiogan(locate.find_root(args.studiogan_root))
    clock = StepClock()

    with tempfile.TemporaryDirectory(prefix="bench_studiogan-") as tmp:
        tmp = Path(tmp)
        data = args.data
        if data is None:
            data = tmp / "digits"
            write_digits(data)
        # StudioGAN's loop runs total_steps + 1 iterations (loader.py:392); the last one has no end stamp
        total_steps = args.warmup + args.steps
        cfgs = write_configs(tmp, total_steps)
        print(f"StudioGAN deep_conv DCGAN ({CONFIG.name}: batch 64, d_updates_per_step 2), digits, CPU, "
              f"{args.threads} threads, torch {torch.__version__}; {args.rounds} rounds x {args.steps} timed steps "
              f"per variant after {args.warmup} warm-up steps; StudioGAN's output: {args.log}")
        times = {variant: [] for variant in VARIANTS}
        with open(args.log, "w") as log:
            for r in range(args.rounds):
                order = VARIANTS if r % 2 == 0 else VARIANTS[::-1]
                line = []
                for variant in order:
                    run(cfgs[variant], data, tmp / f"save-{r}-{cfgs[variant].stem}", total_steps, log)
                    steps = clock.step_times(args.warmup)
                    if len(steps) != args.steps:
                        sys.exit(f"expected {args.steps} timed steps, measured {len(steps)}")
                    times[variant] += steps
                    line.append(f"{variant} {statistics.median(steps):.3f} s/step")
                print(f"round {r + 1}: " + ", ".join(line), flush=True)

    dense, slt = (statistics.median(times[v]) for v in VARIANTS)
    print(f"median over {len(times['dense'])} steps: dense {dense:.3f} s/step, SLT k=0.1 {slt:.3f} s/step")
    print(f"SLT/dense step time: {slt / dense:.3f} (target <= 1.10)")


if __name__ == "__main__":
    main()
