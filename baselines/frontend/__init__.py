"""The audio front end shared by the mask-based separation baselines (Sound-of-Pixels,
Object-Prior, conditioned U-Nets): 11025 Hz mono, 65535-sample segments, STFT with
n_fft = window = 1022, hop 256, Hann, centred -> 512 x 256 bins; an optional
log-frequency warp of the magnitude onto 256 rows with ``grid_sample``
(``align_corners=True``, the Sound-of-Pixels warp) and its inverse for the masks; masks
applied to the mixture magnitude with the mixture phase; inverse STFT with
``length=65535``.  Batched; runs on the GPU when the tensors are there.

Shapes: waveforms ``(batch, n_samples)``; spectrograms ``(batch, 512, 256)``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

SR, SEG, N_FFT, HOP = 11025, 65535, 1022, 256
N_FREQ = N_FFT // 2 + 1  # 512


def stft(x: torch.Tensor) -> torch.Tensor:
    """Complex STFT.  ``(batch, n)`` -> ``(batch, 512, n // 256 + 1)``."""
    w = torch.hann_window(N_FFT, dtype=x.dtype, device=x.device)
    return torch.stft(x, N_FFT, HOP, window=w, center=True, return_complex=True)


def istft(X: torch.Tensor, length: int = SEG) -> torch.Tensor:
    real_dtype = torch.float64 if X.dtype == torch.complex128 else torch.float32
    w = torch.hann_window(N_FFT, dtype=real_dtype, device=X.device)
    return torch.istft(X, N_FFT, HOP, window=w, center=True, length=length)


def _grid(n_in: int, n_out: int, n_t: int, inverse: bool, device, dtype) -> torch.Tensor:
    """Sampling grid of the log-frequency warp (``inverse``: back to linear frequency).
    Output row ``i`` of the warp reads linear bin ``f(i) = n_in ** (i / (n_out - 1)) - 1``
    (so row 0 is bin 0 and the last row the last bin); the inverse reads the row whose
    warp lands on each linear bin."""
    if not inverse:
        pos = torch.pow(float(n_in), torch.linspace(0, 1, n_out, dtype=torch.float64)) - 1.0  # in [0, n_in - 1]
        y = pos / (n_in - 1) * 2 - 1
    else:  # n_in = warped rows, n_out = linear bins
        lin = torch.arange(n_out, dtype=torch.float64)
        rows = torch.log(lin + 1.0) / torch.log(torch.tensor(float(n_out))) * (n_in - 1)
        y = rows / (n_in - 1) * 2 - 1
    x = torch.linspace(-1, 1, n_t, dtype=torch.float64)
    g = torch.stack(torch.meshgrid(x, y, indexing="xy"), -1)  # (n_out, n_t, 2): (x = time, y = freq)
    return g.to(device=device, dtype=dtype)


def warp(spec: torch.Tensor, n_rows: int = 256) -> torch.Tensor:
    """Linear -> log frequency.  ``(batch, 512, T)`` -> ``(batch, n_rows, T)``."""
    b, f, t = spec.shape
    g = _grid(f, n_rows, t, False, spec.device, spec.dtype).expand(b, -1, -1, -1)
    return F.grid_sample(spec.unsqueeze(1), g, mode="bilinear", align_corners=True).squeeze(1)


def unwarp(spec: torch.Tensor, n_freq: int = N_FREQ) -> torch.Tensor:
    """Log -> linear frequency (masks).  ``(batch, rows, T)`` -> ``(batch, n_freq, T)``."""
    b, r, t = spec.shape
    g = _grid(r, n_freq, t, True, spec.device, spec.dtype).expand(b, -1, -1, -1)
    return F.grid_sample(spec.unsqueeze(1), g, mode="bilinear", align_corners=True).squeeze(1)


def log_mag(mag: torch.Tensor, kind: str = "log") -> torch.Tensor:
    """``log``: log(1 + |X|); ``db``: dB normalised to [0, 1] over an 80 dB range."""
    if kind == "log":
        return torch.log1p(mag)
    db = 20 * torch.log10(mag.clamp_min(1e-8))
    top = db.amax(dim=(-2, -1), keepdim=True)
    return ((db - top + 80.0) / 80.0).clamp(0, 1)


def apply_masks(X: torch.Tensor, masks: torch.Tensor, length: int = SEG) -> torch.Tensor:
    """Masks on the mixture magnitude with the mixture phase, inverse STFT.
    ``X (batch, 512, T)`` complex, ``masks (batch, n_src, 512, T)`` -> ``(batch, n_src, length)``."""
    b, n = masks.shape[:2]
    est = X.unsqueeze(1) * masks.to(X.real.dtype)
    return istft(est.flatten(0, 1), length).view(b, n, length)
