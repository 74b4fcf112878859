"""The one exception type a user should ever see from studiogan-slt.

Raised at the boundaries (config load, CLI arguments, files on disk). The CLI prints its message on one line and
exits with status 2; no traceback is shown, because the message already says what to change.
"""


class SLTError(Exception):
    exit_code = 2
