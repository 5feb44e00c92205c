"""BSS Eval v3 source metrics (SDR, SIR, SAR), exact and batched.

Definitions follow ``mir_eval.separation.bss_eval_sources`` (Vincent, Gribonval and
Fevotte, "Performance measurement in blind audio source separation", IEEE TASLP 14(4),
2006; Raffel et al., "mir_eval", ISMIR 2014): each estimate ``e`` is decomposed with
time-invariant distortion filters of ``filter_length`` taps over the whole signal,

* ``P_j e``   least-squares projection of ``e`` onto the delayed copies of reference ``j``;
* ``P e``     projection onto the delayed copies of all references;

and

    SDR = ||P_j e||^2 / ||e - P_j e||^2
    SIR = ||P_j e||^2 / ||P e - P_j e||^2
    SAR = ||P e||^2   / ||e - P e||^2          (all in dB).

How it is computed (no projected signal is ever synthesised):

1. FFT cross-correlations give the lags ``-(L-1)..L-1`` of every reference pair and
   the lags ``0..L-1`` of every (reference, estimate) pair (whole-signal FFTs, or for
   long signals cross-spectra accumulated over blocks, so memory stays bounded).
2. The normal equations ``G c = D`` of all delayed references (``G`` is block Toeplitz,
   ``n_src*L`` square) are solved for every estimate at once, either by the multichannel
   block-Levinson recursion (:mod:`._toeplitz`, ``O(L^2 n^3)``; checked, with a dense
   fall-back) or by one dense Cholesky factorisation ``G = C C^T``; ``||P e||^2 = c^T D``.
3. Each diagonal block ``G_jj`` is factorised on its own for ``||P_j e||^2``.
4. The interference energy ``||P (e - P_j e)||^2`` is solved for directly, with the
   deflated right-hand side ``D - G[:, j] c_j`` in the same solve as step 2, never as a
   difference of two filters that share most of their digits.
5. Near-perfect estimates are measured on synthesised signals, as mir_eval does: the
   artifact energy (below 1e-4 of the estimate's, SAR above 40 dB) is that of the
   residual ``e - P e``, and the interference (SIR above 40 dB) is refined once from its
   residual signal, so neither inherits the FFT Gram matrix's error in its weak
   directions.  Equal to the explicit least-squares projections within 1e-11 dB on items
   with 70 dB SIR and SAR (``tests/metrics/test_bss_exact.py``).

Energies below ``1e-12`` of the estimate's energy are under the accuracy of float64
arithmetic on these sums; they count as zero, and the ratio is ``+inf`` (more than
120 dB).  Everything runs in float64, on the device of the input when it is a torch
tensor.  When a Gram matrix is not numerically positive definite (linearly dependent
references), that item falls back to an LU solve, then to least squares, as mir_eval does.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import scipy.fft
import scipy.optimize
import torch

from ._backend import back, check_finite, item_label, to_tensor
from ._bss_solve import REL_TOL, _gram, _levinson_wins, _own_solve, _ratio_db, _solve_all  # noqa: F401 - bss.REL_TOL
from ..registry import Metric, register

__all__ = [
    "BSSEvalSources",
    "bss_eval_sources",
    "bss_eval_sources_framewise",
    "validate",
    "evaluate",
]


class BSSEvalSources(NamedTuple):
    sdr: Any
    sir: Any
    sar: Any
    perm: Any


def validate(reference: Any, estimate: Any, filter_length: int = 512) -> None:
    """Raise ``ValueError`` naming the item and source when the inputs are unusable.

    Shape: ``reference`` and ``estimate`` are ``(..., n_src, n_samples)`` (or 1-D for one
    source) and must match.  Checks: shapes, NaN/inf, silent (all-zero) references or
    estimates, and at least ``filter_length`` samples.
    """
    ref, _ = to_tensor(reference, "reference")
    est, _ = to_tensor(estimate, "estimate")
    _validate(ref, est, filter_length, check_silent=True)


def _validate(ref: torch.Tensor, est: torch.Tensor, filter_length: int, check_silent: bool,
              short_ok: bool = False) -> None:
    if ref.shape != est.shape:
        raise ValueError(
            f"reference and estimate shapes differ: {tuple(ref.shape)} vs {tuple(est.shape)}; "
            "both must be (..., n_src, n_samples)"
        )
    if ref.ndim < 1 or ref.shape[-1] == 0:
        raise ValueError("inputs are empty; expected (..., n_src, n_samples)")
    if filter_length < 1:
        raise ValueError(f"filter_length must be >= 1, got {filter_length}")
    if ref.shape[-1] < filter_length and not short_ok:
        raise ValueError(
            f"signals have {ref.shape[-1]} samples, fewer than the {filter_length}-tap "
            "distortion filter; use longer signals or a shorter filter_length"
        )
    check_finite(ref, "reference")
    check_finite(est, "estimate")
    if check_silent:
        for name, x in (("reference", ref), ("estimate", est)):
            silent = (x == 0).all(dim=-1)
            if silent.any():
                idx = silent.nonzero()[0].tolist()
                src = idx[-1] if x.ndim >= 2 else 0
                raise ValueError(
                    f"{name} source {src} of {item_label(tuple(idx[:-1]))} is silent (all zeros); "
                    "BSS Eval is undefined for silent sources (score them with pes/eps instead)"
                )


def _next_fast_len(n: int) -> int:
    return int(scipy.fft.next_fast_len(n, real=True))


def _correlations(ref: torch.Tensor, est: torch.Tensor, L: int):
    """Lags of the reference auto/cross-correlations and the reference/estimate ones.

    Shape: ref (B, n, N), est (B, m, N) -> cref (B, n, n, 2L-1) with
    ``cref[b, i, j, k] = sum_t r_i[t] r_j[t + k - (L-1)]`` and
    dre (B, n, m, L) with ``dre[b, i, j, a] = sum_t r_i[t] e_j[t + a]``.
    """
    B, n, N = ref.shape
    m = est.shape[1]
    nfft = _next_fast_len(N + L - 1)
    Rf = torch.fft.rfft(ref, n=nfft)
    Ef = torch.fft.rfft(est, n=nfft)
    cref = ref.new_empty((B, n, n, 2 * L - 1))
    dre = ref.new_empty((B, n, m, L))
    for i in range(n):
        ci = Rf[:, i : i + 1].conj()
        x = torch.fft.irfft(ci * Rf[:, i:], n=nfft)  # (B, n-i, nfft), lag m at index m mod nfft
        lags = torch.cat([x[..., nfft - (L - 1) :], x[..., :L]], dim=-1)  # lags -(L-1)..(L-1)
        cref[:, i, i:] = lags
        cref[:, i + 1 :, i] = lags[:, 1:].flip(-1)  # c_ji[m] = c_ij[-m]
        del x
        y = torch.fft.irfft(ci * Ef, n=nfft)
        dre[:, i] = y[..., :L]
        del y
    return cref, dre


def _correlations_blocked(ref: torch.Tensor, est: torch.Tensor, L: int, block: int = 16384, chunk: int = 4):
    """The same lags as :func:`_correlations`, accumulated block by block.

    Each reference is cut into blocks of ``block`` samples; block ``b`` of ``r_i`` is
    correlated with the stretch ``[b*block - (L-1), (b+1)*block + L - 1)`` of ``r_j`` (or
    ``e_j``) by FFTs of ``block + 2L - 2`` points or more (so nothing wraps around), and the
    cross-spectra are summed over blocks before one short inverse FFT per pair.  Exact,
    faster than whole-signal FFTs on long signals (the work stays in cache, ``chunk``
    blocks at a time), and its memory grows with ``n_src x chunk x block``, not with the
    signal length.
    """
    B, n, N = ref.shape
    m = est.shape[1]
    P = _next_fast_len(block + 2 * L - 2)
    W = block + 2 * L - 2
    nb = -(-N // block)
    padded = nb * block
    plain = torch.nn.functional.pad(ref, (0, padded - N))
    ext = torch.nn.functional.pad(torch.cat([ref, est], 1), (L - 1, padded - N + L - 1))
    S = torch.zeros((B, n, n + m, P // 2 + 1), dtype=torch.complex128, device=ref.device)
    for c0 in range(0, nb, chunk):
        c1 = min(nb, c0 + chunk)
        X = torch.fft.rfft(plain[..., c0 * block : c1 * block].unfold(-1, block, block), n=P).conj()  # (B, n, k, F)
        Y = torch.fft.rfft(ext[..., c0 * block : (c1 - 1) * block + W].unfold(-1, W, block), n=P)   # (B, n+m, k, F)
        for i in range(n):
            S[:, i] += (X[:, i : i + 1] * Y).sum(2)
    c = torch.fft.irfft(S, n=P)[..., : 2 * L - 1]  # lag s - (L-1) at index s
    return c[:, :, :n].contiguous(), c[:, :, n:, L - 1 :].contiguous()


def _auto_correlations(ref: torch.Tensor, est: torch.Tensor, L: int):
    """:func:`_correlations_blocked` for long signals, :func:`_correlations` for short ones."""
    N = ref.shape[-1]
    if N >= 8 * 16384:
        return _correlations_blocked(ref, est, L, block=16384, chunk=4)
    if N >= 4 * 4096 and L <= 2048:
        return _correlations_blocked(ref, est, L, block=8192, chunk=8)
    return _correlations(ref, est, L)


#: below this fraction of the estimate's energy, ``||e||^2 - ||P e||^2`` would cancel too
#: many digits (SAR above 40 dB): the artifact is measured on the synthesised residual
SYNTH_BELOW = 1e-4


def _deflated(cref: torch.Tensor, dre: torch.Tensor, own: torch.Tensor, L: int, permutation: bool) -> torch.Tensor:
    """Right-hand sides of the interference solves: ``D_e - G[:, i] c`` for a (reference
    ``i``, estimate ``e``) pair, the correlations of every delayed reference with what the
    estimate keeps once its projection on reference ``i`` alone is removed.

    Solving ``G x = D_e - G[:, i] c`` gives the interference filters directly; taking them
    as the difference of the all-reference and own filters would lose the digits those
    share (every digit of a 60 dB SIR).  Shape: cref (B, n, n, 2L-1), dre (B, n, m, L),
    own (B, n, q, L), the filters of estimates on reference ``i``: every estimate
    (``q = m``, pair (i, j) at column ``i * m + j``) with ``permutation``, else estimate
    ``i`` only (``q = 1``, column ``i``)."""
    B, n, m = dre.shape[:3]
    nfft = _next_fast_len(3 * L - 2)  # the full convolution of 2L-1 lags with L taps
    cols = []
    for i in range(n):
        d = dre if permutation else dre[:, :, i : i + 1]  # (B, n, q, L)
        # G[(k, a), (i, b)] = c_ki[a - b]: the product is the convolution of the lags with
        # the filter, taken at a + L - 1 (by FFT: no L x L Toeplitz matrix is formed)
        Cf = torch.fft.rfft(cref[:, :, i], n=nfft)  # (B, n, F)
        Of = torch.fft.rfft(own[:, i], n=nfft)     # (B, q, F)
        Gc = torch.fft.irfft(Cf[:, :, None] * Of[:, None], n=nfft)[..., L - 1 : 2 * L - 1]  # (B, n, q, L)
        cols.append(d - Gc)
    return torch.cat(cols, dim=2)


def _synth(Rf: torch.Tensor, filters: torch.Tensor, nfft: int, M: int) -> torch.Tensor:
    """``sum_i c_i * r_i`` (length ``M = N + L - 1``) from the references' spectra ``Rf``
    (n, F) and the filters ``c`` (n, L), by FFTs of ``nfft >= M`` points."""
    return torch.fft.irfft((Rf * torch.fft.rfft(filters, n=nfft)).sum(0), n=nfft)[:M]


def _artifacts(ref: torch.Tensor, est: torch.Tensor, call4: torch.Tensor, E: torch.Tensor, Pall: torch.Tensor,
               L: int) -> torch.Tensor:
    """``||e - P e||^2`` per estimate: ``E - Pall`` where that keeps its digits, else the
    energy of the synthesised residual ``e - sum_i c_i * r_i`` (whose error is of second
    order in the filters' error), as mir_eval measures it."""
    artif = E - Pall
    close = (artif < SYNTH_BELOW * E).nonzero().tolist()
    if not close:
        return artif
    N = ref.shape[-1]
    M = N + L - 1
    nfft = _next_fast_len(M)
    items = sorted({b for b, _ in close})
    Rf = {b: torch.fft.rfft(ref[b], n=nfft) for b in items}  # (n, F)
    for b, j in close:
        res = -_synth(Rf[b], call4[b, :, :, j], nfft, M)
        res[:N] += est[b, j]
        artif[b, j] = (res * res).sum()
    return artif


def _refine_interference(ref: torch.Tensor, est: torch.Tensor, cref: torch.Tensor, own: torch.Tensor,
                         x: torch.Tensor, interf: torch.Tensor, L: int, solver: str,
                         pairs: list[tuple[int, int]]) -> torch.Tensor:
    """Interference energies of a high SIR, refined once from their residual signal.

    The Gram matrix from FFT correlations is exact to ``eps * ||G||``, which moves filters
    in its weak directions by ``cond(G) * eps``: at 60 dB of SIR that is 1e-9 dB.  One step
    of refinement fixes it: the residual signal ``w = e - A_i c_i - A x`` is synthesised,
    ``A^T w`` correlated from it (its error is relative to ``w``, which is small), the
    correction solved and added, and the interference taken as ``||A x||^2`` of the
    synthesised signal.  ``pairs``: (item, column) with column ``i * q + j`` of ``x``
    (B, n, L, cols) for reference ``i``; ``own`` (B, n, q, L) as :func:`_deflated`."""
    N = ref.shape[-1]
    q = own.shape[2]
    M = N + L - 1
    nfft = _next_fast_len(M + L - 1)  # A^T w: lags up to L - 1 of a length-M signal
    out = interf.clone()
    for b in sorted({p[0] for p in pairs}):
        cols = [c for bb, c in pairs if bb == b]
        Rf = torch.fft.rfft(ref[b], n=nfft)  # (n, F)
        W, keys = [], []
        for c in cols:
            i, jq = divmod(c, q)
            j = jq if q > 1 else i  # the estimate of this column
            w = -_synth(Rf[i : i + 1], own[b, i, jq][None], nfft, M) - _synth(Rf, x[b, :, :, c], nfft, M)
            w[:N] += est[b, j]
            W.append(w)
            keys.append(c)
        Wf = torch.fft.rfft(torch.stack(W), n=nfft)  # (k, F)
        g = torch.fft.irfft(Rf.conj()[:, None] * Wf[None], n=nfft)[..., :L]  # (n, k, L): A^T w
        dx, _, _, _ = _solve_all(cref[b : b + 1], g[None], L, solver)  # (1, n, L, k)
        for t, c in enumerate(keys):
            v = _synth(Rf, x[b, :, :, c] + dx[0, :, :, t], nfft, M)
            out[b, c] = (v * v).sum()
    return out


def _bss_core(ref: torch.Tensor, est: torch.Tensor, L: int, permutation: bool, solver: str = "auto"):
    """Core over a flat batch.  ref, est (B, n, N) float64.

    Returns sdr, sir (B, n_est, n_ref) when ``permutation`` else (B, n), and sar (B, n).
    One solve of the all-reference normal equations takes the estimates' correlations and
    the deflated ones of every (estimate, reference) pair (:func:`_deflated`) together.
    """
    B, n, N = ref.shape
    m = est.shape[1]
    cref, dre = _auto_correlations(ref, est, L)
    diag = torch.arange(n, device=ref.device)
    E = (est * est).sum(-1)  # (B, m)
    if solver not in ("auto", "dense", "levinson"):
        raise ValueError(f"solver must be 'auto', 'dense' or 'levinson', got {solver!r}")
    C = None
    if not _levinson_wins(solver, cref.device, n, L):  # one dense factor for every solve
        C, info = torch.linalg.cholesky_ex(_gram(cref, L))
        if bool((info != 0).any()):
            C = None  # a singular Gram matrix: the generic solve and its fall-backs
    # filters of every estimate on each reference alone: (B, n ref, m est, L) and energies
    if permutation:
        rhs = dre.permute(0, 1, 3, 2)  # (B, n, L, m): e_j against reference i
    else:
        rhs = dre[:, diag, diag].unsqueeze(-1)  # (B, n, L, 1): e_i against reference i
    k = rhs.shape[-1]
    cown = torch.empty_like(rhs)
    Pown = rhs.new_empty((B, n, k))
    first = 0
    if C is not None:  # the leading block of the full factor is the factor of G_00
        y0 = torch.linalg.solve_triangular(C[:, :L, :L], rhs[:, 0], upper=False)
        cown[:, 0] = torch.linalg.solve_triangular(C[:, :L, :L].mT, y0, upper=True)
        Pown[:, 0] = (y0 * y0).sum(-2)
        first = 1
    if n > first:
        c_rest, P_rest = _own_solve(cref[:, first:, first:], rhs[:, first:], L, solver)
        cown[:, first:] = c_rest
        Pown[:, first:] = P_rest
    own = cown.permute(0, 1, 3, 2)  # (B, ref i, est, L)
    defl = _deflated(cref, dre, own, L, permutation)
    both = torch.cat([dre, defl], dim=2)
    if C is not None:
        Dall = both.permute(0, 1, 3, 2).reshape(B, n * L, both.shape[2])
        Y = torch.linalg.solve_triangular(C, Dall, upper=False)
        call4 = torch.linalg.solve_triangular(C.mT, Y, upper=True).reshape(B, n, L, both.shape[2])
        Pboth = (Y * Y).sum(-2)
    else:
        call4, Pboth, _, _ = _solve_all(cref, both, L, solver)  # (B, n, L, m + ...), (B, m + ...)
    Pall = Pboth[:, :m]
    artif = _artifacts(ref, est, call4, E, Pall.clone(), L)
    sar = _ratio_db(Pall, artif, E)
    interf_all = Pboth[:, m:].clamp_min(0)  # x^T D' = ||P(e - P_i e)||^2 >= 0
    Ecol = E[:, torch.arange(interf_all.shape[1], device=E.device) % m] if permutation else E
    high = (interf_all < SYNTH_BELOW * Ecol).nonzero().tolist()
    if high:
        interf_all = _refine_interference(ref, est, cref, own, call4[..., m:], interf_all, L, solver,
                                          [tuple(p) for p in high])
    artif_c = artif.clamp_min(0)
    if not permutation:
        Pj = Pown[:, :, 0]
        sdr = _ratio_db(Pj, interf_all + artif_c, E)
        sir = _ratio_db(Pj, interf_all, E)
        return sdr, sir, sar
    interf = interf_all.reshape(B, n, m)  # (B, ref i, est j)
    Es = E.unsqueeze(1)
    sdr = _ratio_db(Pown, interf + artif_c.unsqueeze(1), Es).transpose(1, 2)  # (B, est j, ref i)
    sir = _ratio_db(Pown, interf, Es).transpose(1, 2)
    return sdr, sir, sar


def _best_permutation(sir: np.ndarray) -> np.ndarray:
    """Hungarian assignment maximising the mean SIR; sir is (n_est, n_ref).

    Returns ``perm`` with ``perm[i]`` the estimate assigned to reference ``i``.
    """
    s = np.where(np.isposinf(sir), 1e6, np.where(np.isneginf(sir), -1e6, sir))
    rows, cols = scipy.optimize.linear_sum_assignment(s, maximize=True)
    perm = np.empty(s.shape[1], dtype=np.int64)
    perm[cols] = rows
    return perm


def _chunk_size(n: int, L: int, N: int) -> int:
    per_item = 8 * (3 * (n * L) ** 2 + 4 * n * (N + L) + 2 * n * n * L)
    return max(1, int(512 * 2**20 // max(per_item, 1)))


def bss_eval_sources(
    reference: Any,
    estimate: Any,
    filter_length: int = 512,
    compute_permutation: bool = False,
    *,
    check: bool = True,
    solver: str = "auto",
    _short_ok: bool = False,
) -> BSSEvalSources:
    """BSS Eval v3 SDR, SIR and SAR of every estimated source.

    Parameters
    ----------
    reference, estimate : array or tensor, shape ``(..., n_src, n_samples)``
        Reference and estimated sources (numpy arrays or torch tensors, any real dtype;
        computed in float64).  A 1-D input is one source.
    filter_length : int
        Taps of the time-invariant distortion filters (512 in BSS Eval v3).
    compute_permutation : bool
        Also find the assignment of estimates to references that maximises the mean
        SIR (Hungarian algorithm on the SIR matrix, as mir_eval defines it by
        exhaustive search).
    check : bool
        Run :func:`validate` first (silent sources raise ``ValueError``).
    solver : {"auto", "levinson", "dense"}
        How the normal equations are solved: the block-Levinson recursion (CPU default
        when ``n_src * filter_length >= 1536``), with a dense Cholesky fall-back for every item whose
        recursion fails its positive-definiteness or residual check, or the dense
        Cholesky factorisation (default on CUDA).  Both are exact.

    Returns
    -------
    BSSEvalSources
        ``sdr, sir, sar`` of shape ``(..., n_src)`` in dB and ``perm`` (int64): with a
        permutation, ``perm[..., i]`` is the estimate matched to reference ``i`` and the
        scores are those of that pair; otherwise ``arange(n_src)``.  Same array type
        (and device) as ``reference``.

    References
    ----------
    E. Vincent, R. Gribonval, C. Fevotte, "Performance measurement in blind audio source
    separation", IEEE TASLP 14(4):1462-1469, 2006.
    """
    ref, as_np = to_tensor(reference, "reference")
    est, _ = to_tensor(estimate, "estimate")
    est = est.to(ref.device)
    if ref.ndim == 1:
        ref, est = ref[None], est[None]
        squeeze = True
    else:
        squeeze = False
    _validate(ref, est, filter_length, check_silent=check, short_ok=_short_ok)
    lead = ref.shape[:-2]
    n, N = ref.shape[-2:]
    L = filter_length
    refb = ref.reshape(-1, n, N)
    estb = est.reshape(-1, n, N)
    Btot = refb.shape[0]
    sdr = ref.new_empty((Btot, n))
    sir = ref.new_empty((Btot, n))
    sar = ref.new_empty((Btot, n))
    perm = torch.arange(n, device=ref.device).repeat(Btot, 1)
    step = _chunk_size(n, L, N)
    for s in range(0, Btot, step):
        sl = slice(s, min(Btot, s + step))
        if not compute_permutation:
            sdr[sl], sir[sl], sar[sl] = _bss_core(refb[sl], estb[sl], L, False, solver)
        else:
            sdr_m, sir_m, sar_j = _bss_core(refb[sl], estb[sl], L, True, solver)
            sir_np = sir_m.cpu().numpy()
            for b in range(sir_np.shape[0]):
                p = torch.from_numpy(_best_permutation(sir_np[b])).to(ref.device)
                ar = torch.arange(n, device=ref.device)
                perm[s + b] = p
                sdr[s + b] = sdr_m[b][p, ar]
                sir[s + b] = sir_m[b][p, ar]
                sar[s + b] = sar_j[b][p]
    out = [x.reshape(*lead, n) for x in (sdr, sir, sar, perm)]
    if squeeze:
        out = [x[0] for x in out]
    return BSSEvalSources(*(back(x, as_np) for x in out))


def bss_eval_sources_framewise(
    reference: Any,
    estimate: Any,
    window: int = 30 * 44100,
    hop: int = 15 * 44100,
    filter_length: int = 512,
    compute_permutation: bool = False,
) -> BSSEvalSources:
    """Framewise BSS Eval v3, with mir_eval's ``bss_eval_sources_framewise`` semantics.

    Windows of ``window`` samples every ``hop`` samples; ``n_win = floor((n_samples -
    window + hop) / hop)``.  A window in which *any* reference or estimate is silent
    gets NaN for every source (and NaN ``perm``).  With fewer than two windows the
    whole-signal result is returned with a trailing axis of length 1.  A window shorter
    than the filter is computed as mir_eval computes it (the delayed copies of a short
    signal are still independent), not refused.

    Shape: ``(..., n_src, n_samples)`` -> ``(..., n_src, n_win)`` for each score.
    """
    ref, as_np = to_tensor(reference, "reference")
    est, _ = to_tensor(estimate, "estimate")
    est = est.to(ref.device)
    if ref.ndim == 1:
        ref, est = ref[None], est[None]
    _validate(ref, est, filter_length, check_silent=False, short_ok=True)
    n, N = ref.shape[-2:]
    nwin = int(math.floor((N - window + hop) / hop))
    if nwin < 2:  # the whole signal, shorter than the filter or not, as mir_eval does
        res = bss_eval_sources(ref, est, filter_length, compute_permutation, _short_ok=True)
        return BSSEvalSources(*(back(x.unsqueeze(-1).to(torch.float64 if x.is_floating_point() else x.dtype), as_np) for x in res))
    lead = ref.shape[:-2]
    rw = ref.unfold(-1, window, hop)[..., :nwin, :]  # (..., n, nwin, window)
    ew = est.unfold(-1, window, hop)[..., :nwin, :]
    rw = rw.movedim(-2, 0).reshape(nwin, -1, n, window)
    ew = ew.movedim(-2, 0).reshape(nwin, -1, n, window)
    silent = ((rw == 0).all(-1).any(-1)) | ((ew == 0).all(-1).any(-1))  # (nwin, B)
    out = [torch.full((nwin, rw.shape[1], n), math.nan, dtype=torch.float64, device=ref.device) for _ in range(4)]
    ok = (~silent).nonzero()
    if ok.numel():
        res = bss_eval_sources(rw[ok[:, 0], ok[:, 1]], ew[ok[:, 0], ok[:, 1]], filter_length, compute_permutation,
                               check=False, _short_ok=True)
        for o, r in zip(out, res):
            o[ok[:, 0], ok[:, 1]] = r.to(torch.float64)
    out = [o.reshape(nwin, *lead, n).movedim(0, -1) for o in out]
    return BSSEvalSources(*(back(o, as_np) for o in out))


def evaluate(reference: Any, estimate: Any, filter_length: int = 512, compute_permutation: bool = False) -> dict:
    """All BSS Eval v3 source metrics under stable keys (``sdr``, ``sir``, ``sar``, ``perm``)."""
    r = bss_eval_sources(reference, estimate, filter_length, compute_permutation)
    return {"sdr": r.sdr, "sir": r.sir, "sar": r.sar, "perm": r.perm}


# ----------------------------------------------------------------------------- registry
def _item_scores(ref: np.ndarray, est: np.ndarray, present: list[int], slots: list[int], params: dict) -> dict:
    """SDR, SIR and SAR of the estimates of ``slots``, each against all ``present`` references."""
    out = bss_eval_sources(ref[present], est[present], params.get("filter_length", 512), check=False)
    at = {k: pos for pos, k in enumerate(present)}
    return {m: np.array([float(getattr(out, m)[at[k]]) for k in slots]) for m in ("sdr", "sir", "sar")}


_V3 = {"filter_length": None, "bss_eval": "v3", "compute_permutation": False, "zero_mean": False}
def _metric(name: str, label: str, description: str, position: float, **kw) -> Metric:
    return Metric(name=name, family="separation", higher_is_better=True, unit="dB", label=label,
                  description=description, position=position, **kw)


register(
    _metric("sdr", "SDR", "BSS Eval v3 signal-to-distortion ratio (512 taps)", 1, bucket="sdr", sdr_family=True,
            near_copy=True, params=_V3, compute=_item_scores, report=("instrument", "n_sources", "breakdown")),
    _metric("sir", "SIR", "BSS Eval v3 signal-to-interference ratio", 2, bucket="sdr", sdr_family=True, params=_V3,
            compute=_item_scores, report=("breakdown",)),
    _metric("sar", "SAR", "BSS Eval v3 signal-to-artefact ratio", 3, bucket="sdr", sdr_family=True, params=_V3,
            compute=_item_scores, report=("breakdown",)),
    _metric("sdr_in", "SDR (mixture)", "SDR of the input mixture as the estimate of each sounding source", 5.8,
            bucket="sdr", mixture_of="sdr"),
    _metric("sdri", "SDRi", "SDR improvement over the input mixture", 6, bucket="sdr", improvement_of="sdr",
            report=("breakdown",)),
)
