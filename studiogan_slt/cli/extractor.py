"""`studiogan-slt extractor`: feature networks for the moment-matching training modes."""
import click


@click.group()
def extractor():
    """Feature extractors for SLT.train_mode moment_matching / dense_moment_matching."""


@extractor.command()
@click.option("--epochs", default=6, show_default=True, type=click.IntRange(min=1), help="Passes over the train split.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed for initialisation and batch order.")
@click.option("-o", "--out", "out_path", required=True, type=click.Path(dir_okay=False),
              help="File to write (a plain state_dict).")
def digits(out_path, epochs, seed):
    """Train the small digits CNN classifier (about half a minute on CPU) for use as a moment-matching extractor.

    Use it in a config as  SLT: {moments: {extractors: [{network: "studiogan_slt.metrics.digits_net:digits_cnn",
    weights: OUT}]}}."""
    import os

    # lazy, as every command's work: `--help` imports this module and stays free of torch (cli/__init__.py)
    from studiogan_slt.metrics.digits_net import NETWORK, train_digits_cnn

    parent = os.path.dirname(os.path.abspath(out_path))
    if not os.path.isdir(parent):
        raise click.BadParameter(f"folder {parent} does not exist", param_hint="'-o'")
    result = train_digits_cnn(out_path, epochs=epochs, seed=seed, log=click.echo)
    click.echo(f"wrote {out_path}: valid accuracy {result['valid_accuracy']:.4f}, {result['seconds']:.0f} s")
    click.echo(f"extractor spec: {{network: \"{NETWORK}\", weights: \"{out_path}\"}}")
