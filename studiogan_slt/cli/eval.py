"""`studiogan-slt eval`: StudioGAN's evaluation of a checkpoint with the SLT hooks (arguments pass through)."""
import click

from studiogan_slt.cli import options


@click.command(name="eval", context_settings=options.PASS_THROUGH)
@options.pass_through
def evaluate(studiogan_root, nproc, studiogan_args):
    """Evaluate a checkpoint: studiogan-slt eval -cfg CFG -data DIR -save DIR -ckpt CKPT_DIR [-metrics ...].

    Use the same YAML as for training (the SLT: section rebuilds the masked model). Other StudioGAN flags such as
    -best, -sf, -v pass through.
    """
    # lazy, as every command's work: `--help` imports this module and stays free of torch (cli/__init__.py)
    from studiogan_slt.studiogan import launch

    launch.run(studiogan_args, mode="eval", studiogan_root=studiogan_root, nproc=nproc)
