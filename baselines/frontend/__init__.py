"""The audio front end shared by the mask-based separation baselines (Sound-of-Pixels,
Object-Prior, conditioned U-Nets): 11025 Hz mono, 65535-sample segments, STFT with
n_fft = window = 1022, hop 256, Hann, centred -> 512 x 256 bins; an optional
log-frequency warp of the magnitude onto 256 rows with ``grid_sample``
(``align_corners=True``) on the reference codes' base-21 grid (``warpgrid`` of
Sound-of-Pixels and conditioned-u-net) and its inverse for the masks; masks applied to
the mixture magnitude with the mixture phase; inverse STFT with ``length=65535``.
Batched; runs on the GPU when the tensors are there.

Shapes: waveforms ``(batch, n_samples)``; spectrograms ``(batch, 512, 256)``.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

SR, SEG, N_FFT, HOP = 11025, 65535, 1022, 256
N_FREQ = N_FFT // 2 + 1  # 512
#: the floor added before the logarithm: conditioned-u-net adds 1e-4 to every magnitude,
#: Sound-of-Pixels 1e-10
LOG_FLOOR = {"cunet": 1e-4, "sop": 1e-10}
#: conditioned-u-net's dB normalisation: 20 log(1 + |X| / a) / (20 log(1 + 1 / a)), a = 2**-16
DB_AMIN = 2.0 ** -16


def stft(x: torch.Tensor) -> torch.Tensor:
    """Complex STFT.  ``(batch, n)`` -> ``(batch, 512, n // 256 + 1)``."""
    w = torch.hann_window(N_FFT, dtype=x.dtype, device=x.device)
    return torch.stft(x, N_FFT, HOP, window=w, center=True, return_complex=True)


def istft(X: torch.Tensor, length: int = SEG) -> torch.Tensor:
    real_dtype = torch.float64 if X.dtype == torch.complex128 else torch.float32
    w = torch.hann_window(N_FFT, dtype=real_dtype, device=X.device)
    return torch.istft(X, N_FFT, HOP, window=w, center=True, length=length)


def warp_positions(n_rows: int = 256) -> torch.Tensor:
    """Normalised coordinate in [-1, 1] of the linear-frequency axis read by each output row
    of the warp: ``(21 ** ((y + 1) / 2) - 11) / 10`` for ``y`` in ``linspace(-1, 1, n_rows)``
    (the reference ``warpgrid(warp=True)``).  With ``align_corners=True``, -1 is bin 0 and
    1 the last bin."""
    y = torch.linspace(-1, 1, n_rows, dtype=torch.float64)
    return (torch.pow(21.0, (y + 1) / 2) - 11) / 10


def unwarp_positions(n_freq: int = N_FREQ) -> torch.Tensor:
    """Normalised coordinate of the warped axis read by each linear bin of the inverse:
    ``log(10 y + 11) / log(21) * 2 - 1`` (the reference ``warpgrid(warp=False)``)."""
    y = torch.linspace(-1, 1, n_freq, dtype=torch.float64)
    return torch.log(10 * y + 11) / math.log(21) * 2 - 1


def _grid(pos: torch.Tensor, n_t: int, device, dtype) -> torch.Tensor:
    x = torch.linspace(-1, 1, n_t, dtype=torch.float64)
    g = torch.stack(torch.meshgrid(x, pos, indexing="xy"), -1)  # (rows, n_t, 2): (x = time, y = freq)
    return g.to(device=device, dtype=dtype)


def warp(spec: torch.Tensor, n_rows: int = 256) -> torch.Tensor:
    """Linear -> log frequency.  ``(batch, 512, T)`` -> ``(batch, n_rows, T)``."""
    b, f, t = spec.shape
    g = _grid(warp_positions(n_rows), t, spec.device, spec.dtype).expand(b, -1, -1, -1)
    return F.grid_sample(spec.unsqueeze(1), g, mode="bilinear", align_corners=True).squeeze(1)


def unwarp(spec: torch.Tensor, n_freq: int = N_FREQ) -> torch.Tensor:
    """Log -> linear frequency (masks).  ``(batch, rows, T)`` -> ``(batch, n_freq, T)``."""
    b, r, t = spec.shape
    g = _grid(unwarp_positions(n_freq), t, spec.device, spec.dtype).expand(b, -1, -1, -1)
    return F.grid_sample(spec.unsqueeze(1), g, mode="bilinear", align_corners=True).squeeze(1)


def log_mag(mag: torch.Tensor, kind: str = "log", floor: float = LOG_FLOOR["cunet"]) -> torch.Tensor:
    """Network input values of a magnitude.  ``log``: ``log(|X| + floor)`` (the papers'
    log magnitude; the floor is the reference code's); ``db``: conditioned-u-net's
    dB normalisation ``log(1 + |X| / a) / log(1 + 1 / a)``, ``a = 2**-16`` (0 for silence,
    1 at full scale)."""
    if kind == "log":
        return torch.log(mag + floor)
    if kind == "db":
        return torch.log1p(mag / DB_AMIN) / math.log1p(1 / DB_AMIN)
    raise ValueError(f"unknown magnitude scale {kind!r}; use 'log' or 'db'")


def apply_masks(X: torch.Tensor, masks: torch.Tensor, length: int = SEG) -> torch.Tensor:
    """Masks on the mixture magnitude with the mixture phase, inverse STFT.
    ``X (batch, 512, T)`` complex, ``masks (batch, n_src, 512, T)`` -> ``(batch, n_src, length)``."""
    b, n = masks.shape[:2]
    est = X.unsqueeze(1) * masks.to(X.real.dtype)
    return istft(est.flatten(0, 1), length).view(b, n, length)
