"""The best checkpoint of a search on the built-in digits, by the plugin's digits metric (`SLT.digits_metric`).

StudioGAN keeps its best checkpoint by FID or IS on Inception features, evaluated at every save (loader.py:417-422,
worker.py:805), and those weights cannot be downloaded offline. On DIGITS data the plugin has its own metric
(metrics/digits_metrics.py). With `SLT.digits_metric: fid | fid_train | kid | kid_valid`, at every StudioGAN save
the network StudioGAN itself evaluates (G_ema when the run keeps one) draws NUM_IMAGES images in eval mode from the
plugin's seeded latents: the same latents at every step, and no draw from torch's generator, so a run with the
metric trains exactly as one without. Every metric is logged and appended to statistics/<run>/digits_metric.csv; a
value below every earlier step's marks the save as StudioGAN's best (model=*-best-*), which `export -best` and
`eval -best` read. `SLT.digits_network` picks the evaluation network (metrics/digits_eval.py NETWORKS).
"""
import os

import numpy as np

from studiogan_slt import csv_rows
from studiogan_slt.errors import SLTError
from studiogan_slt.metrics import digits_eval, digits_metrics
from studiogan_slt.ticket import LATENT_SEED, sample

FILE_NAME = "digits_metric.csv"
# new columns go last, so that the older ones keep their places in the files of earlier runs
FIELDS = ("step", "metric", "value", "fid", "fid_train", "kid", "kid_std", "classes", "kid_valid", "kid_valid_std",
          "memorisation")
_TYPES = {"step": int, "classes": int, "value": float, "fid": float, "fid_train": float, "kid": float,
          "kid_std": float, "kid_valid": float, "kid_valid_std": float, "memorisation": float}
NUM_IMAGES = 1501  # the size of the digits train split, which fid_train and kid compare against


def check(cfgs):
    """Run check (before -save is written): the metric needs digits data and no competing choice of the best
    checkpoint."""
    metric = cfgs.SLT.digits_metric
    if metric is None:
        return
    if cfgs.DATA.name != "DIGITS":
        raise SLTError(f"SLT.digits_metric: scores the built-in digits; this run's DATA.name is {cfgs.DATA.name!r} "
                       "(use StudioGAN's -metrics there)")
    if [m for m in cfgs.RUN.eval_metrics if m != "none"]:
        raise SLTError(f"SLT.digits_metric: it picks the best checkpoint itself; run with -metrics none, not "
                       f"-metrics {' '.join(cfgs.RUN.eval_metrics)}")


def read_rows(path):
    """The rows of a digits_metric.csv, one per step (a step evaluated twice, before and after a resume, keeps its
    last row)."""
    by_step = {row["step"]: row for row in csv_rows.read(path, _TYPES)} if os.path.isfile(path) else {}
    return [by_step[s] for s in sorted(by_step)]


class DigitsSelection:
    def __init__(self, metric, path, sampler, log, network):
        import torch

        self.metric, self.path, self.sampler = metric, path, sampler
        # On first use the evaluation network is trained (and cached), which draws from torch's generator; the
        # search must draw the same numbers whether or not the cache existed.
        with torch.random.fork_rng(devices=[]):
            self.net = digits_eval.load_eval_net(log=log, name=network)
        self.rows = read_rows(path)

    def at_save(self, generator, step):
        """Score `generator` at `step`; returns (is_best, run-log line)."""
        import torch

        was_training = generator.training
        generator.eval()
        try:
            with torch.no_grad():
                images = np.concatenate(list(sample.generate(generator, self.sampler, NUM_IMAGES, LATENT_SEED,
                                                             batch_size=256)))
        finally:
            generator.train(was_training)
        r = digits_metrics.score(images, self.net)
        row = {"step": step, "metric": self.metric, "value": r[self.metric], "fid": r["fid"],
               "fid_train": r["fid_train"], "kid": r["kid"], "kid_std": r["kid_std"],
               "classes": int(np.count_nonzero(r["hist"])), "kid_valid": r["kid_valid"],
               "kid_valid_std": r["kid_valid_std"], "memorisation": r["memorisation"]}
        # Only steps before this one count: after a resume this step may already be in the file, from the run
        # that was killed before its checkpoint was complete.
        earlier = [x for x in self.rows if x["step"] < step]
        best = min(earlier, key=lambda x: x["value"], default=None)
        is_best = best is None or row["value"] < best["value"]
        self.rows = [*earlier, row]
        csv_rows.append(self.path, row, FIELDS)
        so_far = "new best" if is_best else f"best {best['value']:.4g} at step {best['step']}"
        line = (f"digits metric at step {step}: {self.metric} {row['value']:.4g} ({so_far}); FID {r['fid']:.4g}, "
                f"train-split FID {r['fid_train']:.4g}, KID {r['kid']:.4f} ± {r['kid_std']:.4f}, held-out KID "
                f"{r['kid_valid']:.4f} ± {r['kid_valid_std']:.4f}, memorisation ratio {r['memorisation']:.3f}, "
                f"{row['classes']} of 10 classes")
        return is_best, line
