"""`studiogan-slt export`: a StudioGAN SLT checkpoint as a ticket (.slt) or a dense checkpoint folder."""
import click

from studiogan_slt.cli import options
from studiogan_slt.ticket import TIER_CHOICES


@click.command()
@click.option("-ckpt", "--ckpt-dir", "ckpt_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="StudioGAN checkpoint folder of an SLT run (SAVE/checkpoints/<run>).")
@options.best("Export the best checkpoint instead of the current one.")
@click.option("-o", "--output", required=True, type=click.Path(),
              help="ticket.slt (--format slt) or a new checkpoint folder (--format dense).")
@click.option("--format", "fmt", type=click.Choice(["slt", "dense"]), default="slt", show_default=True,
              help="slt: a compact ticket. dense: a plain StudioGAN checkpoint folder with the masks baked in, "
                   "which unmodified StudioGAN evaluates with -ckpt.")
@click.option("--tier", type=click.Choice(TIER_CHOICES), default="auto", show_default=True,
              help="How frozen weights are stored (auto: the smallest exact tier per tensor).")
@click.option("--fp16-values", is_flag=True, help="Store host-initialised kept values as fp16 (lossy, smaller).")
@options.studiogan_root
def export(ckpt_dir, best, output, fmt, tier, fp16_values, studiogan_root):
    """Export the generator of a StudioGAN SLT checkpoint as a ticket or as a dense checkpoint."""
    # lazy, as every command's work: `--help` imports this module and stays free of torch (cli/__init__.py)
    from studiogan_slt.studiogan.rebuild import export as sg_export

    if fmt == "dense":
        folder = sg_export.export_dense(ckpt_dir, output, best=best, studiogan_root=studiogan_root)
        click.echo(f"wrote {folder} (evaluate with StudioGAN's main.py -ckpt {folder} and the run's config "
                   "without its SLT section)")
        return
    path = sg_export.export_ticket(ckpt_dir, output, best=best, studiogan_root=studiogan_root, tier=tier,
                                   values_dtype="float16" if fp16_values else "float32")
    click.echo(f"wrote {path} ({path.stat().st_size:,} bytes)")
