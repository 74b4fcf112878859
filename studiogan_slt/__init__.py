"""studiogan-slt: strong lottery tickets in GAN generators.

`k` is always the fraction of weights KEPT (0 < k <= 1).

The public names are imported on first use, so `import studiogan_slt` (and the CLI's --help) stays cheap.
"""
import importlib

__version__ = "0.1.0"

_PUBLIC = {
    "convert": "studiogan_slt.supermask.convert",
    "masks": "studiogan_slt.supermask.convert",
    "materialize": "studiogan_slt.supermask.convert",
    "report": "studiogan_slt.ticket.report",
    "save_ticket": "studiogan_slt.ticket.save_load",
    "load_ticket": "studiogan_slt.ticket.save_load",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name):
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'studiogan_slt' has no attribute {name!r}")
