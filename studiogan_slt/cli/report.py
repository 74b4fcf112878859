"""`studiogan-slt report`: kept counts, MACs and file sizes of a ticket or an SLT checkpoint."""
from pathlib import Path

import click

from studiogan_slt.cli import options


@click.command()
@click.argument("source", type=click.Path(exists=True))
@options.json_output
@options.best("For a checkpoint folder: the best checkpoint.")
@options.trust_builder
@options.studiogan_root
def report(source, as_json, best, trust_builder, studiogan_root):
    """Per masked tensor: kept counts, dense and ideal sparse MACs; file sizes per tier.

    SOURCE is a ticket (.slt) or a StudioGAN checkpoint folder of an SLT run.
    """
    # lazy, as every command's work: `--help` imports this module and stays free of torch (cli/__init__.py)
    from studiogan_slt.ticket import sample as sampling
    from studiogan_slt.ticket.report import ticket_report
    from studiogan_slt.ticket.save_load import read_ticket

    if Path(source).is_dir():
        # lazy, as every command's work: `--help` imports this module and stays free of torch (cli/__init__.py)
        from studiogan_slt.studiogan.rebuild import report as sg_report

        result = sg_report.checkpoint_report(source, best=best, studiogan_root=studiogan_root)
    else:
        t = read_ticket(source)
        model = t.build(trust_builder=trust_builder)
        has_sampler = t.header.get("sampler") is not None
        args, kwargs = sampling.example_inputs(sampling.ticket_sampler(t)) if has_sampler else (None, None)
        result = ticket_report(t, model, args, kwargs)
    click.echo(result.to_json() if as_json else str(result))
