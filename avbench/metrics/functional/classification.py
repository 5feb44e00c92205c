"""Classification metrics: Hit@k, precision, recall, F1, confusion matrix.

Scores are ``(n_items, n_classes)``; labels are class indices ``(n_items,)`` or a
multi-hot matrix ``(n_items, n_classes)`` (Hit@k only).  Ranking is by
``(-score, class index)``: among equal scores the lower class index ranks first, so
results never depend on a sort's tie handling.  Precision/recall/F1 follow the
scikit-learn definitions (``average`` in ``micro``, ``macro``, ``weighted`` or ``None``
for per class) with an explicit ``zero_division`` value for 0/0.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["hit_at_k", "topk", "confusion_matrix", "precision_recall_f1", "precision", "recall", "f1",
           "validate", "evaluate"]


def _scores(scores: Any) -> np.ndarray:
    try:
        import torch

        if isinstance(scores, torch.Tensor):
            scores = scores.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(f"scores must be (n_items, n_classes), got shape {s.shape}")
    if not np.isfinite(s).all():
        i = int(np.argwhere(~np.isfinite(s))[0, 0])
        raise ValueError(f"scores of item {i} contain NaN or inf")
    return s


def _labels(labels: Any, n_items: int, n_classes: int) -> np.ndarray:
    """Multi-hot boolean (n_items, n_classes)."""
    y = np.asarray(labels)
    if y.ndim == 1:
        if y.shape[0] != n_items:
            raise ValueError(f"{y.shape[0]} labels for {n_items} items")
        if not np.issubdtype(y.dtype, np.integer):
            raise ValueError("labels must be integer class indices")
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(f"label out of range [0, {n_classes})")
        out = np.zeros((n_items, n_classes), dtype=bool)
        out[np.arange(n_items), y] = True
        return out
    if y.shape != (n_items, n_classes):
        raise ValueError(f"multi-hot labels must be {(n_items, n_classes)}, got {y.shape}")
    return y.astype(bool)


def validate(scores: Any, labels: Any) -> None:
    s = _scores(scores)
    _labels(labels, *s.shape)


def topk(scores: Any, k: int) -> np.ndarray:
    """Indices of the k best classes per item, ordered by ``(-score, class index)``."""
    s = _scores(scores)
    order = np.argsort(-s, axis=1, kind="stable")
    return order[:, :k]


def hit_at_k(scores: Any, labels: Any, k: int = 1, reduction: str = "mean") -> Any:
    """Fraction of items with a true label among the top ``k`` classes.

    ``reduction="none"`` returns the per-item hits (bool).
    """
    s = _scores(scores)
    if not 1 <= k <= s.shape[1]:
        raise ValueError(f"k must be in [1, {s.shape[1]}], got {k}")
    y = _labels(labels, *s.shape)
    top = topk(s, k)
    hits = np.take_along_axis(y, top, axis=1).any(axis=1)
    if reduction == "none":
        return hits
    return float(hits.mean()) if hits.size else float("nan")


def confusion_matrix(y_true: Any, y_pred: Any, n_classes: int) -> np.ndarray:
    """``C[i, j]`` = number of items of true class ``i`` predicted as ``j``."""
    t = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(y_pred, dtype=np.int64)
    if t.shape != p.shape or t.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D of equal length, got {t.shape} and {p.shape}")
    for name, v in (("y_true", t), ("y_pred", p)):
        if v.size and (v.min() < 0 or v.max() >= n_classes):
            raise ValueError(f"{name} has a class outside [0, {n_classes})")
    return np.bincount(t * n_classes + p, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def _div(num: np.ndarray, den: np.ndarray, zero_division: float) -> np.ndarray:
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, float(zero_division))
    np.divide(num, den, out=out, where=den != 0)
    return out


def precision_recall_f1(y_true: Any, y_pred: Any, n_classes: int, average: str | None = "macro",
                        zero_division: float = 0.0) -> tuple[Any, Any, Any]:
    """Precision, recall and F1 (scikit-learn definitions, single-label)."""
    C = confusion_matrix(y_true, y_pred, n_classes)
    tp = np.diag(C).astype(np.float64)
    pred = C.sum(0).astype(np.float64)
    true = C.sum(1).astype(np.float64)
    if average == "micro":
        p = _div(tp.sum(), pred.sum(), zero_division)
        r = _div(tp.sum(), true.sum(), zero_division)
        f = _div(2 * tp.sum(), pred.sum() + true.sum(), zero_division)
        return float(p), float(r), float(f)
    p = _div(tp, pred, zero_division)
    r = _div(tp, true, zero_division)
    f = _div(2 * tp, pred + true, zero_division)
    if average is None:
        return p, r, f
    if average == "macro":
        return float(p.mean()), float(r.mean()), float(f.mean())
    if average == "weighted":
        w = true / true.sum() if true.sum() else np.zeros_like(true)
        return float((p * w).sum()), float((r * w).sum()), float((f * w).sum())
    raise ValueError(f"average must be 'micro', 'macro', 'weighted' or None, got {average!r}")


def precision(y_true, y_pred, n_classes, average="macro", zero_division=0.0):
    return precision_recall_f1(y_true, y_pred, n_classes, average, zero_division)[0]


def recall(y_true, y_pred, n_classes, average="macro", zero_division=0.0):
    return precision_recall_f1(y_true, y_pred, n_classes, average, zero_division)[1]


def f1(y_true, y_pred, n_classes, average="macro", zero_division=0.0):
    return precision_recall_f1(y_true, y_pred, n_classes, average, zero_division)[2]


def evaluate(scores: Any, labels: Any, ks: tuple[int, ...] = (1, 3)) -> dict:
    """Hit@k for each k, macro/micro F1, per-class F1 and the confusion matrix of top-1."""
    s = _scores(scores)
    y = np.asarray(labels)
    n_classes = s.shape[1]
    out = {f"hit@{k}": hit_at_k(s, y, k) for k in ks if k <= n_classes}
    pred = topk(s, 1)[:, 0]
    out["macro_f1"] = f1(y, pred, n_classes, "macro")
    out["micro_f1"] = f1(y, pred, n_classes, "micro")
    out["per_class_f1"] = f1(y, pred, n_classes, None)
    out["confusion_matrix"] = confusion_matrix(y, pred, n_classes)
    return out
