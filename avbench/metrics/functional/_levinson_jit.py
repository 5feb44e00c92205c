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


@njit(cache=True)
def solve_item(Gm, d, x):
    """Solve ``T x = d`` for one item: ``Gm`` (2L-1, n, n) with ``Gm[L-1+k] = Gamma(k)``,
    ``d`` and ``x`` (L, n, m).  Returns False where an error covariance lost positive
    definiteness (``x`` is then not to be used).

    Layouts (so that every sum over taps is one contiguous inner product and every
    update one contiguous axpy): predictors by row, taps flattened, ``A[i, a*n + t] =
    A_a[i, t]``, and the same blocks in reverse order ``Ar[i, (L-1-a)*n + t]``; the lags
    ``Gf[j, q*n + t] = Gamma(q-L+1)[t, j]``, ``Gr[j, q*n + t] = Gamma(L-1-q)[t, j]`` and
    ``Hr[i, q*n + t] = Gamma(L-1-q)[i, t]``; the solution ``X[j, a*n + i] = x_a[i, j]``."""
    K, n = Gm.shape[0], Gm.shape[1]
    L = (K + 1) // 2
    m = d.shape[2]
    W = L * n
    Gf = np.empty((n, K * n))
    Gr = np.empty((n, K * n))
    Hr = np.empty((n, K * n))
    for q in range(K):
        for t in range(n):
            for j in range(n):
                Gf[j, q * n + t] = Gm[q, t, j]
                Gr[j, q * n + t] = Gm[K - 1 - q, t, j]
                Hr[j, q * n + t] = Gm[K - 1 - q, j, t]
    A = np.zeros((n, W))
    R = np.zeros((n, W))
    Ar = np.zeros((n, W))
    Rr = np.zeros((n, W))
    for i in range(n):
        A[i, i] = 1.0
        R[i, i] = 1.0
        Ar[i, (L - 1) * n + i] = 1.0
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
                Db[i, j] = _dot(R[i, :w], Gr[j, off:off + w])  # sum_a R_a Gamma(kk - a)
        if not _chol(Pb, Lb) or not _chol(Pf, Lf):
            return False
        _chol_solve_t(Lb, Df, Kf)  # Df Pb^-1
        _chol_solve_t(Lf, Db, Kb)  # Db Pf^-1
        # A_j -= Kf R_{kk-j}, R_j -= Kb A_{kk-j} for j = 1..kk (both before this step): the
        # old blocks R_{kk-1}..R_0 are Rr[:, (L-kk)*n : L*n], in the order of A_1..A_kk
        lo = (L - kk) * n
        for i in range(n):  # contiguous axpys; Ar, Rr still hold the blocks before this step
            for t in range(n):
                cf = Kf[i, t]
                cb = Kb[i, t]
                for u in range(w):
                    A[i, n + u] -= cf * Rr[t, lo + u]
                    R[i, n + u] -= cb * Ar[t, lo + u]
        for i in range(n):
            for jb in range(1, kk + 1):  # the reversed copies of the blocks just changed
                src = jb * n
                dst = (L - 1 - jb) * n
                for t in range(n):
                    Ar[i, dst + t] = A[i, src + t]
                    Rr[i, dst + t] = R[i, src + t]
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
        lo = (L - 1 - kk) * n
        for j in range(m):
            for t in range(n):
                c = v[t, j]
                for u in range(w + n):
                    X[j, u] += c * Rr[t, lo + u]
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
