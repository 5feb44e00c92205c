"""The multichannel Levinson recursion of :mod:`._toeplitz`, compiled (numba).

The same recursion step for step (forward and backward predictors ``A``, ``R``, their
error covariances ``Pf``, ``Pb``, the solution updated tap by tap), written as loops over
the ``n x n`` blocks so that its ``O(L^2 n^3)`` operations run without the interpreter's
cost per step, which dominates the NumPy form for few sources.  The error covariances
are factorised (Cholesky) at every step: a covariance that is not positive definite
stops the item, which the caller re-solves densely.  The residual check is the
caller's (:func:`avbench.metrics.functional._toeplitz.solve`).
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _chol(P, Lf):
    """Cholesky factor of the symmetric part of ``P`` into ``Lf``; False if not positive definite."""
    n = P.shape[0]
    for i in range(n):
        for j in range(i + 1):
            s = 0.5 * (P[i, j] + P[j, i])
            for k in range(j):
                s -= Lf[i, k] * Lf[j, k]
            if i == j:
                if not s > 0.0:
                    return False
                Lf[i, i] = np.sqrt(s)
            else:
                Lf[i, j] = s / Lf[j, j]
        for j in range(i + 1, n):
            Lf[i, j] = 0.0
    return True


@njit(cache=True)
def _chol_solve_t(Lf, D, X):
    """``X = D P^-1`` (rows of ``D``) for ``P = Lf Lf^T``: solves ``P X^T = D^T``."""
    n = Lf.shape[0]
    r = D.shape[0]
    for row in range(r):
        y = np.empty(n)
        for i in range(n):
            s = D[row, i]
            for k in range(i):
                s -= Lf[i, k] * y[k]
            y[i] = s / Lf[i, i]
        for i in range(n - 1, -1, -1):
            s = y[i]
            for k in range(i + 1, n):
                s -= Lf[k, i] * X[row, k]
            X[row, i] = s / Lf[i, i]


@njit(cache=True)
def _chol_solve(Lf, D, X):
    """``X = P^-1 D`` (columns of ``D``) for ``P = Lf Lf^T``."""
    n = Lf.shape[0]
    m = D.shape[1]
    y = np.empty(n)
    for col in range(m):
        for i in range(n):
            s = D[i, col]
            for k in range(i):
                s -= Lf[i, k] * y[k]
            y[i] = s / Lf[i, i]
        for i in range(n - 1, -1, -1):
            s = y[i]
            for k in range(i + 1, n):
                s -= Lf[k, i] * X[k, col]
            X[i, col] = s / Lf[i, i]


@njit(cache=True, fastmath=True)
def _dot(a, b):
    """A long inner product (its summation order is the compiler's: vectorised)."""
    s = 0.0
    for u in range(a.shape[0]):
        s += a[u] * b[u]
    return s


@njit(cache=True, fastmath=True)
def _axpy(y, a, x):
    """``y += a * x`` over contiguous 1-D views (vectorised; the compiler may fuse the
    multiply and add)."""
    for u in range(y.shape[0]):
        y[u] += a * x[u]


@njit(cache=True)
def solve_item(Gm, d, x):
    """Solve ``T x = d`` for one item: ``Gm`` (2L-1, n, n) with ``Gm[L-1+k] = Gamma(k)``,
    ``d`` and ``x`` (L, n, m).  Returns False where an error covariance lost positive
    definiteness (``x`` is then not to be used).

    Layouts (so that every sum over taps is one contiguous inner product and every
    update one contiguous axpy): predictors by row, taps flattened; the forward ones in
    tap order, ``A[i, a*n + t] = A_a[i, t]``, the backward ones in reverse tap order,
    ``Rr[i, (L-1-a)*n + t] = R_a[i, t]`` (then both updates, ``A_j -= Kf R_{k-j}`` and
    ``R_j -= Kb A_{k-j}``, run over contiguous stretches of the other predictor); the lags
    ``Gf[j, q*n + t] = Gamma(q-L+1)[t, j]`` and ``Hr[i, q*n + t] = Gamma(L-1-q)[i, t]``;
    the solution ``X[j, a*n + i] = x_a[i, j]``."""
    K, n = Gm.shape[0], Gm.shape[1]
    L = (K + 1) // 2
    m = d.shape[2]
    W = L * n
    Gf = np.empty((n, K * n))
    Hr = np.empty((n, K * n))
    for q in range(K):
        for t in range(n):
            for j in range(n):
                Gf[j, q * n + t] = Gm[q, t, j]
                Hr[j, q * n + t] = Gm[K - 1 - q, j, t]
    A = np.zeros((n, W))
    Rr = np.zeros((n, W))
    Aold = np.empty((n, W))
    for i in range(n):
        A[i, i] = 1.0
        Rr[i, (L - 1) * n + i] = 1.0
    X = np.zeros((m, W))
    Pf = Gm[L - 1].copy()
    Pb = Gm[L - 1].copy()
    Lf = np.zeros((n, n))
    Lb = np.zeros((n, n))
    Df = np.empty((n, n))
    Db = np.empty((n, n))
    Kf = np.empty((n, n))
    Kb = np.empty((n, n))
    r = np.empty((n, m))
    v = np.empty((n, m))
    if not _chol(Pb, Lb):
        return False
    _chol_solve(Lb, d[0], v)
    for i in range(n):
        for j in range(m):
            X[j, i] = v[i, j]
    for k in range(L - 1):
        kk = k + 1
        off = (L - 1 - kk) * n
        w = kk * n
        for i in range(n):
            for j in range(n):
                Df[i, j] = _dot(A[i, :w], Gf[j, off:off + w])  # sum_a A_a Gamma(a - kk)
                # sum_a R_a Gamma(kk - a), a = kk-1 .. 0 along Rr: lags 1 .. kk
                Db[i, j] = _dot(Rr[i, W - w:W], Gf[j, L * n:L * n + w])
        if not _chol(Pb, Lb) or not _chol(Pf, Lf):
            return False
        _chol_solve_t(Lb, Df, Kf)  # Df Pb^-1
        _chol_solve_t(Lf, Db, Kb)  # Db Pf^-1
        for i in range(n):
            Aold[i, :w] = A[i, :w]
        # every A update reads the old R (Rr[:, W-w : W] overlaps the stretch the R
        # updates write), so they all run first; the R updates read the old A (Aold)
        for i in range(n):  # A_j -= Kf R_{kk-j}, j = 1..kk: R_{kk-1} .. R_0 are Rr[:, W-w : W]
            ya = A[i, n:n + w]
            for t in range(n):
                _axpy(ya, -Kf[i, t], Rr[t, W - w:W])
        for i in range(n):  # R_j -= Kb A_{kk-j}: R_kk .. R_1 are Rr[:, off : off+w]
            yr = Rr[i, off:off + w]
            for t in range(n):
                _axpy(yr, -Kb[i, t], Aold[t, :w])
        for i in range(n):
            for j in range(n):
                sf = 0.0
                sb = 0.0
                for t in range(n):
                    sf += Kf[i, t] * Db[t, j]
                    sb += Kb[i, t] * Df[t, j]
                Pf[i, j] -= sf
                Pb[i, j] -= sb
        # r = d_kk - sum_c Gamma(kk - c) x_c;  x_a += R_{kk-a}^T Pb^-1 r, a = 0..kk
        for i in range(n):
            for j in range(m):
                r[i, j] = d[kk, i, j] - _dot(Hr[i, off:off + w], X[j, :w])
        if not _chol(Pb, Lb):
            return False
        _chol_solve(Lb, r, v)
        for j in range(m):
            xj = X[j, :w + n]
            for t in range(n):
                _axpy(xj, v[t, j], Rr[t, off:off + w + n])
    for a in range(L):
        for i in range(n):
            for j in range(m):
                x[a, i, j] = X[j, a * n + i]
    return True


def solve_batch(Gm: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every item of a batch: Gm (B, 2L-1, n, n), d (B, L, n, m) -> x (B, L, n, m), ok (B,)."""
    Gm = np.ascontiguousarray(Gm, dtype=np.float64)
    d = np.ascontiguousarray(d, dtype=np.float64)
    x = np.zeros(d.shape)
    ok = np.ones(d.shape[0], dtype=bool)
    for b in range(d.shape[0]):
        ok[b] = solve_item(Gm[b], d[b], x[b])
    return x, ok
