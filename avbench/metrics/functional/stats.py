"""Statistics for leaderboards: bootstrap intervals and paired tests.

Bootstrap intervals resample *groups* (e.g. pieces) when ``groups`` is given, since
segments of one piece are correlated; percentile intervals, seeded.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import scipy.stats

__all__ = ["bootstrap_ci", "bootstrap_indices", "paired_bootstrap", "wilcoxon", "mcnemar"]


def _stat(name: str | Callable) -> Callable:
    if callable(name):
        return name
    return {"mean": np.mean, "median": np.median}[name]


def _group_index(groups: Any, n: int) -> list[np.ndarray]:
    if groups is None:
        return [np.array([i]) for i in range(n)]
    g = np.asarray(groups)
    if g.shape[0] != n:
        raise ValueError(f"{g.shape[0]} group labels for {n} values")
    _, inv = np.unique(g, return_inverse=True)
    order = np.argsort(inv, kind="stable")
    bounds = np.flatnonzero(np.diff(inv[order])) + 1
    return np.split(order, bounds)


def bootstrap_indices(n: int, n_boot: int = 1000, seed: int = 0, groups: Any = None):
    """Yield ``n_boot`` index arrays resampling the ``n`` items with replacement — whole
    groups at a time when ``groups`` is given (seeded, deterministic)."""
    idx = _group_index(groups, n)
    rng = np.random.default_rng(seed)
    for _ in range(n_boot):
        pick = rng.integers(0, len(idx), len(idx))
        yield np.concatenate([idx[k] for k in pick]) if len(idx) else np.zeros(0, dtype=np.int64)


def bootstrap_ci(values: Any, statistic: str | Callable = "mean", n_boot: int = 1000, seed: int = 0,
                 confidence: float = 0.95, groups: Any = None) -> tuple[float, float, float]:
    """``(estimate, low, high)``: the statistic over the finite values and its percentile
    bootstrap interval; with ``groups``, whole groups (e.g. pieces) are resampled."""
    v = np.asarray(values, dtype=np.float64)
    keep = np.isfinite(v)
    g = None if groups is None else np.asarray(groups)[keep]
    v = v[keep]
    f = _stat(statistic)
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    est = float(f(v))
    boots = np.array([f(v[ix]) for ix in bootstrap_indices(v.size, n_boot, seed, g)])
    a = (1 - confidence) / 2
    lo, hi = np.quantile(boots, [a, 1 - a])
    return est, float(lo), float(hi)


def paired_bootstrap(a: Any, b: Any, n_boot: int = 2000, seed: int = 0, confidence: float = 0.95,
                     groups: Any = None) -> dict:
    """Mean difference ``a - b`` over paired items, its percentile interval and a
    two-sided bootstrap p-value (twice the smaller tail mass at 0)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError("paired samples must have the same shape")
    d = a - b
    boots = np.array([d[ix].mean() for ix in bootstrap_indices(d.size, n_boot, seed, groups)])
    al = (1 - confidence) / 2
    lo, hi = np.quantile(boots, [al, 1 - al])
    p = 2 * min((boots <= 0).mean(), (boots >= 0).mean())
    return {"diff": float(d.mean()), "low": float(lo), "high": float(hi), "p_value": float(min(1.0, p)),
            "n": int(d.size), "n_boot": int(n_boot)}


def wilcoxon(a: Any, b: Any) -> dict:
    """Wilcoxon signed-rank test of paired scores (two-sided)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    d = a - b
    if np.all(d == 0):
        return {"statistic": 0.0, "p_value": 1.0}
    r = scipy.stats.wilcoxon(a, b)
    return {"statistic": float(r.statistic), "p_value": float(r.pvalue)}


def mcnemar(correct_a: Any, correct_b: Any) -> dict:
    """Exact McNemar test on paired correctness (binomial test on discordant pairs)."""
    ca = np.asarray(correct_a, dtype=bool)
    cb = np.asarray(correct_b, dtype=bool)
    n01 = int((ca & ~cb).sum())
    n10 = int((~ca & cb).sum())
    n = n01 + n10
    p = 1.0 if n == 0 else float(scipy.stats.binomtest(n01, n, 0.5).pvalue)
    return {"a_only": n01, "b_only": n10, "p_value": p}
