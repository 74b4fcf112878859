"""`studiogan-slt baselines`: StudioGAN's and the paper's published results."""
import json

import click

from studiogan_slt.cli import options


@click.command()
@click.option("--dataset", default=None, help="Dataset name, e.g. CIFAR10, Baby_ImageNet (spelling-insensitive).")
@click.option("--model", default=None, help="Model name or part of it, e.g. DCGAN, BigGAN.")
@click.option("--table", default=None, help="Only this table: studiogan_benchmark, studiogan_reproducibility, "
                                            "studiogan_v0.3.0 or paper.")
@options.json_output
def baselines(dataset, model, table, as_json):
    """StudioGAN's reported results and the paper's published numbers, with their evaluation protocols."""
    from dataclasses import asdict

    # lazy, as every command's work: `--help` imports this module and stays free of torch (cli/__init__.py)
    from studiogan_slt.reporting import baselines as bl

    if table is not None and table not in bl.table_ids():
        raise click.BadParameter(f"{table!r} is not a table; use one of {', '.join(bl.table_ids())}",
                                 param_hint="'--table'")
    rows = bl.lookup(dataset, model, table=table)
    if as_json:
        click.echo(json.dumps([asdict(b) for b in rows], indent=1))
    elif not rows:
        datasets = sorted({b.dataset for b in bl.all_baselines()})
        click.echo(f"no baseline rows match; datasets with baselines: {', '.join(datasets)}")
    else:
        click.echo(bl.format_rows(rows))
