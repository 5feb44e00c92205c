"""BSS Eval v3 kernels against mir_eval (the reference) and closed-form cases."""
import warnings

import numpy as np
import pytest
import torch

from avbench.metrics import bss_eval_sources, bss_eval_sources_framewise
from avbench.metrics.functional.bss import validate

mir_sep = pytest.importorskip("mir_eval.separation")


def music_item(rng, n_src, n, sr=11025, noise=1e-3):
    """Harmonic notes with vibrato and note changes, leakage, filtering and noise."""
    t = np.arange(n) / sr
    refs = []
    for _ in range(n_src):
        x = np.zeros(n)
        n_notes = rng.integers(2, 6)
        bounds = np.sort(rng.choice(np.arange(1, n - 1), n_notes - 1, replace=False))
        for s, e in zip(np.r_[0, bounds], np.r_[bounds, n]):
            f0 = 55 * 2 ** (rng.integers(0, 48) / 12)
            env = np.exp(-3 * (t[s:e] - t[s]))
            x[s:e] += env * sum(np.sin(2 * np.pi * f0 * h * t[s:e] * (1 + 0.003 * np.sin(2 * np.pi * 5 * t[s:e])))
                                / h for h in range(1, 9) if f0 * h < sr / 2)
        refs.append(x + noise * rng.standard_normal(n))
    R = np.array(refs)
    M = rng.uniform(0, 0.4, (n_src, n_src))
    np.fill_diagonal(M, 1.0)
    E = M @ R
    for j in range(n_src):
        E[j] = np.convolve(E[j], np.r_[1.0, rng.normal(0, 0.3, 6)], mode="full")[:n]
    E += 0.02 * rng.standard_normal(E.shape)
    return R, E


def mir(R, E, perm=False):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mir_sep.bss_eval_sources(R, E, compute_permutation=perm)


@pytest.mark.parametrize("n_src,n", [(1, 4000), (2, 8000), (3, 11025), (4, 6000), (6, 3000)])
def test_parity_with_mir_eval(n_src, n):
    rng = np.random.default_rng(100 * n_src + n)
    R, E = music_item(rng, n_src, n)
    ours = bss_eval_sources(R, E)
    ref = mir(R, E)
    for a, b in zip(ours[:3], ref[:3]):
        finite = np.isfinite(b)
        assert np.array_equal(np.isposinf(a), np.isposinf(b))
        np.testing.assert_allclose(a[finite], b[finite], rtol=0, atol=1e-9)
    assert np.array_equal(ours.perm, np.arange(n_src))


@pytest.mark.parametrize("n_src", [2, 3, 4])
def test_permutation_parity_with_mir_eval(n_src):
    rng = np.random.default_rng(7 + n_src)
    R, E = music_item(rng, n_src, 5000)
    p = rng.permutation(n_src)
    ours = bss_eval_sources(R, E[p], compute_permutation=True)
    ref = mir(R, E[p], perm=True)
    np.testing.assert_array_equal(ours.perm, ref[3])
    for a, b in zip(ours[:3], ref[:3]):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)


def test_long_item_parity():
    rng = np.random.default_rng(3)
    R, E = music_item(rng, 2, 65535)
    np.testing.assert_allclose(np.array(bss_eval_sources(R, E)[:3]), np.array(mir(R, E)[:3]), atol=1e-9, rtol=0)


def disjoint_item(rng, n, L, a, b, c):
    """r1, r2, noise with disjoint supports separated by more than L samples:
    every delayed copy of r1 is orthogonal to r2 and to the noise, so the decomposition
    is known exactly."""
    third = n // 3
    gap = L + 10
    r1 = np.zeros(n)
    r2 = np.zeros(n)
    z = np.zeros(n)
    r1[: third - gap] = rng.standard_normal(third - gap)
    r2[third : 2 * third - gap] = rng.standard_normal(third - gap)
    z[2 * third : n - gap] = rng.standard_normal(n - gap - 2 * third)
    r1 /= np.linalg.norm(r1)
    r2 /= np.linalg.norm(r2)
    z /= np.linalg.norm(z)
    return np.array([r1, r2]), a * r1 + b * r2 + c * z


@pytest.mark.parametrize("L", [1, 512])
def test_closed_form(L):
    rng = np.random.default_rng(L)
    a, b, c = 1.0, 0.1, 0.05
    R, e1 = disjoint_item(rng, 6000, L, a, b, c)
    E = np.array([e1, R[1] + 0.5 * R[0]])
    sdr, sir, sar, _ = bss_eval_sources(R, E, filter_length=L)
    np.testing.assert_allclose(sdr[0], 10 * np.log10(a**2 / (b**2 + c**2)), atol=1e-9)
    np.testing.assert_allclose(sir[0], 10 * np.log10(a**2 / b**2), atol=1e-9)
    np.testing.assert_allclose(sar[0], 10 * np.log10((a**2 + b**2) / c**2), atol=1e-9)
    np.testing.assert_allclose(sir[1], 10 * np.log10(1 / 0.25), atol=1e-9)
    assert np.isposinf(sar[1])


def test_identical_signals_are_infinite():
    rng = np.random.default_rng(0)
    R, _ = music_item(rng, 2, 3000)
    sdr, sir, sar, _ = bss_eval_sources(R, R.copy())
    assert np.all(np.isposinf(sdr)) and np.all(np.isposinf(sir)) and np.all(np.isposinf(sar))


def test_single_source_and_scale_invariance():
    rng = np.random.default_rng(1)
    R, E = music_item(rng, 1, 3000)
    base = bss_eval_sources(R, E)
    small = bss_eval_sources(1e-8 * R, 1e-8 * E)
    assert np.isposinf(base.sir[0])  # nothing to interfere with
    np.testing.assert_allclose(base.sdr, small.sdr, atol=1e-9)
    np.testing.assert_allclose(base.sar, small.sar, atol=1e-9)
    np.testing.assert_allclose(base.sdr, mir(R, E)[0], atol=1e-9)


def test_float32_high_sir():
    rng = np.random.default_rng(2)
    R, _ = music_item(rng, 2, 4000)
    R = R.astype(np.float32)
    E = (R + np.float32(1e-4) * R[::-1]).astype(np.float32)
    ours = bss_eval_sources(R, E)
    ref = mir(R.astype(np.float64), E.astype(np.float64))
    assert np.all(ours.sir > 70)
    np.testing.assert_allclose(ours.sir, ref[1], atol=1e-6)


def test_delay_beyond_filter_is_not_recovered():
    rng = np.random.default_rng(4)
    R, _ = music_item(rng, 2, 6000, noise=0.05)
    n = R.shape[1]
    short = np.pad(R, ((0, 0), (100, 0)))[:, :n]
    far = np.pad(R, ((0, 0), (700, 0)))[:, :n]
    near_sdr = bss_eval_sources(R, short).sdr
    far_sdr = bss_eval_sources(R, far).sdr
    assert np.all(near_sdr > 10)  # a delay within the 512-tap filter is absorbed
    assert np.all(far_sdr < near_sdr - 10)  # beyond it, it is not
    np.testing.assert_allclose(bss_eval_sources(R, far).sdr, mir(R, far)[0], atol=1e-9)


def test_batched_matches_loop_and_torch_roundtrip():
    rng = np.random.default_rng(5)
    items = [music_item(rng, 3, 3000) for _ in range(4)]
    R = np.stack([i[0] for i in items]).reshape(2, 2, 3, 3000)
    E = np.stack([i[1] for i in items]).reshape(2, 2, 3, 3000)
    batched = bss_eval_sources(R, E)
    assert batched.sdr.shape == (2, 2, 3)
    for k, (r, e) in enumerate(items):
        np.testing.assert_allclose(batched.sdr.reshape(4, 3)[k], bss_eval_sources(r, e).sdr, atol=1e-12)
    t = bss_eval_sources(torch.from_numpy(R), torch.from_numpy(E))
    assert isinstance(t.sdr, torch.Tensor) and t.sdr.dtype == torch.float64
    np.testing.assert_allclose(t.sdr.numpy(), batched.sdr, atol=1e-12)


def test_validation_errors():
    rng = np.random.default_rng(6)
    R, E = music_item(rng, 2, 2000)
    with pytest.raises(ValueError, match="shapes differ"):
        bss_eval_sources(R, E[:1])
    with pytest.raises(ValueError, match="fewer than the 512-tap"):
        bss_eval_sources(R[:, :100], E[:, :100])
    Z = R.copy()
    Z[1] = 0
    with pytest.raises(ValueError, match="reference source 1 .* silent"):
        bss_eval_sources(Z, E)
    N = E.copy()
    N[0, 5] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        validate(R, N)


def test_framewise_parity_with_mir_eval():
    rng = np.random.default_rng(8)
    R, E = music_item(rng, 2, 12000)
    R[0, 4000:8000] = 0.0  # a silent stretch: windows inside it are NaN for every source
    w, h = 3000, 1500
    ours = bss_eval_sources_framewise(R, E, window=w, hop=h)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = mir_sep.bss_eval_sources_framewise(R, E, window=w, hop=h, compute_permutation=False)
    for a, b in zip(ours[:3], ref[:3]):
        assert a.shape == b.shape
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        ok = ~np.isnan(b)
        np.testing.assert_allclose(a[ok], b[ok], atol=1e-6)
    assert np.isnan(ours.sdr).any()


def test_framewise_short_signal_gives_one_window():
    rng = np.random.default_rng(9)
    R, E = music_item(rng, 2, 3000)
    out = bss_eval_sources_framewise(R, E, window=5000, hop=2500)
    assert out.sdr.shape == (2, 1)
    np.testing.assert_allclose(out.sdr[:, 0], bss_eval_sources(R, E).sdr, atol=1e-12)


def test_framewise_signal_shorter_than_the_filter_is_computed_as_mir_eval_does():
    """Fewer than two windows and fewer samples than taps: one whole-signal window, the
    numbers mir_eval's framewise call gives (it computes them; it does not refuse)."""
    rng = np.random.default_rng(10)
    R, E = music_item(rng, 2, 400)
    ours = bss_eval_sources_framewise(R, E, window=1000, hop=500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = mir_sep.bss_eval_sources_framewise(R, E, window=1000, hop=500, compute_permutation=False)
    for a, b in zip(ours[:2], ref[:2]):  # SDR, SIR
        assert a.shape == (2, 1)
        np.testing.assert_allclose(a.reshape(-1), np.asarray(b).reshape(-1), atol=1e-6)
    # 400 samples against 2 x 512 taps: the estimate lies in the span of the delayed
    # references, its artifacts are exactly zero; mir_eval's 180-190 dB are that zero's
    # rounding, avbench's rule gives +inf (a denominator below 1e-12 of the energy)
    assert (np.asarray(ref[2]) > 150).all() and (ours.sar > 150).all()


@pytest.mark.parametrize("n_src", [1, 3, 4])
def test_levinson_and_dense_solvers_agree(n_src):
    rng = np.random.default_rng(20 + n_src)
    R, E = music_item(rng, n_src, 9000)
    a = np.array(bss_eval_sources(R, E, solver="levinson")[:3])
    b = np.array(bss_eval_sources(R, E, solver="dense")[:3])
    np.testing.assert_allclose(a, b, atol=1e-9)
    c = bss_eval_sources(R, E, solver="levinson", compute_permutation=True)
    d = bss_eval_sources(R, E, solver="dense", compute_permutation=True)
    np.testing.assert_allclose(np.array(c[:3]), np.array(d[:3]), atol=1e-9)


def test_levinson_falls_back_when_its_checks_fail(monkeypatch):
    """Linearly dependent references make the block-Toeplitz system singular: the
    recursion must refuse the item and the dense fall-back must give mir_eval's numbers.
    A residual tolerance of 0 refuses every item: the fall-back must then equal the
    dense solver everywhere."""
    from avbench.metrics.functional import _toeplitz

    seen = {}
    real = _toeplitz.solve

    def spy(cref, d, residual_tol=_toeplitz.RESIDUAL_TOL):
        x, ok = real(cref, d, seen.get("tol", residual_tol))
        seen["ok"] = ok.copy()
        return x, ok

    monkeypatch.setattr(_toeplitz, "solve", spy)
    rng = np.random.default_rng(11)
    x = rng.standard_normal(3000)
    R = np.array([x, 2 * x])
    E = R + 0.1 * rng.standard_normal(R.shape)
    ours = bss_eval_sources(R, E, solver="levinson")
    assert not seen["ok"].any()
    ref = mir(R, E)
    for k in (0, 2):  # SDR and SAR are determined; SIR is infinite (mir_eval: > 250 dB)
        np.testing.assert_allclose(ours[k], ref[k], atol=1e-7)
    assert np.all(ours.sir > 120) and np.all(ref[1] > 120)

    seen["tol"] = 0.0
    R2, E2 = music_item(rng, 3, 4000)
    forced = bss_eval_sources(R2, E2, solver="levinson")
    assert not seen["ok"].any()
    np.testing.assert_allclose(np.array(forced[:3]), np.array(bss_eval_sources(R2, E2, solver="dense")[:3]), atol=1e-12)


@pytest.mark.parametrize("n,block", [(5000, 1000), (7777, 2048), (3000, 4096)])
def test_blocked_correlations_are_exact(n, block):
    from avbench.metrics.functional import bss as k

    rng = np.random.default_rng(n)
    R, E = music_item(rng, 3, n)
    Rt, Et = torch.from_numpy(R)[None], torch.from_numpy(E)[None]
    full = k._correlations(Rt, Et, 64)
    blocked = k._correlations_blocked(Rt, Et, 64, block=block, chunk=2)
    for a, b in zip(full, blocked):
        assert a.shape == b.shape
        np.testing.assert_allclose(b.numpy(), a.numpy(), atol=1e-10 * float(a.abs().max()))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_batched_matches_cpu():
    rng = np.random.default_rng(12)
    items = [music_item(rng, 3, 8000) for _ in range(3)]
    R = np.stack([i[0] for i in items])
    E = np.stack([i[1] for i in items])
    cpu = bss_eval_sources(R, E)
    gpu = bss_eval_sources(torch.from_numpy(R).cuda(), torch.from_numpy(E).cuda())
    assert gpu.sdr.device.type == "cuda"
    for a, b in zip(cpu[:3], gpu[:3]):
        np.testing.assert_allclose(b.cpu().numpy(), a, atol=1e-8)
