"""Rendering of data version 1: the soundfont, its sounding keys and gains, and each player's notes rendered into a stem."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ... import audio as au
from ...errors import DataError
from ...instruments import BY_NAME, INSTRUMENTS
from .config import RENDER_RATE, Config
from .corpus import _stable_hash, PlayerPlan, RecordingPlan

# ---------------------------------------------------------------------------------------
# soundfont


def soundfont_path() -> Path:
    import pretty_midi

    return Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"


_SF_BYTES: bytes | None = None
_SOUNDING: dict[str, frozenset[int]] | None = None
_GAIN: dict[str, float] | None = None


def _soundfont():
    """A fresh synthesizer for every rendering: tinysoundfont keeps state across notes
    (voices, filters) that ``reset()`` does not clear, so reusing one would make a
    recording's bytes depend on what was rendered before it."""
    global _SF_BYTES
    try:
        from tinysoundfont import _tinysoundfont as tsf
    except ImportError as e:  # pragma: no cover - install problem
        raise DataError("tinysoundfont is not installed",
                        fix="run scripts/install.sh (pip install --no-deps tinysoundfont==0.3.7)") from e
    if _SF_BYTES is None:
        _SF_BYTES = soundfont_path().read_bytes()
    sf = tsf.SoundFont(_SF_BYTES)
    sf.set_output(tsf.OutputMode.Mono, RENDER_RATE, 0.0)
    sf.set_max_voices(256)
    return sf


def _render_keys(program: int, key: int, velocity: float, dur: float, tail: float) -> np.ndarray:
    sf = _soundfont()
    idx = sf.get_preset_index(0, program)
    sf.note_on(idx, key, velocity)
    a = _render(sf, int(dur * RENDER_RATE))
    sf.note_off(idx, key)
    b = _render(sf, int(tail * RENDER_RATE))
    return np.concatenate([a, b])


def _render(sf, n: int) -> np.ndarray:
    from .soundfonts import render

    return render(sf, n)


def sounding_keys() -> dict[str, frozenset[int]]:
    """Keys of every instrument's range that actually sound in the soundfont.

    The soundfont has holes (e.g. missing samples at single keys); a key counts as
    sounding when a 0.25 s note at velocity 100 reaches an RMS of 1e-3.
    """
    global _SOUNDING
    if _SOUNDING is None:
        out = {}
        for inst in INSTRUMENTS:
            ok = set()
            for k in range(inst.low, inst.high + 1):
                x = _render_keys(inst.gm_program, k, 100 / 127, 0.25, 0.0)
                if float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) >= 1e-3:
                    ok.add(k)
            out[inst.name] = frozenset(ok)
        _SOUNDING = out
    return _SOUNDING


def instrument_gains() -> dict[str, float]:
    """Per-instrument gain bringing a mid-range note at velocity 100 to -20 dBFS RMS."""
    global _GAIN
    if _GAIN is None:
        g = {}
        snd = sounding_keys()
        for inst in INSTRUMENTS:
            keys = sorted(snd[inst.name])
            k = keys[len(keys) // 2]
            x = _render_keys(inst.gm_program, k, 100 / 127, 1.0, 0.0).astype(np.float64)
            rms = float(np.sqrt(np.mean(x**2)))
            g[inst.name] = 0.1 / rms
        _GAIN = g
    return _GAIN


# ---------------------------------------------------------------------------------------
# rendering


def _fit_key(key: int, inst: str, sounding: frozenset[int]) -> int | None:
    i = BY_NAME[inst]
    while key < i.low:
        key += 12
    while key > i.high:
        key -= 12
    for k in (key, key + 12, key - 12):
        if i.low <= k <= i.high and k in sounding:
            return k
    return None


def player_notes(cfg: Config, rec: RecordingPlan, pl: PlayerPlan, parts) -> list[tuple[float, float, int, int]]:
    """``(start_s, end_s, key, velocity)`` of one player, cut to the recording length.

    Notes end at least 0.5 s before the end so that release tails are rendered.
    """
    sounding = sounding_keys()[pl.instrument]
    sec_per_q = 60.0 / rec.bpm
    total = cfg.n_samples / cfg.sample_rate
    last_end = total - 0.5
    out = []
    rng = np.random.default_rng(_stable_hash(cfg.seed, "vel", rec.id, pl.instrument))
    for on, dur, key in parts[pl.part]:
        s = on * sec_per_q
        e = (on + dur) * sec_per_q
        if s >= last_end - 0.05:
            break
        e = min(e, last_end)
        k = _fit_key(key + pl.transpose, pl.instrument, sounding)
        if k is None:
            continue
        v = int(np.clip(pl.velocity + rng.integers(-6, 7), 1, 127))
        out.append((round(s, 6), round(e, 6), k, v))
    return out


def render_player(notes, inst: str, n_out: int, sample_rate: int) -> np.ndarray:
    """Render one player's notes alone; float32 at ``sample_rate``, ``n_out`` samples."""
    sf = _soundfont()
    prog = sf.get_preset_index(0, BY_NAME[inst].gm_program)
    n_render = n_out * RENDER_RATE // sample_rate
    events = []
    for s, e, k, v in notes:
        events.append((int(round(s * RENDER_RATE)), 1, k, v))
        events.append((int(round(e * RENDER_RATE)), 0, k, v))
    events.sort()
    chunks, pos = [], 0
    for t, kind, k, v in events:
        t = min(t, n_render)
        if t > pos:
            chunks.append(_render(sf, t - pos))
            pos = t
        if kind == 1:
            sf.note_on(prog, k, v / 127)
        else:
            sf.note_off(prog, k)
    if pos < n_render:
        chunks.append(_render(sf, n_render - pos))
    x = np.concatenate(chunks).astype(np.float64) * instrument_gains()[inst]
    if sample_rate != RENDER_RATE:
        x = au.resample(x, RENDER_RATE, sample_rate)
    x = x[:n_out]
    if x.shape[0] < n_out:
        x = np.pad(x, (0, n_out - x.shape[0]))
    x[np.abs(x) < 1e-9] = 0.0  # exact digital silence where the player rests
    return x.astype(np.float32)


def _render_recording_v1(args) -> dict:
    cfg, rec, parts, root = args
    root = Path(root)
    stems, notes_out = [], {}
    for pl in rec.players:
        notes = player_notes(cfg, rec, pl, parts)
        notes_out[pl.instrument] = [list(n) for n in notes]
        stems.append(render_player(notes, pl.instrument, cfg.n_samples, cfg.sample_rate))
    return _write_recording(cfg, rec, root, stems, notes_out)


def _write_recording(cfg: Config, rec: RecordingPlan, root: Path, stems: list, notes_out: dict) -> dict:
    """Write a recording's stems, mixture (their exact float32 sum) and notes; its manifest row."""
    # one common gain per recording keeps the mixture below full scale
    mix = stems[0].copy()
    for s in stems[1:]:
        mix += s
    peak = float(np.max(np.abs(mix))) if mix.size else 0.0
    if peak > 0.9:
        g = np.float32(2.0 ** -int(np.ceil(np.log2(peak / 0.9))))
        stems = [s * g for s in stems]
        mix = stems[0].copy()
        for s in stems[1:]:
            mix += s
    files = {}
    rdir = root / "audio" / rec.id
    for pl, s in zip(rec.players, stems):
        rel = f"audio/{rec.id}/{pl.instrument}.wav"
        au.write_wav(root / rel, s, cfg.sample_rate)
        files[pl.instrument] = rel
    au.write_wav(rdir / "mix.wav", mix, cfg.sample_rate)
    notes_rel = f"notes/{rec.id}.json"
    (root / "notes").mkdir(parents=True, exist_ok=True)
    with open(root / notes_rel, "w") as f:
        json.dump({"recording": rec.id, "players": notes_out}, f, sort_keys=True, separators=(",", ":"))
    shas = {rel: au.sha256_file(root / rel) for rel in [*files.values(), f"audio/{rec.id}/mix.wav", notes_rel]}
    return {
        "id": rec.id,
        "kind": rec.kind,
        "split": rec.split,
        "work": rec.work,
        "composer": rec.composer,
        "title": rec.title,
        "bpm": rec.bpm,
        "instruments": [pl.instrument for pl in rec.players],
        "parts": [pl.part for pl in rec.players],
        "transpose": [pl.transpose for pl in rec.players],
        "n_sources": len(rec.players),
        "sample_rate": cfg.sample_rate,
        "n_samples": cfg.n_samples,
        "mix": f"audio/{rec.id}/mix.wav",
        "stems": files,
        "notes": notes_rel,
        "sha256": shas,
    }
