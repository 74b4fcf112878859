"""Scheduling a sweep's points (no StudioGAN): finished points skipped, a failing point contained, progress lines
with an ETA, and a stopped sweep starts no further point and cancels what it submitted; the summary's lines."""
import json
import signal

import pytest

from studiogan_slt.errors import SLTError
from studiogan_slt.sweep.plan import Point
from studiogan_slt.sweep.point import DONE, PointJob
from studiogan_slt.sweep.run import run_points, summarize
from tests.reporting.fakeruns import write_run


class FakeLauncher:
    def __init__(self, fail=(), interrupt=()):
        self.fail, self.interrupt, self.ran, self.cancelled = fail, interrupt, [], False

    def __call__(self, job):
        self.ran.append(job.point.name)
        if job.point.name in self.interrupt:
            raise KeyboardInterrupt
        if job.point.name in self.fail:
            raise SLTError(f"point {job.point.name}: `studiogan-slt train` failed (exit 1)")

    def cancel(self, signum):
        self.cancelled = signum


def _jobs(tmp_path, n):
    return [PointJob(point=Point(f"p{i}", 0, {"SLT": {"k": 0.1}}, masked=True), folder=str(tmp_path / f"p{i}"),
                     data="d") for i in range(n)]


def test_skips_finished_points_and_contains_a_failure(tmp_path):
    jobs = _jobs(tmp_path, 4)
    (tmp_path / "p0").mkdir()
    (tmp_path / "p0" / DONE).write_text(json.dumps({"fingerprint": jobs[0].fingerprint}))
    lines, launcher = [], FakeLauncher(fail={"p1"})
    failed = run_points(jobs, 1, launcher, lines.append)
    assert failed == ["p1"] and launcher.ran == ["p1", "p2", "p3"]
    progress = [line for line in lines if line.startswith("[")]
    assert progress[0] == "[1/4] p0: already done, skipped"
    assert progress[1].startswith("[2/4] p1: FAILED (point p1: `studiogan-slt train` failed (exit 1)) in ")
    assert "ETA" in progress[1] and "for 2 more" in progress[1]
    assert progress[3].startswith("[4/4] p3: done in ") and "ETA" not in progress[3]


def test_a_stopped_sweep_starts_nothing_more_and_cancels(tmp_path):
    launcher = FakeLauncher(interrupt={"p0"})
    with pytest.raises(KeyboardInterrupt):
        run_points(_jobs(tmp_path, 3), 1, launcher, lambda line: None)
    assert launcher.ran == ["p0"] and launcher.cancelled == signal.SIGINT


def _finished_point(save, name, evals):
    write_run(save / name, name, slt={"k": 0.1}, evals=evals)
    (save / name / DONE).write_text("{}")


def test_summary_without_the_metric_is_one_line(tmp_path):
    """A sweep with -metrics none: the comparison, and one line saying why there is no figure."""
    for name in ("a", "b"):
        _finished_point(tmp_path, name, ())
    lines = []
    summarize(tmp_path, "FID", lines.append)
    assert len(lines) == 1 and lines[0].startswith(f"wrote {tmp_path / 'compare'}.txt; no figure, as no run has FID")
    assert (tmp_path / "compare.txt").exists() and not (tmp_path / "fid_vs_k.png").exists()


def test_summary_names_the_runs_left_out_of_the_figure(tmp_path):
    _finished_point(tmp_path, "a", ((1000, 60.0, 5.0),))
    _finished_point(tmp_path, "b", ())
    lines = []
    summarize(tmp_path, "FID", lines.append)
    assert lines[0] == "1 run(s) without FID, left out of the figure: b"
    assert lines[1].startswith(f"wrote {tmp_path / 'fid_vs_k.png'}") and (tmp_path / "fid_vs_k.png").exists()
