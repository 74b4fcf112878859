"""The study scripts' way of running the public CLI (benchmarks/study_cli.py): stopping a study stops its child."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_sigterm_to_a_study_script_stops_its_child_too(tmp_path):
    pid_file = tmp_path / "child.pid"
    child = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    script = (f"import sys; sys.path.insert(0, {str(BENCHMARKS)!r}); import study_cli; "
              f"print(study_cli.run_passing_sigterm([sys.executable, '-c', {child!r}]), flush=True)")
    study = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    pid = None
    try:
        for _ in range(200):
            if pid_file.is_file() and pid_file.read_text():
                pid = int(pid_file.read_text())
                break
            time.sleep(0.05)
        assert pid, "the child never started"
        study.send_signal(signal.SIGTERM)
        out, _ = study.communicate(timeout=20)
        # the script lived on to report the child's status: the child got the SIGTERM, the script did not die of it
        assert (study.returncode, out.strip()) == (0, str(-signal.SIGTERM))
        assert not _alive(pid)
    finally:
        study.kill()
        if pid and _alive(pid):
            os.kill(pid, signal.SIGKILL)
