import numpy as np
import pytest

from scoresim.engine.sampling import binomial_from_uniform, poisson_from_uniform


@pytest.mark.parametrize("lam", [0.01, 0.3, 2.0, 12.0])
def test_poisson_inversion_has_the_right_moments(lam):
    u = np.random.default_rng(0).random(400_000)
    k = poisson_from_uniform(u, np.full(u.size, lam))
    assert k.mean() == pytest.approx(lam, rel=0.03, abs=1e-3)
    assert k.var() == pytest.approx(lam, rel=0.05, abs=1e-3)


def test_poisson_inversion_is_monotone_in_the_rate():
    u = np.random.default_rng(1).random(10_000)
    low = poisson_from_uniform(u, np.full(u.size, 0.5))
    high = poisson_from_uniform(u, np.full(u.size, 0.8))
    assert np.all(high >= low)


@pytest.mark.parametrize(("n", "p"), [(1, 0.3), (5, 0.5), (20, 0.05)])
def test_binomial_inversion_has_the_right_moments(n, p):
    u = np.random.default_rng(2).random(200_000)
    k = binomial_from_uniform(u, np.full(u.size, n), p)
    assert k.max() <= n
    assert k.mean() == pytest.approx(n * p, rel=0.03)
    assert k.var() == pytest.approx(n * p * (1 - p), rel=0.05)


def test_binomial_edges():
    n = np.array([0, 3, 7])
    np.testing.assert_array_equal(binomial_from_uniform(np.full(3, 0.5), n, 1.0), n)
    np.testing.assert_array_equal(binomial_from_uniform(np.full(3, 0.5), n, 0.0), 0)
