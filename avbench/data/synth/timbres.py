"""Data version 2: held-out timbres and styles drawn per split, and expressive rendering."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ... import audio as au
from ...errors import DataError
from ...instruments import BY_NAME, INSTRUMENTS
from .config import RENDER_RATE, Config
from .corpus import _stable_hash, PlayerPlan, RecordingPlan
from .render import _fit_key, _write_recording

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
    """A player's look (:mod:`avbench.data.synth.scenes`), drawn per recording from its split's styles."""
    from . import scenes

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
