"""Statistics for leaderboards: bootstrap intervals and paired tests.

Bootstrap intervals resample *groups* (e.g. pieces) when ``groups`` is given, since
segments of one piece are correlated; percentile intervals, seeded.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import scipy.stats

__all__ = ["bootstrap_ci", "paired_bootstrap", "wilcoxon", "mcnemar"]


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
    return [np.flatnonzero(inv == k) for k in range(inv.max() + 1)]


def bootstrap_ci(values: Any, statistic: str | Callable = "mean", n_boot: int = 1000, seed: int = 0,
                 confidence: float = 0.95, groups: Any = None) -> tuple[float, float, float]:
    """``(estimate, low, high)``: the statistic and its percentile bootstrap interval."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)] if groups is None else v
    f = _stat(statistic)
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    idx = _group_index(groups, v.size)
    rng = np.random.default_rng(seed)
    est = float(f(v))
    boots = np.empty(n_boot)
    for b in range(n_boot):
        pick = rng.integers(0, len(idx), len(idx))
        sample = np.concatenate([idx[k] for k in pick])
        boots[b] = f(v[sample])
    a = (1 - confidence) / 2
    lo, hi = np.quantile(boots, [a, 1 - a])
    return est, float(lo), float(hi)


def paired_bootstrap(a: Any, b: Any, n_boot: int = 2000, seed: int = 0, confidence: float = 0.95,
                     groups: Any = None) -> dict:
    """Mean difference ``a - b`` over paired items, its interval and a two-sided p-value."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError("paired samples must have the same shape")
    d = a - b
    idx = _group_index(groups, d.size)
    rng = np.random.default_rng(seed)
    boots = np.empty(n_boot)
    for k in range(n_boot):
        pick = rng.integers(0, len(idx), len(idx))
        boots[k] = d[np.concatenate([idx[i] for i in pick])].mean()
    al = (1 - confidence) / 2
    lo, hi = np.quantile(boots, [al, 1 - al])
    p = 2 * min((boots <= 0).mean(), (boots >= 0).mean())
    return {"diff": float(d.mean()), "low": float(lo), "high": float(hi), "p_value": float(min(1.0, p))}


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
