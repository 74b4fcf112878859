"""SIGTERM during training: finish the step under way, save it, and stop with exit status 143.

SLURM sends SIGTERM on preemption and at the time limit, then SIGKILL after its KillWait (30 s by default); one
step and one save fit in that. Stopping mid-step would leave nothing consistent to save, so the handler only asks,
and the worker stops after the step's last update (search_worker). Before the loop starts there is no step to
finish, and the handler stops the run at once. Only the main process may get the signal: a DataLoader worker
that gets one too ends, and torch stops the run (SLURM's time limit signals every process of the job; its
`--signal=B:TERM@120` with `exec studiogan-slt train ...` in the batch script signals the main process alone, two
minutes early).
"""
import signal
from contextlib import contextmanager

from studiogan_slt.errors import Terminated

_state = {"in_loop": False, "asked": False}


def asked():
    """True once SIGTERM came while the loop was running."""
    return _state["asked"]


def loop_started():
    _state["in_loop"] = True


def stop():
    raise Terminated("terminated")


@contextmanager
def on_sigterm():
    """Within: SIGTERM stops the run at the end of the step under way, or at once before the loop."""
    def handler(signum, frame):
        if not _state["in_loop"]:
            stop()
        _state["asked"] = True

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        _state.update(in_loop=False, asked=False)
