"""StudioGAN checkpoints that survive a kill, and one-line errors for damaged ones.

StudioGAN's misc.save_model (misc.py:394-400) removes a model's previous file before it writes the new one, and a
save is several files (G, D, G_ema, the plugin's MM and RESUME): a kill at the wrong moment leaves a 0-byte G or a
G of step 6 next to a D of step 4. Installed instead, `save_model` writes each file atomically and keeps the
previous files; the worker's save then calls `commit`, which writes the RESUME file last (the mark that the set of
that step is complete) and only then removes the older set. `settle`, before StudioGAN reads a -ckpt folder, keeps
the newest marked set and removes what a kill left half-saved, so StudioGAN's globs (ckpt.py:78-81) find exactly
one file per model.
"""
import glob
import logging
import os
import re

from studiogan_slt import atomic
from studiogan_slt.errors import SLTError
from studiogan_slt.studiogan import checkpoints

TEMPLATE = "model={model}-{when}-weights-step={step}.pth"  # misc.py:395
MARK = "RESUME"  # the plugin's resume state (studiogan_slt.studiogan.resume), written last: the commit mark
REQUIRED = {"G": ("state_dict",), "D": ("state_dict", "run_name", "step"), "G_ema": ("state_dict",)}
_log = logging.getLogger(__name__)


def files(ckpt_dir, when, model="*"):
    """{(model, step): path} of the checkpoint files of `when` in a folder."""
    pattern = os.path.join(glob.escape(str(ckpt_dir)), checkpoints.file_pattern(model, when))
    found = {}
    for path in glob.glob(pattern):
        m = re.fullmatch(r"model=(\w+)-\w+-weights-step=\d+\.pth", os.path.basename(path))
        if m:
            found[m.group(1), checkpoints.step(path)] = path
    return found


def save_model(model, when, step, ckpt_dir, states):
    """misc.save_model's signature; the file of the previous step stays until `commit`."""
    import torch

    with atomic.replacing(os.path.join(ckpt_dir, TEMPLATE.format(model=model, when=when, step=step))) as tmp:
        torch.save(states, tmp)


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
    """Remove the files of `when` that are not part of the newest complete set (what a killed save left); returns
    that set's step."""
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

    from studiogan_slt.studiogan import compat

    compat.allow_checkpoint_globals()
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
        raise SLTError(f"-ckpt {ckpt_dir}: no model=G-{when}-weights-step=*.pth checkpoint there")
    chosen = {model: path for (model, s), path in files(ckpt_dir, when).items() if s == step}
    for model in ("G", "D"):
        if model not in chosen:
            raise SLTError(f"-ckpt {ckpt_dir}: no {TEMPLATE.format(model=model, when=when, step=step)} next to "
                           "the other files of that step")
    for model, path in sorted(chosen.items()):
        load(path, REQUIRED.get(model, ()))
    return step
