"""The memorisation ratio against a direct computation, and what it tells apart: copies of the training set score
well below 1, new draws from the same distribution about 1 (on tiny feature arrays; on real digits:
test_digits_metrics.py)."""
import numpy as np
import pytest

from studiogan_slt.metrics.memorisation import memorisation_ratio, nearest_distances


def test_nearest_distances_match_a_direct_search():
    rng = np.random.default_rng(0)
    x, ref = rng.normal(size=(7, 3)), rng.normal(size=(11, 3))
    direct = [min(np.sqrt(((a - b) ** 2).sum()) for b in ref) for a in x]
    assert nearest_distances(x, ref) == pytest.approx(direct, rel=1e-10)
    assert nearest_distances(ref[:4], ref) == pytest.approx(np.zeros(4), abs=1e-6)  # copies: 0, never NaN


def test_copies_score_far_below_one_and_new_draws_about_one():
    rng = np.random.default_rng(1)
    train, held_out = rng.normal(size=(400, 8)), rng.normal(size=(100, 8))
    new = rng.normal(size=(400, 8))
    copies = train[rng.integers(0, 400, 400)] + rng.normal(scale=0.05, size=(400, 8))  # copies, lightly blurred
    fresh = memorisation_ratio(new, train, held_out)
    assert 0.85 < fresh < 1.15
    assert memorisation_ratio(copies, train, held_out) < 0.2 * fresh
    # half copies, half new draws: the median sits between the two
    half = memorisation_ratio(np.concatenate([copies[:200], new[:200]]), train, held_out)
    assert memorisation_ratio(copies, train, held_out) < half < fresh


def test_empty_sets_are_refused():
    with pytest.raises(ValueError, match="samples in every set"):
        memorisation_ratio(np.zeros((0, 3)), np.zeros((5, 3)), np.zeros((5, 3)))
