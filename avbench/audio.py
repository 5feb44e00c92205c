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


SOUNDFILE_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".aif", ".aiff")


def decode(path: str | Path, sample_rate: int | None = None, start: float | None = None,
           end: float | None = None) -> tuple[np.ndarray, int]:
    """Decode any audio file or the audio track of a video container to mono float32,
    optionally the stretch ``[start, end)`` seconds, resampled to ``sample_rate``.

    Audio files go through soundfile; video containers (mp4, mkv, webm) through PyAV.
    Shape: ``(n_samples,)``.
    """
    path = Path(path)
    if path.suffix.lower() in SOUNDFILE_SUFFIXES:
        with sf.SoundFile(str(path)) as f:
            sr = f.samplerate
            a = int(round((start or 0.0) * sr))
            f.seek(min(a, f.frames))
            n = -1 if end is None else max(0, int(round(end * sr)) - a)
            x = f.read(n, dtype="float32", always_2d=True)
        x = x.mean(axis=1)
    else:
        import av

        chunks, sr = [], None
        with av.open(str(path)) as c:
            if not c.streams.audio:
                raise ValueError(f"{path} has no audio stream")
            st = c.streams.audio[0]
            sr = st.rate
            for fr in c.decode(st):
                arr = fr.to_ndarray().astype(np.float32)
                if not fr.format.is_planar:
                    arr = arr.reshape(-1, len(fr.layout.channels)).T
                chunks.append(arr)
        x = np.concatenate(chunks, axis=1).mean(axis=0) if chunks else np.zeros(0, np.float32)
        a = int(round((start or 0.0) * sr))
        b = None if end is None else int(round(end * sr))
        x = x[a:b]
    if sample_rate is not None and sample_rate != sr:
        x = resample(x, sr, sample_rate).astype(np.float32)
        sr = sample_rate
    return np.asarray(x, dtype=np.float32), int(sr)


def wav_truncated(path: str | Path) -> str | None:
    """For a RIFF/WAVE file, why it is truncated or malformed (``None`` when whole)."""
    p = Path(path)
    size = p.stat().st_size
    with open(p, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
            return "not a RIFF/WAVE file"
        if head[:4] == b"RF64":
            return None
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            cid, n = struct.unpack("<4sI", f.read(8))
            if cid == b"data":
                have = size - pos - 8
                return None if have >= n else f"data chunk declares {n} bytes, file holds {have}"
            pos += 8 + n + (n & 1)
    return "no data chunk"
