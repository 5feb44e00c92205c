"""The input mixture's scores (the base of SDRi and SI-SDRi), computed once per item and
kept under ``$AVBENCH_HOME/scoring/mixture/``."""
from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import numpy as np

from ..files import atomic_write
from ..metrics import functional as F
from ..metrics import registry as M
from ..tasks.base import Task, mixture_of


def _kernel_source_sha() -> str:
    """The sha256 of every kernel source file (:mod:`avbench.metrics.functional`): a change
    to any of them computes the mixture's scores again."""
    return _sources_sha(Path(F.__file__).parent)


@functools.lru_cache(maxsize=4)
def _sources_sha(folder: Path) -> str:
    src = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        src.update(path.name.encode() + b"\0" + path.read_bytes())
    return src.hexdigest()


def _kernel_key(task: Task) -> str:
    """What the input mixture's scores depend on: the task version and its items, the
    metric parameters, the metrics with a mixture role, and the kernels' source."""
    msg = json.dumps([task.spec.key, task.spec.items_sha256, task.spec.metric_params, mixture_metrics(),
                      _kernel_source_sha()], sort_keys=True)
    return hashlib.sha256(msg.encode()).hexdigest()[:32]


def mixture_metrics() -> tuple[str, ...]:
    """The input mixture's scores a row carries for its improvements (``sdr_in``,
    ``si_sdr_in``: the registry's metrics with a mixture role), in column order."""
    return tuple(m.name for m in M.with_role("separation", "mixture_of"))


def mixture_scores(ref: np.ndarray, mix: np.ndarray, present: list[int], params: dict) -> dict[str, np.ndarray]:
    """Each mixture-role metric of the registry (:attr:`Metric.mixture_of`): its base
    metric's ``compute`` on the mixture as the estimate of every present source, one call
    per kernel.  Shape: ``ref (n_slots, n_samples)``, ``mix (n_samples,)``; values in
    ``present`` order."""
    est = np.broadcast_to(mix, ref.shape)
    got: dict = {}
    out = {}
    for m in M.with_role("separation", "mixture_of"):
        base = M.METRICS[m.mixture_of]
        if base.compute is None:
            raise ValueError(f"{m.name}: its base metric {base.name} has no compute")
        if base.compute not in got:
            got[base.compute] = base.compute(ref, est, present, present, params)
        out[m.name] = np.asarray(got[base.compute][base.name], dtype=np.float64)
    return out


def input_mixture_metrics(task: Task, item, ref: np.ndarray, present: list[int]) -> dict[str, tuple[float, ...]]:
    """The input mixture's scores as the estimate of each present source (``{slot:
    (sdr_in, si_sdr_in)}``, in :func:`mixture_metrics` order, for
    SDRi and SI-SDRi).  They depend on the task alone, so they are computed once per item
    and kept under ``$AVBENCH_HOME/scoring/mixture/`` keyed by the task version, its
    items, the metric parameters and the kernels' source (:func:`_kernel_key`); a damaged
    or foreign record is computed again, never trusted."""
    from ..config import home
    from ..safeio import read_regular

    slots = [task.spec.slots[k] for k in present]
    names = mixture_metrics()
    name = hashlib.sha256(item.id.encode()).hexdigest()[:32] + ".json"
    path = home() / "scoring" / "mixture" / task.spec.key / _kernel_key(task) / name
    try:
        rec = json.loads(read_regular(path, 1 << 16))
        if rec["item"] == item.id and sorted(rec["values"]) == sorted(slots) and \
                all(len(v) == len(names) for v in rec["values"].values()):
            return {k: tuple(float(x) for x in v) for k, v in rec["values"].items()}
    except (OSError, ValueError, KeyError, TypeError):
        pass  # not there yet, or not what this task gives
    mix = mixture_of(ref, present).astype(np.float64)  # the task's input, bit for bit
    got = mixture_scores(ref, mix, present, task.spec.metric_params)
    values = {s: tuple(float(got[m][pos]) for m in names) for pos, s in enumerate(slots)}
    try:  # repr of a float round-trips exactly; Infinity where the mixture is the reference
        atomic_write(path, json.dumps({"item": item.id, "values": values}))
    except OSError:
        pass  # a read-only home: computed every time
    return values
