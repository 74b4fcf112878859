"""studiogan-slt: strong lottery tickets in GAN generators.

`k` is always the fraction of weights KEPT (0 < k <= 1).

The public names are imported on first use, so `import studiogan_slt` (and the CLI's --help) stays cheap.
"""
import importlib

__version__ = "0.1.0"

_PUBLIC = {
    "convert": "studiogan_slt.core.convert",
    "masks": "studiogan_slt.core.convert",
    "materialize": "studiogan_slt.core.convert",
    "report": "studiogan_slt.core.report",
    "save_ticket": "studiogan_slt.core.ticket",
    "load_ticket": "studiogan_slt.core.ticket",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name):
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'studiogan_slt' has no attribute {name!r}")
