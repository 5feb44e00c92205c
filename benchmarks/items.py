"""Seeded, music-like evaluation items shared by the asv suites and compare.py."""
import numpy as np


def music_item(seed: int, n_src: int, n: int, sr: int = 11025):
    """Harmonic notes with decays, note changes, vibrato, leakage, filtering and noise.

    Shape: returns references and estimates ``(n_src, n)`` float64.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    refs = np.zeros((n_src, n))
    for j in range(n_src):
        n_notes = max(2, n // (sr // 2))
        bounds = np.linspace(0, n, n_notes + 1).astype(int)
        for s, e in zip(bounds[:-1], bounds[1:]):
            f0 = 55 * 2 ** (rng.integers(0, 48) / 12)
            tt = t[s:e] - t[s]
            env = np.exp(-2.5 * tt)
            for h in range(1, 9):
                if f0 * h < sr / 2:
                    refs[j, s:e] += env * np.sin(2 * np.pi * f0 * h * tt + rng.uniform(0, 6)) / h
        refs[j] += 1e-3 * rng.standard_normal(n)
    mixing = rng.uniform(0, 0.3, (n_src, n_src))
    np.fill_diagonal(mixing, 1.0)
    est = mixing @ refs
    for j in range(n_src):
        est[j] = np.convolve(est[j], np.r_[1.0, rng.normal(0, 0.2, 4)], mode="full")[:n]
    est += 0.02 * rng.standard_normal(est.shape)
    return refs, est
