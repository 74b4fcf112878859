"""The public CLI as the digits studies run it (reproduce_digits, search_curves, adversarial_study): one
`studiogan-slt` command in a single-threaded subprocess, the inputs the moment-matching studies start from, and
what the two lever studies (search_curves, adversarial_study) share: their command line and their list of floors."""
import argparse
import os
import subprocess
import sys
from pathlib import Path


def cli(args, log=None):
    cmd = [sys.executable, "-m", "studiogan_slt", *map(str, args)]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    done = subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT if log else None)
    if done.returncode:
        raise SystemExit(f"`studiogan-slt {' '.join(map(str, args))}` failed ({done.returncode})")


def digits_inputs(out):
    """(OUT, OUT/data, OUT/digits_cnn.pt): the work folder, the digits data set and the moment-matching
    extractor's weights, each made on first use."""
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    data, extractor = out / "data", out / "digits_cnn.pt"
    if not (data / "valid").is_dir():
        cli(["data", "digits", "-o", data])
    if not extractor.is_file():
        cli(["extractor", "digits", "-o", extractor])
    return out, data, extractor


def floor_lines(floors):
    """The markdown list of the train-split FID's and KID's real-vs-real floors (digits_metrics.floors)."""
    lines = ["Real-vs-real floors of the metrics (what a perfect generator would score):"]
    for name in ("fid_train", "kid"):
        for f in floors[name]:
            spread = f" ± {f['std']:.4g}" if f["std"] is not None else ""
            lines.append(f"- {name}: {f['value']:.4g}{spread} ({f['sample']}, {f['num_fake']} vs {f['num_real']})")
    return lines


def study_main(doc, run, report, steps, every, extra_run_arguments, argv=None):
    """The command line both studies share: `run --out --steps --seeds --every` (plus the study's own
    arguments) and `report --out --docs`."""
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="train the points (resumable)")
    r.add_argument("--out", required=True)
    extra_run_arguments(r)
    r.add_argument("--steps", type=int, default=steps)
    r.add_argument("--seeds", type=int, nargs="+", default=[0])
    r.add_argument("--every", type=int, default=every, help="steps between two scores (StudioGAN's save_freq)")
    rep = sub.add_parser("report", help="the study's markdown (and figures) under --docs from the finished rows")
    rep.add_argument("--out", required=True)
    rep.add_argument("--docs", default=str(Path(__file__).resolve().parents[1] / "docs"))
    a = p.parse_args(argv)
    (run if a.command == "run" else report)(a)
