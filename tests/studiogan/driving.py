"""Run a list of driver.py jobs in one fresh process (StudioGAN imported once) and return its results."""
import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

DRIVER = Path(__file__).with_name("driver.py")


def run_jobs(work, jobs, studiogan_root, must_succeed=(), timeout=600):
    """driver.py's results by job name; the jobs named in must_succeed failing (or never reached) fail the test."""
    (work / "jobs.json").write_text(json.dumps(jobs))
    env = dict(os.environ, STUDIOGAN_ROOT=str(studiogan_root), OMP_NUM_THREADS="1", WANDB_MODE="disabled")
    done = subprocess.run([sys.executable, str(DRIVER), str(work / "jobs.json"), str(work / "results.json")],
                          env=env, capture_output=True, text=True, timeout=timeout)
    assert (work / "results.json").exists(), done.stderr[-5000:]
    results = json.loads((work / "results.json").read_text())
    for name in must_succeed:
        result = results.get(name)
        assert result is not None and result["ok"], (result or {}).get("traceback") or done.stderr[-5000:]
    return results


@contextmanager
def trained_networks(work, brief=True):
    """A user cache of its own, under `work`, holding the extractor and the evaluation network of the digits, trained
    briefly (`brief`: seconds instead of minutes; their FIDs are far from the docs', so tests assert gaps, not values)
    or as on first use. The extractor's first-use training itself is tested in test_digits_defaults.py."""
    import pytest

    from studiogan_slt.metrics import digits_eval, digits_net

    patch = pytest.MonkeyPatch()
    patch.setenv("XDG_CACHE_HOME", str(work / "cache"))
    try:
        extractor = digits_net.cached_weights_path()
        extractor.parent.mkdir(parents=True, exist_ok=True)
        digits_net.train_digits_cnn(extractor, log=lambda line: None, **({"epochs": 1} if brief else {}))
        digits_eval.train_eval_net(digits_eval.default_cache_path(), **({"epochs": 5} if brief else {}))
        yield
    finally:
        patch.undo()


def digits_fid(save):
    """The digits FID of the one save of the run in folder `save` (SLT.digits_metric)."""
    from studiogan_slt.studiogan.loop import digits_selection

    (csv,) = save.glob(f"statistics/*/{digits_selection.FILE_NAME}")
    (row,) = digits_selection.read_rows(str(csv))
    return row["fid"]
