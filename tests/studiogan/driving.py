"""Run a list of driver.py jobs in one fresh process (StudioGAN imported once) and return its results."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

DRIVER = Path(__file__).with_name("driver.py")


def drive(work, jobs, studiogan_root, timeout=600, env=None, prefix=""):
    """(driver.py's results by job name, its output) of `jobs`, run in one driver process; its files are
    work/<prefix>jobs.json and work/<prefix>results.json. `env`: variables to set for the driver on top of this
    process's; they override the defaults set here (WANDB_MODE=disabled among them)."""
    jobs_file, results_file = work / f"{prefix}jobs.json", work / f"{prefix}results.json"
    jobs_file.write_text(json.dumps(jobs))
    env = {**os.environ, "STUDIOGAN_ROOT": str(studiogan_root), "OMP_NUM_THREADS": "1", "WANDB_MODE": "disabled",
           **(env or {})}
    done = subprocess.run([sys.executable, str(DRIVER), str(jobs_file), str(results_file)],
                          env=env, capture_output=True, text=True, timeout=timeout)
    # driver.py records a failing job and goes on, so a non-zero exit means the driver itself broke
    assert done.returncode == 0 and results_file.exists(), done.stderr[-5000:]
    return json.loads(results_file.read_text()), done.stdout + done.stderr


def run_jobs(work, jobs, studiogan_root, must_succeed=(), timeout=600, env=None):
    """driver.py's results by job name; the jobs named in must_succeed failing (or never reached) fail the test."""
    results, output = drive(work, jobs, studiogan_root, timeout, env)
    for name in must_succeed:
        result = results.get(name)
        assert result is not None and result["ok"], (result or {}).get("traceback") or output[-5000:]
    return results


def cache_of_its_own(work, networks):
    """A user cache of its own under `work`, for runs that make the data set there on first use, holding only the
    session's digits networks (tests/conftest.py's digits_networks), so that they are not trained again; returns
    the XDG_CACHE_HOME to run with."""
    home = work / "cache"
    (home / "studiogan-slt").mkdir(parents=True)
    for path in (networks.extractor, networks.evaluation):
        shutil.copy(path, home / "studiogan-slt" / path.name)
    return home


def digits_fid(save):
    """The digits FID of the last save of the run in folder `save` (SLT.digits_metric): the generator a user gets at
    the end (a finished run saves its last update, StudioGAN's total_steps + 1, after the save at save_freq)."""
    from studiogan_slt.studiogan.loop import digits_selection

    (csv,) = save.glob(f"statistics/*/{digits_selection.FILE_NAME}")
    return max(digits_selection.read_rows(str(csv)), key=lambda row: row["step"])["fid"]
