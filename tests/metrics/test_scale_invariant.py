import numpy as np
import pytest
import torch

from avbench.metrics import sd_sdr, si_sdr, snr


def test_hand_computed():
    s = np.array([1.0, 2.0, 3.0, 4.0])
    e = 2 * s
    assert np.isposinf(si_sdr(s, e))  # a scaled copy is perfect up to scale
    # alpha = 2: ||2s||^2 / ||s - 2s||^2 = 4
    assert sd_sdr(s, e) == pytest.approx(10 * np.log10(4.0), abs=1e-12)
    assert snr(s, e) == pytest.approx(0.0, abs=1e-12)


def test_orthogonal_noise_closed_form():
    s = np.array([1.0, 0.0, 1.0, 0.0])
    n = np.array([0.0, 1.0, 0.0, -1.0])  # orthogonal to s
    e = s + 0.5 * n
    # alpha = 1; ||s||^2 = 2, ||0.5 n||^2 = 0.5
    assert si_sdr(s, e) == pytest.approx(10 * np.log10(2 / 0.5), abs=1e-12)
    assert sd_sdr(s, e) == pytest.approx(10 * np.log10(2 / 0.5), abs=1e-12)
    assert snr(s, e) == pytest.approx(10 * np.log10(2 / 0.5), abs=1e-12)


def test_independent_reference_formula_batched():
    rng = np.random.default_rng(0)
    s = rng.standard_normal((3, 2, 500))
    e = 0.7 * s + 0.3 * rng.standard_normal((3, 2, 500))
    a = (e * s).sum(-1, keepdims=True) / (s * s).sum(-1, keepdims=True)
    want = 10 * np.log10(((a * s) ** 2).sum(-1) / ((a * s - e) ** 2).sum(-1))
    np.testing.assert_allclose(si_sdr(s, e), want, atol=1e-10)
    t = si_sdr(torch.from_numpy(s), torch.from_numpy(e))
    assert isinstance(t, torch.Tensor) and t.shape == (3, 2)


def test_eps_floor_and_zero_mean():
    s = np.array([1.0, 0.0, 1.0, 0.0])
    orth = np.array([0.0, 1.0, 0.0, 1.0])  # orthogonal to s, ||orth||^2 = 2
    assert si_sdr(s, orth) == -np.inf
    assert np.isnan(si_sdr(s, np.zeros(4)))  # 0/0: a silent estimate is scored by EPS instead
    eps = 1e-8
    floor = si_sdr(s, orth, eps=eps)
    assert floor == pytest.approx(10 * np.log10(eps / (2 + eps)), abs=1e-6)
    assert np.isposinf(si_sdr(s + 1.0, s + 3.0, zero_mean=True))


def test_errors():
    with pytest.raises(ValueError, match="shapes differ"):
        si_sdr(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="NaN"):
        si_sdr(np.array([1.0, np.nan]), np.ones(2))
