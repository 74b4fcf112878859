"""`studiogan-slt digits-fid`: FID of generated digits under an independent evaluation network."""
import json
from pathlib import Path

import click

from studiogan_slt import atomic
from studiogan_slt.cli import options


@click.command(name="digits-fid")
@click.argument("source", type=click.Path(exists=True))
@options.json_output
@click.option("--out", "out_path", default=None, type=click.Path(dir_okay=False),
              help="Also write the JSON here; as SAVE/statistics/<run>/digits_fid.json it is picked up by "
                   "`compare` and `plot --metric digits_FID`.")
@click.option("--net", "net_path", default=None, type=click.Path(dir_okay=False),
              help="Evaluation network file (default: the user cache; trained there on first use, ~15 s on 2 CPUs).")
@click.option("--seed", type=int, default=0, show_default=True, help="Latent seed when SOURCE is a ticket.")
@options.trust_builder
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
        atomic.write_text(out_path, json.dumps(result, indent=1) + "\n")
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
    spec = sampling.ticket_sampler(ticket)
    model = ticket.build(trust_builder=trust_builder)
    return np.concatenate(list(sampling.generate(model, spec, n, seed, batch_size=64)))
