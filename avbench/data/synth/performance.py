"""Expressive, ensemble-like playing for ``synth-ensembles`` version 2 (seeded, recorded).

From a score's notes (quarter-note onsets and durations, MIDI keys) and a recording's
seed, a performance is:

* **tempo**: one curve per recording that every player follows (an ensemble keeps
  together): the nominal tempo times ``1 + a sin(2 pi q / P + phi)`` plus a slow random
  walk, ``a`` 2-6 %, ``P`` 12-32 quarters;
* **timing**: per player a constant lag (-15..15 ms) and a per-note deviation
  (sd 4-15 ms), onsets kept in order;
* **dynamics**: per player a balance (base velocity 72-108), a phrase curve (hairpins of
  8-16 quarters, +-8-18 velocity) and a note jitter (+-4); and an expression curve
  (gain 0.65-1.0 over 2-6 s phrases) on strings and winds;
* **vibrato**: strings, flute, oboe, bassoon and saxophone: 12-35 cents at 4.6-6.4 Hz,
  fading in 0.12-0.3 s after each onset (through the pitch wheel of a soundfont, or
  the pitch curve of a model);
* **articulation**: per 4-quarter phrase legato (the note lasts until the next onset),
  normal (88 %) or staccato (45 %), with probabilities 0.35 / 0.45 / 0.2.

:func:`plan_performance` draws the parameters (recorded in the manifest);
:func:`perform` turns a part into timed notes and the per-sample pitch and gain curves.
"""
from __future__ import annotations

import numpy as np

VIBRATO = {"violin", "viola", "cello", "double_bass", "flute", "oboe", "bassoon", "saxophone"}
EXPRESSION = VIBRATO | {"clarinet", "horn"}


def plan_tempo(rng: np.random.Generator) -> dict:
    return {"depth": round(float(rng.uniform(0.02, 0.06)), 4),
            "period_q": round(float(rng.uniform(12, 32)), 3),
            "phase": round(float(rng.uniform(0, 2 * np.pi)), 4),
            "walk_seed": int(rng.integers(0, 2**31))}


def plan_player(instrument: str, rng: np.random.Generator) -> dict:
    vib = instrument in VIBRATO
    return {
        "lag_s": round(float(rng.uniform(-0.015, 0.015)), 4),
        "timing_sd_s": round(float(rng.uniform(0.004, 0.015)), 4),
        "balance": int(rng.integers(72, 109)),
        "phrase_depth": int(rng.integers(8, 19)),
        "phrase_q": int(rng.integers(8, 17)),
        "phrase_phase": round(float(rng.uniform(0, 2 * np.pi)), 4),
        "vibrato_cents": round(float(rng.uniform(12, 35)), 2) if vib else 0.0,
        "vibrato_hz": round(float(rng.uniform(4.6, 6.4)), 3) if vib else 0.0,
        "vibrato_delay_s": round(float(rng.uniform(0.12, 0.3)), 3),
        "expression": instrument in EXPRESSION,
        "seed": int(rng.integers(0, 2**31)),
    }


def seconds_of(q: np.ndarray, bpm: float, tempo: dict) -> np.ndarray:
    """Performance time (s) of score positions ``q`` (quarters) under the tempo curve."""
    step = 1 / 16
    grid = np.arange(0, float(np.max(q, initial=0.0)) + 2, step)
    walk = np.cumsum(np.random.default_rng(tempo["walk_seed"]).normal(0, 0.002, grid.shape))
    walk = np.clip(walk - np.linspace(0, walk[-1], grid.size), -0.03, 0.03)
    rate = 1 + tempo["depth"] * np.sin(2 * np.pi * grid / tempo["period_q"] + tempo["phase"]) + walk
    t = np.concatenate([[0.0], np.cumsum(step * 60.0 / bpm / rate)])[: grid.size]
    return np.interp(q, grid, t)


def perform(notes_q, bpm: float, tempo: dict, player: dict, total_s: float, sr: int):
    """``(notes, pitch, gain)``: notes ``(start_s, end_s, key, velocity)`` of one player
    (cut to end 0.5 s before ``total_s``), and per-sample curves at ``sr``: pitch offset
    in semitones (vibrato) and gain (expression)."""
    rng = np.random.default_rng(player["seed"])
    if not notes_q:
        n = int(round(total_s * sr))
        return [], np.zeros(n), np.ones(n)
    on_q = np.array([n[0] for n in notes_q], dtype=float)
    dur_q = np.array([n[1] for n in notes_q], dtype=float)
    keys = [int(n[2]) for n in notes_q]
    start = seconds_of(on_q, bpm, tempo) + player["lag_s"] + rng.normal(0, player["timing_sd_s"], on_q.size)
    start = np.maximum(start, 0.0)
    for i in range(1, start.size):  # onsets stay in order (at least 30 ms apart)
        start[i] = max(start[i], start[i - 1] + 0.03)
    next_start = np.concatenate([start[1:], [np.inf]])
    end_score = seconds_of(on_q + dur_q, bpm, tempo) + player["lag_s"]
    phrase = (on_q // 4).astype(int)
    styles = rng.choice(3, size=int(phrase.max()) + 1, p=[0.35, 0.45, 0.2])
    factor = np.array([1.0, 0.88, 0.45])[styles[phrase]]
    length = np.maximum(0.06, factor * (end_score - start))
    legato = styles[phrase] == 0
    end = np.where(legato, np.minimum(next_start, start + np.maximum(end_score - start, 0.06)), start + length)
    end = np.minimum(end, next_start)
    curve = player["balance"] + player["phrase_depth"] * np.sin(2 * np.pi * on_q / player["phrase_q"] + player["phrase_phase"])
    vel = np.clip(np.round(curve + rng.integers(-4, 5, on_q.size)), 20, 127).astype(int)
    last_end = total_s - 0.5
    out = []
    for s, e, k, v in zip(start, end, keys, vel):
        if s >= last_end - 0.05:
            break
        out.append((round(float(s), 6), round(float(min(e, last_end)), 6), k, int(v)))
    n = int(round(total_s * sr))
    t = np.arange(n) / sr
    pitch = np.zeros(n)
    if player["vibrato_cents"] > 0:
        for s, e, _, _ in out:
            a, b = int(s * sr), min(n, int(e * sr) + int(0.3 * sr))
            tt = t[a:b] - s
            ramp = np.clip((tt - player["vibrato_delay_s"]) / 0.25, 0, 1)
            pitch[a:b] = ramp * (player["vibrato_cents"] / 100) * np.sin(2 * np.pi * player["vibrato_hz"] * tt)
    gain = np.ones(n)
    if player["expression"]:
        knots_t = np.arange(0, total_s + 6, 1.0)
        knots = np.clip(np.cumsum(rng.normal(0, 0.08, knots_t.size)) + 0.85, 0.65, 1.0)
        from scipy.interpolate import PchipInterpolator

        gain = PchipInterpolator(knots_t, knots)(t)  # smooth, no overshoot outside [0.65, 1]
    return out, pitch, gain
