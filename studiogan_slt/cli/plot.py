"""`studiogan-slt plot`: FID against the kept fraction k, or the searches' mask turnover against the step."""
from pathlib import Path

import click

from studiogan_slt.cli import options


@click.command()
@options.run_dirs
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Figure file, e.g. fid_vs_k.png (the suffix picks the format).")
@click.option("--title", default=None, help="Figure title.")
@click.option("--csv", "csv_path", default=None, type=click.Path(dir_okay=False), help="Also write the data here.")
@click.option("--metric", default="FID", show_default=True,
              help="FID (StudioGAN's best FID), digits_FID, digits_train_FID or digits_KID (recorded by "
                   "`digits-fid --out`), or IS, Prec, ...")
@click.option("--log-y", is_flag=True, help="Logarithmic y axis (when controls are far worse than the rest).")
@click.option("--turnover", is_flag=True, help="Instead: the search diagnostics' mask turnover against the step, "
                                               "one line per run and masked network.")
def plot(run_dirs, output, csv_path, metric, title, log_y, turnover):
    """FID against the kept fraction k: one line per backbone and search mode, dense runs as horizontal lines
    (or, with --turnover, mask turnover against the step)."""
    # lazy, as every command's work: `--help` imports this module and stays free of torch (cli/__init__.py)
    from studiogan_slt.reporting import plot as fig
    from studiogan_slt.reporting import turnover as turnover_fig
    from studiogan_slt.reporting.runlog import load_runs

    for path, hint in ((output, "'-o'"), (csv_path, "'--csv'")):
        if path is not None and not Path(path).resolve().parent.is_dir():
            raise click.BadParameter(f"folder of {path} does not exist", param_hint=hint)
    runs = load_runs(run_dirs)
    rows, skipped = turnover_fig.points(runs) if turnover else fig.points(runs, metric)
    if skipped:
        what = "search diagnostics" if turnover else metric
        click.echo(f"skipped {len(skipped)} run(s) without {what}: {', '.join(skipped)}", err=True)
    if csv_path:
        (turnover_fig if turnover else fig).write_csv(rows, csv_path)
    if turnover:
        turnover_fig.make_figure(rows, output, title=title, log_y=log_y)
    else:
        fig.make_figure(rows, output, metric=metric, title=title, log_y=log_y)
    click.echo(f"wrote {output} ({len(rows)} runs)" + (f" and {csv_path}" if csv_path else ""))
