"""The public CLI as the digits studies run it (reproduce_digits, search_curves, adversarial_study): one
`studiogan-slt` command in a single-threaded subprocess, the inputs the moment-matching studies start from, and
what the two lever studies (search_curves, adversarial_study) share: their command line and their committed data.
How the studies read their numbers is study_rules.py.

A run folder does not outlive a sitting (a new checkout has none), so each lever study keeps the digits curve of
every finished point in a folder under docs/ (--data): DATA/<run folder>/<point>.csv, the point's
digits_metric.csv as it was when the point finished, <point>.json beside it (the wall seconds of each sweep
step, the ticket's size), and <point>.png, StudioGAN's canvas of generated images at the point's best save. `run`
trains only the seeds whose points DATA lacks, and `report` reads DATA, plus the points of --out still in progress.

No study script loads torch when it is imported: width_diagnosis.py sets OMP_NUM_THREADS in `run` before torch
loads (it imports this module through width_budget), and the page tests import every script. So a studiogan_slt
module that imports torch is imported inside the function that uses it, marked "loads torch"; the others are
imported at the top. None of these imports closes a cycle (the package never imports benchmarks/).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from studiogan_slt import atomic


def cli(args, log=None):
    cmd = [sys.executable, "-m", "studiogan_slt", *map(str, args)]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    returncode = run_passing_sigterm(cmd, env=env, stdout=log, stderr=subprocess.STDOUT if log else None)
    if returncode:
        raise SystemExit(f"`studiogan-slt {' '.join(map(str, args))}` failed ({returncode})")


def run_passing_sigterm(cmd, **popen):
    """The child's exit status. A SIGTERM to this script is passed on to the child: left to the default action it
    would kill the script alone and leave a sweep running, orphaned; a sweep stops cleanly on its own SIGTERM."""
    with subprocess.Popen(cmd, **popen) as child:
        previous = signal.signal(signal.SIGTERM, lambda *_: child.terminate())
        try:
            return child.wait()
        finally:
            signal.signal(signal.SIGTERM, previous)


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


def archive(out, data):
    """Copy every finished point under OUT/<folder>/points/ into DATA, but for the files DATA holds already."""
    # loads torch: lazy, as study_cli's docstring says why
    from studiogan_slt.studiogan.loop.digits_selection import FILE_NAME, read_rows
    from studiogan_slt.sweep.point import DONE

    for done in sorted(Path(out).glob(f"*/points/*/{DONE}")):
        point = done.parent
        kept = Path(data) / point.parents[1].name / f"{point.name}.csv"
        curves = list(point.glob(f"statistics/*/{FILE_NAME}"))
        if len(curves) != 1:
            continue
        kept.parent.mkdir(parents=True, exist_ok=True)
        best = min(read_rows(str(curves[0])), key=lambda row: row["value"])["step"]
        # StudioGAN draws a canvas at every save (loader.py:417), named by the same step as the digits metric's row
        for canvas in point.glob(f"figures/*/generated_canvas_{best}.png"):
            if not kept.with_suffix(".png").is_file():
                atomic.write_bytes(kept.with_suffix(".png"), canvas.read_bytes())
        if kept.is_file():
            continue
        ticket = point / "ticket.slt"
        record = {"seconds": json.loads(done.read_text())["seconds"],
                  "ticket_bytes": ticket.stat().st_size if ticket.is_file() else None}
        atomic.write_text(kept.with_suffix(".json"), json.dumps(record, indent=1) + "\n")
        atomic.write_bytes(kept, curves[0].read_bytes())  # last: a point is kept once its CSV is there


def points(out, data):
    """{(run folder, point): (rows, record)}: every point DATA keeps (record: its json, None when it has none),
    and every point of OUT (None: no run folders) still in progress (record None)."""
    # loads torch: lazy, as study_cli's docstring says why
    from studiogan_slt.studiogan.loop.digits_selection import FILE_NAME, read_rows

    found = {}
    for csv in sorted(Path(data).glob("*/*.csv")):
        record = csv.with_suffix(".json")
        found[csv.parent.name, csv.stem] = (read_rows(str(csv)),
                                            json.loads(record.read_text()) if record.is_file() else None)
    for csv in sorted(Path(out).glob(f"*/points/*/statistics/*/{FILE_NAME}")) if out else []:
        key = (csv.parents[4].name, csv.parents[2].name)
        if key not in found:
            found[key] = (read_rows(str(csv)), None)
    return found


def wall_time_lines(kept):
    """The markdown table of the train step's wall time of each point of `points` whose sweep recorded it (the
    saves' digits metrics included; single-threaded, so about its CPU time), and their total."""
    timed = [(folder, point, record["seconds"]["train"]) for (folder, point), (_, record) in sorted(kept.items())
             if record and "train" in record["seconds"]]
    if not timed:
        return []
    return ["", "## Wall time of each point (train step, single-threaded, 2 shared cores, several points at once)", "",
            "| run folder | point | minutes |", "|---|---|---|",
            *(f"| {folder} | {point} | {seconds / 60:.1f} |" for folder, point, seconds in timed), "",
            f"In all {sum(s for *_, s in timed) / 60:.0f} CPU minutes over {len(timed)} points"
            + (f"; {len(kept) - len(timed)} more have no timing (kept before sweeps timed their steps, or still "
               "running)." if len(kept) > len(timed) else ".")]


def seeds_to_run(data, folder, seeds, per_seed):
    """The seeds for which DATA/<folder> holds fewer than `per_seed` finished points (the sweep names its points
    ...-s<seed>)."""
    kept = [p.stem for p in (Path(data) / folder).glob("*.csv")]
    return [s for s in seeds if sum(name.endswith(f"-s{s}") for name in kept) < per_seed]


def _markers(name):
    return f"<!-- begin {name} (generated: edit the script, not this block) -->", f"<!-- end {name} -->"


# the blocks of docs/results.md in page order: today's verdict first, then its evidence (second-network: the DCGAN
# verdict at the last checkpoint and under the second evaluation network), the first reproduction last
RESULTS_ORDER = ("verdict", "mm-gap", "second-network", "adversarial-study", "reproduction")


def splice(text, name, block):
    """`text` with the block `name` (between its markers) replaced by `block`, or added where it has none, and its
    blocks in RESULTS_ORDER (others after them, in their order): how each study writes its section of a page that
    several scripts generate (docs/results.md). Text outside the blocks stays after them."""
    found = blocks(text)
    rest = text
    for other, body in found.items():
        begin, end = _markers(other)
        rest = rest.replace(f"{begin}\n{body}\n{end}\n", "").replace(f"{begin}\n{body}\n{end}", "")
    found[name] = block.strip()
    order = [n for n in RESULTS_ORDER if n in found] + [n for n in found if n not in RESULTS_ORDER]
    parts = ["{}\n{}\n{}\n".format(_markers(n)[0], found[n], _markers(n)[1]) for n in order]
    return "\n".join(parts + ([rest.strip() + "\n"] if rest.strip() else []))


def blocks(text):
    """{name: block} of every spliced block in `text`, in page order."""
    import re

    return {m.group(1): m.group(2) for m in re.finditer(r"<!-- begin (\S+) \(generated[^>]*-->\n(.*?)\n<!-- end \1 -->",
                                                       text, re.S)}


def save_figure(fig, path):
    """Write a matplotlib figure as PNG atomically (a killed report leaves the old figure) and close it."""
    import io

    import matplotlib.pyplot as plt

    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=120)
    atomic.write_bytes(path, png.getvalue())
    plt.close(fig)


def study_main(doc_file, doc, run, report, steps, every, extra_run_arguments, extra_report_arguments=None, argv=None):
    """The command line both studies share: `run --out --steps --seeds --every` and `report --out --docs`, each plus
    the study's own arguments."""
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    data = Path(__file__).resolve().parents[1] / "docs" / f"{Path(doc_file).stem.replace('_', '-')}-data"
    r = sub.add_parser("run", help="train the points DATA lacks (resumable)")
    rep = sub.add_parser("report", help="the study's markdown (and figures) under --docs from the finished rows")
    for command in (r, rep):
        command.add_argument("--out", required=True, help="the run folders of this sitting")
        command.add_argument("--data", default=str(data), help="the committed curves of finished points")
    extra_run_arguments(r)
    r.add_argument("--steps", type=int, default=steps)
    r.add_argument("--seeds", type=int, nargs="+", default=[0])
    r.add_argument("--every", type=int, default=every, help="steps between two scores (StudioGAN's save_freq)")
    rep.add_argument("--docs", default=str(Path(__file__).resolve().parents[1] / "docs"))
    if extra_report_arguments:
        extra_report_arguments(rep)
    a = p.parse_args(argv)
    archive(a.out, a.data)  # what an earlier sitting finished
    if a.command == "report":
        Path(a.docs).mkdir(parents=True, exist_ok=True)
    (run if a.command == "run" else report)(a)
