import numpy as np
import pytest

from avbench.metrics import buckets, eps, pes
from avbench.metrics.functional.silence import BUCKETS


def test_segment_pes_eps_hand_computed():
    ref = np.zeros((4, 100))
    est = np.zeros((4, 100))
    ref[0] = 1.0
    est[0] = 1.0            # both active -> SDR family
    est[1] = 0.1            # reference silent -> PES = 10 log10(100 * 0.01 + 1e-8)
    ref[2] = 2.0            # estimate silent  -> EPS = 10 log10(400 + 1e-8)
    p = pes(ref, est)
    e = eps(ref, est)
    assert np.isnan(p[0]) and np.isnan(e[0])
    assert p[1] == pytest.approx(10 * np.log10(1.0 + 1e-8), abs=1e-12)
    assert e[2] == pytest.approx(10 * np.log10(400.0 + 1e-8), abs=1e-12)
    assert np.isnan(p[3]) and np.isnan(e[3])
    np.testing.assert_array_equal(buckets(ref, est), [BUCKETS["sdr"], BUCKETS["pes"], BUCKETS["eps"], BUCKETS["both_silent"]])


def test_floor_is_minus_80_db():
    ref = np.zeros(50)
    est = np.zeros(50)
    est[3] = 1e-300  # not exactly zero: an estimate, but of no energy
    assert pes(ref, est) == pytest.approx(-80.0, abs=1e-9)


def test_each_signal_in_exactly_one_bucket():
    rng = np.random.default_rng(0)
    ref = rng.standard_normal((20, 64)) * (rng.random((20, 1)) > 0.5)
    est = rng.standard_normal((20, 64)) * (rng.random((20, 1)) > 0.5)
    b = buckets(ref, est)
    p = ~np.isnan(pes(ref, est))
    e = ~np.isnan(eps(ref, est))
    assert np.array_equal(p, b == BUCKETS["pes"])
    assert np.array_equal(e, b == BUCKETS["eps"])
    assert not np.any(p & e)


def test_framewise_modes():
    ref = np.zeros(10)
    est = np.zeros(10)
    ref[:4] = 1.0
    est[4:] = 0.5
    # frames of 4, hop 4: [0:4] ref active & est silent -> EPS; [4:8] ref silent -> PES; [8:10] partial
    p = pes(ref, est, mode="framewise", window=4, hop=4)
    e = eps(ref, est, mode="framewise", window=4, hop=4)
    assert p.shape == (2,)
    assert e[0] == pytest.approx(10 * np.log10(4 + 1e-12))
    assert p[1] == pytest.approx(10 * np.log10(4 * 0.25 + 1e-12))
    padded = pes(ref, est, mode="framewise", window=4, hop=4, last_frame="pad")
    assert padded.shape == (3,)
    assert padded[2] == pytest.approx(10 * np.log10(2 * 0.25 + 1e-12))
    with pytest.raises(ValueError, match="window and hop"):
        pes(ref, est, mode="framewise")
