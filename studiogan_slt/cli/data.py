"""`studiogan-slt data`: built-in data sets that run offline."""
import click


@click.group()
def data():
    """Write built-in data sets in StudioGAN's ImageFolder layout."""


@data.command()
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder to create; gets train/<class>/*.png and valid/<class>/*.png.")
def digits(out_dir):
    """scikit-learn's handwritten digits as 32x32 RGB PNGs (10 classes, fixed split)."""
    # lazy, as every command's work: `--help` imports this module and stays free of torch (cli/__init__.py)
    from studiogan_slt.data.digits import write_digits

    counts = write_digits(out_dir)
    click.echo(f"wrote {counts['train']} train and {counts['valid']} valid images to {out_dir}")
