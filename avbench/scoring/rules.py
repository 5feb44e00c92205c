"""The protocol's rules on one item: which (item, slot) pairs are scored and by what,
the near-copy and silence rules, protocol 2's floor and cap, and the metric parameters
a task may record.  The metric roles (a near-copy test, the mixture's scores, the
improvements over them) come from the registry (:mod:`avbench.metrics.registry`)."""
from __future__ import annotations

import numpy as np

from ..metrics import functional as F
from ..metrics import registry as M
from ..metrics.functional.silence import BUCKETS
from ..profile import timed
from ..tasks.base import Task, protocol_number
from .mixture import input_mixture_metrics, mixture_metrics

#: a (near-)copy of its reference scores at most this (dB); flagged AVB452
IDENTICAL_CAP_DB = 100.0


#: a metric of the near-copy test (SDR, SI-SDR, SD-SDR: :attr:`Metric.near_copy`) at or
#: above this (dB) marks a (near-)copy of the reference: no separation model comes close
#: (the ideal masks of the built-in task stay below 40 dB), while a reference plus noise at
#: -60 dB, or one ulp away, reaches it
NEAR_COPY_DB = 60.0


def _sep(pred) -> tuple[str, ...]:
    return tuple(m.name for m in M.of_family("separation") if pred(m))


def _near_copy() -> tuple[str, ...]:
    return _sep(lambda m: m.near_copy)


def _improve(v: dict) -> None:
    """Each improvement metric of the registry: its base minus the mixture's score on it."""
    for m in M.with_role("separation", "improvement_of"):
        v[m.name] = v[m.improvement_of] - v[M.mixture_metric(m.improvement_of).name]


def sep_metrics() -> tuple[str, ...]:
    """The columns of a separation row: every registered metric that scores a bucket (those
    a kernel computes, then PES/EPS), the mixture's scores, then the improvements over it."""
    return (_sep(lambda m: m.bucket == "sdr" and m.compute is not None) + _sep(lambda m: m.bucket in ("pes", "eps"))
            + mixture_metrics() + _sep(lambda m: m.improvement_of is not None))


def _capped() -> tuple[str, ...]:
    """The SDR family: capped on a copy, clipped and floored under protocol 2."""
    return _sep(lambda m: m.sdr_family)


def _applicable(p2: bool) -> dict[str, tuple[str, ...]]:
    """The metrics each bucket's rows must carry, finite (a NaN or -inf among them is refused;
    protocol 1 allows +inf).  Protocol 2 scores a silenced source on the SDR family too."""
    sdr = _sep(lambda m: m.bucket == "sdr" and m.mixture_of is None)
    if not p2:
        return {"sdr": sdr, "pes": ("pes",), "eps": ("eps",), "both_silent": ()}
    # a silenced source: the SDR family at the floor and the improvements from it
    silenced = _sep(lambda m: m.bucket == "sdr" and (m.sdr_family or m.improvement_of is not None))
    return {"sdr": sdr, "eps": silenced + ("eps",), "pes": ("pes",), "both_silent": ("pes", "eps")}


BUCKET_NAMES = {v: k for k, v in BUCKETS.items()}


#: the parameters of the scoring protocol itself (``docs/protocol.md``), beside those the
#: kernels declare in the registry: ``None`` for any value, else the one value followed
PROTOCOL_PARAMS: dict[str, dict[str, object]] = {
    "separation": {"protocol": None, "db_floor": None, "db_cap": None, "near_copy_db": None,
                   # read by the item builder (which clips are items), recorded with the protocol
                   "min_active_fraction": None, "min_sources": None, "active_frame": None, "active_db": None},
    "classification": {"protocol": None, "min_active_fraction": None, "active_frame": None, "active_db": None},
}


def metric_params(family: str) -> dict[str, object]:
    """Every metric parameter a task of ``family`` may record: the protocol's and those its
    metrics' kernels declare (:func:`avbench.metrics.registry.params`).  A recorded key
    outside this table, or another value for a fixed one, is an error: what a result
    records is what scoring did."""
    return {**M.params(family), **PROTOCOL_PARAMS[family]}


#: what every protocol-2 separation task records (and scoring reads)
PROTOCOL2_KEYS = ("protocol", "include_both_silent", "db_floor", "db_cap", "near_copy_db", "pes_eps",
                  "filter_length", "si_sdr_eps", "min_sources", "min_active_fraction", "active_frame", "active_db")


def check_metric_params(spec) -> None:
    """Refuse a task spec whose recorded metric parameters scoring would not follow."""
    from ..errors import TaskError

    unknown = [m for m in spec.metrics if m not in M.METRICS or M.METRICS[m].family != spec.family]
    if unknown:
        raise TaskError(f"{spec.key}: metric(s) {', '.join(unknown)} are not registered {spec.family} metrics",
                        fix="register each metric next to its kernel (avbench/metrics/registry.py)")
    known = metric_params(spec.family)
    for k, v in spec.metric_params.items():
        if k not in known:
            raise TaskError(f"{spec.key}: metric parameter {k!r} is recorded but scoring does not read it",
                            fix=f"remove it, or declare it with the kernel that reads it (read: {', '.join(known)})")
        if known[k] is not None and v != known[k]:
            raise TaskError(f"{spec.key}: metric parameter {k}={v!r} is not what scoring does ({known[k]!r})",
                            fix="record the value scoring follows, or implement the other one")
    if spec.family == "separation" and protocol_number(spec.metric_params) >= 2:
        need = [k for k in PROTOCOL2_KEYS if k not in spec.metric_params]
        if need:
            raise TaskError(f"{spec.key}: a protocol-2 task must record {', '.join(need)}",
                            fix="record every protocol-2 parameter (docs/protocol.md)")


def score_separation_item(task: Task, ref: np.ndarray, est: np.ndarray, item) -> list[dict]:
    """Rows for one item: one per slot with a reference or an estimate (protocol 1), or
    one per slot of the task (protocol 2: every (item, slot) is scored; see
    ``docs/protocol.md``).

    Shape: ``ref``, ``est`` are ``(n_slots, n_samples)``.
    """
    p = task.spec.metric_params
    p2 = protocol_number(p) >= 2
    with timed("kernel"):
        codes = F.buckets(ref, est)
    if p2:
        active = list(range(ref.shape[0]))
    else:
        active = [k for k in range(ref.shape[0]) if codes[k] != BUCKETS["both_silent"]]
    present = [k for k in range(ref.shape[0]) if ref[k].any()]
    rows = []
    vals: dict[int, dict[str, float]] = {k: {m: np.nan for m in sep_metrics()} for k in active}
    sdr_slots = [k for k in active if codes[k] == BUCKETS["sdr"]]
    silenced = [k for k in active if codes[k] == BUCKETS["eps"]]
    if sdr_slots:  # every registered kernel of the family, once each (registry order)
        for compute, _ in M.kernels("separation"):
            with timed("kernel"):
                got = compute(ref, est, present, sdr_slots, p)
            for m, values in got.items():
                for pos, k in enumerate(sdr_slots):
                    vals[k][m] = float(values[pos])
    # the input mixture scored as the estimate of every present source: improvements
    need_in = sdr_slots + (silenced if p2 else [])
    if need_in:
        with timed("kernel"):
            mixture = input_mixture_metrics(task, item, ref, present)
        for k in present:
            if k in need_in:
                vals[k].update(zip(mixture_metrics(), mixture[task.spec.slots[k]]))
    both = bool(p.get("include_both_silent", False))
    # the estimates passed validation's checks (finite, in range): no kernel checks again
    with timed("kernel"):
        pe = F.pes(ref, est, eps=p.get("pes_eps", 1e-8), include_both_silent=both, check=False)
        ep = F.eps(ref, est, eps=p.get("pes_eps", 1e-8), include_both_silent=both, check=False)
    for k in active:
        flag = ""
        v = vals[k]
        code = int(codes[k])
        if code in (BUCKETS["pes"], BUCKETS["both_silent"]) and not np.isnan(pe[k]):
            v["pes"] = float(pe[k])
        if code in (BUCKETS["eps"], BUCKETS["both_silent"]) and not np.isnan(ep[k]):
            v["eps"] = float(ep[k])
        if code == BUCKETS["eps"]:
            flag = "silent"
        if p2:
            _protocol2_values(task, item, k, code, v, p)
        elif code == BUCKETS["sdr"]:
            if np.array_equal(ref[k], est[k]) or any(not v[m] < NEAR_COPY_DB for m in _near_copy()):
                flag = "identical"
                for m in _capped():
                    if not v[m] < IDENTICAL_CAP_DB:  # also +inf and NaN of an exact match
                        v[m] = IDENTICAL_CAP_DB
            for m in mixture_metrics():  # the mixture is the reference where only this source sounds
                if not v[m] < IDENTICAL_CAP_DB:
                    v[m] = IDENTICAL_CAP_DB
            _improve(v)
        applicable = _applicable(p2)[BUCKET_NAMES[code]]
        bad = [m for m in applicable if not np.isfinite(v[m]) and not (not p2 and v[m] == np.inf)]
        if bad:
            _refuse(task, item, k, "AVB473", f"{', '.join(bad)} undefined (NaN or infinite) for this estimate",
                    "check the estimate (scale, denormal values); every sounding source must get a score")
        rows.append({"item": item.id, "slot": task.spec.slots[k], "group": item.group, "n_sources": item.n_sources,
                     "bucket": BUCKET_NAMES[code], **v, "flag": flag})
    return rows


def _refuse(task: Task, item, k: int, code: str, what: str, fix: str):
    from ..errors import Problem, SubmissionError

    raise SubmissionError([Problem(code, f"estimates/{item.id}/{task.spec.slots[k]}", what, fix)], ".")


def _protocol2_values(task: Task, item, k: int, code: int, v: dict, p: dict) -> None:
    """Protocol 2 on one slot's values, in place.  A silent estimate of a sounding source
    takes ``db_floor`` in every SDR-family metric; every SDR-family value is clipped to
    ``[db_floor, db_cap]`` (so silencing a source never raises a mean); an estimate at
    ``near_copy_db`` or more in SDR, SI-SDR or SD-SDR is a copy of its reference and is
    refused (AVB474), never capped into a mean."""
    lo, hi = float(p["db_floor"]), float(p["db_cap"])
    if code == BUCKETS["eps"]:
        v.update({m: lo for m in _capped()})
    if code in (BUCKETS["sdr"], BUCKETS["eps"]):
        if code == BUCKETS["sdr"] and any(v[m] >= p["near_copy_db"] for m in _near_copy()):
            _refuse(task, item, k, "AVB474",
                    f"a copy of its reference (SDR, SI-SDR or SD-SDR at {p['near_copy_db']:g} dB or more); "
                    "protocol 2 scores no copies", "submit the model's own estimates")
        for m in _capped() + mixture_metrics():
            if not np.isnan(v[m]):
                v[m] = float(min(max(v[m], lo), hi))
        _improve(v)
