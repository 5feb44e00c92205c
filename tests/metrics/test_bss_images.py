"""BSS Eval images (v3) against mir_eval, and v4 against museval's reference code."""
import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest

from avbench.metrics import bss_eval_images, bss_eval_images_framewise, bss_eval_v4

mir_sep = pytest.importorskip("mir_eval.separation")


def museval_metrics():
    """museval's metrics module, loaded on its own (its package imports musdb)."""
    spec = importlib.util.find_spec("museval")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("museval is not installed (scripts/install.sh test installs it)")
    path = Path(list(spec.submodule_search_locations)[0]) / "metrics.py"
    s = importlib.util.spec_from_file_location("museval_metrics_ref", path)
    mod = importlib.util.module_from_spec(s)
    s.loader.exec_module(mod)
    return mod


def stereo_item(rng, n_src, n, noise=1e-2):
    t = np.arange(n) / 11025
    R = np.zeros((n_src, n, 2))
    for j in range(n_src):
        f0 = 55 * 2 ** (rng.integers(0, 40) / 12)
        x = sum(np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6)) / h for h in range(1, 7)) * np.exp(-2 * t)
        pan = rng.uniform(0.2, 0.8)
        # each channel has its own noise floor, so that no channel is an exact filtered
        # copy of another (which would make the projection ill-posed)
        R[j, :, 0] = np.sqrt(pan) * x + noise * rng.standard_normal(n)
        R[j, :, 1] = np.sqrt(1 - pan) * np.convolve(x, [0.0, 0.9, 0.1], mode="same") + noise * rng.standard_normal(n)
    M = rng.uniform(0, 0.3, (n_src, n_src))
    np.fill_diagonal(M, 1.0)
    E = np.einsum("jk,knc->jnc", M, R) + 0.02 * rng.standard_normal(R.shape)
    return R, E


def mir_images(R, E, perm=False):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mir_sep.bss_eval_images(R, E, compute_permutation=perm)


@pytest.mark.parametrize("n_src,n", [(1, 3000), (2, 4000), (3, 3000)])
def test_images_parity_with_mir_eval(n_src, n):
    rng = np.random.default_rng(n_src)
    R, E = stereo_item(rng, n_src, n)
    ours = bss_eval_images(R, E)
    ref = mir_images(R, E)
    for a, b in zip(ours[:4], ref[:4]):
        fin = np.isfinite(b)
        np.testing.assert_allclose(a[fin], b[fin], atol=1e-8)


def test_images_permutation_parity():
    rng = np.random.default_rng(5)
    R, E = stereo_item(rng, 3, 3000)
    p = np.array([2, 0, 1])
    ours = bss_eval_images(R, E[p], compute_permutation=True)
    ref = mir_images(R, E[p], perm=True)
    np.testing.assert_array_equal(ours.perm, ref[4])
    for a, b in zip(ours[:4], ref[:4]):
        np.testing.assert_allclose(a, b, atol=1e-8)


def test_images_framewise_parity_with_mir_eval():
    rng = np.random.default_rng(6)
    R, E = stereo_item(rng, 2, 9000)
    R[1, 3000:6000] = 0.0
    ours = bss_eval_images_framewise(R, E, window=3000, hop=3000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = mir_sep.bss_eval_images_framewise(R, E, window=3000, hop=3000, compute_permutation=False)
    silent = np.isnan(ref[0])
    assert silent[:, 1].all() and not silent[:, [0, 2]].any()
    for a, b in zip(ours[:4], ref[:4]):
        # mir_eval leaves ISR of silent windows uninitialised; avbench writes NaN there
        np.testing.assert_array_equal(np.isnan(a), silent)
        np.testing.assert_allclose(a[~silent], b[~silent], atol=1e-6)


@pytest.mark.parametrize("window,hop", [(3000, 2000), (20000, 20000)])
def test_v4_parity_with_museval(window, hop):
    mm = museval_metrics()
    rng = np.random.default_rng(7)
    R, E = stereo_item(rng, 3, 9000)
    ours = bss_eval_v4(R, E, window=window, hop=hop)
    ref = mm.bss_eval(R, E, window=window, hop=hop, compute_permutation=False, filters_len=512,
                      framewise_filters=False, bsseval_sources_version=False)
    for a, b in zip(ours[:4], ref[:4]):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, atol=1e-7)


def test_v4_uses_whole_signal_filters_unlike_v3():
    rng = np.random.default_rng(8)
    R, E = stereo_item(rng, 2, 8000)
    E[:, 4000:] = 0.5 * E[:, 4000:] + 0.5 * np.roll(E[:, 4000:], 3, axis=1)  # the distortion changes mid-way
    v4 = bss_eval_v4(R, E, window=4000, hop=4000)
    v3 = bss_eval_images_framewise(R, E, window=4000, hop=4000)
    assert v4.sdr.shape == v3.sdr.shape == (2, 2)
    np.testing.assert_allclose(v4.sdr, v3.sdr, atol=1e-9)  # the image SDR needs no filter
    assert not np.allclose(v4.sar, v3.sar, atol=1e-3)  # the others do


def test_images_shape_errors():
    with pytest.raises(ValueError, match="images must be"):
        bss_eval_images(np.ones(10), np.ones(10))
    R = np.ones((2, 1000, 2))
    R[1] = 0
    with pytest.raises(ValueError, match="silent"):
        bss_eval_images(R, np.ones((2, 1000, 2)))
