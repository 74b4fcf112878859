"""Runs a list of StudioGAN jobs in ONE fresh Python process, for the integration tests in tests/studiogan/.

StudioGAN is imported once (several seconds) and every job reuses it, which keeps the integration tests fast;
the pytest process itself never imports StudioGAN's flat top-level modules (`config`, `utils`, ...).

usage: python driver.py JOBS.json RESULTS.json, where JOBS.json is a list of
  {"name", "kind": "train"|"eval", "argv": [StudioGAN args], "snapshot_dir": DIR}
      runs launch.run; saves G/G_ema/D state dicts right after conversion (converted.pt) and right after a
      checkpoint was loaded (loaded.pt) into snapshot_dir
  {"name", "kind": "cli", "args": [studiogan-slt args]}   click's CliRunner: exit code and output
  {"name", "kind": "copy", "src": glob, "dst": path}
  {"name", "kind": "call", "function": "module:function", "kwargs": {...}}   a check that needs StudioGAN
      imported, run in this process; its JSON return value is the job's "value"
An argument "glob:PATTERN" in args is replaced by the one path matching PATTERN when its job starts (run folders
are named after a timestamp). Each job's outcome (ok, traceback, exit code, output) goes to RESULTS.json; a failing
job does not stop the rest.
"""
import glob
import importlib
import json
import os
import shutil
import sys
import traceback

import torch
from click.testing import CliRunner

from studiogan_slt.cli import main
from studiogan_slt.studiogan import hooks, launch

_snapshot_dir = [None]


def _states(Gen, Gen_ema, Dis):
    return {name: {k: v.detach().clone() for k, v in m.state_dict().items()}
            for name, m in (("G", Gen), ("G_ema", Gen_ema), ("D", Dis)) if m is not None}


def _save(file_name, states):
    if _snapshot_dir[0]:
        os.makedirs(_snapshot_dir[0], exist_ok=True)
        torch.save(states, os.path.join(_snapshot_dir[0], file_name))


def _install_snapshots():
    convert_models = hooks.convert_models

    def converting(Gen, Gen_ema, Dis, slt, logger, backbone):
        convert_models(Gen, Gen_ema, Dis, slt, logger, backbone)
        _save("converted.pt", _states(Gen, Gen_ema, Dis))

    hooks.convert_models = converting


def _install_load_snapshot():
    import utils.ckpt as ckpt  # StudioGAN's, importable once launch.run has activated it

    if getattr(ckpt.load_StudioGAN_ckpts, "_driver", False):
        return
    load = ckpt.load_StudioGAN_ckpts

    def loading(*args, **kwargs):
        out = load(*args, **kwargs)
        _save("loaded.pt", _states(kwargs["Gen"], kwargs["Gen_ema"], kwargs["Dis"]))
        return out

    loading._driver = True
    ckpt.load_StudioGAN_ckpts = loading


def _expand(args):
    expanded = []
    for arg in args:
        if arg.startswith("glob:"):
            (arg,) = glob.glob(arg[len("glob:"):])
        expanded.append(arg)
    return expanded


def _run(job):
    kind = job["kind"]
    if kind == "copy":
        (src,) = glob.glob(job["src"])
        shutil.copy(src, job["dst"])
        return {}
    if kind == "cli":
        result = CliRunner().invoke(main, _expand(job["args"]))
        crash = result.exception is not None and not isinstance(result.exception, SystemExit)
        return {"exit_code": result.exit_code, "stdout": result.stdout, "stderr": result.stderr,
                "traceback": "".join(traceback.format_exception(*result.exc_info)) if crash else None}
    if kind == "call":
        module, _, name = job["function"].partition(":")
        return {"value": getattr(importlib.import_module(module), name)(**job.get("kwargs", {}))}
    _snapshot_dir[0] = job.get("snapshot_dir")
    # loader.load_worker resolves utils.ckpt at call time, so the loading snapshot is installed on first use:
    # launch.run imports StudioGAN before it calls load_worker, via this patched hooks.install.
    install = hooks.install

    def install_then_snapshot(sg, slt, run_checks=None):
        install(sg, slt, run_checks)
        _install_load_snapshot()

    hooks.install = install_then_snapshot
    try:
        launch.run(job["argv"], mode=kind)
    finally:
        hooks.install = install
    return {}


def main_(jobs_file, results_file):
    _install_snapshots()
    with open(jobs_file) as f:
        jobs = json.load(f)
    results = {}
    for job in jobs:
        try:
            results[job["name"]] = {"ok": True, **_run(job)}
        except BaseException:  # SystemExit from argparse included: record it and go on with the next job
            results[job["name"]] = {"ok": False, "traceback": traceback.format_exc()}
        with open(results_file, "w") as f:
            json.dump(results, f)


if __name__ == "__main__":
    main_(sys.argv[1], sys.argv[2])
