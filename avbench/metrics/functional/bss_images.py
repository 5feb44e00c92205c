"""BSS Eval for multichannel source images: v3 (``bss_eval_images``) and museval's v4.

Shape convention (as in mir_eval and museval): ``(..., n_src, n_samples, n_chan)``.

* :func:`bss_eval_images` — BSS Eval v3 images, exactly as
  ``mir_eval.separation.bss_eval_images``: time-invariant multichannel distortion
  filters (``filter_length`` taps from every channel of every reference to every output
  channel), whole signal; SDR, ISR (image to spatial distortion), SIR, SAR with

      SDR = ||s||^2 / ||e - s||^2            ISR = ||s||^2 / ||e_spat||^2
      SIR = ||P_j e||^2 / ||e_interf||^2     SAR = ||P e||^2 / ||e_artif||^2

  (``s`` the true image, ``P_j`` the projection on the delayed channels of reference j,
  ``P`` on those of all references; energies summed over the output channels).
* :func:`bss_eval_images_framewise` — the same, filters re-estimated in every window
  (mir_eval semantics: a window where any reference or estimate is silent is NaN; for
  ISR too, which mir_eval leaves uninitialised there).
* :func:`bss_eval_v4` — BSS Eval **v4** as museval defines it (Liutkus, Stöter and
  Ito, "The 2018 Signal Separation Evaluation Campaign", LVA/ICA 2018): the distortion
  filters are estimated once on the whole signal (with museval's ``G + eps I``), then
  applied to each window of the references to get framewise SDR/ISR/SIR/SAR.  v4 values
  are never comparable with v3 ones and live in their own columns.

Everything is computed from correlations (no projected signal is synthesised), with the
solvers of :mod:`.bss`.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import torch

from ._backend import back, check_finite, item_label, to_tensor
from ._bss_solve import _chol_solve, _gram, _quad, _ratio_db, _solve_all
from .bss import _auto_correlations, _best_permutation
from ..registry import Metric, register

__all__ = ["BSSEvalImages", "bss_eval_images", "bss_eval_images_framewise", "bss_eval_v4", "validate", "evaluate"]


class BSSEvalImages(NamedTuple):
    sdr: Any
    isr: Any
    sir: Any
    sar: Any
    perm: Any


def validate(reference: Any, estimate: Any, filter_length: int = 512) -> None:
    """Raise ``ValueError`` for mismatched shapes, NaN/inf, silent images or too few samples."""
    ref, _ = to_tensor(reference, "reference")
    est, _ = to_tensor(estimate, "estimate")
    _validate(ref, est, filter_length, True)


def _validate(ref, est, L, check_silent):
    if ref.shape != est.shape:
        raise ValueError(f"reference and estimate shapes differ: {tuple(ref.shape)} vs {tuple(est.shape)}; "
                         "both must be (..., n_src, n_samples, n_chan)")
    if ref.ndim < 3:
        raise ValueError(f"images must be (..., n_src, n_samples, n_chan), got shape {tuple(ref.shape)}")
    if ref.shape[-2] < L:
        raise ValueError(f"signals have {ref.shape[-2]} samples, fewer than the {L}-tap distortion filter")
    check_finite(ref, "reference")
    check_finite(est, "estimate")
    if check_silent:
        for name, x in (("reference", ref), ("estimate", est)):
            silent = (x == 0).all(-1).all(-1)
            if silent.any():
                idx = silent.nonzero()[0].tolist()
                raise ValueError(f"{name} source {idx[-1]} of {item_label(tuple(idx[:-1]))} is silent (all zeros); "
                                 "BSS Eval is undefined for silent sources")


def _flat(x: torch.Tensor) -> torch.Tensor:
    """(B, n, N, c) -> (B, n*c, N): virtual source ``j*c + ch``."""
    B, n, N, c = x.shape
    return x.permute(0, 1, 3, 2).reshape(B, n * c, N)


def _filters(cref, dre, n, c, L, pairs, solver, ridge=0.0):
    """Whole-signal filters.

    Returns call (B, V, L, M) on all references and, for every (ref j, est k) in
    ``pairs`` the own filters (B, c, L, c) on reference j's channels (dict).
    """
    if ridge:
        cref = cref.clone()
        V = cref.shape[1]
        idx = torch.arange(V, device=cref.device)
        cref[:, idx, idx, L - 1] += ridge
    call, Pall, _, _ = _solve_all(cref, dre, L, solver)
    own = {}
    B = cref.shape[0]
    for j, k in pairs:
        sj = slice(j * c, (j + 1) * c)
        sk = slice(k * c, (k + 1) * c)
        Gj = _gram(cref[:, sj, sj], L)  # (B, cL, cL), source-major (channel, tap)
        Dj = dre[:, sj, sk].permute(0, 1, 3, 2).reshape(B, c * L, c)
        cj, _ = _chol_solve(Gj, Dj)
        own[(j, k)] = cj.reshape(B, c, L, c)
    return call, own


def _energies(cref, dre, Es, ds_diag, err, call, own, n, c, L, pairs):
    """Energies of the decomposition of each (ref j, est k) pair under the given filters,
    with the Gram/correlations ``cref``/``dre`` (whole signal or one window).

    Returns dict of (B,) tensors per pair: S, err, spat, interf, own (||P_j e||^2), all, artif.
    """
    B, V = cref.shape[:2]
    out = {}
    # quantities per estimate channel under the all-reference filters
    callT = call.permute(0, 3, 1, 2)  # (B, M, V, L)
    Pall_w = _quad(cref, None, callT)  # c^T G c per estimate channel
    cD = (call * dre.permute(0, 1, 3, 2)).sum((1, 2))  # c^T D per estimate channel, (B, M)
    for j, k in pairs:
        sj = slice(j * c, (j + 1) * c)
        sk = slice(k * c, (k + 1) * c)
        cj = own[(j, k)]  # (B, c_ref, L, c_out)
        # own projection energy and spatial distortion, per output channel
        full = torch.zeros((B, c, V, L), dtype=call.dtype, device=call.device)
        full[:, :, sj] = cj.permute(0, 3, 1, 2)
        unit = torch.zeros_like(full)
        for ch in range(c):
            unit[:, ch, j * c + ch, 0] = 1.0
        p_own = _quad(cref, None, full).sum(-1)
        spat = _quad(cref, None, full - unit).sum(-1)
        delta = callT[:, sk] - full
        interf = _quad(cref, None, delta).sum(-1)
        p_all = Pall_w[:, sk].sum(-1)
        artif = (Es[:, sk] - 2 * cD[:, sk] + Pall_w[:, sk]).sum(-1)
        S = ds_diag[:, sj].sum(-1)
        out[(j, k)] = dict(S=S, err=err[(j, k)], spat=spat, interf=interf, own=p_own, all=p_all, artif=artif,
                           E=Es[:, sk].sum(-1))
    return out


def _ratios(e):
    scale = e["E"]
    sdr = _ratio_db(e["S"], e["err"], torch.maximum(scale, e["S"]))
    isr = _ratio_db(e["S"], e["spat"], torch.maximum(scale, e["S"]))
    sir = _ratio_db(e["own"], e["interf"], scale)
    sar = _ratio_db(e["all"], e["artif"].clamp_min(0), scale)
    return sdr, isr, sir, sar


def _pairs(n, permutation):
    return [(j, k) for j in range(n) for k in range(n)] if permutation else [(j, j) for j in range(n)]


def _images_core(ref, est, L, permutation, solver, windows=None, ridge=0.0):
    """ref, est (B, n, N, c).  With ``windows`` ([(s, e)]) the whole-signal filters are
    applied per window (v4); otherwise whole-signal metrics.  Returns (B, 4, n_ref, n_est, n_win)."""
    B, n, N, c = ref.shape
    refv, estv = _flat(ref), _flat(est)
    pairs = _pairs(n, permutation)
    cref, dre = _auto_correlations(refv, estv, L)
    call, own = _filters(cref, dre, n, c, L, pairs, solver, ridge)
    wins = windows if windows is not None else [(0, N)]
    res = torch.full((B, 4, n, n, len(wins)), math.nan, dtype=torch.float64, device=ref.device)
    for t, (s, e) in enumerate(wins):
        rw, ew = refv[..., s:e], estv[..., s:e]
        if windows is None:
            cw, dw = cref, dre
        else:
            cw, dw = _auto_correlations(rw, ew, L)
        Es = (ew * ew).sum(-1)
        ds_diag = (rw * rw).sum(-1)
        err = {}
        for j, k in pairs:
            d = est[:, k, s:e] - ref[:, j, s:e]
            err[(j, k)] = (d * d).sum((-2, -1))
        en = _energies(cw, dw, Es, ds_diag, err, call, own, n, c, L, pairs)
        for (j, k), v in en.items():
            for q, r in enumerate(_ratios(v)):
                res[:, q, j, k, t] = r
    return res


def _select(res, permutation, as_np, lead, n, nwin, squeeze_win, per_window_perm=False):
    """Pick the (ref j, est perm[j]) entries.  res (B, 4, n, n, nwin)."""
    B = res.shape[0]
    out = torch.empty((B, 4, n, nwin), dtype=torch.float64, device=res.device)
    perms = torch.empty((B, n, nwin if per_window_perm else 1), dtype=torch.int64, device=res.device)
    ar = torch.arange(n, device=res.device)
    for b in range(B):
        if not permutation:
            p = np.tile(np.arange(n)[:, None], (1, perms.shape[-1]))
        elif per_window_perm:
            p = np.stack([_best_permutation(res[b, 2, :, :, t].T.cpu().numpy()) if not torch.isnan(res[b, 2, :, :, t]).all()
                          else np.arange(n) for t in range(nwin)], axis=1)
        else:
            sir = res[b, 2].cpu().numpy()  # (ref j, est k, win)
            mean = np.where(np.isnan(sir).all(-1), -np.inf, np.nanmean(np.where(np.isnan(sir), np.nan, sir), axis=-1)) \
                if nwin > 1 else sir[..., 0]
            p = _best_permutation(mean.T)[:, None]
        perms[b] = torch.from_numpy(np.asarray(p, dtype=np.int64))
        for t in range(nwin):
            pt = perms[b, :, t if per_window_perm else 0]
            out[b, :, :, t] = res[b][:, ar, pt, t]
    vals = [out[:, q].reshape(*lead, n, nwin) for q in range(4)]
    pr = perms.reshape(*lead, n, perms.shape[-1])
    if squeeze_win:
        vals = [v[..., 0] for v in vals]
        pr = pr[..., 0]
    return BSSEvalImages(*(back(v, as_np) for v in vals), back(pr, as_np))


def _prepare(reference, estimate, L, check):
    ref, as_np = to_tensor(reference, "reference")
    est, _ = to_tensor(estimate, "estimate")
    est = est.to(ref.device)
    if ref.ndim == 2:  # one source (n_samples, n_chan)
        ref, est = ref[None], est[None]
    _validate(ref, est, L, check)
    return ref, est, as_np


def bss_eval_images(reference: Any, estimate: Any, filter_length: int = 512, compute_permutation: bool = False,
                    *, check: bool = True, solver: str = "auto") -> BSSEvalImages:
    """BSS Eval v3 image metrics (mir_eval's ``bss_eval_images``), whole signal.

    Shape: ``(..., n_src, n_samples, n_chan)`` -> ``(..., n_src)`` for SDR, ISR, SIR, SAR
    (dB) and ``perm`` (int64; ``perm[..., j]`` the estimate matched to reference ``j``).
    """
    ref, est, as_np = _prepare(reference, estimate, filter_length, check)
    lead = ref.shape[:-3]
    n, N, c = ref.shape[-3:]
    res = _images_core(ref.reshape(-1, n, N, c), est.reshape(-1, n, N, c), filter_length, compute_permutation, solver)
    return _select(res, compute_permutation, as_np, lead, n, 1, True)


def _frame_bounds(N: int, window: float, hop: float) -> list[tuple[int, int]]:
    if window < N:
        nwin = int(math.floor((N - window + hop) / hop))
        return [(int(math.floor(t * hop)), int(math.floor(min(t * hop + window, N)))) for t in range(nwin)]
    return [(0, N)]


def bss_eval_images_framewise(reference: Any, estimate: Any, window: int = 30 * 44100, hop: int = 15 * 44100,
                              filter_length: int = 512, compute_permutation: bool = False) -> BSSEvalImages:
    """BSS Eval v3 images per window, filters re-estimated in each window (mir_eval's
    ``bss_eval_images_framewise``).  Windows where any reference or estimate is silent
    are NaN.  With fewer than two windows the whole-signal result is returned.

    Shape: ``(..., n_src, n_samples, n_chan)`` -> ``(..., n_src, n_win)``.
    """
    ref, est, as_np = _prepare(reference, estimate, min(filter_length, np.asarray(reference).shape[-2]), False)
    lead = ref.shape[:-3]
    n, N, c = ref.shape[-3:]
    nwin = int(math.floor((N - window + hop) / hop))
    if nwin < 2:
        r = bss_eval_images(ref, est, filter_length, compute_permutation)
        return BSSEvalImages(*(back(x.unsqueeze(-1), as_np) for x in r))
    refb = ref.reshape(-1, n, N, c)
    estb = est.reshape(-1, n, N, c)
    B = refb.shape[0]
    out = torch.full((B, 4, n, n, nwin), math.nan, dtype=torch.float64, device=ref.device)
    for t in range(nwin):
        rw = refb[:, :, t * hop : t * hop + window]
        ew = estb[:, :, t * hop : t * hop + window]
        ok = ~(((rw == 0).all(-1).all(-1)).any(-1) | ((ew == 0).all(-1).all(-1)).any(-1))
        idx = ok.nonzero().flatten()
        if idx.numel():
            out[idx, :, :, :, t] = _images_core(rw[idx], ew[idx], filter_length, compute_permutation, "auto")[..., 0]
    return _select(out, compute_permutation, as_np, lead, n, nwin, False, per_window_perm=True)


def bss_eval_v4(reference: Any, estimate: Any, window: float = 2 * 44100, hop: float = 1.5 * 44100,
                filter_length: int = 512, compute_permutation: bool = False, *, solver: str = "auto") -> BSSEvalImages:
    """BSS Eval v4 (museval ``bss_eval`` with ``framewise_filters=False``): distortion
    filters estimated once on the whole signal, metrics per window.

    ``n_win = floor((n_samples - window + hop) / hop)`` windows of ``window`` samples every
    ``hop`` (one window covering everything when ``window >= n_samples``); windows where
    any reference or estimate is silent are NaN.  With a permutation, one assignment for
    the whole signal maximises the mean SIR over the windows (NaN windows left out).

    Shape: ``(..., n_src, n_samples, n_chan)`` -> ``(..., n_src, n_win)``.
    """
    ref, est, as_np = _prepare(reference, estimate, filter_length, True)
    lead = ref.shape[:-3]
    n, N, c = ref.shape[-3:]
    bounds = _frame_bounds(N, window, hop)
    refb = ref.reshape(-1, n, N, c)
    estb = est.reshape(-1, n, N, c)
    eps = float(np.finfo(float).eps)
    res = _images_core(refb, estb, filter_length, compute_permutation, solver, windows=bounds, ridge=eps)
    for t, (s, e) in enumerate(bounds):
        rw, ew = refb[:, :, s:e], estb[:, :, s:e]
        bad = ((rw == 0).all(-1).all(-1)).any(-1) | ((ew == 0).all(-1).all(-1)).any(-1)
        res[bad, :, :, :, t] = math.nan
    return _select(res, compute_permutation, as_np, lead, n, len(bounds), False)


def evaluate(reference: Any, estimate: Any, **kwargs) -> dict:
    r = bss_eval_images(reference, estimate, **kwargs)
    return {"sdr": r.sdr, "isr": r.isr, "sir": r.sir, "sar": r.sar, "perm": r.perm}


# ----------------------------------------------------------------------------- registry
register(
    Metric(name="isr", family="separation", higher_is_better=True, unit="dB", label="ISR",
           description="BSS Eval image-to-spatial distortion ratio", position=3.5),
    Metric(name="sdr_v4", family="separation", higher_is_better=True, unit="dB", label="SDR v4",
           description="BSS Eval v4 (museval) framewise SDR, whole-signal filters", position=3.7),
)
