"""Exact solver for the symmetric block-Toeplitz normal equations of BSS Eval.

With taps as the outer index, the Gram matrix of all delayed references is block
Toeplitz, ``T[a, b] = Gamma(a - b)`` (``n x n`` blocks, ``Gamma(-k) = Gamma(k)^T``).  The
multichannel Levinson recursion (Whittle 1963; Wiggins and Robinson 1965) solves
``T x = d`` in ``O(L^2 n^3 + L^2 n^2 m)`` operations instead of the ``O(L^3 n^3)`` of a
dense factorisation; it keeps forward and backward predictors and their error
covariances, which must stay positive definite.

The recursion is exact in exact arithmetic but only weakly stable: on ill-conditioned
(tonal) references its rounding error can grow.  :func:`solve` therefore checks every
error covariance (Cholesky) and the final residual ``||T x - d|| / ||d||`` and reports
the items that fail.  An item whose residual misses is refined first (the residual by
the FFT mat-vec, the correction by the same recursion, kept while it lowers the residual:
sustained narrowband tones need one or two rounds); only what still misses, or lost
positive definiteness, is re-solved by the caller with a dense Cholesky factorisation.
"""
from __future__ import annotations

import numpy as np

#: relative residual above which a solution is refused (dense fall-back).  Tied to the
#: metrics' accuracy: on the hardest items of ``tests/metrics/test_bss_exact.py`` (5 sources,
#: SIR and SAR near 70 dB) a residual of 3e-12 still moved SDR by 3e-9 dB, while every
#: music-like item solves to about 1e-15
RESIDUAL_TOL = 1e-13
#: rounds of iterative refinement (residual by the FFT mat-vec, correction by the same
#: recursion) before an item whose residual misses ``RESIDUAL_TOL`` goes to the dense
#: fall-back; a round is kept only where it lowers the residual
MAX_REFINEMENTS = 4
#: counts of the compiled path since import: items solved, refinement steps kept, items
#: left to the dense fall-back (``benchmarks/compare.py`` reports the fall-back rate)
STATS = {"solves": 0, "refinements": 0, "fallbacks": 0}


def _gamma(cref: np.ndarray) -> np.ndarray:
    """(B, n, n, 2L-1) lags -> (B, 2L-1, n, n) with ``G[:, L-1+k] = Gamma(k)``."""
    return np.ascontiguousarray(np.moveaxis(cref, 3, 1))


def toeplitz_matvec(cref: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``T x`` by FFT.  cref (B, n, n, 2L-1), x (B, L, n, m) -> (B, L, n, m).

    ``(T x)[a, i] = sum_b sum_j c_ij[a - b] x[b, j]``: a linear convolution over taps.
    """
    B, n, _, K = cref.shape
    L = (K + 1) // 2
    nfft = 1 << int(np.ceil(np.log2(K + L - 1)))
    Cf = np.fft.rfft(cref, nfft, axis=-1)                      # (B, i, j, F)
    Xf = np.fft.rfft(x, nfft, axis=1)                          # (B, F, j, m)
    Yf = np.einsum("bijf,bfjm->bfim", Cf, Xf)
    y = np.fft.irfft(Yf, nfft, axis=1)                         # index a + (L-1)
    return y[:, L - 1 : 2 * L - 1]


def _small_solve(P: np.ndarray, D: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Batched ``P^-1 D``; items with a singular ``P`` are marked not ok (zeros)."""
    try:
        return np.linalg.solve(P, D)
    except np.linalg.LinAlgError:
        out = np.zeros(np.broadcast_shapes(P.shape[:-2], D.shape[:-2]) + (P.shape[-1], D.shape[-1]))
        for b in range(P.shape[0]):
            try:
                out[b] = np.linalg.solve(P[b], D[b])
            except np.linalg.LinAlgError:
                ok[b] = False
        return out


def _rev_blocks(H: np.ndarray, nb: int, n: int) -> np.ndarray:
    """Reverse the order of the first ``nb`` n-wide column blocks of (B, n, *)."""
    B = H.shape[0]
    return H[:, :, : nb * n].reshape(B, n, nb, n)[:, :, ::-1].reshape(B, n, nb * n)


def solve(cref: np.ndarray, d: np.ndarray, residual_tol: float = RESIDUAL_TOL):
    """Solve ``T x = d`` for every item of a batch.

    Shape: cref (B, n, n, 2L-1), d (B, L, n, m) -> x (B, L, n, m), ok (B,) bool.
    ``ok`` is False where a covariance lost positive definiteness or the residual
    check failed; those items' ``x`` must not be used.

    Storage: predictors are kept as horizontal block rows ``(B, n, L*n)`` and the
    solution as a vertical block column ``(B, L*n, m)``, so that every step is a few
    matrix products.
    """
    with np.errstate(all="ignore"):  # failures are detected below and re-solved densely
        jit = _compiled()
        if jit is None:
            return _solve(cref, d, residual_tol)
        G = _gamma(cref)
        x, ok = jit.solve_batch(G, d)
        rel = _relative_residual(cref, x, d)
        for _ in range(MAX_REFINEMENTS):  # iterative refinement where the residual check misses
            idx = np.flatnonzero(ok & np.isfinite(rel) & (rel > residual_tol))
            if idx.size == 0:
                break
            r = d[idx] - toeplitz_matvec(cref[idx], x[idx])
            dx, ok2 = jit.solve_batch(G[idx], r)
            xn = x[idx] + dx
            reln = _relative_residual(cref[idx], xn, d[idx])
            better = ok2 & np.isfinite(reln) & (reln < rel[idx])
            if not better.any():
                break
            x[idx[better]], rel[idx[better]] = xn[better], reln[better]
            STATS["refinements"] += int(better.sum())
        good = ok & np.isfinite(rel) & (rel <= residual_tol)
        STATS["solves"] += int(good.size)
        STATS["fallbacks"] += int((~good).sum())
        return x, good


def _compiled():
    """The compiled recursion (:mod:`._levinson_jit`), or ``None`` without numba
    (``AVBENCH_NO_JIT=1`` also selects the NumPy form, which gives the same solution to
    rounding)."""
    import os

    if os.environ.get("AVBENCH_NO_JIT"):
        return None
    try:
        from . import _levinson_jit
    except ImportError:  # pragma: no cover - numba is a dependency
        return None
    return _levinson_jit


def _relative_residual(cref: np.ndarray, x: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``||T x - d|| / ||d||`` of every item (``T x`` by FFT)."""
    res = toeplitz_matvec(cref, x) - d
    return np.sqrt((res**2).sum(axis=(1, 2, 3))) / np.maximum(np.sqrt((d**2).sum(axis=(1, 2, 3))), 1e-300)


def _residual_ok(cref: np.ndarray, x: np.ndarray, d: np.ndarray, residual_tol: float) -> np.ndarray:
    """Items whose relative residual ``||T x - d|| / ||d||`` is finite and within ``residual_tol``."""
    rel = _relative_residual(cref, x, d)
    return np.isfinite(rel) & (rel <= residual_tol)


def _solve(cref: np.ndarray, d: np.ndarray, residual_tol: float):
    B, n, _, K = cref.shape
    L = (K + 1) // 2
    m = d.shape[-1]
    Gm = _gamma(cref)                                      # (B, K, n, n): Gm[:, L-1+k] = Gamma(k)
    Gv = Gm.reshape(B, K * n, n)                           # vertical stack of Gamma(-(L-1)) .. Gamma(L-1)
    Gv_rev = np.ascontiguousarray(Gm[:, ::-1]).reshape(B, K * n, n)  # vertical, decreasing lag
    Gh_rev = np.ascontiguousarray(Gm[:, ::-1].transpose(0, 2, 1, 3).reshape(B, n, K * n))
    # Gh_rev[:, :, t*n:(t+1)*n] = Gamma(L-1-t): horizontal, decreasing lag
    dv = d.reshape(B, L * n, m)
    eye = np.broadcast_to(np.eye(n), (B, n, n))
    A = np.zeros((B, n, L * n))
    R = np.zeros((B, n, L * n))
    A[:, :, :n] = eye
    R[:, :, :n] = eye
    G0 = Gm[:, L - 1]
    Pf = G0.copy()
    Pb = G0.copy()
    ok = np.ones(B, dtype=bool)
    x = np.zeros((B, L * n, m))
    x[:, :n] = _small_solve(G0, d[:, 0], ok)
    for k in range(L - 1):
        kk = k + 1
        # Delta_f = sum_a A_a Gamma(a-k-1), a = 0..k: lags -(k+1)..-1 = Gm[L-2-k .. L-2]
        Df = A[:, :, : kk * n] @ Gv[:, (L - 2 - k) * n : (L - 1) * n]
        # Delta_b = sum_c R_c Gamma(k+1-c), c = 0..k: lags k+1..1 = Gm[L+k .. L] (descending)
        Gpos_h = Gh_rev[:, :, (L - 2 - k) * n : (L - 1) * n]       # [Gamma(k+1), ..., Gamma(1)] horizontally
        Db = R[:, :, : kk * n] @ Gv_rev[:, (L - 2 - k) * n : (L - 1) * n]
        Kf = _small_solve(Pb.transpose(0, 2, 1), Df.transpose(0, 2, 1), ok).transpose(0, 2, 1)  # Df Pb^-1
        Kb = _small_solve(Pf.transpose(0, 2, 1), Db.transpose(0, 2, 1), ok).transpose(0, 2, 1)  # Db Pf^-1
        Rr = _rev_blocks(R, kk, n)                          # [R_k .. R_0] = B' blocks 1..k+1
        Ar = _rev_blocks(A, kk, n)                          # [A_k .. A_0] = A' reversed, blocks 1..k+1
        A[:, :, n : (kk + 1) * n] -= Kf @ Rr
        R[:, :, n : (kk + 1) * n] -= Kb @ Ar
        Pf = Pf - Kf @ Db
        Pb = Pb - Kb @ Df
        # eps = sum_c Gamma(k+1-c) x_c ; x += B_new^T Pb^-1 (d_{k+1} - eps), B_new[a] = R[k+1-a]
        eps = Gpos_h @ x[:, : kk * n]
        v = _small_solve(Pb, dv[:, kk * n : (kk + 1) * n] - eps, ok)
        x[:, : (kk + 1) * n] += _rev_blocks(R, kk + 1, n).transpose(0, 2, 1) @ v
        if k % 32 == 31 or k == L - 2:
            ok &= np.isfinite(Pf).all(axis=(1, 2)) & np.isfinite(Pb).all(axis=(1, 2))
            if not ok.any():
                break
            for P in (Pf, Pb):
                sym = 0.5 * (P + P.transpose(0, 2, 1))
                for b in range(B):
                    if ok[b]:
                        try:
                            np.linalg.cholesky(sym[b])
                        except np.linalg.LinAlgError:
                            ok[b] = False
    x = x.reshape(B, L, n, m)
    return x, ok & _residual_ok(cref, x, d, residual_tol)
