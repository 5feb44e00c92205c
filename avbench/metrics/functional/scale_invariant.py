"""Scale-invariant and scale-dependent SDR, and SNR.

J. Le Roux, S. Wisdom, H. Erdogan, J. R. Hershey, "SDR - half-baked or well done?",
ICASSP 2019.  With ``alpha = <s_hat, s> / ||s||^2``:

    SI-SDR = 10 log10( ||alpha s||^2          / ||alpha s - s_hat||^2 )
    SD-SDR = 10 log10( ||alpha s||^2          / ||s - s_hat||^2 )
    SNR    = 10 log10( ||s||^2               / ||s - s_hat||^2 )

Every ratio (and ``alpha``) is computed as ``(num + eps) / (den + eps)``.  With the
default ``eps = 0`` the definitions are exact: an estimate orthogonal to the reference
gives ``-inf``, a perfect one ``+inf``, a silent one NaN (0/0; avbench scores silent
estimates with EPS).  With ``eps > 0`` the values are bounded: an orthogonal estimate
scores ``10 log10(eps / (||s_hat||^2 + eps))``, the floor.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..registry import Metric, register
from ._backend import back, check_finite, to_tensor

__all__ = ["si_sdr", "sd_sdr", "snr", "validate", "evaluate"]


def validate(reference: Any, estimate: Any) -> None:
    """Raise ``ValueError`` for mismatched shapes, NaN/inf, or silent references."""
    ref, _ = to_tensor(reference, "reference")
    est, _ = to_tensor(estimate, "estimate")
    _check(ref, est)
    silent = (ref == 0).all(-1)
    if silent.any():
        idx = tuple(silent.nonzero()[0].tolist())
        raise ValueError(f"reference at index {idx} is silent; SI-SDR is undefined (use pes)")


def _check(ref: torch.Tensor, est: torch.Tensor, finite: bool = True) -> None:
    if ref.shape != est.shape:
        raise ValueError(f"reference and estimate shapes differ: {tuple(ref.shape)} vs {tuple(est.shape)}")
    if ref.shape[-1] == 0:
        raise ValueError("empty signals")
    if finite:
        check_finite(ref, "reference")
        check_finite(est, "estimate")


def _prepare(reference, estimate, zero_mean, check=True):
    ref, as_np = to_tensor(reference, "reference")
    est, _ = to_tensor(estimate, "estimate")
    est = est.to(ref.device)
    _check(ref, est, check)
    if zero_mean:
        ref = ref - ref.mean(-1, keepdim=True)
        est = est - est.mean(-1, keepdim=True)
    return ref, est, as_np


def _db(num: torch.Tensor, den: torch.Tensor, eps: float) -> torch.Tensor:
    return 10.0 * torch.log10((num + eps) / (den + eps))


def _alpha(ref, est, eps):
    return ((est * ref).sum(-1, keepdim=True) + eps) / ((ref * ref).sum(-1, keepdim=True) + eps)


def si_sdr(reference: Any, estimate: Any, eps: float = 0.0, zero_mean: bool = False, *, check: bool = True) -> Any:
    """Scale-invariant SDR in dB.  Shape: ``(..., n_samples)`` -> ``(...)``.  ``check=False``
    skips the finiteness test (for inputs validated already)."""
    ref, est, as_np = _prepare(reference, estimate, zero_mean, check)
    target = _alpha(ref, est, eps) * ref
    return back(_db((target**2).sum(-1), ((target - est) ** 2).sum(-1), eps), as_np)


def sd_sdr(reference: Any, estimate: Any, eps: float = 0.0, zero_mean: bool = False, *, check: bool = True) -> Any:
    """Scale-dependent SDR in dB.  Shape: ``(..., n_samples)`` -> ``(...)``.  ``check=False``
    skips the finiteness test (for inputs validated already)."""
    ref, est, as_np = _prepare(reference, estimate, zero_mean, check)
    target = _alpha(ref, est, eps) * ref
    return back(_db((target**2).sum(-1), ((ref - est) ** 2).sum(-1), eps), as_np)


def snr(reference: Any, estimate: Any, eps: float = 0.0, zero_mean: bool = False) -> Any:
    """Signal-to-noise ratio in dB.  Shape: ``(..., n_samples)`` -> ``(...)``."""
    ref, est, as_np = _prepare(reference, estimate, zero_mean)
    return back(_db((ref**2).sum(-1), ((ref - est) ** 2).sum(-1), eps), as_np)


def evaluate(reference: Any, estimate: Any, eps: float = 0.0, zero_mean: bool = False) -> dict:
    return {
        "si_sdr": si_sdr(reference, estimate, eps, zero_mean),
        "sd_sdr": sd_sdr(reference, estimate, eps, zero_mean),
        "snr": snr(reference, estimate, eps, zero_mean),
    }


# ----------------------------------------------------------------------------- registry
def _item_scores(ref: np.ndarray, est: np.ndarray, present: list[int], slots: list[int], params: dict) -> dict:
    """SI-SDR and SD-SDR of the estimates of ``slots`` against their own references."""
    eps = params.get("si_sdr_eps", 0.0)
    r, e = ref[slots], est[slots]
    return {"si_sdr": np.asarray(si_sdr(r, e, eps=eps, check=False), dtype=np.float64),
            "sd_sdr": np.asarray(sd_sdr(r, e, eps=eps, check=False), dtype=np.float64)}


_SI = {"si_sdr_eps": None, "zero_mean": False}
def _metric(name: str, label: str, description: str, position: float, **kw) -> Metric:
    return Metric(name=name, family="separation", higher_is_better=True, unit="dB", label=label,
                  description=description, position=position, **kw)


register(
    _metric("si_sdr", "SI-SDR", "scale-invariant SDR (Le Roux et al. 2019)", 4, bucket="sdr", sdr_family=True,
            near_copy=True, params=_SI, compute=_item_scores, report=("instrument", "breakdown")),
    _metric("sd_sdr", "SD-SDR", "scale-dependent SDR (Le Roux et al. 2019)", 5, bucket="sdr", sdr_family=True,
            near_copy=True, params=_SI, compute=_item_scores),
    _metric("si_sdr_in", "SI-SDR (mixture)", "SI-SDR of the input mixture as the estimate of each sounding source",
            5.9, bucket="sdr", mixture_of="si_sdr"),
    _metric("si_sdri", "SI-SDRi", "SI-SDR improvement over the input mixture", 7, bucket="sdr",
            improvement_of="si_sdr", report=("breakdown", "versus_input")),
)
