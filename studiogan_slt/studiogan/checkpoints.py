"""StudioGAN's checkpoint files, in one place: misc.save_model (utils/misc.py) writes
<ckpt_dir>/model=<kind>-<when>-weights-step=<step>.pth, kind G, G_ema, D (and MM, the plugin's moment-matching
state), when "current" or "best"; ckpt.py finds them again by glob."""
import glob
import os
import re

_STEP = re.compile(r"step=(\d+)\.pth$")


def file_pattern(kind, when):
    return f"model={kind}-{when}-weights-step=*.pth"


def find(ckpt_dir, kind, when):
    """The checkpoint files of one kind in `ckpt_dir`, sorted by name (StudioGAN keeps one per kind and when)."""
    return sorted(glob.glob(os.path.join(glob.escape(str(ckpt_dir)), file_pattern(kind, when))))


def when(best):
    return "best" if best else "current"


def step(path):
    """The training step in a checkpoint's file name, or None."""
    match = _STEP.search(str(path))
    return int(match.group(1)) if match else None


def statistics_file(save_dir, run_name, file_name):
    """A file of a run's statistics folder, SAVE/statistics/<run>/ (where StudioGAN writes its own, worker.py:174),
    which the plugin's per-run CSVs share."""
    return os.path.join(save_dir, "statistics", run_name, file_name)
