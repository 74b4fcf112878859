"""`studiogan-slt digits-fid`: FID, train-split FID and KID of generated digits under an independent evaluation
network, each with its real-vs-real floor."""
import json
from pathlib import Path

import click

from studiogan_slt import atomic
from studiogan_slt.cli import options
from studiogan_slt.metrics.digits_eval import DEFAULT_NETWORK, NETWORKS


@click.command(name="digits-fid")
@click.argument("source", type=click.Path(exists=True))
@options.json_output
@click.option("--out", "out_path", default=None, type=click.Path(dir_okay=False),
              help="Also write the JSON here; as SAVE/statistics/<run>/digits_fid.json it is picked up by "
                   "`compare` and `plot --metric digits_FID` (or digits_train_FID, digits_KID).")
@click.option("--net", "net_path", default=None, type=click.Path(dir_okay=False),
              help="Evaluation network file (default: the user cache; trained there on first use, ~15 s on 2 CPUs).")
@click.option("--network", default=DEFAULT_NETWORK, show_default=True, type=click.Choice(list(NETWORKS)),
              help="Which evaluation network scores: a verdict should hold under each (--net then names its file).")
@click.option("--seed", type=int, default=0, show_default=True, help="Latent seed when SOURCE is a ticket.")
@options.trust_builder
def digits_fid(source, as_json, out_path, net_path, network, seed, trust_builder):
    """FID, train-split FID and KID of generated digits under an independent evaluation network, each with its
    real-vs-real floor, and the class histogram.

    SOURCE is a folder of 32x32 images (StudioGAN's SAVE/samples/<run>/fake from -sf, or `studiogan-slt sample`
    output) or a ticket (.slt). The FID uses the first 296 images against the 296-image valid split; the
    train-split FID the first 1,501 against the 1,501-image train split (skipped when SOURCE has fewer: use
    -sf_num 1501); KID the first 1,501 (or all, if fewer) against the train split. A ticket is sampled 1,501 times.
    """
    import time

    # lazy, as every command's work: `--help` imports this module and stays free of torch (cli/__init__.py)
    from studiogan_slt.data.digits import digits_arrays
    from studiogan_slt.metrics import digits_eval, digits_metrics

    if out_path is not None and not Path(out_path).resolve().parent.is_dir():
        raise click.BadParameter(f"folder of {out_path} does not exist", param_hint="'--out'")
    start = time.time()
    num_valid, num_train = len(digits_arrays("valid")[1]), len(digits_arrays("train")[1])
    if Path(source).is_dir():
        images = digits_eval.load_images(source, count=num_train, minimum=num_valid)
    else:
        images = _ticket_images(source, num_train, seed, trust_builder)
    net = digits_eval.load_eval_net(net_path, log=lambda m: click.echo(m, err=True), name=network)
    result = {"source": str(source), **digits_metrics.score(images, net), "seconds": round(time.time() - start, 2)}
    if out_path:
        atomic.write_text(out_path, json.dumps(result, indent=1) + "\n")
    click.echo(json.dumps(result) if as_json else digits_metrics.format_result(result))


def _ticket_images(path, n, seed, trust_builder):
    import numpy as np

    # lazy, as every command's work: `--help` imports this module and stays free of torch (cli/__init__.py)
    from studiogan_slt.ticket import sample as sampling
    from studiogan_slt.ticket.save_load import read_ticket

    ticket = read_ticket(path)
    spec = sampling.ticket_sampler(ticket)
    model = ticket.build(trust_builder=trust_builder)
    return np.concatenate(list(sampling.generate(model, spec, n, seed, batch_size=64)))
