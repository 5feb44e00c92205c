"""Paired comparison of two submissions on the items both scored.

Separation: the per-(item, slot) values of a metric where both are finite; paired
bootstrap of the mean difference (resampling works, seeded) and the Wilcoxon
signed-rank test.  Classification: per-item top-1 correctness; paired bootstrap of the
accuracy difference and the exact McNemar test.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import AvbenchError
from .metrics.functional.stats import mcnemar, paired_bootstrap, wilcoxon

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
        raise AvbenchError(f"the two submissions share no scored {metric} values", fix="score both on the same task version")
    out = {"metric": metric, "n": int(va.size), "mean_a": float(va.mean()), "mean_b": float(vb.mean())}
    out["bootstrap"] = paired_bootstrap(va, vb, seed=seed, groups=groups)
    if family == "classification":
        out["test"] = {"name": "mcnemar", **mcnemar(va > 0.5, vb > 0.5)}
    else:
        out["test"] = {"name": "wilcoxon", **wilcoxon(va, vb)}
    out["significant"] = bool(out["test"]["p_value"] < ALPHA)
    return out


def load_scores(ref: str, task_key: str, leaderboards: Path | None) -> tuple[str, pd.DataFrame]:
    """Per-item scores of ``ref``: a submission folder (its results) or an entry name."""
    from . import leaderboard as lb
    from .tasks import parse_key

    from .scoring import scores_path

    p = Path(ref)
    name, version = parse_key(task_key)
    if p.is_dir():
        f = scores_path(p, f"{name}@{version}")
        if not f.exists():
            raise AvbenchError("no scores for this task", path=f, fix=f"run `avbench score {p} --task {name}@{version}`")
        return p.name, pd.read_parquet(f)
    root = leaderboards or lb.default_root()
    f = lb.board_dir(root, name, version) / "entries" / f"{ref}.scores.parquet"
    if not f.exists():
        raise AvbenchError(f"no per-item scores for entry {ref!r}", path=f,
                           fix="pass a scored submission folder, or an entry added with --update-leaderboard")
    return ref, pd.read_parquet(f)


def format_report(name_a: str, name_b: str, task_key: str, r: dict) -> str:
    bs, t = r["bootstrap"], r["test"]
    lines = [
        f"{task_key}: {name_a} vs {name_b} on {r['n']} paired values of {r['metric']}",
        f"  mean {name_a} = {r['mean_a']:.4f}, mean {name_b} = {r['mean_b']:.4f}",
        f"  difference = {bs['diff']:+.4f}, 95% CI [{bs['low']:+.4f}, {bs['high']:+.4f}] "
        f"(paired bootstrap over works, "
        + (f"p = {bs['p_value']:.4g})" if bs["p_value"] > 0 else f"p < {1 / bs['n_boot']:.2g})"),
    ]
    if t["name"] == "wilcoxon":
        lines.append(f"  Wilcoxon signed-rank: statistic = {t['statistic']:.1f}, p = {t['p_value']:.4g}")
    else:
        lines.append(f"  McNemar: {name_a} only correct {t['a_only']}, {name_b} only correct {t['b_only']}, "
                     f"p = {t['p_value']:.4g}")
    lines.append("  " + ("significant" if r["significant"] else "not significant") + f" at alpha = {ALPHA}")
    return "\n".join(lines)
