"""The reproduction's runs: every step is a `studiogan-slt` command in a subprocess (see reproduce_digits.py)."""
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from digits_plan import NUM_IMAGES


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
