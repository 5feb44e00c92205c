"""Two sample-free instrument models, the further timbre families of classes whose
soundfonts give fewer than three independent sample families (``soundfonts.measure``).

* ``additive``: a sum of harmonics shaped by the class's formant envelope (a few
  resonances, a spectral tilt, the odd/even balance of a cylindrical bore), with a
  breath or bow noise band, an attack/decay/release envelope, and brightness that grows
  with the velocity.
* ``source-filter``: a band-limited sawtooth (the Helmholtz motion of a bowed string;
  a pulse for reeds and lips) through a bank of body resonances (second-order peaks),
  with filtered noise.

Both render a player's notes with the same vibrato and loudness curves as the
soundfonts (``pitch`` and ``gain`` per sample), at :data:`RENDER_RATE`, from a seeded
per-player variation of the class's parameters (formant centres +-8 %, tilt +-0.15,
noise level), so that two players of one class differ as two instruments do.
"""
from __future__ import annotations

import numpy as np

RENDER_RATE = 44100
MODELS = ("additive", "source-filter")

#: class -> (formants [(Hz, bandwidth Hz, gain)], tilt, odd-harmonic weight, noise, attack s, release s)
_CLASS = {
    "violin": ([(480, 200, 1.0), (1700, 600, 0.8), (3200, 900, 0.5)], 0.9, 1.0, 0.02, 0.06, 0.12),
    "viola": ([(380, 180, 1.0), (1400, 500, 0.7), (2700, 900, 0.4)], 1.0, 1.0, 0.02, 0.07, 0.13),
    "cello": ([(250, 120, 1.0), (900, 400, 0.7), (2100, 800, 0.3)], 1.1, 1.0, 0.02, 0.08, 0.15),
    "double_bass": ([(120, 80, 1.0), (500, 300, 0.6), (1300, 600, 0.2)], 1.3, 1.0, 0.015, 0.09, 0.18),
    "flute": ([(800, 500, 1.0), (2000, 900, 0.25)], 2.0, 1.0, 0.06, 0.05, 0.08),
    "oboe": ([(1100, 300, 1.0), (2800, 700, 0.6)], 0.6, 1.0, 0.02, 0.03, 0.07),
    "clarinet": ([(1500, 600, 1.0), (3000, 900, 0.3)], 1.0, 0.25, 0.02, 0.04, 0.07),
    "bassoon": ([(450, 200, 1.0), (1150, 400, 0.6)], 1.0, 1.0, 0.02, 0.05, 0.09),
    "saxophone": ([(600, 300, 1.0), (1700, 700, 0.7), (3000, 900, 0.3)], 0.8, 1.0, 0.03, 0.04, 0.08),
    "trumpet": ([(1200, 500, 1.0), (2500, 900, 0.7)], 0.5, 1.0, 0.01, 0.03, 0.06),
    "horn": ([(400, 200, 1.0), (900, 400, 0.3)], 1.6, 1.0, 0.01, 0.06, 0.12),
    "trombone": ([(550, 300, 1.0), (1400, 600, 0.6)], 0.8, 1.0, 0.01, 0.04, 0.09),
    "tuba": ([(230, 120, 1.0), (700, 300, 0.4)], 1.4, 1.0, 0.01, 0.06, 0.12),
}


def player_params(instrument: str, rng: np.random.Generator) -> dict:
    """A seeded variation of the class's parameters: one player's instrument."""
    formants, tilt, odd, noise, attack, release = _CLASS[instrument]
    return {
        "formants": [(f * float(rng.uniform(0.92, 1.08)), bw, g) for f, bw, g in formants],
        "tilt": tilt + float(rng.uniform(-0.15, 0.15)),
        "odd": odd,
        "noise": noise * float(rng.uniform(0.6, 1.4)),
        "attack": attack * float(rng.uniform(0.8, 1.25)),
        "release": release,
    }


def _envelope_gain(freqs: np.ndarray, formants) -> np.ndarray:
    g = np.full(freqs.shape, 0.03)
    for f, bw, a in formants:
        g = g + a / (1.0 + ((freqs - f) / (bw / 2)) ** 2)
    return g


def _adsr(n: int, n_on: int, attack: float, release: float, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    env = np.minimum(1.0, t / max(attack, 1e-3))
    env = env * (0.85 + 0.15 * np.exp(-t / 0.3))  # a little decay after the attack
    rel = np.arange(n) >= n_on
    if rel.any():
        t_rel = (np.arange(n)[rel] - n_on) / sr
        env[rel] = env[n_on - 1 if n_on > 0 else 0] * np.exp(-t_rel / max(release / 4, 1e-3))
    return env


def render_note(model: str, instrument: str, params: dict, key: float, velocity: float, n_on: int,
                n_tail: int, pitch: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
    """One note: ``n_on`` samples held, ``n_tail`` released; ``pitch`` (semitones, per
    sample) bends it (vibrato).  float64 at :data:`RENDER_RATE`."""
    sr = RENDER_RATE
    n = n_on + n_tail
    if n <= 0:
        return np.zeros(0)
    rng = np.random.default_rng(seed)
    semis = np.full(n, float(key)) if pitch is None else float(key) + pitch[:n]
    f0 = 440.0 * 2.0 ** ((semis - 69.0) / 12.0)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    bright = 0.6 + 0.8 * velocity  # velocity opens the spectrum
    f_mean = float(f0.mean())
    n_h = max(1, int(0.45 * sr / f_mean))
    n_h = min(n_h, 60)
    h = np.arange(1, n_h + 1)
    if model == "additive":
        amp = _envelope_gain(h * f_mean, params["formants"]) * h ** (-params["tilt"] / bright)
        amp = np.where(h % 2 == 0, amp * params["odd"], amp)
    elif model == "source-filter":
        # sawtooth (strings, brass) or narrow pulse (reeds) spectrum, then body resonances
        src = 1.0 / h if params["odd"] >= 1.0 else np.where(h % 2 == 1, 1.0 / h, 0.15 / h)
        body = _envelope_gain(h * f_mean, [(f * 1.18, bw * 0.6, g) for f, bw, g in params["formants"]])
        amp = src * body ** 1.5 * h ** (-(params["tilt"] - 0.6) / (2 * bright))
    else:
        raise ValueError(f"unknown model {model!r}")
    amp = amp / np.sqrt(np.sum(amp ** 2))
    x = np.zeros(n)
    for hh, a in zip(h, amp):
        if a < 1e-4:
            continue
        x += a * np.sin(hh * phase + rng.uniform(0, 2 * np.pi))
    noise = rng.standard_normal(n)
    # noise band around the first formant (one-pole smoothing keeps it cheap)
    alpha = np.exp(-2 * np.pi * params["formants"][0][0] * 2 / sr)
    from scipy.signal import lfilter

    noise = lfilter([1 - alpha], [1, -alpha], noise)
    noise /= max(np.std(noise), 1e-12)
    x = x + params["noise"] * noise
    return x * _adsr(n, n_on, params["attack"], params["release"], sr)
