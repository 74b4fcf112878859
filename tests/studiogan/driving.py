"""Run a list of driver.py jobs in one fresh process (StudioGAN imported once) and return its results."""
import json
import os
import subprocess
import sys
from pathlib import Path

DRIVER = Path(__file__).with_name("driver.py")


def run_jobs(work, jobs, studiogan_root, must_succeed=()):
    """driver.py's results by job name; the jobs named in must_succeed failing (or never reached) fail the test."""
    (work / "jobs.json").write_text(json.dumps(jobs))
    env = dict(os.environ, STUDIOGAN_ROOT=str(studiogan_root), OMP_NUM_THREADS="1", WANDB_MODE="disabled")
    done = subprocess.run([sys.executable, str(DRIVER), str(work / "jobs.json"), str(work / "results.json")],
                          env=env, capture_output=True, text=True, timeout=600)
    assert (work / "results.json").exists(), done.stderr[-5000:]
    results = json.loads((work / "results.json").read_text())
    for name in must_succeed:
        result = results.get(name)
        assert result is not None and result["ok"], (result or {}).get("traceback") or done.stderr[-5000:]
    return results
