"""Small stand-ins for the real datasets in their exact native layouts (for tests and for
trying the loaders without the data).

Every file a manifest names is written — file names, folders and annotation formats as
in the real datasets, with a few seconds of generated audio and a few frames — so that
loading, verification and preparation can be exercised end to end.  URMP gets distinct
generated stems per part (48 kHz 16-bit, the mixture their sum); piece ``NN`` lasts one
65535-sample segment at 11025 Hz plus half a second when ``NN % 3 == 2`` and half a
second otherwise.  The YouTube
datasets share one small video per dataset (hard links), so thousands of items cost
little.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .. import audio as au
from ..instruments import BY_NAME
from ..data import real

SEG_SECONDS = 65535 / 11025


def urmp_seconds(number: str | int) -> float:
    return (SEG_SECONDS if int(number) % 3 == 2 else 0.0) + 0.5


def _tone(f0: float, seconds: float, sr: int, seed: int) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    env = 0.5 + 0.5 * np.sin(2 * np.pi * (0.5 + seed % 3) * t) ** 2
    x = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in (1, 2, 3))
    return (0.2 * env * x).astype(np.float32)


def _video(path: Path, n_frames: int = 4, size: int = 32, fps: float = 8.0, audio: np.ndarray | None = None,
           sample_rate: int = 22050, color: tuple[int, int, int] = (200, 80, 40)) -> None:
    from ..video import write_av

    fr = np.zeros((n_frames, size, size, 3), np.uint8)
    for k in range(n_frames):
        fr[k, :, :] = color
        fr[k, k % size, :] = 255
    write_av(path, fr, fps, audio, sample_rate)


def _wav(path: Path, x: np.ndarray, sr: int) -> None:
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), x, sr, subtype="PCM_16")


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        dst.unlink()
    try:
        os.link(src, dst)
    except OSError:
        dst.write_bytes(src.read_bytes())


def make_urmp(root: str | Path, version: str = "1") -> Path:
    root = Path(root)
    sr = 48000
    for r in real.rows("urmp", version):
        secs = urmp_seconds(r.extra["number"])
        mix = None
        for p in r.extra["parts"]:
            inst = BY_NAME[p["instrument"]]
            f0 = 440.0 * 2 ** (((inst.low + inst.high) / 2 - 69) / 12) * (1 + 0.01 * p["part"])
            x = _tone(f0, secs, sr, p["part"])
            _wav(root / r.files[f"stem/{p['part']}"], x, sr)
            mix = x.copy() if mix is None else mix + x
            t = np.arange(0, secs, 0.005)
            (root / r.files[f"f0s/{p['part']}"]).write_text("".join(f"{v:.3f}\t{f0:.3f}\n" for v in t))
            (root / r.files[f"notes/{p['part']}"]).write_text(
                "".join(f"{a:.3f}\t{f0:.3f}\t{0.45:.3f}\n" for a in np.arange(0, max(secs - 0.5, 0.1), 0.5)))
        _wav(root / r.files["mix"], mix, sr)
        _video(root / r.files["video"], n_frames=3)
    return root


def make_youtube(name: str, root: str | Path, version: str | None = None, splits: list[str] | None = None,
                 seconds: float = 2.0, layout: str = "video") -> Path:
    """A tree for Solos, MUSIC, FCVID, YouTube-8M or a derived AudioSet manifest.
    ``layout="alt"`` writes the alternative layout (MUSIC: Sound-of-Pixels audio + frames)."""
    root = Path(root)
    version = version or real.info(name).default_version
    rows = real._rows_of(name, version, splits)
    tmpl = root / ".fixture-template"
    tmpl.mkdir(parents=True, exist_ok=True)
    sr = 22050
    audio = _tone(440.0, seconds, sr, 0)
    vid = tmpl / "v.mp4"
    _video(vid, n_frames=int(seconds * 8), audio=audio, sample_rate=sr)
    mp3 = tmpl / "a.mp3"
    import soundfile as sf

    sf.write(str(mp3), audio, sr)
    frames = tmpl / "frames"
    if layout == "alt":
        from PIL import Image

        frames.mkdir(exist_ok=True)
        for k in range(int(seconds * 8)):
            Image.fromarray(np.full((32, 32, 3), 40 * (k % 6), np.uint8)).save(frames / f"{k + 1:06d}.jpg")
    for r in rows:
        files = r.alt_files if layout == "alt" else r.files
        for role, rel in files.items():
            dst = root / rel
            if role == "frames":
                dst.mkdir(parents=True, exist_ok=True)
                for f in frames.iterdir():
                    _link(f, dst / f.name)
            elif dst.suffix == ".mp3":
                _link(mp3, dst)
            elif dst.suffix == ".wav":
                au.write_wav(dst, audio, sr)
            else:
                _link(vid, dst)
    return root


def make(name: str, root: str | Path, version: str | None = None, **kw) -> Path:
    if name == "urmp":
        return make_urmp(root, version or "1")
    return make_youtube(name, root, version, **kw)
