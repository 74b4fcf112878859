"""The main job timed as a new user runs it, with its dense reference and the random-mask control; writes
docs/main-job.md and docs/main-job-samples.png.

    python benchmarks/main_job.py --out runs/main-job            # about 3 x 15 min on 2 cores
    python benchmarks/main_job.py --out runs/main-job --report   # only rewrite the docs from the runs so far

Each run is the README's command, `studiogan-slt train -cfg CFG -save OUT/<name>`, in its own process with an empty
user cache (XDG_CACHE_HOME=OUT/<name>/cache), so the time includes the first-use steps (data set, digits extractor,
digits evaluation network); StudioGAN comes from STUDIOGAN_ROOT or --studiogan-root as for any run (its clone needs
network access and is not timed). The machine's load (uptime) is recorded before and after, because a shared
machine slows the run. The control is MM-SLT.yaml with g_lr 0 for CONTROL_STEPS steps: the mask the search
starts from, BatchNorm statistics updated, as in benchmarks/reproduce_digits.py. The FID is the digits FID of the
run's best checkpoint (SLT.digits_metric: 296 images against the valid split, docs/results.md's metric). A run
whose timing.json exists is not run again; a "note" in it (how a run was timed, if not by this script) is printed
under the table.
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from studiogan_slt import atomic

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs" / "digits"
CONTROL_STEPS = 100
RUNS = {"main": ("MM-SLT.yaml", None), "dense": ("MM-dense.yaml", None), "control": ("MM-SLT.yaml", CONTROL_STEPS)}


def _uptime():
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _config(out, name):
    cfg, control_steps = RUNS[name]
    if control_steps is None:
        return CONFIGS / cfg
    data = yaml.safe_load((CONFIGS / cfg).read_text())
    data["OPTIMIZATION"].update(g_lr=0.0, total_steps=control_steps)
    path = out / "MM-SLT-random-mask.yaml"
    atomic.write_text(path, yaml.safe_dump(data))
    return path


def run(out, name, studiogan_root):
    save = out / name
    if (save / "timing.json").is_file():
        return
    shutil.rmtree(save, ignore_errors=True)
    save.mkdir(parents=True)
    cfg = _config(out, name)
    command = ["studiogan-slt", "train", "-cfg", str(cfg.relative_to(ROOT) if cfg.is_relative_to(ROOT) else cfg), "-save", str(save / "runs")]
    env = dict(os.environ, XDG_CACHE_HOME=str(save / "cache"), PYTHONUNBUFFERED="1")
    plugin = ["--studiogan-root", studiogan_root] if studiogan_root else []
    before, start = _uptime(), time.time()
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(save / "train.log", "w") as log:
        done = subprocess.run([sys.executable, "-m", "studiogan_slt", *command[1:], *plugin], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    wall = time.time() - start
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"{name}: exit {done.returncode}, see {save / 'train.log'}")
    atomic.write_text(save / "timing.json", json.dumps({
        "command": " ".join(command), "wall_s": round(wall, 1),
        "cpu_s": round(used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime, 1),
        "uptime_before": before, "uptime_after": _uptime()}, indent=1))


def _result(out, name):
    # loads torch: lazy, as study_cli's docstring says why
    from studiogan_slt.studiogan.loop import digits_selection

    save = out / name
    done = (save / "timing.json").is_file()
    # A run still going shows its saves so far, marked as such (the study may be cut short by a deadline).
    timing = json.loads((save / "timing.json").read_text()) if done else {"command": "(still running)"}
    (csv,) = (save / "runs").glob(f"statistics/*/{digits_selection.FILE_NAME}")
    rows = digits_selection.read_rows(str(csv))
    best = min(rows, key=lambda r: r["value"])
    grids = list((save / "runs").glob("figures/*/ticket_samples.png"))
    return {**timing, "done": done, "fid": best["fid"], "step": best["step"], "last": rows[-1]["step"],
            "classes": best["classes"], "grid": grids[0] if grids else None}


def _row(label, r):
    fid = f"{r['fid']:.1f} (step {r['step']})"
    if not r["done"]:
        return f"| {label} | in progress: saves up to step {r['last']} | - | - | {fid} so far | {r['classes']} | - |"
    return (f"| {label} | `{r['command']}` | {r['wall_s'] / 60:.1f} | {r['cpu_s'] / 60:.1f} | {fid} | "
            f"{r['classes']} | {_load(r['uptime_before'])} / {_load(r['uptime_after'])} |")


def _load(uptime):
    return uptime.split("load average: ")[1]


def report(out, docs):
    r = {name: _result(out, name) for name in RUNS}
    atomic.write_bytes(docs / "main-job-samples.png", r["main"]["grid"].read_bytes())
    notes = "".join(f"\n- {n}: {r[n]['note']}" for n in RUNS if r[n].get("note"))
    rows = "\n".join(_row(label, r[n]) for n, label in (
        ("main", "main job: SLT k = 0.1"), ("dense", "dense reference"),
        ("control", f"random-mask control ({CONTROL_STEPS} steps, lr 0)")))
    text = f"""# The main job, timed

Written by `python benchmarks/main_job.py --out {out}` (the README's command in a fresh process with an empty user
cache, so the time includes making the data set and training the two digits networks; StudioGAN from an existing
checkout). Machine: 2 CPU cores, shared with other runs unless the load says otherwise; the load columns are
`uptime`'s 1/5/15-minute load averages before and after the run (2.0 = both cores busy). CPU time is user + system
time of all the run's threads (a run on both cores shows about twice its wall time) and, on a loaded machine,
includes what contention costs.

| run | command | wall min | CPU min | digits FID (best save) | classes | load before / after |
|---|---|---|---|---|---|---|
{rows}
{notes}

The digits FID (SLT.digits_metric `fid`) compares 296 images of the best checkpoint, drawn from the plugin's seeded
latents, with the 296-image valid split on the evaluation network of `studiogan-slt digits-fid`; docs/results.md
(the same recipe, sampled through StudioGAN's `eval -sf`) has dense 41.9 ± 9.2 and SLT k = 0.1 63.2 ± 8.0 over 3
seeds at this budget, controls 705-870. The grid below is `SAVE/figures/<run>/ticket_samples.png` of the main job,
64 samples of its exported ticket:

![main job samples](main-job-samples.png)
"""
    atomic.write_text(docs / "main-job.md", text)
    print(text)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--runs", nargs="+", choices=list(RUNS), default=list(RUNS))
    p.add_argument("--studiogan-root", default=None)
    p.add_argument("--docs", default=str(ROOT / "docs"))
    p.add_argument("--report", action="store_true", help="only write the docs from the runs so far")
    args = p.parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if not args.report:
        for name in args.runs:
            run(out, name, args.studiogan_root)
    if args.report or all((out / n / "timing.json").is_file() for n in RUNS):
        report(out, Path(args.docs))


if __name__ == "__main__":
    main()
