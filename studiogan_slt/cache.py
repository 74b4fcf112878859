"""The plugin's user cache folder (the fetched StudioGAN clone, the trained digits evaluation network)."""
import os
from pathlib import Path


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "studiogan-slt"
