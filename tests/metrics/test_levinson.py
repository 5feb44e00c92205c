"""The block-Toeplitz solvers of BSS Eval against a dense solve of the explicit matrix."""
import numpy as np
import pytest

from avbench.metrics.functional import _toeplitz as T


def _system(n: int, L: int, m: int, seed: int):
    """Correlations of ``n`` random coloured signals (an SPD block-Toeplitz Gram matrix)
    and right-hand sides; the explicit matrix ``G[(a, i), (b, j)] = c_ij[a - b]``."""
    rng = np.random.default_rng(seed)
    N = 4 * L
    x = np.stack([np.convolve(rng.standard_normal(N), rng.standard_normal(5), "same") for _ in range(n)])
    c = np.zeros((n, n, 2 * L - 1))
    for i in range(n):
        for j in range(n):
            full = np.correlate(x[i], x[j], "full")  # lag k at index N - 1 + k
            c[i, j] = full[N - 1 - (L - 1): N - 1 + L][::-1]
    G = np.zeros((L * n, L * n))
    for a in range(L):
        for b in range(L):
            G[a * n:(a + 1) * n, b * n:(b + 1) * n] = c[:, :, L - 1 + a - b]
    d = rng.standard_normal((L, n, m))
    return c, G, d


# the NumPy recursion serves 2 or more sources (one source: the compiled one, or dense)
@pytest.mark.parametrize("n,jit", [(1, True), (2, True), (3, True), (4, True), (2, False), (3, False), (4, False)])
def test_recursion_solves_the_explicit_system(n, jit, monkeypatch):
    if not jit:
        monkeypatch.setenv("AVBENCH_NO_JIT", "1")
    elif T._compiled() is None:
        pytest.skip("numba is not installed")
    L, m = 48, 3
    c, G, d = _system(n, L, m, seed=n)
    assert np.allclose(G, G.T)
    want = np.linalg.solve(G, d.reshape(L * n, m)).reshape(L, n, m)
    x, ok = T.solve(c[None], d[None])
    assert ok.all()
    np.testing.assert_allclose(x[0], want, rtol=0, atol=1e-10 * np.abs(want).max())
    # the product by FFT is the explicit one
    np.testing.assert_allclose(T.toeplitz_matvec(c[None], want[None])[0].reshape(-1),
                               (G @ want.reshape(L * n, m)).reshape(-1), atol=1e-9)


def test_a_failed_recursion_is_reported(monkeypatch):
    """A Gram matrix that is not positive definite (a reference that is a delayed copy of
    another) is marked not ok, for the dense fall-back."""
    L = 16
    c, _, d = _system(1, L, 1, seed=0)
    c2 = np.zeros((2, 2, 2 * L - 1))
    c2[:] = c[0, 0]  # two identical references: a singular Gram matrix
    _, ok = T.solve(c2[None], np.concatenate([d, d], axis=1)[None])
    assert not ok[0]
