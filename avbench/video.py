"""Procedural performance video of the built-in benchmark, and video decoding.

Every frame is a deterministic function of a player's notes: a class-distinct drawing
of the instrument (shape, proportions and colour per class) whose motion follows the
performance — bowing direction and bow position (strings), valves pressed and bell
brightness at onsets (winds and brass), slide extension (trombone) and a pitch marker.
Frames are produced lazily from the notes and can be exported to mp4 with PyAV.

Shapes: one player's frames ``(n_frames, height, width, 3)`` uint8.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw

from .instruments import BY_NAME

BACKGROUND = (232, 232, 228)


@dataclass(frozen=True)
class Note:
    start: float  #: onset, seconds
    end: float    #: offset, seconds
    pitch: int    #: MIDI key
    velocity: int = 100


@dataclass(frozen=True)
class PlayerState:
    active: bool
    onset: float      #: 1 at an onset, decays with 0.15 s time constant
    pitch: float      #: 0..1 within the instrument's rendering range
    bow: float        #: -1..1, direction and position of the bow/slide stroke
    note_index: int


def player_state(notes: Sequence[Note], t: float, instrument: str) -> PlayerState:
    """State of a player at time ``t`` (seconds) from its notes (sorted by start)."""
    inst = BY_NAME[instrument]
    last = -1
    for i, n in enumerate(notes):
        if n.start <= t:
            last = i
        else:
            break
    if last < 0:
        return PlayerState(False, 0.0, 0.5, 0.0, -1)
    n = notes[last]
    active = n.start <= t < n.end
    onset = math.exp(-(t - n.start) / 0.15)
    pitch = (n.pitch - inst.low) / max(1, inst.high - inst.low)
    prog = min(1.0, (t - n.start) / max(1e-3, n.end - n.start))
    direction = 1.0 if last % 2 == 0 else -1.0
    bow = direction * (2 * prog - 1) if active else 0.0
    return PlayerState(active, onset, float(min(1.0, max(0.0, pitch))), bow, last)


def _shade(color, k: float):
    return tuple(int(max(0, min(255, c * k))) for c in color)


def draw_player(instrument: str, state: PlayerState, size: int = 224, jitter: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """One frame ``(size, size, 3)`` uint8 of a player in ``state``."""
    inst = BY_NAME[instrument]
    img = Image.new("RGB", (size, size), BACKGROUND)
    d = ImageDraw.Draw(img)
    s = size / 224.0
    cx = size / 2 + jitter[0] * s
    cy = size / 2 + jitter[1] * s
    bright = (0.75 + 0.35 * state.onset) if state.active else 0.55
    col = _shade(inst.color, bright)
    dark = _shade(inst.color, 0.45)
    marker = (200, 30, 30) if state.active else (120, 120, 120)
    name = inst.name

    def rect(x0, y0, x1, y1, fill, outline=None):
        d.rectangle([cx + x0 * s, cy + y0 * s, cx + x1 * s, cy + y1 * s], fill=fill, outline=outline)

    def ell(x0, y0, x1, y1, fill, outline=None, width=1):
        d.ellipse([cx + x0 * s, cy + y0 * s, cx + x1 * s, cy + y1 * s], fill=fill, outline=outline, width=width)

    def line(pts, fill, width):
        d.line([(cx + x * s, cy + y * s) for x, y in pts], fill=fill, width=max(1, int(width * s)))

    if inst.family == "strings":
        k = {"violin": 0.55, "viola": 0.63, "cello": 0.82, "double_bass": 1.0}[name]
        w, h = 70 * k, 120 * k
        ell(-w / 2, -h / 2, w / 2, 0.05 * h, col, dark)
        ell(-w * 0.6, -0.05 * h, w * 0.6, h / 2, col, dark)
        rect(-4 * k, -h / 2 - 60 * k, 4 * k, -h / 2 + 10, dark)
        # f-holes
        line([(-w * 0.2, -0.1 * h), (-w * 0.2, 0.15 * h)], dark, 3)
        line([(w * 0.2, -0.1 * h), (w * 0.2, 0.15 * h)], dark, 3)
        # bow: a horizontal stroke across the strings, moving with the bow state
        bx = state.bow * 45
        line([(-70 + bx, 0.12 * h), (70 + bx, 0.12 * h - 8)], (70, 50, 30), 4)
        # pitch marker: finger position on the neck
        py = -h / 2 - 55 * k + state.pitch * 55 * k
        ell(-6, py - 6, 6, py + 6, marker)
    elif name == "flute":
        rect(-95, -7, 95, 7, col, dark)
        for i in range(6):
            x = -40 + i * 20
            ell(x - 5, -5, x + 5, 5, dark if state.active and i < 1 + 5 * state.pitch else BACKGROUND)
        ell(-85, -12, -70, 12, dark)
        px = -80 + 160 * state.pitch
        ell(px - 6, 14, px + 6, 26, marker)
    elif name in ("oboe", "clarinet"):
        wd = 8 if name == "oboe" else 11
        rect(-wd, -95, wd, 80, col, dark)
        if name == "clarinet":
            d.polygon([(cx - 12 * s, cy + 75 * s), (cx + 12 * s, cy + 75 * s), (cx + 24 * s, cy + 100 * s), (cx - 24 * s, cy + 100 * s)], fill=col)
        else:
            ell(-14, 72, 14, 96, col, dark)
        for i in range(6):
            y = -60 + i * 22
            ell(-5, y - 5, 5, y + 5, (240, 240, 240) if state.active and i < 1 + 5 * state.pitch else dark)
        py = 80 - 160 * state.pitch
        ell(22, py - 6, 34, py + 6, marker)
    elif name == "bassoon":
        rect(-14, -100, 14, 95, col, dark)
        rect(14, -40, 24, 60, dark)
        line([(-14, -80), (-45, -95), (-50, -75)], (180, 170, 150), 4)
        for i in range(4):
            y = -20 + i * 25
            ell(-6, y - 6, 6, y + 6, (240, 240, 240) if state.active and i < 1 + 3 * state.pitch else dark)
        py = 90 - 180 * state.pitch
        ell(32, py - 6, 44, py + 6, marker)
    elif name == "saxophone":
        rect(-10, -95, 10, 50, col, dark)
        d.arc([cx - 10 * s, cy + 20 * s, cx + 50 * s, cy + 80 * s], 0, 180, fill=col, width=int(20 * s))
        ell(28, -10, 72, 30, col, dark)
        for i in range(5):
            y = -70 + i * 24
            ell(-6, y - 6, 6, y + 6, (255, 255, 255) if state.active and i < 1 + 4 * state.pitch else dark)
        py = 40 - 120 * state.pitch
        ell(-34, py - 6, -22, py + 6, marker)
    elif name == "trumpet":
        rect(-90, -8, 50, 8, col, dark)
        d.polygon([(cx + 50 * s, cy - 8 * s), (cx + 95 * s, cy - 30 * s), (cx + 95 * s, cy + 30 * s), (cx + 50 * s, cy + 8 * s)], fill=col)
        for i in range(3):
            x = -40 + i * 22
            down = 10 if state.active and ((state.note_index >> i) & 1) else 0
            rect(x - 6, -30 + down, x + 6, -8 + down, dark)
        px = -80 + 160 * state.pitch
        ell(px - 6, 20, px + 6, 32, marker)
    elif name == "horn":
        ell(-60, -60, 60, 60, None, col, width=int(16 * s))
        ell(-30, -30, 30, 30, None, dark, width=int(6 * s))
        d.polygon([(cx + 40 * s, cy + 30 * s), (cx + 95 * s, cy + 70 * s), (cx + 70 * s, cy + 95 * s)], fill=col)
        rect(-10, -12 + (8 if state.active else 0), 10, 4 + (8 if state.active else 0), dark)
        py = 50 - 100 * state.pitch
        ell(-95, py - 6, -83, py + 6, marker)
    elif name == "trombone":
        ext = 20 + 70 * (1 - state.pitch)  # low notes: slide far out
        rect(-100, -20, 10, -12, col, dark)
        rect(-100, 12, -100 + ext + 60, 20, col, dark)
        rect(-100 + ext + 50, -20, -100 + ext + 60, 20, col)
        d.polygon([(cx + 10 * s, cy - 16 * s), (cx + 95 * s, cy - 45 * s), (cx + 95 * s, cy + 15 * s)], fill=col)
        ell(-106 + ext + 55, 30, -94 + ext + 55, 42, marker)
    elif name == "tuba":
        rect(-35, -40, 35, 70, col, dark)
        ell(-55, -100, 55, -40, col, dark)
        ell(-35, -90, 35, -50, _shade(inst.color, 0.3 + 0.5 * state.onset if state.active else 0.3))
        for i in range(4):
            x = -24 + i * 16
            down = 8 if state.active and ((state.note_index >> i) & 1) else 0
            rect(x - 5, 0 + down, x + 5, 20 + down, dark)
        py = 60 - 120 * state.pitch
        ell(45, py - 6, 57, py + 6, marker)
    else:  # pragma: no cover - every canonical instrument is drawn above
        raise KeyError(instrument)
    return np.asarray(img, dtype=np.uint8)


def player_frames(notes: Sequence[Note], instrument: str, start: float, n_frames: int, fps: float = 8.0,
                  size: int = 224, jitter: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Frames of one player from ``start`` seconds.  Shape: ``(n_frames, size, size, 3)``."""
    out = np.empty((n_frames, size, size, 3), dtype=np.uint8)
    for k in range(n_frames):
        out[k] = draw_player(instrument, player_state(notes, start + k / fps, instrument), size, jitter)
    return out


def tile(frames: Sequence[np.ndarray]) -> np.ndarray:
    """Ensemble view: players side by side in one or two rows.

    Shape: k arrays ``(n_frames, h, w, 3)`` -> ``(n_frames, rows*h, cols*w, 3)``.
    """
    k = len(frames)
    cols = k if k <= 3 else math.ceil(k / 2)
    rows = 1 if k <= 3 else 2
    n, h, w, _ = frames[0].shape
    out = np.full((n, rows * h, cols * w, 3), BACKGROUND, dtype=np.uint8)
    for i, f in enumerate(frames):
        r, c = divmod(i, cols)
        out[:, r * h : (r + 1) * h, c * w : (c + 1) * w] = f
    return out


def write_mp4(path: str | Path, frames: np.ndarray, fps: float = 8.0) -> None:
    """Encode ``(n_frames, h, w, 3)`` uint8 frames to mp4 with PyAV (H.264 when available)."""
    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n, h, w, _ = frames.shape
    with av.open(str(path), mode="w") as container:
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        stream = container.add_stream(codec, rate=int(round(fps)))
        stream.width = w + (w % 2)
        stream.height = h + (h % 2)
        stream.pix_fmt = "yuv420p"
        for f in frames:
            if f.shape[0] != stream.height or f.shape[1] != stream.width:
                f = np.pad(f, ((0, stream.height - h), (0, stream.width - w), (0, 0)), mode="edge")
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def read_video(path: str | Path, fps: float | None = None, size: int | None = None, max_frames: int | None = None) -> np.ndarray:
    """Decode a video with PyAV to ``(n_frames, h, w, 3)`` uint8, optionally resampled
    to ``fps`` (nearest frame) and resized to ``size`` x ``size``."""
    import av

    frames, times = [], []
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        for fr in c.decode(stream):
            img = fr.to_image()
            if size is not None:
                img = img.resize((size, size), Image.BILINEAR)
            frames.append(np.asarray(img, dtype=np.uint8))
            times.append(float(fr.time) if fr.time is not None else len(times) / float(stream.average_rate or 25))
    if not frames:
        return np.zeros((0, size or 0, size or 0, 3), dtype=np.uint8)
    arr = np.stack(frames)
    if fps is not None:
        t = np.asarray(times)
        want = np.arange(0, t[-1] + 1e-9, 1.0 / fps)
        idx = np.clip(np.searchsorted(t, want, side="right") - 1, 0, len(t) - 1)
        arr = arr[idx]
    if max_frames is not None:
        arr = arr[:max_frames]
    return arr


def write_av(path: str | Path, frames: np.ndarray, fps: float, audio: np.ndarray | None = None,
             sample_rate: int = 44100) -> None:
    """Encode frames ``(n_frames, h, w, 3)`` and an optional mono audio track ``(n_samples,)``
    (AAC) into one mp4 with PyAV."""
    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n, h, w, _ = frames.shape
    with av.open(str(path), mode="w") as c:
        vs = c.add_stream("libx264" if "libx264" in av.codecs_available else "mpeg4", rate=int(round(fps)))
        vs.width, vs.height, vs.pix_fmt = w - (w % 2), h - (h % 2), "yuv420p"
        aus = None
        if audio is not None:
            aus = c.add_stream("aac", rate=sample_rate)
            aus.layout = "mono"
        for f in frames:
            fr = av.VideoFrame.from_ndarray(np.ascontiguousarray(f[: vs.height, : vs.width]), format="rgb24")
            for p in vs.encode(fr):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
        if aus is not None:
            a = np.asarray(audio, dtype=np.float32)[None]
            step = 1024
            for k in range(0, a.shape[1], step):
                af = av.AudioFrame.from_ndarray(np.ascontiguousarray(a[:, k:k + step]), format="fltp", layout="mono")
                af.sample_rate = sample_rate
                af.pts = k
                for p in aus.encode(af):
                    c.mux(p)
            for p in aus.encode():
                c.mux(p)


def read_frames(path: str | Path, fps: float, size: int | None = None, start: float = 0.0,
                end: float | None = None) -> np.ndarray:
    """Frames of ``[start, end)`` seconds at ``fps`` (nearest earlier frame), resized to
    ``size`` x ``size``: from a video file (PyAV, seeking to ``start``) or from a folder of
    extracted frames ``000001.jpg ...`` (taken to be at ``fps`` from time 0).
    Shape: ``(n_frames, size, size, 3)`` uint8."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        a = int(round(start * fps))
        b = len(files) if end is None else min(len(files), int(round(end * fps)))
        out = []
        for p in files[a:b]:
            img = Image.open(p).convert("RGB")
            if size is not None:
                img = img.resize((size, size), Image.BILINEAR)
            out.append(np.asarray(img, dtype=np.uint8))
        return np.stack(out) if out else np.zeros((0, size or 0, size or 0, 3), np.uint8)
    import av

    frames, times = [], []
    with av.open(str(path)) as c:
        st = c.streams.video[0]
        if start > 0 and st.time_base is not None:
            c.seek(int(start / st.time_base), stream=st, backward=True, any_frame=False)
        for fr in c.decode(st):
            t = float(fr.time) if fr.time is not None else len(times) / float(st.average_rate or 25)
            if end is not None and t >= end:
                break
            img = fr.to_image()
            if size is not None:
                img = img.resize((size, size), Image.BILINEAR)
            frames.append(np.asarray(img, dtype=np.uint8))
            times.append(t)
    if not frames:
        return np.zeros((0, size or 0, size or 0, 3), np.uint8)
    t = np.asarray(times)
    stop = end if end is not None else t[-1] + 1e-9
    want = np.arange(start, stop - 1e-9, 1.0 / fps) if end is not None else np.arange(start, stop, 1.0 / fps)
    idx = np.clip(np.searchsorted(t, want + 1e-9, side="right") - 1, 0, len(t) - 1)
    return np.stack(frames)[idx]
