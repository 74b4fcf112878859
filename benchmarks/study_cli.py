"""The public CLI as the digits studies run it (reproduce_digits, search_curves, adversarial_study): one
`studiogan-slt` command in a single-threaded subprocess, the inputs the moment-matching studies start from, and
what the two lever studies (search_curves, adversarial_study) share: their command line, their list of floors and
their committed data.

A run folder does not outlive a sitting (a new checkout has none), so each lever study keeps the digits curve of
every finished point in a folder under docs/ (--data): DATA/<run folder>/<point>.csv, the point's
digits_metric.csv as it was when the point finished, <point>.json beside it (the wall seconds of each sweep
step, the ticket's size), and <point>.png, StudioGAN's canvas of generated images at the point's best save. `run`
trains only the seeds whose points DATA lacks, and `report` reads DATA, plus the points of --out still in progress.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
from pathlib import Path


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
    from studiogan_slt import atomic
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


TARGET, TARGET_SEEDS = 1.1, 5  # issue 15: the ticket within 10% of the dense generator, over 5 seeds each


def finished(rows, steps):
    """Whether a digits curve reached its budget. StudioGAN runs steps 0 to total_steps inclusive, and the plugin
    scores the generator after the last one (step total_steps + 1) where no save fell there; points kept before that
    final save end at total_steps."""
    return rows[-1]["step"] >= steps


def best(rows):
    """The best save of a digits curve (lowest train-split FID): the checkpoint a search keeps."""
    return min(rows, key=lambda r: r["value"])


def last(rows):
    """The last save of a digits curve: where the search ended, whatever it scored."""
    return max(rows, key=lambda r: r["step"])


def mean_std(values):
    """(mean, sample std; None for a single value)."""
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, None
    return mean, (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5


def fmt_mean_std(values, spec):
    """"mean ± std" of `values`, both in the format `spec` (the mean alone for a single value)."""
    mean, std = mean_std(values)
    return f"{mean:{spec}}" + ("" if std is None else f" ± {std:{spec}}")


def above(ticket, dense, floor):
    """ticket / dense, each measured from the real-vs-real floor (what real digits score): the one way the studies
    read a KID ratio. Unbiased KID goes below 0 and so do its floors, so a plain ratio explodes or flips sign where
    dense sits near 0. None where dense is at or below the floor."""
    return (ticket - floor) / (dense - floor) if dense > floor else None


def mean_above(pairs, floor):
    """above() of the arms' means over [(ticket, dense)] KIDs paired by seed: a KID near 0 makes a per-seed
    ratio noise, so over seeds the studies take the ratio of the means. None for no pairs."""
    return above(*(mean_std(arm)[0] for arm in zip(*pairs)), floor) if pairs else None


KIDS = ("kid", "kid_valid")  # the metrics read above their floors (above); an FID is read plain


def ratio(metric, ticket, dense, floors):
    """ticket over dense on `metric`: a KID above its floor in `floors` (digits_metrics.floors), an FID plain."""
    return above(ticket, dense, floors[metric][0]["value"]) if metric in KIDS else ticket / dense


def direction(values):
    """How a gap moves along an ordered axis (width, budget): "grows" or "shrinks" only where every step goes that
    way; comparing the ends alone called 1.61, 2.38, 1.73 a gap that grows."""
    steps = [b - a for a, b in zip(values, values[1:])]
    return "grows" if all(s > 0 for s in steps) else "shrinks" if all(s < 0 for s in steps) else \
        "does not move one way"


def ratio_text(ratio):
    """A ratio at 2 decimals, "-" where there is none (above's None)."""
    return "-" if ratio is None else f"{ratio:.2f}"


def within(fid, kid):
    """The target: a ticket within TARGET of dense on train-split FID and on KID above its floor (None: no ratio)."""
    return fid <= TARGET and kid is not None and kid <= TARGET


def gap(pairs, kid_floor):
    """Issue 15's comparison of [(SLT best row, dense best row)] paired by seed: (the per-seed FID ratios, the
    ratio of the mean KIDs above the KID's real-vs-real floor `kid_floor` (above; None where dense is at or below
    it), whether both are within TARGET)."""
    ratios = [s["value"] / d["value"] for s, d in pairs]
    kid_ratio = mean_above([(s["kid"], d["kid"]) for s, d in pairs], kid_floor)
    return ratios, kid_ratio, within(mean_std(ratios)[0], kid_ratio)


def t_interval(values):
    """(low, high) of the 95% interval of the mean of `values` (Student's t over the seeds), None for one value:
    how far the mean could sit from the one measured, given the seeds' own spread."""
    mean, std = mean_std(values)
    if std is None:
        return None
    from scipy.stats import t

    half = t.ppf(0.975, len(values) - 1) * std / len(values) ** 0.5
    return mean - half, mean + half


def seeds_text(values):
    """"mean ± std (n seeds)" of `values` at 3 significant digits: a cell of the studies' paired tables."""
    mean, std = mean_std(values)
    return f"{mean:.3g} (1 seed)" if std is None else f"{mean:.3g} ± {std:.2g} ({len(values)} seeds)"


def save_figure(fig, path):
    """Write a matplotlib figure as PNG atomically (a killed report leaves the old figure) and close it."""
    import io

    import matplotlib.pyplot as plt

    from studiogan_slt import atomic

    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=120)
    atomic.write_bytes(path, png.getvalue())
    plt.close(fig)


def held_out(rows, key, spec):
    """"mean ± std" of `key` (kid_valid, memorisation) over the rows that have it, with how many of them do where
    some were scored before the metric existed (points kept before issue 25); "-" where none has it."""
    known = [r[key] for r in rows if r.get(key) is not None]
    if not known:
        return "-"
    return fmt_mean_std(known, spec) + ("" if len(known) == len(rows) else f" ({len(known)} of {len(rows)} seeds)")


MEMORISATION_FLAG = 0.9  # a memorisation ratio below this gets a sentence in the reports (issue 25)


def floor_lines(floors):
    """The markdown list of the real-vs-real floors (digits_metrics.floors) of the metrics the studies report."""
    lines = ["Real-vs-real floors of the metrics (what a perfect generator would score):"]
    for name in ("fid_train", "kid", "kid_valid", "memorisation"):
        for f in floors[name]:
            spread = f" ± {f['std']:.4g}" if f["std"] is not None else ""
            lines.append(f"- {name}: {f['value']:.4g}{spread} ({f['sample']}, {f['num_fake']} vs {f['num_real']})")
    return lines


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
