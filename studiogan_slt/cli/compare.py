"""`studiogan-slt compare`: runs next to the matching published baselines."""
import json

import click

from studiogan_slt.cli import options


@click.command()
@options.run_dirs
@click.option("--model", default=None, help="Baseline model to compare with (default: the run's config name "
                                            "without -SLT/-MM/-dense, e.g. DCGAN-SLT.yaml -> DCGAN).")
@options.json_output
def compare(run_dirs, model, as_json):
    """Each run's best FID/IS/PRDC, k and kept parameters next to the matching published baselines.

    RUN_DIR is a folder given to StudioGAN's -save (it holds logs/<run>.log); every run logged there is read.
    """
    # lazy, as every command's work: `--help` imports this module and stays free of torch (cli/__init__.py)
    from studiogan_slt.reporting.compare import compare as compare_runs
    from studiogan_slt.reporting.compare import format_comparison
    from studiogan_slt.reporting.runlog import load_runs

    summaries = compare_runs(load_runs(run_dirs), model=model)
    click.echo(json.dumps(summaries, indent=1) if as_json else format_comparison(summaries))
