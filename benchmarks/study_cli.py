"""The public CLI as the digits studies run it (reproduce_digits, search_curves, adversarial_study): one
`studiogan-slt` command in a single-threaded subprocess, and the inputs the moment-matching studies start from."""
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
