"""Run a sweep: skip finished points, run the rest --jobs at a time, then compare and plot every finished point.

Layout of -save: one folder per point (StudioGAN's -save of that point: <point>.yaml, point.log, logs/,
checkpoints/, ticket.slt, done.json), and at the top compare.txt, compare.json, fid_vs_k.csv and fid_vs_k.png over
every finished point in -save, so several sweeps into one -save (e.g. other seeds, controls) make one figure.
"""
import json
import signal
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from studiogan_slt import atomic
from studiogan_slt.errors import Interrupted, SLTError, Terminated
from studiogan_slt.reporting import plot as fig
from studiogan_slt.reporting.compare import compare, format_comparison
from studiogan_slt.reporting.runlog import load_runs
from studiogan_slt.sweep.point import DONE, LOG, check_reusable

FIGURE, CSV, COMPARE = "fid_vs_k.png", "fid_vs_k.csv", "compare"


def _minutes(seconds):
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


class _Progress:
    """Point i of n and an ETA from the points finished in this session (queued points / lanes x mean time)."""

    def __init__(self, total, jobs, echo):
        self.total, self.jobs, self.echo = total, jobs, echo
        self.finished, self.durations = 0, []
        self.lock = threading.Lock()

    def skipped(self, name):
        with self.lock:
            self.finished += 1
            self.echo(f"[{self.finished}/{self.total}] {name}: already done, skipped")

    def done(self, name, seconds, error=None):
        with self.lock:
            self.finished += 1
            self.durations.append(seconds)
            left = self.total - self.finished
            eta = ""
            if left:
                lanes = min(self.jobs, left)
                eta = f"; ETA {_minutes(statistics.fmean(self.durations) * -(-left // lanes))} for {left} more"
            status = f"FAILED ({error})" if error else "done"
            self.echo(f"[{self.finished}/{self.total}] {name}: {status} in {_minutes(seconds)}{eta}")


def run_points(jobs_to_run, lanes, launch, echo):
    """Run the points (PointJobs) through `launch` (a launchers.Local or Submitit); returns the names of the points
    that failed."""
    pending = [job for job in jobs_to_run if check_reusable(job) is None]
    progress = _Progress(len(jobs_to_run), lanes, echo)
    for job in jobs_to_run:
        if job not in pending:
            progress.skipped(job.point.name)
    failed = []

    def one(job):
        echo(f"      {job.point.name}: started (log {Path(job.folder) / LOG})")
        start = time.time()
        try:
            launch(job)
        except Interrupted as err:  # the sweep itself is being stopped: not a failure of the point
            echo(f"      {err}")
            return
        except SLTError as err:
            failed.append(job.point.name)
            progress.done(job.point.name, time.time() - start, error=err)
            return
        progress.done(job.point.name, time.time() - start)

    pool = ThreadPoolExecutor(max(1, lanes))
    try:
        for future in as_completed([pool.submit(one, job) for job in pending]):
            future.result()
    except BaseException as stop:  # Ctrl-C or SIGTERM: start no other point, stop the running ones and wait for them
        pool.shutdown(wait=False, cancel_futures=True)
        launch.cancel(signal.SIGTERM if isinstance(stop, Terminated) else signal.SIGINT)
        pool.shutdown(wait=True)
        raise
    pool.shutdown()
    return failed


def finished_points(save):
    return sorted(str(p.parent) for p in Path(save).glob(f"*/{DONE}"))


def summarize(save, metric, echo, log_y=False, title=None):
    """`compare` and `plot` over every finished point in `save` (the same functions as those commands)."""
    folders = finished_points(save)
    if not folders:
        echo("no finished point: nothing to compare or plot")
        return
    runs = load_runs(folders)
    summaries = compare(runs)
    save = Path(save)
    atomic.write_text(save / f"{COMPARE}.txt", format_comparison(summaries) + "\n")
    atomic.write_text(save / f"{COMPARE}.json", json.dumps(summaries, indent=1) + "\n")
    rows, skipped = fig.points(runs, metric)
    if not rows:  # e.g. a sweep with -metrics none: one line, not every run listed as left out as well
        echo(f"wrote {save / COMPARE}.txt; no figure, as no run has {metric} (train with -metrics, or --digits-fid "
             "on DIGITS, for one)")
        return
    if skipped:
        echo(f"{len(skipped)} run(s) without {metric}, left out of the figure: {', '.join(skipped)}")
    tmp = save / f"tmp-{FIGURE}"
    fig.write_csv(rows, save / f"{CSV}.tmp")
    fig.make_figure(rows, tmp, metric=metric, title=title, log_y=log_y)
    (save / f"{CSV}.tmp").replace(save / CSV)
    tmp.replace(save / FIGURE)
    echo(f"wrote {save / FIGURE} and {save / CSV} ({len(rows)} runs), {save / COMPARE}.txt")
