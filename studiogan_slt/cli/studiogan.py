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
    # lazy, as every command's work: `--help` imports this module and stays free of torch (cli/__init__.py)
    from studiogan_slt.studiogan.host import locate

    click.echo(locate.fetch(dest))
