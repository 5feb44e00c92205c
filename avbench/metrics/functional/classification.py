"""Classification metrics: Hit@k, precision, recall, F1, confusion matrix.

Every function takes the predictions first and the true labels second, as
``hit_at_k(scores, labels, k)``: predictions are scores ``(n_items, n_classes)`` or (for
precision, recall, F1 and the confusion matrix) class indices ``(n_items,)``; labels are
class indices ``(n_items,)`` or a multi-hot matrix ``(n_items, n_classes)`` (Hit@k only).
``n_classes`` is optional: the width of the scores, else one more than the largest index.
The labels-first ``confusion_matrix``, ``precision_recall_f1``, ``precision``, ``recall``
and ``f1`` are deprecated aliases.  Ranking is by
``(-score, class index)``: among equal scores the lower class index ranks first, so
results never depend on a sort's tie handling.  Precision/recall/F1 follow the
scikit-learn definitions (``average`` in ``micro``, ``macro``, ``weighted`` or ``None``
for per class) with an explicit ``zero_division`` value for 0/0.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from ..registry import Metric, register

__all__ = ["hit_at_k", "topk", "confusion", "precision_recall_f1_score", "precision_score", "recall_score",
           "f1_score", "validate", "evaluate",
           # deprecated: labels first
           "confusion_matrix", "precision_recall_f1", "precision", "recall", "f1"]


def _numpy(x: Any) -> np.ndarray:
    try:
        import torch

        if isinstance(x, torch.Tensor):
            x = x.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    return np.asarray(x)


def _scores(scores: Any) -> np.ndarray:
    s = np.asarray(_numpy(scores), dtype=np.float64)
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


def _preds_labels(preds: Any, labels: Any, n_classes: int | None) -> tuple[np.ndarray, np.ndarray, int]:
    """Class indices of the predictions and labels, and the number of classes.

    ``preds`` is a score matrix ``(n_items, n_classes)`` (its top-1 class is the
    prediction, ties to the lower index) or class indices ``(n_items,)``.  Without
    ``n_classes``: the width of the score matrix, else one more than the largest index."""
    p = _numpy(preds)
    if p.ndim == 2:
        if n_classes is not None and n_classes != p.shape[1]:
            raise ValueError(f"scores have {p.shape[1]} classes, n_classes is {n_classes}")
        n_classes = p.shape[1]
        p = topk(p, 1)[:, 0]
    t = _numpy(labels)
    for name, v in (("preds", p), ("labels", t)):
        if v.ndim != 1 or (v.size and not np.issubdtype(v.dtype, np.integer)):
            raise ValueError(f"{name} must be class indices (n_items,) of integers, got shape {v.shape} "
                             f"and dtype {v.dtype}")
    if t.shape != p.shape:
        raise ValueError(f"preds and labels must have equal length, got {p.shape} and {t.shape}")
    p, t = p.astype(np.int64), t.astype(np.int64)
    if n_classes is None:
        n_classes = int(max(p.max(initial=-1), t.max(initial=-1))) + 1
    for name, v in (("preds", p), ("labels", t)):
        if v.size and (v.min() < 0 or v.max() >= n_classes):
            raise ValueError(f"{name} has a class outside [0, {n_classes})")
    return p, t, int(n_classes)


def confusion(preds: Any, labels: Any, n_classes: int | None = None) -> np.ndarray:
    """``C[i, j]`` = number of items of true class ``i`` predicted as ``j``."""
    p, t, n = _preds_labels(preds, labels, n_classes)
    return np.bincount(t * n + p, minlength=n * n).reshape(n, n)


def _div(num: np.ndarray, den: np.ndarray, zero_division: float) -> np.ndarray:
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, float(zero_division))
    np.divide(num, den, out=out, where=den != 0)
    return out


def precision_recall_f1_score(preds: Any, labels: Any, n_classes: int | None = None,
                              average: str | None = "macro", zero_division: float = 0.0) -> tuple[Any, Any, Any]:
    """Precision, recall and F1 (scikit-learn definitions, single-label) of ``preds``
    (scores or class indices) against ``labels``.  ``average``: ``micro``, ``macro``
    (over all ``n_classes``; a class with neither items nor predictions counts as
    ``zero_division``), ``weighted``, or ``None`` for per-class arrays."""
    C = confusion(preds, labels, n_classes)
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


def precision_score(preds: Any, labels: Any, n_classes: int | None = None, average: str | None = "macro",
                    zero_division: float = 0.0) -> Any:
    return precision_recall_f1_score(preds, labels, n_classes, average, zero_division)[0]


def recall_score(preds: Any, labels: Any, n_classes: int | None = None, average: str | None = "macro",
                 zero_division: float = 0.0) -> Any:
    return precision_recall_f1_score(preds, labels, n_classes, average, zero_division)[1]


def f1_score(preds: Any, labels: Any, n_classes: int | None = None, average: str | None = "macro",
             zero_division: float = 0.0) -> Any:
    return precision_recall_f1_score(preds, labels, n_classes, average, zero_division)[2]


# ------------------------------------------------------------------ deprecated (labels first)
def _deprecated(old: str, new: str) -> None:
    import warnings

    warnings.warn(f"{old}(y_true, y_pred, n_classes) is deprecated: use {new}(preds, labels, n_classes=None), "
                  "predictions first as in hit_at_k", DeprecationWarning, stacklevel=3)


def confusion_matrix(y_true: Any, y_pred: Any, n_classes: int) -> np.ndarray:
    """Deprecated: :func:`confusion` (predictions first)."""
    _deprecated("confusion_matrix", "confusion")
    return confusion(y_pred, y_true, n_classes)


def precision_recall_f1(y_true: Any, y_pred: Any, n_classes: int, average: str | None = "macro",
                        zero_division: float = 0.0) -> tuple[Any, Any, Any]:
    """Deprecated: :func:`precision_recall_f1_score` (predictions first)."""
    _deprecated("precision_recall_f1", "precision_recall_f1_score")
    return precision_recall_f1_score(y_pred, y_true, n_classes, average, zero_division)


def precision(y_true, y_pred, n_classes, average="macro", zero_division=0.0):
    """Deprecated: :func:`precision_score` (predictions first)."""
    _deprecated("precision", "precision_score")
    return precision_recall_f1_score(y_pred, y_true, n_classes, average, zero_division)[0]


def recall(y_true, y_pred, n_classes, average="macro", zero_division=0.0):
    """Deprecated: :func:`recall_score` (predictions first)."""
    _deprecated("recall", "recall_score")
    return precision_recall_f1_score(y_pred, y_true, n_classes, average, zero_division)[1]


def f1(y_true, y_pred, n_classes, average="macro", zero_division=0.0):
    """Deprecated: :func:`f1_score` (predictions first)."""
    _deprecated("f1", "f1_score")
    return precision_recall_f1_score(y_pred, y_true, n_classes, average, zero_division)[2]


def evaluate(scores: Any, labels: Any, ks: tuple[int, ...] = (1, 3)) -> dict:
    """Hit@k for each k, macro/micro F1, per-class F1 and the confusion matrix of top-1."""
    s = _scores(scores)
    y = np.asarray(labels)
    n_classes = s.shape[1]
    out = {f"hit@{k}": hit_at_k(s, y, k) for k in ks if k <= n_classes}
    pred = topk(s, 1)[:, 0]
    out["macro_f1"] = f1_score(pred, y, n_classes, "macro")
    out["micro_f1"] = f1_score(pred, y, n_classes, "micro")
    out["per_class_f1"] = f1_score(pred, y, n_classes, None)
    out["confusion_matrix"] = confusion(pred, y, n_classes)
    return out


# ----------------------------------------------------------------------------- registry
def _item_scores(scores: np.ndarray, labels: np.ndarray, params: dict) -> dict:
    """Per item: 1 where the true class is among the 1 (3) best-scored, ties by class index."""
    return {f"hit@{k}": hit_at_k(scores, labels, k, reduction="none").astype(float) for k in (1, 3)}


def _f1_of(average: str):
    """F1 over a set of top-1 decisions.  On a bootstrap resample (``resample``),
    macro-F1 averages over the classes the resample holds: a class that resampling happened
    to leave out has F1 0/0, which must not count as 0."""
    def f1(labels: np.ndarray, pred: np.ndarray, n_classes: int, resample: bool = False) -> float:
        if average != "macro" or not resample:
            return f1_score(pred, labels, n_classes, average)
        per = f1_score(pred, labels, n_classes, None)
        return float(per[np.bincount(labels, minlength=n_classes) > 0].mean())
    return f1


def _metric(name: str, label: str, description: str, position: float, **kw) -> Metric:
    return Metric(name=name, family="classification", higher_is_better=True, unit="", label=label,
                  description=description, position=position, floor=0.0, **kw)


_TIES = {"ties": "(-score, class index)"}
register(
    _metric("hit@1", "Hit@1", "top-1 accuracy", 1, params=_TIES, compute=_item_scores),
    _metric("hit@3", "Hit@3", "a true label among the 3 best classes", 2, params=_TIES, compute=_item_scores),
    _metric("macro_f1", "Macro-F1", "unweighted mean of per-class F1", 3, params={"zero_division": 0.0},
            set_level=_f1_of("macro")),
    _metric("micro_f1", "Micro-F1", "F1 over all decisions", 4, params={"zero_division": 0.0},
            set_level=_f1_of("micro")),
)
