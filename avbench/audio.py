"""Audio I/O and resampling.

Waveforms are mono float32 arrays ``(n_samples,)`` or ``(n_src, n_samples)``.  WAV files
written by avbench are IEEE-float, written byte for byte by :func:`write_wav` (no
timestamps or peak chunks), so the same samples always give the same file.
"""
from __future__ import annotations

import hashlib
import os
import struct
from fractions import Fraction
from pathlib import Path

import numpy as np
import scipy.signal
import soundfile as sf


def write_wav(path: str | Path, x: np.ndarray, sample_rate: int) -> None:
    """Write a mono or multi-channel float32 WAV deterministically (atomic rename).

    Shape: ``(n_samples,)`` mono or ``(n_channels, n_samples)``.
    """
    a = np.asarray(x, dtype=np.float32)
    if a.ndim == 1:
        a = a[None]
    n_ch, n = a.shape
    data = np.ascontiguousarray(a.T).astype("<f4").tobytes()
    fmt = struct.pack("<HHIIHHH", 3, n_ch, sample_rate, sample_rate * 4 * n_ch, 4 * n_ch, 32, 0)
    fact = struct.pack("<I", n)
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"fact" + struct.pack("<I", 4) + fact
            + b"data" + struct.pack("<I", len(data)) + data)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(body)) + body)
    os.replace(tmp, path)


def read_audio(path: str | Path, dtype: str = "float32") -> tuple[np.ndarray, int]:
    """Read an audio file; returns ``(samples, sample_rate)`` with shape
    ``(n_samples,)`` for mono or ``(n_channels, n_samples)``."""
    x, sr = sf.read(str(path), dtype=dtype, always_2d=True)
    x = x.T
    if x.shape[0] == 1:
        x = x[0]
    return x, int(sr)


def info(path: str | Path) -> sf._SoundFileInfo:
    return sf.info(str(path))


def resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Polyphase resampling along the last axis (float64 internally)."""
    if sr_in == sr_out:
        return np.asarray(x)
    fr = Fraction(sr_out, sr_in)
    y = scipy.signal.resample_poly(np.asarray(x, dtype=np.float64), fr.numerator, fr.denominator, axis=-1)
    return y


def to_mono(x: np.ndarray) -> np.ndarray:
    return x if x.ndim == 1 else x.mean(axis=0)


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def segments(n_samples: int, length: int) -> list[tuple[int, int]]:
    """Non-overlapping ``[start, end)`` segments of ``length`` samples (remainder dropped)."""
    return [(s, s + length) for s in range(0, n_samples - length + 1, length)]
