"""What `train` prints when StudioGAN's loop has ended: where the checkpoint is, what the ticket keeps, and how to
export and sample it. On DIGITS (or with --export) it exports the ticket and writes a sample grid itself, so the
first run ends with a picture; the grid is drawn from the converted generator, which the ticket reloads exactly.
"""
import os
import shlex
from pathlib import Path

import numpy as np

from studiogan_slt.errors import SLTError
from studiogan_slt.studiogan import run_files
from studiogan_slt.studiogan.loop import digits_selection
from studiogan_slt.studiogan.rebuild import builder, generator
from studiogan_slt.studiogan.rebuild.export import save_run_ticket
from studiogan_slt.studiogan.section.values import masks_generator
from studiogan_slt.ticket import LATENT_SEED
from studiogan_slt.ticket import sample as sampling
from studiogan_slt.ticket.report import report

GRID_IMAGES = 64


def checkpoint_folder(cfgs, run_name):
    """Where StudioGAN saved this run: -ckpt DIR when resuming, else SAVE/checkpoints/<run>."""
    return cfgs.RUN.ckpt_dir or run_files.checkpoint_folder(cfgs.RUN.save_dir, run_name)


def outputs(save_dir, run_name):
    """(ticket, sample grid) paths a run's automatic export writes."""
    return (Path(save_dir) / "tickets" / f"{run_name}.slt",
            Path(save_dir) / "figures" / run_name / "ticket_samples.png")


def after_train(cfgs, run_name, slt, export=None, studiogan_root=None, log=print):
    """Print the summary; export=None means: export and draw the grid on DIGITS data only."""
    folder = checkpoint_folder(cfgs, run_name)
    step = run_files.complete_step(folder, run_files.CURRENT) if os.path.isdir(folder) else None
    if step is None:
        log(f"no checkpoint was saved: StudioGAN saves every --save_freq ({cfgs.RUN.save_freq}) steps, and "
            f"OPTIMIZATION.total_steps is {cfgs.OPTIMIZATION.total_steps}")
        return None
    log(f"checkpoint: {folder} (step {step})")
    _digits_metric(cfgs, run_name, slt, log)
    if not masks_generator(slt) or "G" not in slt["targets"]:
        log(f"G is not masked (no ticket); evaluate with: studiogan-slt eval -cfg "
            f"{shlex.quote(cfgs.RUN.cfg_file)} -save {shlex.quote(cfgs.RUN.save_dir)} -ckpt {shlex.quote(folder)}")
        return None
    # The best checkpoint by the digits metric when the run chose one (StudioGAN's choice, as `export -best`).
    best = slt.get("digits_metric") is not None and run_files.complete_step(folder, run_files.BEST) is not None
    try:
        G, sections, path, run = generator.converted_generator(folder, best=best, studiogan_root=studiogan_root)
    except SLTError as err:
        # e.g. a resume from a -ckpt folder copied away from its run log: the training itself succeeded
        log(f"no ticket summary: {err}")
        return None
    totals = report(G, sizes=False).totals
    log(f"kept parameters of G ({'best' if best else 'last'} checkpoint, {path.name}): {totals['kept']:,} of "
        f"{totals['total']:,} masked ({totals['fraction']:.2%}; k = {slt['k']})")
    ticket, grid = outputs(cfgs.RUN.save_dir, run_name)
    if export is None:
        export = cfgs.DATA.name == "DIGITS"
    if export:
        ticket.parent.mkdir(parents=True, exist_ok=True)
        save_run_ticket(G, sections, path, run, ticket)
        log(f"ticket: {ticket} ({ticket.stat().st_size:,} bytes)")
        grid.parent.mkdir(parents=True, exist_ok=True)
        _write_grid(G, builder.sampler_spec(sections), grid)
        log(f"{GRID_IMAGES} samples of the ticket: {grid}")
    else:
        log(f"export the ticket: studiogan-slt export -ckpt {shlex.quote(folder)}{' -best' if best else ''} -o "
            f"{shlex.quote(str(ticket))}")
    log(f"sample it: studiogan-slt sample {shlex.quote(str(ticket))} -n {GRID_IMAGES} -o samples.png")
    return {"checkpoint": folder, "step": step, "kept": totals["kept"], "total": totals["total"],
            "ticket": ticket if export else None, "grid": grid if export else None}


def _digits_metric(cfgs, run_name, slt, log):
    if slt.get("digits_metric") is None:
        return
    path = run_files.statistics_file(cfgs.RUN.save_dir, run_name, digits_selection.FILE_NAME)
    rows = digits_selection.read_rows(path)
    if rows:
        best = min(rows, key=lambda r: r["value"])
        log(f"digits {best['metric']}: {rows[-1]['value']:.1f} at the last save (step {rows[-1]['step']}), best "
            f"{best['value']:.1f} at step {best['step']} (StudioGAN's best checkpoint; {path})")


def _write_grid(G, sampler, out):
    spec = sampling.check_sampler(sampler)
    images = np.concatenate(list(sampling.generate(G, spec, GRID_IMAGES, LATENT_SEED, GRID_IMAGES)))
    sampling.write_png(out, sampling.grid(images))
