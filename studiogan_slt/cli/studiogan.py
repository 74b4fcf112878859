"""`studiogan-slt studiogan fetch`: the PyTorch-StudioGAN checkout the plugin drives."""
import click


@click.group()
def studiogan():
    """The PyTorch-StudioGAN checkout the plugin drives."""


@studiogan.command()
@click.option("--dest", type=click.Path(file_okay=False), default=None,
              help="Where to clone (default: the user cache, where train/eval look for it).")
def fetch(dest):
    """git clone PyTorch-StudioGAN at the pinned commit (947b35e)."""
    from studiogan_slt.studiogan.host import locate

    click.echo(locate.fetch(dest))
