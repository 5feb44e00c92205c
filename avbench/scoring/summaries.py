"""Summaries of a per-item frame: the means with their intervals over works, the
breakdowns, the set-level classification scores and the scoring flags as warnings."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..metrics import functional as F
from ..metrics import registry as M
from ..metrics.functional.silence import BUCKETS
from ..results import CI_BOOT, CI_LEVEL, CI_SEED, Stat
from ..tasks.base import Task
from .rules import IDENTICAL_CAP_DB, NEAR_COPY_DB


# --------------------------------------------------------------------------- summaries
def summarize_separation(df: pd.DataFrame, metrics: list[str]) -> tuple[dict, dict, dict]:
    # intervals resample works (pieces): segments of one piece are correlated
    scores = {m: Stat.of(df[m].to_numpy(), df["group"].to_numpy(), ci=True) for m in metrics if m in df}
    breakdown: dict[str, dict[str, dict[str, Stat]]] = {"instrument": {}, "n_sources": {}}
    for inst, g in df.groupby("slot", sort=True):
        breakdown["instrument"][str(inst)] = {m: Stat.of(g[m].to_numpy()) for m in metrics if m in g}
    for k, g in df.groupby("n_sources", sort=True):
        breakdown["n_sources"][str(k)] = {m: Stat.of(g[m].to_numpy()) for m in metrics if m in g}
    counts = {b: int((df["bucket"] == b).sum()) for b in BUCKETS}
    return scores, breakdown, counts


def _flag_problems(folder: str, df: pd.DataFrame, files=None) -> list:
    """The scoring flags of a per-item frame (silent, identical) as warnings, each naming
    the file it is about (``files``: the submission's relative paths, to find the file's
    extension)."""
    from ..errors import Problem
    from ..safeio import AUDIO_EXT

    out = []
    if "flag" in df:
        for r in df[df["flag"] != ""].itertuples():
            rel = f"{folder}/estimates/{r.item}/{r.slot}"
            if files is not None:
                rel = next((rel + x for x in AUDIO_EXT if rel + x in files), rel)
            if r.flag == "silent":
                out.append(Problem("AVB451", rel, "silent where the source plays; scored by EPS (protocol 2: every "
                                   "SDR-family metric takes the floor; protocol 1: no SDR)",
                                   "check the model's output for this item"))
            else:
                out.append(Problem("AVB452", rel, f"identical or nearly identical to the reference (SDR, SI-SDR "
                                   f"or SD-SDR at {NEAR_COPY_DB:g} dB or more); dB scores capped at "
                                   f"{IDENTICAL_CAP_DB:g}", "submit the model's own estimates"))
    return out


def set_stats(df: pd.DataFrame, classes: list[str]) -> dict[str, Stat]:
    """Every set-level classification metric of the registry (:attr:`Metric.set_level`:
    macro- and micro-F1) over the top-1 predictions of a per-item frame (columns
    ``label``, ``pred``, ``group``), each with its bootstrap interval over groups.
    Scoring and ``leaderboard verify`` both derive them from this frame."""
    idx = {c: k for k, c in enumerate(classes)}
    labels = np.array([idx[c] for c in df["label"]])
    pred = np.array([idx[c] for c in df["pred"]])
    groups = df["group"].to_numpy()
    out = {}
    for m in M.with_role("classification", "set_level"):
        value = float(m.set_level(labels, pred, len(classes)))
        boots = [m.set_level(labels[ix], pred[ix], len(classes), resample=True) for ix in
                 F.stats.bootstrap_indices(len(df), CI_BOOT, CI_SEED, groups)]
        lo, hi = np.quantile(boots, [(1 - CI_LEVEL) / 2, 1 - (1 - CI_LEVEL) / 2])
        out[m.name] = Stat(mean=value, median=value, n=len(df), ci_low=float(lo), ci_high=float(hi),
                           n_groups=len(set(groups)))
    return out


def _classification_frame(task: Task, preds: dict[str, np.ndarray]) -> tuple[pd.DataFrame, dict]:
    """Per-item frame and summaries of checked predictions (``{item id: scores in class order}``)."""
    spec = task.spec
    classes = spec.classes
    scores = np.stack([preds[i.id] for i in task.items])
    labels = np.array([classes.index(i.label) for i in task.items])
    ev = F.classification.evaluate(scores, labels, ks=(1, 3))
    top = F.topk(scores, 3)
    per_item: dict[str, np.ndarray] = {}
    for compute, _ in M.kernels("classification"):  # every registered per-item metric
        per_item.update(compute(scores, labels, spec.metric_params))
    df = pd.DataFrame({
        "item": [i.id for i in task.items], "group": [i.group for i in task.items],
        "label": [i.label for i in task.items], "pred": [classes[k] for k in top[:, 0]], **per_item,
    })
    groups = df["group"].to_numpy()
    stats = {m: Stat.of(df[m], groups, ci=True) for m in spec.metrics if m in per_item}
    if {m.name for m in M.with_role("classification", "set_level")} & set(spec.metrics):  # over the set of decisions
        stats.update({m: st for m, st in set_stats(df, classes).items() if m in spec.metrics})
    p, r, f = F.precision_recall_f1_score(top[:, 0], labels, len(classes), None)
    per_class = {c: {"precision": float(p[k]), "recall": float(r[k]), "f1": float(f[k]),
                     "support": float((labels == k).sum())} for k, c in enumerate(classes)}
    return df, {"scores": stats, "per_class": per_class, "confusion_matrix": ev["confusion_matrix"].tolist(),
                "counts": {"items": len(df)}}
