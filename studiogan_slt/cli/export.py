"""`studiogan-slt export`, `sample` and `report`: ticket files (.slt) and what can be done with them."""
import sys
from pathlib import Path

import click

from studiogan_slt.ticket import TIER_CHOICES

_TRUST = click.option("--trust-builder", is_flag=True,
                      help="Run the ticket's builder even when it lives outside studiogan_slt (it is code named by "
                           "the file: use only for tickets you trust).")
_ROOT = click.option("--studiogan-root", type=click.Path(file_okay=False), default=None,
                     help="PyTorch-StudioGAN checkout (default: $STUDIOGAN_ROOT, then the fetched clone).")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-ckpt", "--ckpt-dir", "ckpt_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="StudioGAN checkpoint folder of an SLT run (SAVE/checkpoints/<run>).")
@click.option("-best", "--best", "best", is_flag=True, help="Export the best checkpoint instead of the current one.")
@click.option("-o", "--output", required=True, type=click.Path(),
              help="ticket.slt (--format slt) or a new checkpoint folder (--format dense).")
@click.option("--format", "fmt", type=click.Choice(["slt", "dense"]), default="slt", show_default=True,
              help="slt: a compact ticket. dense: a plain StudioGAN checkpoint folder with the masks baked in, "
                   "which unmodified StudioGAN evaluates with -ckpt.")
@click.option("--tier", type=click.Choice(TIER_CHOICES), default="auto", show_default=True,
              help="How frozen weights are stored (auto: the smallest exact tier per tensor).")
@click.option("--fp16-values", is_flag=True, help="Store host-initialised kept values as fp16 (lossy, smaller).")
@_ROOT
def export(ckpt_dir, best, output, fmt, tier, fp16_values, studiogan_root):
    """Export the generator of a StudioGAN SLT checkpoint as a ticket or as a dense checkpoint."""
    from studiogan_slt.studiogan import export as sg_export

    if fmt == "dense":
        folder = sg_export.export_dense(ckpt_dir, output, best=best, studiogan_root=studiogan_root)
        click.echo(f"wrote {folder} (evaluate with StudioGAN's main.py -ckpt {folder} and the run's config "
                   "without its SLT section)")
        return
    path = sg_export.export_ticket(ckpt_dir, output, best=best, studiogan_root=studiogan_root, tier=tier,
                                   values_dtype="float16" if fp16_values else "float32")
    click.echo(f"wrote {path} ({path.stat().st_size:,} bytes)")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("ticket", type=click.Path(exists=True, dir_okay=False))
@click.option("-n", "--num", "n", type=click.IntRange(min=1), default=64, show_default=True, help="Images to draw.")
@click.option("-o", "--output", required=True, type=click.Path(),
              help="FILE.png: one grid image; anything else: a folder of numbered PNGs (for external FID tools).")
@click.option("--seed", type=int, default=0, show_default=True, help="Latent seed (same seed, same images).")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--device", default="cpu", show_default=True, help="torch device, e.g. cpu or cuda:0.")
@_TRUST
def sample(ticket, n, output, seed, batch_size, device, trust_builder):
    """Draw images from a ticket."""
    import numpy as np
    import torch

    from studiogan_slt.ticket import sample as sampling
    from studiogan_slt.ticket.save_load import read_ticket

    t = read_ticket(ticket)
    if t.header.get("sampler") is None:
        raise click.UsageError(f"{ticket} has no sampler spec (z size, prior), so it cannot be sampled from; "
                               "save it with save_ticket(..., sampler={'z_dim': ...})")
    spec = sampling.check_sampler(t.header["sampler"])
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


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("source", type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("-best", "--best", "best", is_flag=True, help="For a checkpoint folder: the best checkpoint.")
@_TRUST
@_ROOT
def report(source, as_json, best, trust_builder, studiogan_root):
    """Per masked tensor: kept counts, dense and ideal sparse MACs; file sizes per tier.

    SOURCE is a ticket (.slt) or a StudioGAN checkpoint folder of an SLT run.
    """
    from studiogan_slt.ticket import sample as sampling
    from studiogan_slt.ticket.report import ticket_report
    from studiogan_slt.ticket.save_load import read_ticket

    if Path(source).is_dir():
        from studiogan_slt.studiogan import export as sg_export

        result = sg_export.checkpoint_report(source, best=best, studiogan_root=studiogan_root)
    else:
        t = read_ticket(source)
        model = t.build(trust_builder=trust_builder)
        spec = t.header.get("sampler")
        args, kwargs = sampling.example_inputs(sampling.check_sampler(spec)) if spec else (None, None)
        result = ticket_report(t, model, args, kwargs)
    click.echo(result.to_json() if as_json else str(result))
