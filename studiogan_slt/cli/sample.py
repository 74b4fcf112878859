"""`studiogan-slt sample`: images drawn from a ticket."""
import contextlib
import sys
from pathlib import Path

import click

from studiogan_slt import atomic
from studiogan_slt.cli import options
from studiogan_slt.ticket import LATENT_SEED


@click.command()
@click.argument("ticket", type=click.Path(exists=True, dir_okay=False))
@click.option("-n", "--num", "n", type=click.IntRange(min=1), default=64, show_default=True, help="Images to draw.")
@click.option("-o", "--output", required=True, type=click.Path(),
              help="FILE.png: one grid image; anything else: a folder of numbered PNGs (for external FID tools).")
@click.option("--seed", type=int, default=LATENT_SEED, show_default=True,
              help="Latent seed (same seed, same images).")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--device", default="cpu", show_default=True, help="torch device, e.g. cpu or cuda:0.")
@options.trust_builder
def sample(ticket, n, output, seed, batch_size, device, trust_builder):
    """Draw images from a ticket."""
    import numpy as np
    import torch

    # lazy, as every command's work: `--help` imports this module and stays free of torch (cli/__init__.py)
    from studiogan_slt.ticket import sample as sampling
    from studiogan_slt.ticket.save_load import read_ticket

    t = read_ticket(ticket)
    spec = sampling.ticket_sampler(t)
    out = Path(output)
    grid_mode = _check_output(out)
    model = t.build(trust_builder=trust_builder)
    try:
        model = model.to(torch.device(device))
    except (RuntimeError, ValueError) as e:
        raise click.BadParameter(str(e).splitlines()[0], param_hint="--device") from None
    sampling.check_model(model, spec, t.source)
    kept, done = [], 0
    with contextlib.ExitStack() as stack:
        folder = None if grid_mode else stack.enter_context(atomic.new_folder(out))
        bar = stack.enter_context(click.progressbar(length=n, label="sampling", file=sys.stderr))
        for batch in sampling.generate(model, spec, n, seed, batch_size, on_batch=bar.update):
            if grid_mode:
                kept.append(batch)
            else:
                for img in batch:
                    sampling.write_png(folder / f"{done:06d}.png", img)
                    done += 1
    if grid_mode:
        sampling.write_png(out, sampling.grid(np.concatenate(kept)))
        click.echo(f"wrote a grid of {n} images to {out}")
    else:
        click.echo(f"wrote {n} PNGs to {out}/")


def _check_output(out):
    """True for a grid file, False for a new folder of PNGs; checked before any image is drawn."""
    if out.suffix.lower() == ".png":
        atomic.check_writable_file(out)
        return True
    atomic.check_new_folder(out)
    return False
