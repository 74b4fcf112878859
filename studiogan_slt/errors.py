"""The one exception type a user should ever see from studiogan-slt.

Raised at the boundaries (config load, CLI arguments, files on disk). The CLI prints its message on one line and
exits with status 2; no traceback is shown, because the message already says what to change.
"""


class SLTError(Exception):
    exit_code = 2


class Interrupted(SLTError):
    """Ctrl-C: the shell's exit status for SIGINT (128 + 2), with the last checkpoint in the message."""
    exit_code = 130


class Terminated(Interrupted):
    """SIGTERM, what SLURM sends on preemption and at the time limit: 128 + 15."""
    exit_code = 143


def shown(value):
    """A value read from a user's file, for a one-line error: cut short, and never built whole (a YAML alias bomb
    expands to billions of elements; repr() of it would run out of memory)."""
    import reprlib

    cut = reprlib.Repr()
    cut.maxlevel, cut.maxlist, cut.maxdict, cut.maxstring, cut.maxother = 2, 4, 4, 100, 100
    return cut.repr(value)
