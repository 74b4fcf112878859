"""`studiogan-slt plot`: FID against the kept fraction k."""
from pathlib import Path

import click

from studiogan_slt.cli import options


@click.command()
@options.run_dirs
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Figure file, e.g. fid_vs_k.png (the suffix picks the format).")
@click.option("--csv", "csv_path", default=None, type=click.Path(dir_okay=False), help="Also write the data here.")
@click.option("--metric", default="FID", show_default=True,
              help="FID (StudioGAN's best FID) or digits_FID (recorded by `digits-fid --out`), or IS, Prec, ...")
@click.option("--title", default=None, help="Figure title.")
@click.option("--log-y", is_flag=True, help="Logarithmic y axis (when controls are far worse than the rest).")
def plot(run_dirs, output, csv_path, metric, title, log_y):
    """FID against the kept fraction k: one line per backbone and search mode, dense runs as horizontal lines."""
    from studiogan_slt.reporting import plot as fig
    from studiogan_slt.reporting.runlog import load_runs

    for path, hint in ((output, "'-o'"), (csv_path, "'--csv'")):
        if path is not None and not Path(path).resolve().parent.is_dir():
            raise click.BadParameter(f"folder of {path} does not exist", param_hint=hint)
    rows, skipped = fig.points(load_runs(run_dirs), metric)
    if skipped:
        click.echo(f"skipped {len(skipped)} run(s) without {metric}: {', '.join(skipped)}", err=True)
    if csv_path:
        fig.write_csv(rows, csv_path)
    fig.make_figure(rows, output, metric=metric, title=title, log_y=log_y)
    click.echo(f"wrote {output} ({len(rows)} runs)" + (f" and {csv_path}" if csv_path else ""))
