"""Runs a list of StudioGAN jobs in ONE fresh Python process, for tests/studiogan/test_train.py.

StudioGAN is imported once (several seconds) and every job reuses it, which keeps the integration tests fast;
the pytest process itself never imports StudioGAN's flat top-level modules (`config`, `utils`, ...).

usage: python driver.py JOBS.json RESULTS.json, where JOBS.json is a list of
  {"name", "kind": "train"|"eval", "argv": [StudioGAN args], "snapshot_dir": DIR}
      runs launch.run; saves G/G_ema/D state dicts right after conversion (converted.pt) and right after a
      checkpoint was loaded (loaded.pt, with the optimizers' state dicts) into snapshot_dir
  {"name", "kind": "cli", "args": [studiogan-slt args]}   click's CliRunner: exit code and output
  {"name", "kind": "copy", "src": glob, "dst": folder}       copies every match into folder
  {"name", "kind": "inception", "studiogan_root": DIR}       writes a random-weight stand-in of the FID Inception
      file into $TORCH_HOME's hub cache, where StudioGAN looks for it
  {"name", "kind": "call", "function": "module:function", "kwargs": {...}}   a check that needs StudioGAN
      imported, run in this process; its JSON return value is the job's "value"
An argument "glob:PATTERN" in argv/args is replaced by the one path matching PATTERN when its job starts (run
folders are named after a timestamp). Each job's outcome (ok, traceback, exit code, output, seconds) goes to
RESULTS.json; a failing job does not stop the rest.
"""
import glob
import importlib
import json
import logging
import os
import shutil
import sys
import time
import traceback

import torch
from click.testing import CliRunner

from studiogan_slt.cli import main
from studiogan_slt.studiogan import launch
from studiogan_slt.studiogan.host import compat
from studiogan_slt.studiogan.loop import hooks

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
        _save("loaded.pt", {**_states(kwargs["Gen"], kwargs["Gen_ema"], kwargs["Dis"]),
                            "g_optimizer": kwargs["g_optimizer"].state_dict(),
                            "d_optimizer": kwargs["d_optimizer"].state_dict()})
        return out

    loading._driver = True
    ckpt.load_StudioGAN_ckpts = loading


def _write_standin_inception(studiogan_root):
    """StudioGAN builds its FID network from torchvision's inception_v3 and loads the downloaded file into it
    (inception_net.py:110-131). Build it through StudioGAN's own InceptionV3 class with the download replaced by
    the network's own random weights, and save those where the download would have put them. Metric values
    computed with it are meaningless; it only lets the metric code run offline."""
    net = compat.import_studiogan(studiogan_root)["metrics.inception_net"]
    built, inception_v3, download = [], net.models.inception_v3, net.load_state_dict_from_url

    def recording(*args, **kwargs):
        built.append(inception_v3(*args, **kwargs))
        return built[-1]

    net.models.inception_v3 = recording
    net.load_state_dict_from_url = lambda url, progress=True: built[-1].state_dict()
    try:
        net.InceptionV3()
    finally:
        net.models.inception_v3, net.load_state_dict_from_url = inception_v3, download
    folder = os.path.join(torch.hub.get_dir(), "checkpoints")
    os.makedirs(folder, exist_ok=True)
    torch.save(built[-1].state_dict(), os.path.join(folder, net.FID_WEIGHTS_URL.rsplit("/", 1)[-1]))


def _close_run_loggers():
    """StudioGAN's make_logger (utils/log.py:21-44) reuses a logger, file handler included, by run name: a run
    resumed in this process would log into the first run's file. A CLI run is alone in its process."""
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger) and any(isinstance(h, logging.FileHandler) for h in logger.handlers):
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
                handler.close()


def _expand(args):
    expanded = []
    for arg in args:
        if arg.startswith("glob:"):
            (arg,) = glob.glob(arg[len("glob:"):])
        expanded.append(arg)
    return expanded


def _run(job):
    kind = job["kind"]
    _snapshot_dir[0] = job.get("snapshot_dir")  # no snapshots for jobs without a folder of their own
    if kind == "copy":
        sources = glob.glob(job["src"])
        assert sources, f"nothing matches {job['src']}"
        os.makedirs(job["dst"], exist_ok=True)
        for src in sources:
            shutil.copy(src, job["dst"])
        return {}
    if kind == "call":
        module, _, name = job["function"].partition(":")
        return {"value": getattr(importlib.import_module(module), name)(**job.get("kwargs", {}))}
    if kind == "inception":
        _write_standin_inception(job["studiogan_root"])
        return {}
    if kind == "cli":
        result = CliRunner().invoke(main, _expand(job["args"]))
        crash = result.exception is not None and not isinstance(result.exception, SystemExit)
        return {"exit_code": result.exit_code, "stdout": result.stdout, "stderr": result.stderr,
                "traceback": "".join(traceback.format_exception(*result.exc_info)) if crash else None}
    # loader.load_worker resolves utils.ckpt at call time, so the loading snapshot is installed on first use:
    # launch.run imports StudioGAN before it calls load_worker, via this patched hooks.install.
    install = hooks.install

    def install_then_snapshot(sg, slt, run_checks=None):
        install(sg, slt, run_checks)
        _install_load_snapshot()

    hooks.install = install_then_snapshot
    try:
        # No export at the end (the default on DIGITS): tests/studiogan/test_main_job.py covers it, and each of
        # these runs would spend seconds on it.
        launch.run(_expand(job["argv"]), mode=kind, **({"export": False} if kind == "train" else {}))
    finally:
        hooks.install = install
    return {}


def main_(jobs_file, results_file):
    _install_snapshots()
    with open(jobs_file) as f:
        jobs = json.load(f)
    results = {}
    for job in jobs:
        start = time.perf_counter()
        try:
            results[job["name"]] = {"ok": True, **_run(job)}
        except BaseException:  # SystemExit from argparse included: record it and go on with the next job
            results[job["name"]] = {"ok": False, "traceback": traceback.format_exc()}
        results[job["name"]]["seconds"] = round(time.perf_counter() - start, 1)
        _close_run_loggers()
        with open(results_file, "w") as f:
            json.dump(results, f)


if __name__ == "__main__":
    main_(sys.argv[1], sys.argv[2])
