"""Scoring estimates held in memory (:func:`evaluate`): the numbers ``avbench score``
gives for the same samples, without a folder and without writing anything."""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from .. import __version__
from ..results import Provenance, Result, git_info, library_versions, now
from ..tasks import get_task
from ..tasks.base import Task
from .rules import check_metric_params, score_separation_item
from .summaries import _classification_frame, _flag_problems, summarize_separation


# --------------------------------------------------------------------------- in memory
def evaluate(task: str | Task, estimates, name: str = "in-memory", progress: bool = False) -> Result:
    """Score estimates held in memory: the numbers ``avbench score`` gives for the same
    samples, without a submission folder and without writing anything.

    ``task``: a task or its ``NAME@VERSION``.  ``estimates``:

    * separation: ``{item_id: {slot: array}}`` (or ``{item_id: array}`` of shape
      ``(n_slots, n_samples)`` in the task's slot order); a slot left out is silence.
      Shape: every array ``(n_samples,)`` of the item's length, at the task's rate.
    * classification: ``{item_id: scores}`` with one non-negative score per class in
      ``task.spec.classes`` order, or a ``pandas.DataFrame`` indexed by item id with one
      column per class.

    Every item of the task must be there.  The same checks as validation apply (finite,
    the amplitude range, lengths, non-negative scores); problems raise
    :class:`~avbench.errors.SubmissionError` listing all of them, each named
    ``estimates[<item>][<slot>]``.  The result's provenance records a sha256 of the
    estimates' float64 bytes as ``submission_sha256``.
    """
    import torch

    t = get_task(task) if isinstance(task, str) else task
    h = hashlib.sha256()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the scoring children's layout: the same sums, bit for bit
    try:
        return _evaluate(t, estimates, name, progress, h)
    finally:
        torch.set_num_threads(threads)


def _evaluate(t: Task, estimates, name: str, progress: bool, h) -> Result:
    from ..progress import bar as tqdm

    from ..errors import SubmissionError

    spec = t.spec
    check_metric_params(spec)
    if spec.family == "classification":
        preds, probs = _memory_predictions(t, estimates, h)
        if probs:
            raise SubmissionError(probs, "<memory>")
        df, extra = _classification_frame(t, preds)
    else:
        rows, probs = [], []
        arrays = _memory_estimates(t, estimates, probs)
        if probs:
            raise SubmissionError(probs, "<memory>")
        for item in tqdm(t.items, desc=f"evaluate {spec.key}", disable=not progress):
            est = arrays[item.id]
            h.update(item.id.encode() + b"\0" + est.tobytes())
            rows.extend(score_separation_item(t, t.reference(item).astype(np.float64), est, item))
        df = pd.DataFrame(rows)
        scores, breakdown, counts = summarize_separation(df, spec.metrics)
        extra = {"scores": scores, "breakdown": breakdown, "counts": counts}
    from ..errors import report

    rep = report(_flag_problems(spec.name, df))
    commit_, dirty = git_info()
    prov = Provenance(avbench_version=__version__, git_commit=commit_, git_dirty=dirty, task=spec.name,
                      task_version=spec.version, manifest_sha256=spec.manifest_sha256,
                      items_sha256=spec.items_sha256, submission_sha256=h.hexdigest(),
                      metric_params=spec.metric_params, libraries=library_versions(), date=now())
    return Result(submission=name, task=spec.name, version=spec.version, family=spec.family,
                  main_score=spec.main_score, aggregate=spec.aggregate, n_items=spec.n_items,
                  warnings=rep["problems"], warning_counts=rep["counts"], provenance=prov, **extra)


def _memory_estimates(t: Task, estimates, probs: list) -> dict[str, np.ndarray]:
    from ..errors import Problem
    from ..safeio import check_samples

    spec = t.spec
    known = {i.id for i in t.items}
    for iid in sorted(set(estimates) - known):
        probs.append(Problem("AVB411", f"estimates[{str(iid)[:80]!r}]", "unknown item",
                             f"use the ids of task.items ({len(known)} items)"))
    out = {}
    for item in t.items:
        n = item.clips[0].end - item.clips[0].start
        where = f"estimates[{item.id!r}]"
        if item.id not in estimates:
            probs.append(Problem("AVB410", where, f"missing item {item.id}", "give an estimate for every item"))
            continue
        e = estimates[item.id]
        if not hasattr(e, "items"):
            a = np.asarray(e)
            if a.ndim != 2 or a.shape[0] != len(spec.slots):
                probs.append(Problem("AVB423", where, f"shape {a.shape}, expected ({len(spec.slots)}, {n})",
                                     "give {slot: array} or an array in the task's slot order"))
                continue
            e = dict(zip(spec.slots, a))
        arr = np.zeros((len(spec.slots), n), dtype=np.float64)
        for slot, x in e.items():
            w = f"{where}[{str(slot)[:40]!r}]"
            if slot not in spec.slots:
                probs.append(Problem("AVB413", w, f"unknown slot {str(slot)[:40]!r}",
                                     f"use the slots: {', '.join(spec.slots)}"))
                continue
            x = np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x)
            if x.ndim != 1 or x.shape[0] != n:
                probs.append(Problem("AVB422", w, f"shape {x.shape}, expected ({n},)", f"give {n} mono samples"))
                continue
            x, p = check_samples(x.astype(np.float64), w)
            probs.extend(q for q in p if q.severity == "error")
            if x is not None:
                arr[spec.slots.index(slot)] = x
        out[item.id] = arr
    return out


def _memory_predictions(t: Task, estimates, h) -> tuple[dict[str, np.ndarray], list]:
    from ..errors import Problem

    classes = list(t.spec.classes)
    if isinstance(estimates, pd.DataFrame):
        missing = [c for c in classes if c not in estimates.columns]
        if missing:
            return {}, [Problem("AVB431", "estimates", f"missing class column(s): {', '.join(missing)}",
                                "one column per class of the task")]
        estimates = {str(i): r[classes].to_numpy(dtype=np.float64) for i, r in estimates.iterrows()}
    probs, out = [], {}
    known = {i.id for i in t.items}
    for iid in sorted(set(estimates) - known):
        probs.append(Problem("AVB411", f"estimates[{str(iid)[:80]!r}]", "unknown item", "use the ids of task.items"))
    for item in t.items:
        where = f"estimates[{item.id!r}]"
        if item.id not in estimates:
            probs.append(Problem("AVB410", where, f"missing item {item.id}", "give scores for every item"))
            continue
        x = np.asarray(estimates[item.id], dtype=np.float64)
        if x.shape != (len(classes),):
            probs.append(Problem("AVB431", where, f"shape {x.shape}, expected ({len(classes)},)",
                                 "one score per class, in task.spec.classes order"))
        elif not np.isfinite(x).all():
            probs.append(Problem("AVB432", where, "NaN or inf score", "give finite scores"))
        elif (x < 0).any():
            probs.append(Problem("AVB436", where, "negative score", "give non-negative scores (e.g. softmax)"))
        else:
            out[item.id] = x
            h.update(item.id.encode() + b"\0" + x.tobytes())
    return out, probs
