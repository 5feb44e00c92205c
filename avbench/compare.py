"""Paired comparison of two submissions on the items both scored.

The values are paired per (item, slot) for separation (a metric where both are finite)
and per item for classification (top-1 correctness, Hit@1).  Segments and slots of one
work (a piece, a video) are not independent, so the unit of every test is the work:

* the effect: the mean difference with its paired bootstrap interval, resampling whole
  works (seeded, as the leaderboards' intervals);
* the test, and the one verdict: the Wilcoxon signed-rank test on the per-work mean
  differences (exact for small counts).  With fewer than 6 works no difference can reach
  p < 0.05, however large, and none is called significant.

Several comparisons against one row (the leaderboards' ``vs #1`` column) are corrected
for their number with Holm's step-down method (:func:`holm`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import ConfigError
from .metrics.functional.stats import paired_bootstrap, wilcoxon

ALPHA = 0.05


def paired(a: pd.DataFrame, b: pd.DataFrame, metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values of ``metric`` in ``a`` and ``b`` on the rows both scored, and their groups."""
    keys = ["item", "slot"] if "slot" in a.columns else ["item"]
    m = a[keys + ["group", metric]].merge(b[keys + [metric]], on=keys, suffixes=("_a", "_b"))
    va = m[f"{metric}_a"].to_numpy(float)
    vb = m[f"{metric}_b"].to_numpy(float)
    ok = np.isfinite(va) & np.isfinite(vb)
    return va[ok], vb[ok], m["group"].to_numpy()[ok]


def compare_frames(a: pd.DataFrame, b: pd.DataFrame, family: str, metric: str, seed: int = 0) -> dict:
    va, vb, groups = paired(a, b, metric)
    if va.size == 0:
        raise ConfigError(f"the two submissions share no scored {metric} values", fix="score both on the same task version")
    out = {"metric": metric, "n": int(va.size), "mean_a": float(va.mean()), "mean_b": float(vb.mean())}
    out["bootstrap"] = paired_bootstrap(va, vb, seed=seed, groups=groups)
    d = work_differences(va, vb, groups)
    out["n_works"] = int(d.size)
    out["test"] = {"name": "wilcoxon-works", **wilcoxon(d, np.zeros_like(d))}
    out["significant"] = bool(out["test"]["p_value"] < ALPHA)
    return out


def work_means(va: np.ndarray, vb: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-work means of paired values (works in sorted order)."""
    keys, inv = np.unique(np.asarray(groups).astype(str), return_inverse=True)
    cnt = np.bincount(inv, minlength=keys.size)
    return (np.bincount(inv, weights=va, minlength=keys.size) / cnt,
            np.bincount(inv, weights=vb, minlength=keys.size) / cnt)


def work_differences(va: np.ndarray, vb: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Per-work mean differences ``a - b`` of paired values (works in sorted order).  The
    mean of each work's differences, not the difference of its two means, and a
    difference within floating-point rounding of zero (relative 1e-9 of the values' scale)
    is zero: two means that are equal in exact arithmetic but summed in another order
    would otherwise differ by one ulp and turn a tie into a signed rank."""
    keys, inv = np.unique(np.asarray(groups).astype(str), return_inverse=True)
    va, vb = np.asarray(va, np.float64), np.asarray(vb, np.float64)
    cnt = np.bincount(inv, minlength=keys.size)
    d = np.bincount(inv, weights=va - vb, minlength=keys.size) / cnt
    scale = max(1.0, float(np.max(np.abs(np.concatenate([va, vb])), initial=0.0)))
    d[np.abs(d) <= 1e-9 * scale] = 0.0
    return d


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (same order as given)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adj = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adj[i] = running
    return adj


def format_report(name_a: str, name_b: str, task_key: str, r: dict) -> str:
    bs, t = r["bootstrap"], r["test"]
    lines = [
        f"{task_key}: {name_a} vs {name_b} on {r['n']} paired values of {r['metric']}",
        f"  mean {name_a} = {r['mean_a']:.4f}, mean {name_b} = {r['mean_b']:.4f}",
        f"  difference = {bs['diff']:+.4f}, 95% CI [{bs['low']:+.4f}, {bs['high']:+.4f}] "
        "(paired bootstrap over works)",
    ]
    lines.append(f"  Wilcoxon signed-rank on the {r['n_works']} per-work mean differences: "
                 f"statistic = {t['statistic']:.1f}, p = {t['p_value']:.4g}")
    lines.append("  " + ("significant" if r["significant"] else "not significant") + f" at alpha = {ALPHA}"
                 + (f" (only {r['n_works']} works: no difference can be significant)" if r["n_works"] < 6 else ""))
    return "\n".join(lines)
