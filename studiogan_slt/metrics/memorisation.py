"""The memorisation ratio on any features: how close generated samples lie to the training set, measured against
how close unseen real samples lie to it.

ratio = median over generated x of min_t ||x - t|| / median over held-out real v of min_t ||v - t||, t running over
the training set. A generator that draws new samples from the data distribution scores about 1 at every sample size
(the nearest-neighbour distance of a fresh draw does not depend on how many draws there are); one that reproduces
training samples scores well below 1, down to 0 for exact copies. FID and KID against the training set cannot see
the difference: both reward copying. Medians, not means, so that a few outliers (a broken sample, an odd digit) do
not move it.
"""
import numpy as np

BATCH = 512  # rows of x per distance block: a 512 x 1,501 block of float64 is 6 MB


def nearest_distances(x, reference):
    """The Euclidean distance from each row of x [m, d] to its nearest row of reference [n, d]."""
    x, reference = np.asarray(x, np.float64), np.asarray(reference, np.float64)
    ref_sq = (reference * reference).sum(axis=1)
    out = []
    for i in range(0, len(x), BATCH):
        block = x[i:i + BATCH]
        # |a - b|^2 = |a|^2 + |b|^2 - 2 a.b; round-off can take an exact copy's distance a little below 0
        d2 = (block * block).sum(axis=1)[:, None] + ref_sq[None, :] - 2.0 * block @ reference.T
        out.append(np.sqrt(np.maximum(d2.min(axis=1), 0.0)))
    return np.concatenate(out) if out else np.zeros(0)


def memorisation_ratio(fake, train, held_out):
    """median nearest-train distance of `fake` / that of `held_out` (rows are feature vectors)."""
    if len(fake) == 0 or len(held_out) == 0 or len(train) == 0:
        raise ValueError(f"the memorisation ratio needs samples in every set, got {len(fake)} generated, "
                         f"{len(train)} train and {len(held_out)} held-out")
    return float(np.median(nearest_distances(fake, train)) / np.median(nearest_distances(held_out, train)))
