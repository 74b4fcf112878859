"""One point of a sweep: `train`, then `eval`, `export` and `digits-fid` as asked, each a subprocess of the real CLI.

Every step is `python -m studiogan_slt CMD ...` with its output appended to the point's point.log, so a crash in
one point (or in StudioGAN) ends that point only. Steps that finished are recorded in progress.json, and the point
is complete once done.json exists; both are written atomically, done.json last, so "done.json exists" means every
step finished. A point found half done is continued: finished steps are not run again, and a train step that was
cut off resumes from its last checkpoint (`train -ckpt`, which StudioGAN appends to the same run log); without a
checkpoint, or when resuming fails (e.g. a checkpoint cut off while being written), the point starts again from
an empty folder. A step stopped by a signal (Ctrl-C, SIGTERM) is not a failure: the point folder and its
checkpoints stay as they are, for the next run to resume.

Steps run in their own session, so a terminal's Ctrl-C reaches the sweep alone, and the sweep hands each running
step exactly one signal (stop_steps): a step never gets a second Ctrl-C in the middle of saving its checkpoint.
"""
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from studiogan_slt import atomic
from studiogan_slt.errors import Interrupted, SLTError, Terminated
from studiogan_slt.studiogan import run_files
from studiogan_slt.sweep.plan import Point, write_yaml

DONE, PROGRESS, LOG = "done.json", "progress.json", "point.log"
DIGITS_IMAGES = 296  # the digits valid split: digits-fid compares as many generated images as real ones
# exit statuses of a step stopped by Ctrl-C or SIGTERM: the shell's 128 + n, or Popen's -n when it died of it
_STOPPED = {130: Interrupted, -signal.SIGINT: Interrupted, 143: Terminated, -signal.SIGTERM: Terminated}
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_the_sweep():
    """A step runs in a session of its own, so Ctrl-C and SIGTERM reach it once, through the sweep, which forwards
    them and waits; a sweep killed outright (SIGKILL, the OOM killer) cannot forward anything, and its step would
    train on as an orphan writing into the point folder. Linux kills the step with it instead."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
_running, _running_lock = set(), threading.Lock()  # the step processes of this sweep, for stop_steps
_stopped = []  # the signal stop_steps sent: once the sweep stops, no step starts


def stop_steps(signum):
    """Send `signum` to every step process running in this process (the sweep's local points), and start no step
    after it. Steps start under the same lock, so a step whose Popen had returned but was not yet listed, or a point
    between two of its steps, cannot miss the signal and train on to its end while the sweep waits for it."""
    with _running_lock:
        _stopped.append(signum)
        for proc in _running:
            if proc.poll() is None:
                proc.send_signal(signum)


@dataclass(frozen=True)
class PointJob:
    """Everything a point needs, picklable, so that submitit can run it on another machine."""
    point: Point
    folder: str
    data: str
    train_flags: tuple = ()      # the user's StudioGAN flags
    eval_flags: tuple = None     # StudioGAN flags of an `eval` of the final checkpoint; None: no eval
    digits_net: str = None       # run `digits-fid` on the eval's samples with this network
    plugin_flags: tuple = ()     # --studiogan-root DIR
    nproc: int = 1
    env: dict = field(default_factory=dict)

    @property
    def fingerprint(self):
        """What makes a finished point reusable: the same YAML and the same commands."""
        return {"sections": self.point.sections, "data": self.data, "train_flags": list(self.train_flags),
                "eval_flags": None if self.eval_flags is None else list(self.eval_flags),
                "digits_fid": self.digits_net is not None}


def _marker(path):
    """The JSON object of a marker file (done.json, progress.json); None when there is none, SLTError when it is
    damaged (not a JSON object, or a folder)."""
    if not os.path.lexists(path):
        return None
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        value = None
    if not isinstance(value, dict):
        raise SLTError(f"{path} is damaged (not a JSON object); delete it and run the same command again to redo "
                       "that point's steps")
    return value


def done_record(folder):
    record = _marker(Path(folder) / DONE)
    if record is not None and not isinstance(record.get("fingerprint"), dict):
        raise SLTError(f"{Path(folder) / DONE} is damaged (no fingerprint); delete it and run the same command again "
                       "to redo that point's steps")
    return record


def check_reusable(job):
    """The done record of a finished point, None when it still has to run; SLTError when the folder holds a point
    of another sweep (a changed YAML or flags): its results would be mixed with this sweep's."""
    record = done_record(job.folder)
    if record is not None and record["fingerprint"] != json.loads(json.dumps(job.fingerprint)):
        raise SLTError(f"{job.folder} holds a finished point made with another YAML or other flags; use another "
                       "-save, or delete that folder to run it again")
    return record


class _Point:
    def __init__(self, job):
        self.job = job
        self.folder = Path(job.folder)
        self.yaml = self.folder / f"{job.point.name}.yaml"
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **job.env}

    def progress(self):
        return _marker(self.folder / PROGRESS) or {}

    def mark(self, step, seconds):
        atomic.write_text(self.folder / PROGRESS, json.dumps({**self.progress(), step: round(seconds, 1)}))

    def command(self, args):
        args = [str(a) for a in args]
        start = time.time()
        with open(self.folder / LOG, "a") as log, _running_lock:
            if _stopped:
                raise _STOPPED[-_stopped[0]](f"point {self.job.point.name}: `studiogan-slt {args[0]}` was not "
                                             f"started, as the sweep is stopping; its folder {self.folder} is kept")
            log.write(f"$ studiogan-slt {' '.join(args)}\n")
            log.flush()
            proc = subprocess.Popen([sys.executable, "-m", "studiogan_slt", *args], stdout=log,
                                    stderr=subprocess.STDOUT, env=self.env, stdin=subprocess.DEVNULL,
                                    start_new_session=True,
                                    preexec_fn=_die_with_the_sweep if sys.platform.startswith("linux") else None)
            _running.add(proc)
        try:
            code = proc.wait()
        finally:
            with _running_lock:
                _running.discard(proc)
        if code in _STOPPED:
            raise _STOPPED[code](f"point {self.job.point.name}: `studiogan-slt {args[0]}` was stopped (exit {code}); "
                                 f"its folder {self.folder} is kept")
        if code != 0:
            raise SLTError(f"point {self.job.point.name}: `studiogan-slt {args[0]}` failed (exit {code}); "
                           f"see {self.folder / LOG}")
        return time.time() - start

    def fresh(self):
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True)
        write_yaml(self.job.point, self.yaml)

    def checkpoint(self):
        """The run's checkpoint folder (SAVE/checkpoints/<run>) and whether it holds a best model."""
        folders = run_files.checkpoint_folders(self.folder)
        if not folders:
            return None, False
        return folders[0], bool(run_files.find(folders[0], "G", run_files.BEST))

    def train(self):
        # --no-export: the point exports its ticket itself (export step), to SAVE/<point>/ticket.slt
        job = self.job
        args = ["train", "-cfg", self.yaml, "-data", job.data, "-save", self.folder, "--seed", job.point.seed,
                "--nproc", job.nproc, "--no-export", *job.plugin_flags, *job.train_flags]
        ckpt, _ = self.checkpoint()
        if ckpt is not None and run_files.find(ckpt, "G", run_files.CURRENT):
            try:
                return self.command([*args, "-ckpt", ckpt])
            except Interrupted:
                raise
            except SLTError:
                with open(self.folder / LOG, "a") as log:
                    log.write("resuming failed: starting the point again from an empty folder\n")
        self.fresh()
        return self.command(args)

    def evaluate(self):
        job = self.job
        ckpt, best = self.checkpoint()
        flags = list(job.eval_flags)
        if job.digits_net is not None:
            if "-sf" not in flags and "--save_fake_images" not in flags:
                flags += ["-sf", "-sf_num", DIGITS_IMAGES]
            if "-metrics" not in flags and "--eval_metrics" not in flags:
                flags += ["-metrics", "none"]  # StudioGAN's default, fid, is not needed for digits-fid
        return self.command(["eval", "-cfg", self.yaml, "-data", job.data, "-save", self.folder, "-ckpt", ckpt,
                             "--seed", job.point.seed, *(["-best"] if best else []), *job.plugin_flags, *flags])

    def export(self):
        ckpt, best = self.checkpoint()
        return self.command(["export", "-ckpt", ckpt, *(["-best"] if best else []), "-o",
                             self.folder / "ticket.slt", *self.job.plugin_flags])

    def digits_fid(self):
        ckpt, _ = self.checkpoint()
        stats = Path(run_files.statistics_file(self.folder, ckpt.name, "digits_fid.json"))
        stats.parent.mkdir(parents=True, exist_ok=True)
        # As SAVE/statistics/<run>/digits_fid.json it is read by compare and plot (reporting/runlog.py).
        return self.command(["digits-fid", self.folder / "samples" / ckpt.name / "fake", "--net",
                             self.job.digits_net, "--out", stats])


def run_point(job):
    """Run (or continue) one point; returns its done record. SLTError naming the step and log when a step fails."""
    p = _Point(job)
    if not p.yaml.is_file():
        p.fresh()
    steps = [("train", p.train)]
    if job.eval_flags is not None or job.digits_net is not None:
        steps.append(("eval", p.evaluate))
    if job.point.masked:
        steps.append(("export", p.export))
    if job.digits_net is not None:
        steps.append(("digits-fid", p.digits_fid))
    for name, step in steps:
        if name not in p.progress():
            p.mark(name, step())
    ckpt, _ = p.checkpoint()
    record = {"point": job.point.name, "run": ckpt.name, "seconds": p.progress(),
              "fingerprint": job.fingerprint}
    atomic.write_text(p.folder / DONE, json.dumps(record, indent=1) + "\n")
    return record
