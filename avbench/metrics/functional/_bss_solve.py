"""The linear-algebra layer of BSS Eval (:mod:`.bss`): the block-Toeplitz Gram matrix of
the delayed references, its solves (Cholesky, a symmetric eigen-fallback, block
Levinson on the Toeplitz structure) and the quadratic forms the energies take."""
from __future__ import annotations

import math

import numpy as np
import torch

#: energies below this fraction of the estimate's energy count as zero
REL_TOL = 1e-12

def _toeplitz_blocks(c: torch.Tensor, L: int) -> torch.Tensor:
    """Toeplitz matrices ``T[..., a, b] = c[..., a - b + L - 1]`` from lags (..., 2L-1)."""
    return c.flip(-1).unfold(-1, L, 1).flip(-2)


def _gram(cref: torch.Tensor, L: int) -> torch.Tensor:
    """Block-Toeplitz Gram matrix of all delayed references, (B, n*L, n*L).

    ``G[(i, a), (j, b)] = <r_i delayed by a, r_j delayed by b> = c_ij[a - b]``.
    """
    B, n = cref.shape[:2]
    G = cref.new_empty((B, n, L, n, L))
    for i in range(n):
        for j in range(n):
            G[:, i, :, j, :] = _toeplitz_blocks(cref[:, i, j], L)
    return G.reshape(B, n * L, n * L)


def _psd_solve(G: np.ndarray, D: np.ndarray) -> np.ndarray | None:
    """A solution of ``G X = D`` for a singular positive semi-definite ``G`` whose range
    holds ``D`` (normal equations), by Cholesky with complete pivoting (LAPACK ``pstrf``):
    ``P^T G P = L L^T`` with ``L`` of the numerical rank ``r``, and the basic solution on
    the ``r`` pivoted unknowns.  Every solution gives the same projection (``X^T D`` and
    ``G X`` are unique), at the cost of one Cholesky of rank ``r``, not an SVD.  Returns
    ``None`` when the factorisation does not reproduce ``G X = D`` to working accuracy."""
    from scipy.linalg import lapack, solve_triangular

    c, piv, rank, info = lapack.dpstrf(G, lower=1)
    if info < 0 or rank == 0:
        return None
    p = piv[:rank] - 1
    L11 = np.tril(c[:rank, :rank])
    y = solve_triangular(L11, D[p], lower=True)
    X = np.zeros_like(D)
    X[p] = solve_triangular(L11.T, y, lower=False)
    res = np.abs(G @ X - D).max()
    scale = np.abs(D).max() + 1e-300
    return X if res <= 1e-8 * scale else None


def _chol_solve(G: torch.Tensor, D: torch.Tensor, return_factor: bool = False):
    """Solve ``G X = D`` for SPD ``G``; also return ``||C^{-1} D||^2`` per column.

    Items whose Cholesky fails (a singular Gram matrix: references that are delayed or
    scaled copies of one another, such as the identical channels of a mono image) fall
    back to a pivoted Cholesky of the numerical rank (:func:`_psd_solve`), checked by its
    residual, then to a rank-revealing least-squares solve (SVD, ``gelsd``): any exact
    solution gives the unique projection.  (An LU solve of a singular system returns
    coefficients whose quadratic forms are dominated by rounding.)  With
    ``return_factor`` the Cholesky factor is returned too (``None`` if any item failed).
    """
    C, info = torch.linalg.cholesky_ex(G)
    Y = torch.linalg.solve_triangular(C, D, upper=False)
    X = torch.linalg.solve_triangular(C.mT, Y, upper=True)
    P = (Y * Y).sum(-2)
    bad = (info != 0).nonzero().flatten().tolist()
    for b in bad:
        Xb = _psd_solve(G[b].cpu().numpy(), D[b].cpu().numpy())
        if Xb is None:  # not positive semi-definite to working accuracy: SVD least squares
            Xb = torch.linalg.lstsq(G[b].cpu(), D[b].cpu(), driver="gelsd").solution
        Xb = torch.as_tensor(Xb).to(G.device)
        X[b] = Xb
        P[b] = (Xb * D[b]).sum(-2)
    if return_factor:
        return X, P, (C if not bad else None)
    return X, P


def _ratio_db(num: torch.Tensor, den: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    den = torch.where(den <= REL_TOL * scale, torch.zeros_like(den), den)
    out = 10.0 * torch.log10(num / den)
    return torch.where(den == 0, torch.full_like(out, math.inf), out)


def _levinson_wins(solver: str, device: torch.device, n: int, L: int) -> bool:
    """Whether the block-Levinson recursion solves: asked for, or (``auto``) on the CPU
    with the compiled recursion (``O(L^2 n^3)`` against the dense factorisation's
    ``O(L^3 n^3)``), or without it once the dense factorisation is large (3 or more
    sources at 512 taps: the NumPy recursion's cost is a Python loop over taps)."""
    from . import _toeplitz

    if solver == "levinson":
        return True
    if solver != "auto" or device.type != "cpu":
        return False
    return _toeplitz._compiled() is not None or n * L >= 1536


def _own_solve(cref: torch.Tensor, rhs: torch.Tensor, L: int, solver: str):
    """Filters and projection energies of each estimate on one reference alone: the
    Toeplitz systems ``G_ii c = rhs_i``.  Shape: rhs (B, n, L, k) -> (B, n, L, k), (B, n, k).
    By the recursion where it wins (residual-checked, dense where it fails), else dense."""
    B, n, _, k = rhs.shape
    diag = torch.arange(n, device=rhs.device)
    if _levinson_wins(solver, cref.device, 1, L):
        from . import _toeplitz

        c1 = cref[:, diag, diag].reshape(B * n, 1, 1, -1).cpu().numpy()
        d1 = rhs.reshape(B * n, L, 1, k).cpu().numpy()
        x, ok = _toeplitz.solve(c1, d1)
        x = x.reshape(B * n, L, k)
        bad = np.flatnonzero(~ok).tolist()
        if bad:
            G = _toeplitz_blocks(torch.from_numpy(c1[bad, 0, 0]), L).contiguous()
            xb, _ = _chol_solve(G, torch.from_numpy(d1[bad, :, 0]))
            x[bad] = xb.numpy()
        xt = torch.from_numpy(np.ascontiguousarray(x)).to(rhs.device)
        cown = xt.reshape(B, n, L, k)
        return cown, (cown * rhs).sum(-2)
    Gjj = _toeplitz_blocks(cref[:, diag, diag], L).contiguous()  # (B, n, L, L)
    c, P = _chol_solve(Gjj.reshape(-1, L, L), rhs.reshape(-1, L, k))
    return c.reshape(B, n, L, k), P.reshape(B, n, k)


def _solve_all(cref: torch.Tensor, dre: torch.Tensor, L: int, solver: str):
    """Filter coefficients of every estimate on all references and ``||P e||^2``.

    Returns ``call`` (B, n, L, m) (source-major), ``Pall`` (B, m), and the dense Gram
    matrix and its Cholesky factor when the dense path built them (else ``None``).
    """
    B, n, m = dre.shape[0], dre.shape[1], dre.shape[2]
    if _levinson_wins(solver, cref.device, n, L):
        from . import _toeplitz

        d = dre.permute(0, 3, 1, 2).cpu().numpy()  # (B, L, n, m), tap-major
        x, ok = _toeplitz.solve(cref.cpu().numpy(), d)
        call = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1, 3))).to(cref.device)
        Pall = torch.from_numpy((x * d).sum(axis=(1, 2))).to(cref.device)
        bad = np.flatnonzero(~ok).tolist()
        if bad:  # exact dense fall-back where the recursion was not accurate enough
            G = _gram(cref[bad], L)
            Dall = dre[bad].permute(0, 1, 3, 2).reshape(len(bad), n * L, m)
            cb, Pb = _chol_solve(G, Dall)
            call[bad] = cb.reshape(len(bad), n, L, m)
            Pall[bad] = Pb
        return call, Pall, None, None
    if solver not in ("auto", "dense"):
        raise ValueError(f"solver must be 'auto', 'dense' or 'levinson', got {solver!r}")
    G = _gram(cref, L)
    Dall = dre.permute(0, 1, 3, 2).reshape(B, n * L, m)
    call, Pall, C = _chol_solve(G, Dall, return_factor=True)
    return call.reshape(B, n, L, m), Pall, G, C


def _quad(cref: torch.Tensor, G: torch.Tensor | None, delta: torch.Tensor) -> torch.Tensor:
    """``delta^T G delta`` for delta (B, m, n, L) -> (B, m); with ``G=None`` the product
    is taken through the block-Toeplitz structure of ``cref`` (FFT), never building G."""
    B, m, n, L = delta.shape
    if G is not None:
        dflat = delta.reshape(B, m, n * L)
        return (dflat * torch.einsum("bpq,bjq->bjp", G, dflat)).sum(-1)
    from . import _toeplitz

    dt = delta.permute(0, 3, 2, 1).cpu().numpy()  # (B, L, n, m)
    Gd = _toeplitz.toeplitz_matvec(cref.cpu().numpy(), dt)
    return torch.from_numpy((dt * Gd).sum(axis=(1, 2))).to(delta.device)
