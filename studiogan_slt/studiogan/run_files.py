"""StudioGAN's run on disk, in one place: its folders, its checkpoint files, which of them is the best or the current
one, the atomic saves that survive a kill, and the config sections read back from its log.

A run of `-save SAVE` is SAVE/checkpoints/<run>, SAVE/logs/<run>.log and SAVE/statistics/<run> (main.py:158,
worker.py:174); the plugin's per-run files share the statistics folder. misc.save_model (utils/misc.py) writes
<ckpt_dir>/model=<kind>-<when>-weights-step=<step>.pth, kind G, G_ema, D (and the plugin's MM and RESUME), when
"current" or "best"; ckpt.py finds them again by glob.

StudioGAN's misc.save_model (misc.py:394-400) removes a model's previous file before it writes the new one, and a
save is several files (G, D, G_ema, the plugin's MM and RESUME): a kill at the wrong moment leaves a 0-byte G or a
G of step 6 next to a D of step 4. Installed instead, `save_model` writes each file atomically and keeps the
previous files; the worker's save then calls `commit`, which writes the RESUME file last (the mark that the set of
that step is complete) and only then removes the older set. `settle`, before StudioGAN reads a -ckpt folder, keeps
the newest marked set and removes what a kill left half-saved, so StudioGAN's globs (ckpt.py:78-81) find exactly
one file per model.
"""
import glob
import json
import logging
import os
import re
from pathlib import Path

from studiogan_slt import atomic
from studiogan_slt.errors import SLTError

TEMPLATE = "model={model}-{when}-weights-step={step}.pth"  # misc.py:395
BEST, CURRENT = "best", "current"
MARK = "RESUME"  # the plugin's resume state (loop/resume.py), written last: the commit mark
MOMENTS = "MM"  # the moment-matching step's own state (loop/moment_mode.py)
REQUIRED = {"G": ("state_dict",), "D": ("state_dict", "run_name", "step"), "G_ema": ("state_dict",)}
_STEP = re.compile(r"step=(\d+)\.pth$")
_ENTRY = re.compile(r"^\[(?P<level>[A-Z]+)\] (?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) > (?P<msg>.*)$")
# loader.py:114-116 logs every config section as `cfgs.<NAME> =` and, as the next log entry, its JSON
_SECTION = re.compile(r"^cfgs\.(\w+) =$")
_log = logging.getLogger(__name__)


# --- folders ---------------------------------------------------------------------------------------------------

def checkpoint_folder(save_dir, run_name):
    return os.path.join(save_dir, "checkpoints", run_name)


def checkpoint_folders(save_dir):
    return sorted((Path(save_dir) / "checkpoints").glob("*"))


def log_file(save_dir, run_name):
    return Path(save_dir) / "logs" / f"{run_name}.log"


def log_files(save_dir):
    logs = Path(save_dir) / "logs"
    return sorted(logs.glob("*.log")) if logs.is_dir() else []


def statistics_file(save_dir, run_name, file_name):
    return os.path.join(save_dir, "statistics", run_name, file_name)


def run_of(ckpt_dir):
    """(SAVE, run name) of a checkpoint folder SAVE/checkpoints/<run>."""
    ckpt_dir = Path(ckpt_dir)
    return ckpt_dir.parent.parent, ckpt_dir.name


def log_entries(lines):
    """(timestamp, message) per entry of a run log's lines; continuation lines join their entry's message."""
    entries = []
    for line in lines:
        m = _ENTRY.match(line)
        if m:
            entries.append([m["time"], m["msg"]])
        elif entries:
            entries[-1][1] += "\n" + line
    return entries


def section_name(message):
    """The section whose JSON the next log entry holds, when `message` announces one; else None."""
    m = _SECTION.match(message)
    return m[1] if m else None


def logged_sections(entries):
    """{section: values} of a run log's entries: the first dump of each section, that of the run itself (an eval or
    a resumed run appends its own dumps to the same log)."""
    found = {}
    for (_, message), (_, following) in zip(entries, entries[1:]):
        name = section_name(message)
        if name is not None and name not in found:
            try:
                found[name] = json.loads(following)
            except ValueError:
                continue
    return found


# --- checkpoint files -------------------------------------------------------------------------------------------

def file_pattern(kind, when):
    return TEMPLATE.format(model=kind, when=when, step="*")


def find(ckpt_dir, kind, when):
    """The checkpoint files of one kind in `ckpt_dir`, sorted by name (StudioGAN keeps one per kind and when)."""
    return sorted(glob.glob(os.path.join(glob.escape(str(ckpt_dir)), file_pattern(kind, when))))


def when(best):
    return BEST if best else CURRENT


def step(path):
    """The training step in a checkpoint's file name, or None."""
    match = _STEP.search(str(path))
    return int(match.group(1)) if match else None


def allow_checkpoint_globals():
    """utils/ckpt.py:30 calls torch.load without weights_only; torch >= 2.6 defaults to weights_only=True and the D
    checkpoint stores best_fid as a numpy float64 (worker.py:962), which must be allow-listed to load."""
    import numpy as np
    import torch

    scalar = getattr(getattr(np, "_core", None), "multiarray", None) or np.core.multiarray
    torch.serialization.add_safe_globals([scalar.scalar, np.dtype, type(np.dtype(np.float64))])


# --- saves that survive a kill ----------------------------------------------------------------------------------


def files(ckpt_dir, when, model="*"):
    """{(model, step): path} of the checkpoint files of `when` in a folder."""
    pattern = os.path.join(glob.escape(str(ckpt_dir)), file_pattern(model, when))
    found = {}
    for path in glob.glob(pattern):
        m = re.fullmatch(r"model=(\w+)-\w+-weights-step=\d+\.pth", os.path.basename(path))
        if m:
            found[m.group(1), step(path)] = path
    return found


def save_model(model, when, step, ckpt_dir, states):
    """misc.save_model's signature; the file of the previous step stays until `commit`."""
    with atomic.replacing(os.path.join(ckpt_dir, TEMPLATE.format(model=model, when=when, step=step))) as tmp:
        atomic.torch_save(states, tmp)


def commit(ckpt_dir, when, step, mark_state):
    """Write the mark of `step` (its file is the resume state), then remove the files of every other step."""
    save_model(MARK, when, step, ckpt_dir, mark_state)
    for (_, other), path in files(ckpt_dir, when).items():
        if other != step:
            os.remove(path)


def complete_step(ckpt_dir, when):
    """The step of the newest complete set: the newest marked step; for a folder saved without marks (StudioGAN
    itself, an older plugin), the step of its G file. None when there is none."""
    found = files(ckpt_dir, when)
    marked = [step for model, step in found if model == MARK]
    if marked:
        return max(marked)
    steps = [step for model, step in found if model == "G"]
    return max(steps) if steps else None


def settle(ckpt_dir, when):
    """Remove the files of `when` that are not part of the newest complete set, and the temporary files of a save
    killed while writing (what a kill left); returns that set's step."""
    for path in atomic.leftovers(ckpt_dir, "model=*"):
        _log.warning(f"-ckpt {ckpt_dir}: removing {path.name}, left by a save killed while writing it")
        path.unlink()
    step = complete_step(ckpt_dir, when)
    if step is None or not any(model == MARK for model, _ in files(ckpt_dir, when)):
        return step
    for (model, other), path in files(ckpt_dir, when).items():
        if other != step:
            _log.warning(f"-ckpt {ckpt_dir}: removing {os.path.basename(path)}, left by a save that did not "
                         f"complete; resuming from step {step}")
            os.remove(path)
    return step


def load(path, required=("state_dict",)):
    """torch.load of a checkpoint file without running code (weights_only), or one line naming the file."""
    import torch

    allow_checkpoint_globals()
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated, empty, foreign or pickled code: torch raises many types here
        reason = str(e).strip().splitlines()[0].split(". ")[0] if str(e).strip() else type(e).__name__
        raise SLTError(f"{path}: damaged or not a StudioGAN checkpoint ({reason[:160]})") from None
    missing = [key for key in required if not isinstance(ckpt, dict) or key not in ckpt]
    if missing:
        raise SLTError(f"{path}: not a StudioGAN checkpoint (no {missing[0]})")
    return ckpt


def check(ckpt_dir, when):
    """Settle the folder and load every file of its newest complete set once, so that a damaged file is one line
    naming it before StudioGAN reads it (its own errors are an IndexError or a pickle traceback)."""
    step = settle(ckpt_dir, when)
    if step is None:
        raise SLTError(f"-ckpt {ckpt_dir}: no {file_pattern('G', when)} checkpoint there")
    chosen = {model: path for (model, s), path in files(ckpt_dir, when).items() if s == step}
    for model in ("G", "D"):
        if model not in chosen:
            raise SLTError(f"-ckpt {ckpt_dir}: no {TEMPLATE.format(model=model, when=when, step=step)} next to "
                           "the other files of that step")
    for model, path in sorted(chosen.items()):
        load(path, REQUIRED.get(model, ()))
    return step
