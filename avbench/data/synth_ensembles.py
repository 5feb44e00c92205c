"""``synth-ensembles``: the built-in, generated audio-visual chamber-ensemble benchmark.

Real multi-part works from the music21 corpus are assigned to the 13 URMP instruments,
transposed by octaves into each instrument's playing range and rendered part by part
with the General MIDI soundfont that ships with pretty_midi (TimGM6mb.sf2) through
tinysoundfont.  One stem per player; the mixture is the exact float32 sum of the stems
(added in slot order).  Audio is written as 11025 Hz mono float32 WAV (44100 Hz on
request).  Video frames are a deterministic function of the notes (:mod:`avbench.video`).

Generation is deterministic: a configuration (``mini`` or ``full``) and the generator
version fully decide every byte; the manifest records the sha256 of every file.

Layout under ``$AVBENCH_HOME/data/synth-ensembles/<version>/``::

    dataset.json                  configuration, generator version, manifest sha256
    manifest.jsonl                one row per recording (ensembles and solos)
    audio/<recording>/mix.wav     mixture (exact sum of the stems)
    audio/<recording>/<inst>.wav  one stem per player
    notes/<recording>.json        the notes each player plays (seconds, MIDI keys)
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import re
import shutil
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from .. import audio as au
from ..config import data_dir
from ..errors import DataError
from ..instruments import BY_NAME, CLASSES, INSTRUMENTS

NAME = "synth-ensembles"
GENERATOR_VERSION = "1.0.0"
RENDER_RATE = 44100
SEGMENT = 65535


@dataclass(frozen=True)
class Config:
    """What decides a data version."""

    version: str
    #: corpus pools: (music21 composer, number of works to take)
    pools: tuple[tuple[str, int], ...]
    segments_per_recording: int
    solos_per_work: int
    sample_rate: int = 11025
    seed: int = 20261122
    split_fractions: tuple[float, float, float] = (0.7, 0.1, 0.2)  # train, val, test

    @property
    def n_samples(self) -> int:
        return self.segments_per_recording * SEGMENT * self.sample_rate // 11025


CONFIGS: dict[str, Config] = {
    "mini": Config("1-mini", (("bach", 7), ("monteverdi", 2), ("trecento", 3)), 2, 5),
    "full": Config(
        "1",
        (("bach", 130), ("monteverdi", 40), ("palestrina", 40), ("trecento", 30),
         ("haydn", 8), ("mozart", 12)),
        4,
        3,
    ),
    # version 2: the same works, splits and players, played by held-out timbres
    # (avbench.data.soundfonts) with expressive timing, dynamics, vibrato and articulation
    # (avbench.data.performance)
    "mini2": Config("2-mini", (("bach", 7), ("monteverdi", 2), ("trecento", 3)), 2, 5),
    "full2": Config(
        "2",
        (("bach", 130), ("monteverdi", 40), ("palestrina", 40), ("trecento", 30),
         ("haydn", 8), ("mozart", 12)),
        4,
        3,
    ),
}

#: generator version of each data generation
GENERATOR_VERSIONS = {1: GENERATOR_VERSION, 2: "2.0.0"}


def generation(cfg: Config) -> int:
    """The data generation of a configuration: 1 (one soundfont) or 2 (held-out timbres)."""
    return int(cfg.version.split("-")[0])


def config_name(cfg: Config) -> str:
    """The configuration's name (``mini``, ``full``, ``mini2``, ``full2``)."""
    base = re.sub(r"-\d{4,}$", "", cfg.version)  # a version stored at another rate: <version>-<rate>
    return next(n for n, c in CONFIGS.items() if c.version == base)


def config_for(version_or_name: str) -> Config:
    for name, c in CONFIGS.items():
        if version_or_name in (name, c.version):
            return c
    raise DataError(f"unknown {NAME} version {version_or_name!r}",
                    fix=f"use one of {', '.join(sorted(CONFIGS))} ({', '.join(c.version for c in CONFIGS.values())})")


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
# scores


def _corpus_works(composer: str) -> list[str]:
    from music21 import corpus

    root = Path(corpus.__file__).parent
    paths = []
    for p in corpus.getComposer(composer):
        rel = Path(p).resolve().relative_to(root.resolve()).as_posix()
        if rel.endswith((".mxl", ".xml", ".musicxml", ".krn", ".mid", ".midi")):
            paths.append(rel)
    return sorted(set(paths))


def _stable_hash(*parts) -> int:
    h = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(h[:8], "little")


def select_works(cfg: Config) -> list[str]:
    """Deterministic choice of works for a configuration (corpus-relative paths)."""
    works = []
    for composer, n in cfg.pools:
        cands = _corpus_works(composer)
        cands.sort(key=lambda p: _stable_hash(cfg.seed, "select", p))
        works.extend(cands[: n + n // 2 + 2])  # over-select: some fail the part filter
    return works


def parse_work(rel: str, max_quarters: float = 160.0) -> dict | None:
    """Parts of a work as note lists in quarter notes: ``{"title", "parts": [[(on, dur, key), ...]]}``.

    Works with fewer than two non-empty parts are rejected (``None``).
    """
    from music21 import corpus

    try:
        score = corpus.parse(rel)
    except Exception:  # noqa: BLE001 - corpus files that music21 cannot read are skipped
        return None
    parts = []
    for part in score.parts:
        try:
            flat = part.stripTies().flatten()
        except Exception:  # noqa: BLE001
            continue
        notes = []
        for el in flat.notes:
            on = float(el.offset)
            if on >= max_quarters:
                break
            dur = float(el.quarterLength)
            if dur <= 0:
                continue
            pitches = [p.midi for p in getattr(el, "pitches", [])]
            if not pitches:
                continue
            notes.append((on, min(dur, max_quarters - on), max(pitches)))
        if len(notes) >= 8:
            parts.append(notes)
    if len(parts) < 2:
        return None
    title = ""
    md = score.metadata
    if md is not None:
        title = md.title or md.movementName or ""
    return {"work": rel, "title": str(title), "parts": parts}


# ---------------------------------------------------------------------------------------
# planning


@dataclass
class PlayerPlan:
    instrument: str
    part: int
    transpose: int
    velocity: int


@dataclass
class RecordingPlan:
    id: str
    kind: str  # "ensemble" | "solo"
    split: str
    work: str
    composer: str
    title: str
    bpm: float
    players: list[PlayerPlan] = field(default_factory=list)


def _assign_splits(cfg: Config, parsed: list[dict]) -> list[tuple[dict, str]]:
    """Keep the first ``n`` usable works of each pool and split each pool by rank:
    the first 20% (rounded up) to test, the next 10% (rounded up) to val, the rest to
    train, so that no work is in two splits and every pool is in every split it can be."""
    by_pool: dict[str, list[dict]] = {}
    for w in parsed:
        by_pool.setdefault(w["work"].split("/")[0], []).append(w)
    out = []
    for composer, n in cfg.pools:
        ws = by_pool.get(composer, [])[:n]
        _, va, te = cfg.split_fractions
        n_test = int(np.ceil(te * len(ws)))
        n_val = int(np.ceil(va * len(ws)))
        for rank, w in enumerate(ws):
            split = "test" if rank < n_test else ("val" if rank < n_test + n_val else "train")
            out.append((w, split))
    return out


def _median_pitch(notes) -> float:
    return float(np.median([k for _, _, k in notes]))


def _transpose_for(notes, inst: str) -> int:
    i = BY_NAME[inst]
    centre = (i.low + i.high) / 2
    return int(12 * round((centre - _median_pitch(notes)) / 12))


def plan(cfg: Config, parsed: list[dict]) -> list[RecordingPlan]:
    """Assign ensemble sizes, parts, instruments, tempi and splits (sequential, seeded)."""
    rng = np.random.default_rng(cfg.seed)
    counts = {s: np.zeros(len(CLASSES)) for s in ("train", "val", "test")}
    solo_counts = {s: np.zeros(len(CLASSES)) for s in ("train", "val", "test")}
    plans: list[RecordingPlan] = []
    for w, split in _assign_splits(cfg, parsed):
        composer = w["work"].split("/")[0]
        bpm = float(rng.integers(66, 109))
        # only parts that play in the excerpt (at least 4 onsets before its last 0.5 s)
        last_q = (cfg.n_samples / cfg.sample_rate - 0.5) * bpm / 60.0
        active = [i for i, notes in enumerate(w["parts"]) if sum(on < last_q for on, _, _ in notes) >= 4]
        if len(active) < 2:
            continue
        sizes = [k for k in (2, 3, 4, 5) if k <= len(active)]
        weights = np.array([{2: 0.25, 3: 0.3, 4: 0.3, 5: 0.3}[k] for k in sizes])
        k = int(rng.choice(sizes, p=weights / weights.sum()))
        part_idx = sorted(rng.choice(active, size=k, replace=False).tolist())
        # instruments: balance classes (fewest so far first, ties by a seeded draw)
        c = counts[split]
        order = np.lexsort((rng.random(len(CLASSES)), c))
        chosen = [CLASSES[j] for j in order[:k]]
        for name in chosen:
            c[CLASSES.index(name)] += 1
        # highest part to the highest-sounding instrument
        parts_by_pitch = sorted(part_idx, key=lambda p: -_median_pitch(w["parts"][p]))
        insts_by_range = sorted(chosen, key=lambda n: -(BY_NAME[n].low + BY_NAME[n].high))
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", w["work"].rsplit(".", 1)[0].replace("/", "-")).strip("_")
        ens = RecordingPlan(f"ens-{slug}", "ensemble", split, w["work"], composer, w["title"], bpm)
        for p, name in sorted(zip(parts_by_pitch, insts_by_range), key=lambda t: CLASSES.index(t[1])):
            ens.players.append(PlayerPlan(name, p, _transpose_for(w["parts"][p], name), int(rng.integers(88, 113))))
        plans.append(ens)
        for s in range(cfg.solos_per_work):
            sc = solo_counts[split]
            j = int(np.lexsort((rng.random(len(CLASSES)), sc))[0])
            sc[j] += 1
            name = CLASSES[j]
            p = int(active[int(rng.integers(0, len(active)))])
            solo = RecordingPlan(f"solo-{slug}-{s}-{BY_NAME[name].abbr}", "solo", split, w["work"], composer,
                                 w["title"], bpm)
            solo.players.append(PlayerPlan(name, p, _transpose_for(w["parts"][p], name), int(rng.integers(88, 113))))
            plans.append(solo)
    return plans


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


def _render_recording(args) -> dict:
    cfg = args[0]
    if generation(cfg) == 2:
        return _render_recording_v2(args)
    return _render_recording_v1(args)


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


# ---------------------------------------------------------------------------------------
# version 2: held-out timbres and expressive playing


_V2_TABLES: dict | None = None


def _source_note(source: str, program: int, inst: str, key: int, dur: float) -> np.ndarray:
    from . import additive, soundfonts

    if source in additive.MODELS:
        params = additive.player_params(inst, np.random.default_rng(0))
        return additive.render_note(source, inst, params, key, 100 / 127, int(dur * RENDER_RATE), 0)
    return soundfonts.render_note(source, 0, program, key, 100 / 127, dur)


def timbre_tables() -> dict:
    """``{(instrument, source): {"sounding": keys, "gain": g}}`` for every timbre source of
    the version-2 table: the keys of the range that sound (a 0.25 s note reaches an RMS of
    1e-3) and the gain bringing a mid-range note at velocity 100 to -20 dBFS RMS."""
    global _V2_TABLES
    if _V2_TABLES is None:
        from . import soundfonts

        table = soundfonts.load_table()["instruments"]
        out = {}
        for inst in INSTRUMENTS:
            for fam in table[inst.name]["families"]:
                for src in fam["members"]:
                    ok = frozenset(k for k in range(inst.low, inst.high + 1)
                                   if float(np.sqrt(np.mean(_source_note(src, inst.gm_program, inst.name, k, 0.25)
                                                            .astype(np.float64) ** 2))) >= 1e-3)
                    if not ok:
                        raise DataError(f"timbre {src} of {inst.name} sounds on no key", fix="check the timbre table")
                    keys = sorted(ok)
                    x = _source_note(src, inst.gm_program, inst.name, keys[len(keys) // 2], 1.0).astype(np.float64)
                    out[(inst.name, src)] = {"sounding": ok, "gain": 0.1 / float(np.sqrt(np.mean(x ** 2)))}
        _V2_TABLES = out
    return _V2_TABLES


def plan_timbre(cfg: Config, rec: RecordingPlan, pl: PlayerPlan) -> dict:
    """A player's timbre, drawn per recording from the families its split may use."""
    from . import soundfonts

    rng = np.random.default_rng(_stable_hash(cfg.seed, "timbre", rec.id, pl.instrument))
    fams = soundfonts.families(pl.instrument, rec.split)
    fam = fams[int(rng.integers(0, len(fams)))]
    src = fam["members"][int(rng.integers(0, len(fam["members"])))]
    return {"family": fam["id"], "source": src, "program": BY_NAME[pl.instrument].gm_program,
            "seed": int(rng.integers(0, 2**31))}


def plan_style(cfg: Config, rec: RecordingPlan, pl: PlayerPlan) -> dict:
    """A player's look (:mod:`avbench.scenes`), drawn per recording from its split's styles."""
    from .. import scenes

    return scenes.plan_style(pl.instrument, rec.split,
                             np.random.default_rng(_stable_hash(cfg.seed, "style", rec.id, pl.instrument)))


def render_part_v2(inst: str, timbre: dict, notes, pitch: np.ndarray, gain: np.ndarray,
                   n_out: int, sample_rate: int) -> np.ndarray:
    """One player of data version 2 alone: ``notes`` ``(start_s, end_s, key, velocity)``
    through its timbre (a font preset or a model), bent by ``pitch`` (semitones) and shaped
    by ``gain``, both per sample at :data:`RENDER_RATE`; float32 at ``sample_rate``."""
    from . import additive, soundfonts

    n_render = n_out * RENDER_RATE // sample_rate
    src = timbre["source"]
    if src in additive.MODELS:
        params = additive.player_params(inst, np.random.default_rng(timbre["seed"]))
        x = np.zeros(n_render + RENDER_RATE)
        for j, (s, e, k, v) in enumerate(notes):
            a = int(round(s * RENDER_RATE))
            n_on = max(1, int(round(e * RENDER_RATE)) - a)
            n_tail = int(0.4 * RENDER_RATE)
            bend = pitch[a:a + n_on + n_tail]
            bend = np.pad(bend, (0, n_on + n_tail - bend.size))  # a tail past the curve: unbent
            seg = additive.render_note(src, inst, params, k, v / 127, n_on, n_tail, bend, seed=timbre["seed"] + j)
            x[a:a + seg.size] += seg[: x.size - a]
        x = x[:n_render]
    else:
        sf = soundfonts.synth(src)
        sf.channel_set_preset_index(0, sf.get_preset_index(0, timbre["program"]))
        vibrato = bool(np.any(pitch))
        events = []
        for s, e, k, v in notes:
            events.append((int(round(s * RENDER_RATE)), 1, k, v))
            events.append((int(round(e * RENDER_RATE)), 0, k, v))
        events.sort()
        events.append((n_render, 2, 0, 0))
        chunks, pos = [], 0
        block = 256 if vibrato else 1 << 30
        for t, kind, k, v in events:
            t = min(t, n_render)
            while pos < t:
                b = min(block, t - pos)
                if vibrato:  # pitch range 2 semitones: the wheel's 8192 steps per 2 semitones
                    sf.channel_set_pitch_wheel(0, int(np.clip(8192 + pitch[pos] / 2 * 8192, 0, 16383)))
                chunks.append(soundfonts.render(sf, b))
                pos += b
            if kind == 1:
                sf.channel_note_on(0, k, v / 127)
            elif kind == 0:
                sf.channel_note_off(0, k)
        x = np.concatenate(chunks).astype(np.float64) if chunks else np.zeros(n_render)
    x = x * gain[: x.size] * timbre_tables()[(inst, src)]["gain"]
    if sample_rate != RENDER_RATE:
        x = au.resample(x, RENDER_RATE, sample_rate)
    x = x[:n_out]
    if x.shape[0] < n_out:
        x = np.pad(x, (0, n_out - x.shape[0]))
    x[np.abs(x) < 1e-9] = 0.0
    return x.astype(np.float32)


def _fit_notes(notes_q, inst: str, transpose: int, sounding: frozenset[int]):
    out = []
    for on, dur, key in notes_q:
        k = _fit_key(key + transpose, inst, sounding)
        if k is not None:
            out.append((on, dur, k))
    return out


def _render_recording_v2(args) -> dict:
    from . import performance as perf

    cfg, rec, parts, root = args
    root = Path(root)
    total = cfg.n_samples / cfg.sample_rate
    rng = np.random.default_rng(_stable_hash(cfg.seed, "performance", rec.id))
    tempo = perf.plan_tempo(rng)
    stems, notes_out, timbres, players = [], {}, [], []
    for pl in rec.players:
        timbre = plan_timbre(cfg, rec, pl)
        player = perf.plan_player(pl.instrument, np.random.default_rng(_stable_hash(cfg.seed, "player", rec.id, pl.instrument)))
        sounding = timbre_tables()[(pl.instrument, timbre["source"])]["sounding"]
        notes_q = _fit_notes(parts[pl.part], pl.instrument, pl.transpose, sounding)
        notes, pitch, gain = perf.perform(notes_q, rec.bpm, tempo, player, total + 1.0, RENDER_RATE)
        notes_out[pl.instrument] = [list(n) for n in notes]
        stems.append(render_part_v2(pl.instrument, timbre, notes, pitch, gain, cfg.n_samples, cfg.sample_rate))
        timbres.append(timbre)
        players.append(player)
    row = _write_recording(cfg, rec, root, stems, notes_out)
    row["timbres"] = timbres
    row["styles"] = [plan_style(cfg, rec, pl) for pl in rec.players]
    row["performance"] = {"tempo": tempo, "players": players}
    return row


def _sources_meta(cfg: Config) -> dict:
    if generation(cfg) == 1:
        return {"soundfont": "TimGM6mb.sf2", "soundfont_sha256": au.sha256_file(soundfont_path())}
    from . import soundfonts

    return {"soundfonts": {fid: {"file": f.file, "sha256": f.sha256} for fid, f in soundfonts.FONTS.items()},
            "timbre_table_sha256": hashlib.sha256(soundfonts.TABLE.read_bytes()).hexdigest()}


def _pool(workers: int):
    ctx = mp.get_context("fork") if hasattr(os, "fork") else mp.get_context()
    return ctx.Pool(workers)


def library_versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for pkg in ("music21", "pretty_midi", "tinysoundfont", "numpy", "scipy"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "missing"
    return out


def generate(config: str = "mini", root: str | Path | None = None, workers: int | None = None,
             force: bool = False, progress: bool = True, sample_rate: int | None = None) -> Path:
    """Generate a configuration into ``root`` (default ``$AVBENCH_HOME/data/synth-ensembles/<version>``).

    Returns the root.  Skips the work when a complete copy is already there (``force``
    regenerates).  Resumable: an interrupted run leaves no ``dataset.json`` and
    restarts cleanly.  ``sample_rate`` (e.g. 44100, the rendering rate) stores the audio
    at another rate under the version ``<version>-<rate>``: same works, notes and
    splits, recordings of the same duration; the built-in tasks use 11025 Hz.
    """
    from ..progress import bar as tqdm

    cfg = config_for(config)
    if sample_rate is not None and sample_rate != cfg.sample_rate:
        if RENDER_RATE % sample_rate and sample_rate % 11025:
            raise DataError(f"unsupported sample rate {sample_rate}", fix="use a multiple of 11025 Hz up to 44100")
        cfg = replace(cfg, sample_rate=int(sample_rate), version=f"{cfg.version}-{int(sample_rate)}")
    root = Path(root) if root is not None else data_dir(NAME, cfg.version)
    if (root / "dataset.json").exists() and not force:
        return root
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    workers = workers or max(1, min(os.cpu_count() or 1, 8))
    if generation(cfg) == 2:
        from . import soundfonts

        problems = soundfonts.missing_fonts()
        if problems:
            raise problems[0]
        timbre_tables()  # fonts loaded, sounding keys and gains computed before forking
    else:
        sounding_keys(), instrument_gains()  # computed before forking, shared by workers
    candidates = select_works(cfg)
    with _pool(workers) as pool:
        it = pool.imap(parse_work, candidates, chunksize=2)
        parsed_all = list(tqdm(it, total=len(candidates), desc=f"generate {NAME} {cfg.version}: parse scores", disable=not progress, unit="work"))
    parsed = [p for p in parsed_all if p is not None]
    plans = plan(cfg, parsed)
    by_work = {p["work"]: p["parts"] for p in parsed}
    jobs = [(cfg, r, by_work[r.work], str(root)) for r in plans]
    with _pool(workers) as pool:
        rows = list(tqdm(pool.imap(_render_recording, jobs, chunksize=1), total=len(jobs), desc=f"generate {NAME} {cfg.version}: render",
                         disable=not progress, unit="rec"))
    rows.sort(key=lambda r: ({"train": 0, "val": 1, "test": 2}[r["split"]], r["id"]))
    manifest = "".join(json.dumps(r, sort_keys=True, separators=(",", ":")) + "\n" for r in rows)
    (root / "manifest.jsonl").write_text(manifest)
    meta = {
        "name": NAME,
        "version": cfg.version,
        "generator_version": GENERATOR_VERSIONS[generation(cfg)],
        "config": asdict(cfg),
        "manifest_sha256": hashlib.sha256(manifest.encode()).hexdigest(),
        **_sources_meta(cfg),
        "libraries": library_versions(),
        "counts": _counts(rows),
    }
    tmp = root / "dataset.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, root / "dataset.json")
    card = Path(__file__).parent / "cards" / "synth-ensembles.md"
    if card.exists():
        shutil.copyfile(card, root / "README.md")
    return root


def _counts(rows: list[dict]) -> dict:
    out: dict = {}
    for r in rows:
        d = out.setdefault(r["split"], {"ensemble": 0, "solo": 0, "by_size": {}})
        d[r["kind"]] += 1
        if r["kind"] == "ensemble":
            d["by_size"][str(r["n_sources"])] = d["by_size"].get(str(r["n_sources"]), 0) + 1
    return out


# ---------------------------------------------------------------------------------------
# loading


def locate(config: str = "mini") -> Path:
    cfg = config_for(config)
    root = data_dir(NAME, cfg.version)
    if not (root / "dataset.json").exists():
        raise DataError(f"{NAME} {cfg.version} has not been generated", path=root,
                        fix=f"run `avbench data generate {NAME} --config {config_name(cfg)}`")
    return root


def read_manifest(root: str | Path) -> list[dict]:
    root = Path(root)
    path = root / "manifest.jsonl"
    if not path.exists():
        raise DataError("manifest.jsonl is missing", path=path, fix="regenerate the data with --force")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def verify(root: str | Path) -> list[str]:
    """Every missing or corrupt file (by sha256) of a generated copy, with the recordings affected."""
    root = Path(root)
    problems = []
    for r in read_manifest(root):
        for rel, sha in r["sha256"].items():
            p = root / rel
            if not p.exists():
                problems.append(f"missing {rel} (recording {r['id']})")
            elif au.sha256_file(p) != sha:
                problems.append(f"corrupt {rel} (recording {r['id']}): sha256 differs from the manifest")
    return problems


def load_notes(root: str | Path, row: dict) -> dict[str, list]:
    from ..video import Note

    with open(Path(root) / row["notes"]) as f:
        d = json.load(f)["players"]
    return {k: [Note(*n) for n in v] for k, v in d.items()}


def load(config: str = "mini", root: str | Path | None = None):
    """The data as a Hugging Face ``DatasetDict`` with ``train``, ``val`` and ``test``.

    Columns: ``id, kind, work, composer, title, instruments, n_sources, sample_rate,
    n_samples, mix`` (``Audio(decode=False)``), ``stems`` (list of ``Audio(decode=False)``,
    in the order of ``instruments``) and ``notes`` (path of the notes JSON).  Decode the
    audio with :func:`avbench.audio.read_audio`; render frames with
    :func:`avbench.video.player_frames`.  Data version 2 adds, per player in the order of
    ``instruments``, ``timbre_families``, ``timbre_sources`` and ``backgrounds`` (the full
    timbre, performance and style records are in ``manifest.jsonl``); render its frames
    with :func:`avbench.scenes.styled_frames`.
    """
    from datasets import Audio, Dataset, DatasetDict, List

    root = Path(root) if root is not None else locate(config)
    rows = read_manifest(root)
    splits: dict[str, list] = {"train": [], "val": [], "test": []}
    for r in rows:
        splits[r["split"]].append({
            "id": r["id"], "kind": r["kind"], "work": r["work"], "composer": r["composer"],
            "title": r["title"], "instruments": r["instruments"], "n_sources": r["n_sources"],
            "sample_rate": r["sample_rate"], "n_samples": r["n_samples"],
            "mix": str(root / r["mix"]),
            "stems": [str(root / r["stems"][i]) for i in r["instruments"]],
            "notes": str(root / r["notes"]),
            **({"timbre_families": [t["family"] for t in r["timbres"]],
                "timbre_sources": [t["source"] for t in r["timbres"]],
                "backgrounds": [st["background"] for st in r["styles"]]} if "timbres" in r else {}),
        })
    dd = {}
    for s, items in splits.items():
        ds = Dataset.from_list(items) if items else Dataset.from_dict({k: [] for k in ("id",)})
        if items:
            ds = ds.cast_column("mix", Audio(decode=False))
            ds = ds.cast_column("stems", List(Audio(decode=False)))
        dd[s] = ds
    return DatasetDict(dd)
