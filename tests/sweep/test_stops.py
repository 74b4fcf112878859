"""A sweep that is stopped keeps its work, and a damaged marker is one line. The steps are a stand-in executable (a
shell script in place of `python -m studiogan_slt`), so these run in seconds and without StudioGAN."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studiogan_slt.errors import Interrupted, SLTError
from studiogan_slt.sweep import point as point_module
from studiogan_slt.sweep.plan import Point, write_yaml
from studiogan_slt.sweep.point import DONE, PROGRESS, PointJob, check_reusable, run_point

PROJECT = Path(__file__).resolve().parents[2]


def _fake_step(tmp_path, body):
    script = tmp_path / "step.sh"
    script.write_text(f"#!/bin/bash\n{body}\n")
    script.chmod(0o755)
    return script


def _resumable_point(tmp_path):
    """A point whose train was cut off after its step-4 checkpoint, with a user's notes file beside it."""
    job = PointJob(point=Point("p", 0, {"SLT": {"k": 0.1}}, masked=True), folder=str(tmp_path / "p"), data="d")
    ckpt = tmp_path / "p" / "checkpoints" / "run"
    ckpt.mkdir(parents=True)
    (ckpt / "model=G-current-weights-step=4.pth").write_bytes(b"checkpoint")
    (tmp_path / "p" / "notes.txt").write_text("mine")
    write_yaml(job.point, tmp_path / "p" / "p.yaml")
    return job, ckpt


@pytest.mark.parametrize("code", [130, 143])
def test_a_resumed_point_stopped_by_a_signal_keeps_its_folder(tmp_path, monkeypatch, code):
    job, ckpt = _resumable_point(tmp_path)
    monkeypatch.setattr(sys, "executable", str(_fake_step(tmp_path, f"exit {code}")))
    with pytest.raises(Interrupted) as stopped:
        run_point(job)
    assert stopped.value.exit_code == code
    assert (ckpt / "model=G-current-weights-step=4.pth").read_bytes() == b"checkpoint"
    assert (tmp_path / "p" / "notes.txt").read_text() == "mine"
    assert "-ckpt" in (tmp_path / "p" / "point.log").read_text()


def _job(tmp_path):
    job = PointJob(point=Point("p", 0, {"SLT": {"k": 0.1}}, masked=True), folder=str(tmp_path / "p"), data="d")
    (tmp_path / "p").mkdir()
    write_yaml(job.point, tmp_path / "p" / "p.yaml")
    return job


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_no_step_starts_once_the_sweep_is_stopping(tmp_path, monkeypatch, signum, code):
    # a point between two steps, or a step not yet listed, when the signal came: it must not train on to its end
    monkeypatch.setattr(point_module, "_stopped", [])  # the sweep's state, which lasts as long as its process
    monkeypatch.setattr(sys, "executable", str(_fake_step(tmp_path, f'touch "{tmp_path / "ran"}"')))
    job = _job(tmp_path)
    point_module.stop_steps(signum)
    with pytest.raises(Interrupted, match="`studiogan-slt train` was not started, as the sweep is stopping") as stop:
        run_point(job)
    assert stop.value.exit_code == code
    assert not (tmp_path / "ran").exists()


def _damage(path, how):
    if how == "folder":
        path.mkdir()
    else:
        path.write_bytes(how.encode("utf-8", "surrogateescape"))


@pytest.mark.parametrize("how", ["not json", "[1, 2]", "{}", '{"fingerprint": 3}', "folder", "\udcff"])
def test_a_damaged_done_marker_is_one_line(tmp_path, how):
    job = _job(tmp_path)
    _damage(tmp_path / "p" / DONE, how)
    with pytest.raises(SLTError, match=f"^{tmp_path / 'p' / DONE} is damaged"):
        check_reusable(job)


@pytest.mark.parametrize("how", ["not json", "[1, 2]", "null", "folder"])
def test_a_damaged_progress_marker_is_one_line(tmp_path, monkeypatch, how):
    job = _job(tmp_path)
    _damage(tmp_path / "p" / PROGRESS, how)
    monkeypatch.setattr(sys, "executable", str(_fake_step(tmp_path, "exit 0")))
    with pytest.raises(SLTError, match=f"^{tmp_path / 'p' / PROGRESS} is damaged"):
        run_point(job)


def _sweep(tmp_path, step):
    """`studiogan-slt sweep` in a subprocess whose steps run `step` instead of the plugin's CLI."""
    (tmp_path / "c.yaml").write_text("SLT:\n  k: 0.5\n")
    code = ("import sys; sys.executable = sys.argv.pop(1); from studiogan_slt.cli import main; "
            "main(prog_name='studiogan-slt')")
    env = dict(os.environ, FAKE_DIR=str(tmp_path),
               PYTHONPATH=str(PROJECT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # A child inherits an ignored SIGINT (POSIX): pytest started in the background of a non-interactive shell ignores
    # it, the sweep would install no KeyboardInterrupt handler and its bash step could not trap it. Start the sweep as
    # a shell starts a user's command, with SIGINT at its default (as test_user_errors.py starts `train`).
    return subprocess.Popen([sys.executable, "-c", code, str(step), "sweep", "-cfg", "c.yaml", "-data", "d", "-save",
                             "s", "--k", "0.1"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for(path, seconds=60):
    deadline = time.time() + seconds
    while not path.exists():
        assert time.time() < deadline, f"{path} never appeared"
        time.sleep(0.1)


# a step that writes its pid, then waits a minute
_STEP_PID = 'echo $$ > "$FAKE_DIR/step.pid.tmp"; mv "$FAKE_DIR/step.pid.tmp" "$FAKE_DIR/step.pid"\n'
_WAIT = 'for i in $(seq 600); do sleep 0.1; done'


def _signalled(tmp_path, step, signum, meanwhile=lambda first: None):
    """A sweep of `step`, sent `signum` once its step runs (after `meanwhile(sweep)`); returns (sweep, its stderr)."""
    first = _sweep(tmp_path, step)
    try:
        _wait_for(tmp_path / "step.pid")
        meanwhile(first)
        first.send_signal(signum)
        _, err = first.communicate(timeout=60)
    finally:
        first.kill()
    return first, err


def _refused(tmp_path, step):
    def second_sweep(first):
        second = _sweep(tmp_path, step)
        _, err = second.communicate(timeout=120)
        assert second.returncode == 2, err
        assert err.strip().splitlines() == [f"Error: -save {tmp_path / 's'}: another sweep is running into it (pid "
                                            f"{first.pid}); wait for it to end, or use another -save"]
    return second_sweep


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie waits only for its reaper
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_sigterm_stops_the_sweep_and_its_step_and_a_second_sweep_is_refused(tmp_path):
    step = _fake_step(tmp_path, 'trap \'echo TERM > "$FAKE_DIR/term"; exit 143\' TERM\n' + _STEP_PID + _WAIT)
    first, err = _signalled(tmp_path, step, signal.SIGTERM, meanwhile=_refused(tmp_path, step))
    assert first.returncode == 143, err
    assert (tmp_path / "term").read_text() == "TERM\n"  # the step was handed the SIGTERM, and it is gone
    assert not _alive(int((tmp_path / "step.pid").read_text()))
    last = err.strip().splitlines()[-1]
    assert last.startswith("Error: terminated (SIGTERM)") and last.endswith(
        "resume with: studiogan-slt sweep -cfg c.yaml -data d -save s --k 0.1"), err
    assert (tmp_path / "s" / "c-k0.1-s0" / "c-k0.1-s0.yaml").exists()


def test_a_sweep_killed_outright_takes_its_step_with_it(tmp_path):
    _signalled(tmp_path, _fake_step(tmp_path, _STEP_PID + _WAIT), signal.SIGKILL)  # nothing can be forwarded
    step_pid = int((tmp_path / "step.pid").read_text())
    deadline = time.time() + 10
    while _alive(step_pid) and time.time() < deadline:
        time.sleep(0.1)
    assert not _alive(step_pid), "the step trains on as an orphan"


def test_ctrl_c_reaches_the_step_once_and_the_sweep_exits_130(tmp_path):
    step = _fake_step(tmp_path, 'trap \'echo -n INT >> "$FAKE_DIR/int"; exit 130\' INT\n' + _STEP_PID + _WAIT)
    first, err = _signalled(tmp_path, step, signal.SIGINT)
    assert first.returncode == 130, err
    assert (tmp_path / "int").read_text() == "INT"
    assert "resume with: studiogan-slt sweep" in err.strip().splitlines()[-1]
