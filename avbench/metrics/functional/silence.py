"""Metrics for silent sources: PES and EPS.

K. Schulze-Forster, C. Doire, G. Richard, R. Badeau, "Weakly informed audio source
separation", WASPAA 2019.

* PES (predicted energy at silence): energy of the *estimate* where the reference is
  silent, ``10 log10(sum(s_hat^2) + eps)`` dB.  Lower is better.
* EPS (energy at predicted silence): energy of the *reference* where the estimate is
  silent, ``10 log10(sum(s^2) + eps)`` dB.  Lower is better.

Two modes:

``segment`` (the seed thesis' protocol, the default): one value per whole signal; a
signal is silent when every sample is exactly zero; ``eps = 1e-8`` so the floor is
-80 dB.

``include_both_silent=True`` (protocol 2, as Schulze-Forster et al. define them): PES
over every signal whose reference is silent and EPS over every signal whose estimate is
silent, both-silent ones included (they score the floor, ``10 log10(eps)``).  Without it,
a both-silent signal is NaN in both.

``framewise`` (the original paper): frames of ``window`` samples every ``hop``;
``eps = 1e-12`` (floor -120 dB); a frame is silent when all its samples are zero; the
last incomplete frame is dropped, or zero-padded with ``last_frame="pad"``.

:func:`buckets` sorts every (item, source) into exactly one of ``sdr`` (both
non-silent), ``pes`` (reference silent), ``eps`` (estimate silent) or ``both_silent``.
"""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from ._backend import back, check_finite, to_tensor
from ..registry import Metric, register

__all__ = ["pes", "eps", "buckets", "BUCKETS", "frames", "validate", "evaluate"]

#: bucket codes returned by :func:`buckets`
BUCKETS = {"sdr": 0, "pes": 1, "eps": 2, "both_silent": 3}


def validate(reference: Any, estimate: Any) -> None:
    ref, _ = to_tensor(reference, "reference")
    est, _ = to_tensor(estimate, "estimate")
    if ref.shape != est.shape:
        raise ValueError(f"reference and estimate shapes differ: {tuple(ref.shape)} vs {tuple(est.shape)}")
    check_finite(ref, "reference")
    check_finite(est, "estimate")


def frames(x: torch.Tensor, window: int, hop: int, last_frame: str = "drop") -> torch.Tensor:
    """Frames of the last axis: ``(..., n_samples)`` -> ``(..., n_frames, window)``."""
    if last_frame not in ("drop", "pad"):
        raise ValueError(f"last_frame must be 'drop' or 'pad', got {last_frame!r}")
    n = x.shape[-1]
    if last_frame == "pad":
        n_frames = max(1, math.ceil(max(n - window, 0) / hop) + 1)
        need = (n_frames - 1) * hop + window
        if need > n:
            x = F.pad(x, (0, need - n))
    elif n < window:
        return x.new_empty((*x.shape[:-1], 0, window))
    return x.unfold(-1, window, hop)


def _energy_db(x: torch.Tensor, eps: float) -> torch.Tensor:
    return 10.0 * torch.log10((x * x).sum(-1) + eps)


def _metric(which: str, reference, estimate, mode, eps, window, hop, last_frame, include_both_silent=False,
            check=True):
    ref, as_np = to_tensor(reference, "reference")
    est, _ = to_tensor(estimate, "estimate")
    est = est.to(ref.device)
    if check:
        validate(ref, est)
    elif ref.shape != est.shape:
        raise ValueError(f"reference and estimate shapes differ: {tuple(ref.shape)} vs {tuple(est.shape)}")
    if mode == "segment":
        eps = 1e-8 if eps is None else eps
    elif mode == "framewise":
        eps = 1e-12 if eps is None else eps
        if window is None or hop is None:
            raise ValueError("framewise mode needs window and hop (in samples)")
        ref = frames(ref, window, hop, last_frame)
        est = frames(est, window, hop, last_frame)
    else:
        raise ValueError(f"mode must be 'segment' or 'framewise', got {mode!r}")
    ref_silent = (ref == 0).all(-1)
    est_silent = (est == 0).all(-1)
    if which == "pes":
        val = _energy_db(est, eps)
        ok = ref_silent if include_both_silent else ref_silent & ~est_silent
    else:
        val = _energy_db(ref, eps)
        ok = est_silent if include_both_silent else est_silent & ~ref_silent
    out = torch.where(ok, val, torch.full_like(val, math.nan))
    return back(out, as_np)


def pes(reference: Any, estimate: Any, mode: str = "segment", eps: float | None = None,
        window: int | None = None, hop: int | None = None, last_frame: str = "drop",
        include_both_silent: bool = False, *, check: bool = True) -> Any:
    """Predicted energy at silence, dB; NaN where the reference is not silent
    (or the estimate is silent too, unless ``include_both_silent``).  ``check=False``
    skips the finiteness test (for inputs validated already).

    Shape: ``(..., n_samples)`` -> ``(...)`` (segment) or ``(..., n_frames)`` (framewise).
    """
    return _metric("pes", reference, estimate, mode, eps, window, hop, last_frame, include_both_silent, check)


def eps(reference: Any, estimate: Any, mode: str = "segment", eps: float | None = None,
        window: int | None = None, hop: int | None = None, last_frame: str = "drop",
        include_both_silent: bool = False, *, check: bool = True) -> Any:
    """Energy at predicted silence, dB; NaN where the estimate is not silent
    (or the reference is silent too, unless ``include_both_silent``).  ``check=False``
    skips the finiteness test (for inputs validated already).

    Shape: ``(..., n_samples)`` -> ``(...)`` (segment) or ``(..., n_frames)`` (framewise).
    """
    return _metric("eps", reference, estimate, mode, eps, window, hop, last_frame, include_both_silent, check)


def buckets(reference: Any, estimate: Any) -> Any:
    """Bucket code (see :data:`BUCKETS`) of every signal.  ``(..., n_samples)`` -> ``(...)``."""
    ref, as_np = to_tensor(reference, "reference")
    est, _ = to_tensor(estimate, "estimate")
    rs = (ref == 0).all(-1)
    es = (est.to(ref.device) == 0).all(-1)
    code = torch.zeros(rs.shape, dtype=torch.int64, device=ref.device)
    code[rs & ~es] = BUCKETS["pes"]
    code[es & ~rs] = BUCKETS["eps"]
    code[rs & es] = BUCKETS["both_silent"]
    return back(code, as_np)


def evaluate(reference: Any, estimate: Any, **kwargs) -> dict:
    return {"pes": pes(reference, estimate, **kwargs), "eps": eps(reference, estimate, **kwargs),
            "bucket": buckets(reference, estimate)}


# ----------------------------------------------------------------------------- registry
_SILENCE = {"pes_eps": None, "silence": "exact zero", "include_both_silent": None}
register(
    Metric(name="pes", family="separation", higher_is_better=False, unit="dB", label="PES",
           description="predicted energy at silence (eps 1e-8)", position=8, bucket="pes", params=_SILENCE,
           floor=-80.0, report=("instrument", "breakdown")),
    Metric(name="eps", family="separation", higher_is_better=False, unit="dB", label="EPS",
           description="energy at predicted silence (eps 1e-8)", position=9, bucket="eps", params=_SILENCE,
           floor=-80.0, report=("breakdown",)),
)
