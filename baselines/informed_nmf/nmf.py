"""Timbre-informed NMF.

Per instrument and pitch, one spectral template (the mean STFT magnitude of a rendered
isolated note, L1-normalised).  A mixture's magnitude ``V`` is factorised as ``V ~ W H``
with ``W`` the templates of the instruments known to be present, held fixed, and only
the activations ``H`` updated by the multiplicative updates of the beta-divergence
(Fevotte & Idier 2011; monotone for ``beta`` in [1, 2]).  Each instrument's estimate is
the mixture STFT under the Wiener-style soft mask ``|W_j H_j|^p / sum_k |W_k H_k|^p``
(``p = 2``), inverted with the mixture phase.

Shapes: ``V (n_freq, n_frames)``, ``W (n_freq, n_templates)``, ``H (n_templates, n_frames)``.
"""
from __future__ import annotations

import numpy as np
import torch

from ..frontend import istft, stft  # the shared STFT (n_fft 1022, hop 256)

EPS = 1e-12


def beta_divergence(V: torch.Tensor, Vh: torch.Tensor, beta: float) -> float:
    """Sum of the element-wise beta-divergence d_beta(V | Vh)."""
    V, Vh = V.clamp_min(EPS), Vh.clamp_min(EPS)
    if beta == 1:
        return float((V * torch.log(V / Vh) - V + Vh).sum())
    if beta == 0:
        return float((V / Vh - torch.log(V / Vh) - 1).sum())
    return float(((V ** beta + (beta - 1) * Vh ** beta - beta * V * Vh ** (beta - 1)) / (beta * (beta - 1))).sum())


def activations(V: torch.Tensor, W: torch.Tensor, beta: float = 1.0, n_iter: int = 100, seed: int = 0,
                track: bool = False) -> tuple[torch.Tensor, list[float]]:
    """Multiplicative updates of ``H`` with ``W`` fixed; returns ``H`` and, with ``track``,
    the cost after every iteration."""
    g = torch.Generator().manual_seed(seed)
    H = 0.5 + torch.rand(W.shape[1], V.shape[1], generator=g, dtype=V.dtype)
    H = H * (V.sum() / (W @ H).sum().clamp_min(EPS))
    costs = []
    Wt = W.T
    for _ in range(n_iter):
        Vh = (W @ H).clamp_min(EPS)
        H = H * (Wt @ (Vh ** (beta - 2) * V)) / (Wt @ Vh ** (beta - 1)).clamp_min(EPS)
        if track:
            costs.append(beta_divergence(V, W @ H, beta))
    return H, costs


def separate(mix: np.ndarray, templates: dict[str, np.ndarray], present: list[str], beta: float = 1.0,
             n_iter: int = 100, power: float = 2.0, seed: int = 0) -> dict[str, np.ndarray]:
    """Estimates of the ``present`` instruments from ``mix`` (n_samples,) with their
    templates ``(n_freq, n_pitches)``.  Only the present instruments' templates are used."""
    x = torch.from_numpy(mix.astype(np.float64))
    X = stft(x)
    V = X.abs()
    Ws = [torch.from_numpy(templates[p]) for p in present]
    W = torch.cat(Ws, 1)
    H, _ = activations(V, W, beta, n_iter, seed)
    parts, k = [], 0
    for w in Ws:
        parts.append((w @ H[k:k + w.shape[1]]) ** power)
        k += w.shape[1]
    tot = torch.stack(parts).sum(0).clamp_min(EPS)
    return {p: istft(X * (s / tot), len(mix)).numpy() for p, s in zip(present, parts)}
