import numpy as np
import pytest

from avbench.metrics import bootstrap_ci, mcnemar, paired_bootstrap, wilcoxon


def test_bootstrap_is_seeded_and_brackets_the_mean():
    rng = np.random.default_rng(0)
    v = rng.normal(3.0, 1.0, 200)
    a = bootstrap_ci(v, seed=1)
    b = bootstrap_ci(v, seed=1)
    assert a == b
    est, lo, hi = a
    assert lo < est < hi and est == pytest.approx(v.mean())
    # grouped resampling of perfectly correlated segments gives a wider interval
    g = np.repeat(np.arange(20), 10)
    vg = np.repeat(rng.normal(0, 1, 20), 10)
    _, l1, h1 = bootstrap_ci(vg, seed=0)
    _, l2, h2 = bootstrap_ci(vg, seed=0, groups=g)
    assert (h2 - l2) > 2 * (h1 - l1)


def test_paired_tests():
    rng = np.random.default_rng(2)
    a = rng.normal(0, 1, 100)
    b = a - 0.5 + 0.1 * rng.standard_normal(100)
    r = paired_bootstrap(a, b, seed=0)
    assert r["low"] > 0 and r["p_value"] < 0.01
    assert wilcoxon(a, b)["p_value"] < 1e-6
    assert wilcoxon(a, a)["p_value"] == 1.0


def test_mcnemar_hand_computed():
    ca = np.array([1, 1, 1, 1, 0, 1, 1, 1], dtype=bool)
    cb = np.array([0, 0, 0, 1, 0, 1, 1, 1], dtype=bool)
    r = mcnemar(ca, cb)
    assert (r["a_only"], r["b_only"]) == (3, 0)
    assert r["p_value"] == pytest.approx(2 * 0.5**3)
