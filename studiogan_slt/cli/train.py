"""`studiogan-slt train`: StudioGAN's own trainer with the SLT hooks (arguments pass through, see options.py)."""
import click

from studiogan_slt.cli import options


@click.command(context_settings=options.PASS_THROUGH)
@click.option("--export/--no-export", default=None,
              help="At the end, export the ticket to SAVE/tickets/<run>.slt and draw 64 samples into "
                   "SAVE/figures/<run>/ticket_samples.png (default: on DIGITS data only; elsewhere the summary "
                   "prints the commands).")
@options.pass_through
def train(studiogan_root, nproc, export, studiogan_args):
    """Train with StudioGAN: studiogan-slt train -cfg CFG -data DIR -save DIR [StudioGAN flags].

    A YAML with an `SLT:` section trains a strong lottery ticket (only scores are trained); without one this is
    a plain dense StudioGAN run. -t is implied; -ckpt DIR resumes. A DIGITS config without -data runs on the
    built-in data set (made in the user cache on first use) with the flags left out filled in (-metrics none,
    --num_workers 1, a save every quarter of the steps). Without a StudioGAN checkout the first run clones the
    pinned commit into the user cache.
    """
    # lazy, as every command's work: `--help` imports this module and stays free of torch (cli/__init__.py)
    from studiogan_slt.studiogan import launch

    launch.run(studiogan_args, mode="train", studiogan_root=studiogan_root, nproc=nproc, export=export)
