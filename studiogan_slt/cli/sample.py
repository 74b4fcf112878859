"""`studiogan-slt sample`: images drawn from a ticket."""
import sys
from pathlib import Path

import click

from studiogan_slt.cli import options


@click.command()
@click.argument("ticket", type=click.Path(exists=True, dir_okay=False))
@click.option("-n", "--num", "n", type=click.IntRange(min=1), default=64, show_default=True, help="Images to draw.")
@click.option("-o", "--output", required=True, type=click.Path(),
              help="FILE.png: one grid image; anything else: a folder of numbered PNGs (for external FID tools).")
@click.option("--seed", type=int, default=0, show_default=True, help="Latent seed (same seed, same images).")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--device", default="cpu", show_default=True, help="torch device, e.g. cpu or cuda:0.")
@options.trust_builder
def sample(ticket, n, output, seed, batch_size, device, trust_builder):
    """Draw images from a ticket."""
    import numpy as np
    import torch

    from studiogan_slt.ticket import sample as sampling
    from studiogan_slt.ticket.save_load import read_ticket

    t = read_ticket(ticket)
    spec = sampling.ticket_sampler(t)
    try:
        model = t.build(trust_builder=trust_builder).to(torch.device(device))
    except (RuntimeError, ValueError) as e:
        raise click.BadParameter(str(e).splitlines()[0], param_hint="--device") from None
    out = Path(output)
    grid_mode = _prepare_output(out)
    kept, done = [], 0
    with click.progressbar(length=n, label="sampling", file=sys.stderr) as bar:
        for batch in sampling.generate(model, spec, n, seed, batch_size, on_batch=bar.update):
            if grid_mode:
                kept.append(batch)
            else:
                for img in batch:
                    sampling.write_png(out / f"{done:06d}.png", img)
                    done += 1
    if grid_mode:
        sampling.write_png(out, sampling.grid(np.concatenate(kept)))
        click.echo(f"wrote a grid of {n} images to {out}")
    else:
        click.echo(f"wrote {n} PNGs to {out}/")


def _prepare_output(out):
    """True for a grid file, False for a folder of PNGs (created here); checked before any image is drawn."""
    from studiogan_slt.errors import SLTError

    if out.suffix.lower() == ".png":
        if not out.parent.is_dir():
            raise SLTError(f"-o {out}: the folder {out.parent} does not exist")
        return True
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # a file of that name, or no permission
        raise SLTError(f"-o {out}: cannot create the folder ({e.strerror or e})") from None
    return False
