"""Kernel Inception Distance (Binkowski et al., "Demystifying MMD GANs", ICLR 2018) on any features.

KID is the squared MMD between the two feature distributions under the cubic polynomial kernel
k(x, y) = (x.y / d + 1)^3, estimated with the unbiased U-statistic (the diagonal terms left out), so its expected
value is 0 for two samples of one distribution at every sample size, unlike FID, whose bias grows as the samples
shrink. As torch-fidelity and clean-fid do, it is averaged over random subsets of m = min(n_x, n_y, max_subset)
feature vectors of each set (drawn without replacement, from a seeded stream): the mean is the KID, the standard
deviation over subsets its spread.
"""
import numpy as np

NUM_SUBSETS = 100
MAX_SUBSET = 1000


def polynomial_kernel(a, b):
    k = a @ b.T
    k /= a.shape[1]
    k += 1.0
    return k * k * k  # 3x faster than ** 3, which goes through pow()


def mmd2_unbiased(x, y):
    """The unbiased estimate of the squared MMD between the rows of x [m, d] and y [n, d] (m, n >= 2)."""
    m, n = len(x), len(y)
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    within_x = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    within_y = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(within_x + within_y - 2.0 * k_xy.mean())


def kid(x, y, *, num_subsets=NUM_SUBSETS, max_subset=MAX_SUBSET, seed=0):
    """(mean, std) of the unbiased squared MMD over `num_subsets` random subsets of x and y."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    m = min(len(x), len(y), max_subset)
    if m < 2:
        raise ValueError(f"KID needs at least 2 feature vectors in each set, got {len(x)} and {len(y)}")
    rng = np.random.default_rng(seed)
    values = [mmd2_unbiased(x[rng.choice(len(x), m, replace=False)], y[rng.choice(len(y), m, replace=False)])
              for _ in range(num_subsets)]
    return float(np.mean(values)), float(np.std(values))
