"""`studiogan-slt baselines`, `compare`, `plot` and `digits-fid`: results of runs, next to published ones."""
import json
from pathlib import Path

import click

_CTX = {"help_option_names": ["-h", "--help"]}
_RUN_DIRS = click.argument("run_dirs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))


@click.command(context_settings=_CTX)
@click.option("--dataset", default=None, help="Dataset name, e.g. CIFAR10, Baby_ImageNet (spelling-insensitive).")
@click.option("--model", default=None, help="Model name or part of it, e.g. DCGAN, BigGAN.")
@click.option("--table", default=None, help="Only this table: studiogan_benchmark, studiogan_reproducibility, "
                                            "studiogan_v0.3.0 or paper.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def baselines(dataset, model, table, as_json):
    """StudioGAN's reported results and the paper's published numbers, with their evaluation protocols."""
    from dataclasses import asdict

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


@click.command(context_settings=_CTX)
@_RUN_DIRS
@click.option("--model", default=None, help="Baseline model to compare with (default: the run's config name "
                                            "without -SLT/-MM/-dense, e.g. DCGAN-SLT.yaml -> DCGAN).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def compare(run_dirs, model, as_json):
    """Each run's best FID/IS/PRDC, k and kept parameters next to the matching published baselines.

    RUN_DIR is a folder given to StudioGAN's -save (it holds logs/<run>.log); every run logged there is read.
    """
    from studiogan_slt.reporting.compare import compare as compare_runs
    from studiogan_slt.reporting.compare import format_comparison
    from studiogan_slt.reporting.runlog import load_runs

    summaries = compare_runs(load_runs(run_dirs), model=model)
    click.echo(json.dumps(summaries, indent=1) if as_json else format_comparison(summaries))


@click.command(context_settings=_CTX)
@_RUN_DIRS
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


@click.command(name="digits-fid", context_settings=_CTX)
@click.argument("source", type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--out", "out_path", default=None, type=click.Path(dir_okay=False),
              help="Also write the JSON here; as SAVE/statistics/<run>/digits_fid.json it is picked up by "
                   "`compare` and `plot --metric digits_FID`.")
@click.option("--net", "net_path", default=None, type=click.Path(dir_okay=False),
              help="Evaluation network file (default: the user cache; trained there on first use, ~15 s on 2 CPUs).")
@click.option("--seed", type=int, default=0, show_default=True, help="Latent seed when SOURCE is a ticket.")
@click.option("--trust-builder", is_flag=True, help="For a ticket whose builder lives outside studiogan_slt.")
def digits_fid(source, as_json, out_path, net_path, seed, trust_builder):
    """FID and class histogram of generated digits under an independent evaluation network.

    SOURCE is a folder of 32x32 images (StudioGAN's SAVE/samples/<run>/fake from -sf, or `studiogan-slt sample`
    output) or a ticket (.slt). The reference is the digits valid split; the same number of generated images is
    used (the first ones in generation order).
    """
    import time

    from studiogan_slt.data.digits import digits_arrays
    from studiogan_slt.metrics import digits_eval

    if out_path is not None and not Path(out_path).resolve().parent.is_dir():
        raise click.BadParameter(f"folder of {out_path} does not exist", param_hint="'--out'")
    start = time.time()
    real = digits_arrays("valid")[0]
    if Path(source).is_dir():
        images = digits_eval.load_images(source, count=len(real))
    else:
        images = _ticket_images(source, len(real), seed, trust_builder)
    net = digits_eval.load_eval_net(net_path, log=lambda m: click.echo(m, err=True))
    result = {"source": str(source), **digits_eval.evaluate(images, net, reference=real),
              "seconds": round(time.time() - start, 2)}
    if out_path:
        Path(out_path).write_text(json.dumps(result, indent=1) + "\n")
    if as_json:
        click.echo(json.dumps(result))
    else:
        click.echo(f"digits FID {result['fid']:.3f} ({result['num_fake']} generated vs {result['num_real']} valid "
                   f"images); class histogram {result['hist']} (valid {result['reference_hist']}), total variation "
                   f"{result['hist_tv']:.3f}, {result['classes_covered']}/10 classes")


def _ticket_images(path, n, seed, trust_builder):
    import numpy as np

    from studiogan_slt.ticket import sample as sampling
    from studiogan_slt.ticket.save_load import read_ticket

    ticket = read_ticket(path)
    if ticket.header.get("sampler") is None:
        raise click.UsageError(f"{path} has no sampler spec (z size, prior), so it cannot be sampled from")
    model = ticket.build(trust_builder=trust_builder)
    spec = sampling.check_sampler(ticket.header["sampler"])
    return np.concatenate(list(sampling.generate(model, spec, n, seed, batch_size=64)))
