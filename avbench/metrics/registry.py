"""The metric registry: one :class:`Metric` per score a task can report.

Each kernel module of :mod:`avbench.metrics.functional` registers its metrics next to
the kernel that computes them (:func:`register`).  Everything above the kernels reads
the registry, never a list of its own:

* scoring computes every registered per-item metric of a family through its
  ``compute`` (one call per kernel, shared by the metrics it returns), sorts each score
  into its bucket, and checks a task's recorded ``metric_params`` against the
  parameters the kernels declare (:func:`params`);
* leaderboards take their columns, order, arrows, units and labels from it
  (:func:`columns`, :attr:`Metric.label`), and reports their axis labels.

Adding a metric: write the kernel, register it with its ``compute`` in the same file,
list it in a task's ``metrics``, and test it (``docs/extending.md``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping

#: a separation metric's ``compute(ref, est, present, slots, params)`` returns
#: ``{metric: values}`` with one value per slot of ``slots`` (rows of ``ref``/``est``,
#: both ``(n_slots, n_samples)`` float64; ``present``: the rows with a sounding reference).
#: A classification metric's ``compute(scores, labels, params)`` returns
#: ``{metric: per-item values}``.
Compute = Callable[..., dict]


@dataclass(frozen=True, kw_only=True)
class Metric:
    name: str
    family: str  #: ``separation`` or ``classification``
    higher_is_better: bool
    unit: str
    label: str  #: the display name of tables and plots (``SDR``, ``Hit@1``)
    description: str
    position: float  #: order of the metric's column among its family's
    #: separation: the bucket whose (item, slot) pairs the metric scores: ``sdr`` (reference
    #: and estimate sound), ``pes`` (reference silent), ``eps`` (estimate silent)
    bucket: str | None = None
    #: a metric of the SDR family (dB, the signal against a distortion): a copy of the
    #: reference is capped or refused on it, and protocol 2 clips it to its dB range
    #: and gives a silenced source its floor
    sdr_family: bool = False
    #: the near-copy test: an estimate at ``near_copy_db`` or more on this metric is a
    #: (near-)copy of its reference (flagged AVB452 under protocol 1, refused AVB474 under 2)
    near_copy: bool = False
    #: the mixture role: this metric is the input mixture's score on the metric named, as
    #: the estimate of each sounding source (computed by that metric's ``compute``, cached
    #: per item); the base of an improvement
    mixture_of: str | None = None
    #: a derivation: the metric named minus the input mixture's score on it (SDRi)
    improvement_of: str | None = None
    #: a set-level classification metric: ``set_level(labels, pred, n_classes, resample)``
    #: gives its value over a set of top-1 decisions (and over a bootstrap resample of it),
    #: not a mean over items
    set_level: Callable[..., float] | None = None
    #: the metric parameters its kernel reads: ``None`` for a value passed on (any value),
    #: else the one value the implementation follows
    params: Mapping[str, Any] = field(default_factory=dict)
    floor: float | None = None
    #: where a task report shows it: ``instrument`` and ``n_sources`` (a box plot per
    #: instrument, per number of sources), ``breakdown`` (``breakdown.csv``),
    #: ``versus_input`` (an improvement against its mixture score, a scatter)
    report: tuple[str, ...] = ()
    #: the kernel call that computes it (with the other metrics it returns); ``None`` for a
    #: metric scoring derives (the mixture's scores, improvements, PES/EPS by bucket, F1 over a set)
    compute: Compute | None = None

    @property
    def arrow(self) -> str:
        return "↑" if self.higher_is_better else "↓"


METRICS: dict[str, Metric] = {}


def register(*metrics: Metric) -> None:
    """Add metrics to the registry (at import of their kernel module); a name is registered once."""
    for m in metrics:
        if m.family not in ("separation", "classification"):
            raise ValueError(f"metric {m.name!r}: family must be separation or classification, not {m.family!r}")
        old = METRICS.get(m.name)
        if old is not None and old != m:
            raise ValueError(f"metric {m.name!r} is registered twice")
        for role in ("mixture_of", "improvement_of"):
            base = getattr(m, role)
            if base is not None and (base == m.name or m.family != "separation"):
                raise ValueError(f"metric {m.name!r}: {role} must name another separation metric")
        METRICS[m.name] = m.__class__(**{**m.__dict__, "params": MappingProxyType(dict(m.params))})


def of_family(family: str) -> list[Metric]:
    """The family's metrics in column order."""
    return sorted((m for m in METRICS.values() if m.family == family), key=lambda m: (m.position, m.name))


def columns(family: str) -> list[str]:
    """The leaderboard columns of a family, in order (a board shows those its entries
    score); the input mixture's scores are per-item values, never a column."""
    return [m.name for m in of_family(family) if m.mixture_of is None]


def kernels(family: str) -> list[tuple[Compute, list[str]]]:
    """Each distinct ``compute`` of a family's per-item metrics, once, with the metrics it returns."""
    out: dict[Compute, list[str]] = {}
    for m in of_family(family):
        if m.compute is not None:
            out.setdefault(m.compute, []).append(m.name)
    return list(out.items())


def params(family: str) -> dict[str, Any]:
    """Every metric parameter the family's kernels read (``None``: any value)."""
    out: dict[str, Any] = {}
    for m in of_family(family):
        for k, v in m.params.items():
            if k in out and out[k] != v:
                raise ValueError(f"metric parameter {k!r} is declared with two fixed values ({out[k]!r}, {v!r})")
            out[k] = v
    return out


def with_role(family: str, role: str) -> list[Metric]:
    """The family's metrics that have ``role`` (a truthy field: ``near_copy``,
    ``mixture_of``, ``improvement_of``, ``set_level``), in column order."""
    return [m for m in of_family(family) if getattr(m, role)]


def mixture_metric(of: str) -> Metric:
    """The registered metric that is the input mixture's score on ``of``."""
    for m in METRICS.values():
        if m.mixture_of == of:
            return m
    raise KeyError(f"no metric is the input mixture's {of}; register one with mixture_of={of!r}")


def in_report(family: str, where: str) -> list[Metric]:
    """The family's metrics a task report shows ``where`` (:attr:`Metric.report`)."""
    return [m for m in of_family(family) if where in m.report]


def labels() -> dict[str, str]:
    return {m.name: m.label for m in METRICS.values()}
