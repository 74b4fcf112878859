"""KID against a direct implementation of Binkowski et al.'s estimator, and its unbiasedness."""
import numpy as np
import pytest

from studiogan_slt.metrics.kid import kid, mmd2_unbiased


def _kernel(a, b):
    return (sum(x * y for x, y in zip(a, b)) / len(a) + 1.0) ** 3


def reference_mmd2(x, y, unbiased=True):
    """The estimator written out pair by pair; unbiased=False keeps the i = j terms (the biased V-statistic)."""
    m, n = len(x), len(y)
    skip = 1 if unbiased else 0
    xx = sum(_kernel(x[i], x[j]) for i in range(m) for j in range(m) if not (unbiased and i == j))
    yy = sum(_kernel(y[i], y[j]) for i in range(n) for j in range(n) if not (unbiased and i == j))
    xy = sum(_kernel(x[i], y[j]) for i in range(m) for j in range(n))
    return xx / (m * (m - skip)) + yy / (n * (n - skip)) - 2 * xy / (m * n)


def test_matches_the_direct_estimator_on_small_random_features():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(7, 3)), rng.normal(0.5, 2.0, size=(9, 3))
    assert mmd2_unbiased(x, y) == pytest.approx(reference_mmd2(x.tolist(), y.tolist()), rel=1e-12)
    # subsets as large as both sets are the sets themselves, in another order: the same value, no spread
    mean, std = kid(x[:7], y[:7], num_subsets=4)
    assert mean == pytest.approx(reference_mmd2(x[:7].tolist(), y[:7].tolist()), rel=1e-12) and std < 1e-12


def test_subsets_average_the_estimator_over_random_subsets():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(40, 4)), rng.normal(size=(60, 4)) + 0.3
    mean, std = kid(x, y, num_subsets=50, max_subset=10, seed=3)
    assert (mean, std) == kid(x, y, num_subsets=50, max_subset=10, seed=3)  # seeded
    assert (mean, std) != kid(x, y, num_subsets=50, max_subset=10, seed=4)
    draws = np.random.default_rng(3)
    values = [reference_mmd2(x[draws.choice(40, 10, replace=False)].tolist(),
                             y[draws.choice(60, 10, replace=False)].tolist()) for _ in range(50)]
    assert mean == pytest.approx(np.mean(values), rel=1e-10) and std == pytest.approx(np.std(values), rel=1e-8)


def test_identical_distributions_score_zero_on_average_unlike_the_biased_estimator():
    rng = np.random.default_rng(2)
    draws = [(rng.normal(size=(12, 5)), rng.normal(size=(12, 5))) for _ in range(400)]
    unbiased = np.array([mmd2_unbiased(x, y) for x, y in draws])
    biased = np.array([reference_mmd2(x.tolist(), y.tolist(), unbiased=False) for x, y in draws[:100]])
    se = unbiased.std() / np.sqrt(len(unbiased))
    assert abs(unbiased.mean()) < 3 * se
    assert biased.mean() > 10 * biased.std() / np.sqrt(len(biased))  # the test would see a bias
    shifted = np.array([mmd2_unbiased(x, y + 1.0) for x, y in draws[:50]])
    assert shifted.mean() > 10 * se  # and a real difference


def test_too_few_features_are_refused():
    with pytest.raises(ValueError, match="at least 2"):
        kid(np.zeros((1, 3)), np.zeros((5, 3)))
