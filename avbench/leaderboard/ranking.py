"""Ranking: the order of a board's rows and its ``vs #1`` column.

:func:`ranked` turns a board's entries into a :class:`Ranked` table, the one input of
every renderer (:mod:`avbench.leaderboard.render`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..metrics import METRICS
from .entry import Entry


#: main scores equal to this many decimals are a tie: they share a rank, listed by name
RANK_DECIMALS = 6


def rank(entries: list[Entry], unranked: set[str] | frozenset = frozenset()) -> list[tuple[int | None, Entry]]:
    """Entries in rank order with their rank (``None``: an oracle row, shown after the ranked
    ones; or a row of ``unranked``, held back for review, shown between them)."""
    if not entries:
        return []
    main = entries[0].main_score
    hib = METRICS[main].higher_is_better if main in METRICS else True

    def key(e: Entry):
        v = e.main_value
        missing = v is None
        v = round(v or 0.0, RANK_DECIMALS)  # equal to 1e-6 (the published tolerance): a tie, broken by name
        return (missing, -v if hib else v, e.name)

    ranked = sorted([e for e in entries if not e.oracle and e.name not in unranked], key=key)
    held = sorted([e for e in entries if not e.oracle and e.name in unranked], key=key)
    oracles = sorted([e for e in entries if e.oracle], key=key)
    out: list[tuple[int | None, Entry]] = []
    prev = None
    for i, e in enumerate(ranked):  # competition ranking: equal scores share a rank (1, 2, 2, 4)
        k = key(e)[:2]
        if k != prev:
            r, prev = i + 1, k
        out.append((r, e))
    out.extend((None, e) for e in held)
    out.extend((None, e) for e in oracles)
    return out


#: a row above the best oracle row on more than this share of the works exceeds the bounds
EXCEEDS_SHARE = 0.5


def exceeds_bounds(shown: list[Entry], frames: Callable) -> dict[str, str]:
    """``name -> why`` for each non-oracle row whose per-work mean main score is better than
    every oracle row's on more than :data:`EXCEEDS_SHARE` of the works both scored (the
    oracles are the bounds a mixture-based method does not pass: the ideal masks).
    ``frames(name)`` gives a row's per-item scores (its seed means) or ``None``.  Such a
    row is usually a copy of the references, plain or degraded (docs/protocol.md)."""
    oracles = [e for e in shown if e.oracle]
    if not shown or not oracles:
        return {}
    metric = shown[0].main_score
    hib = METRICS[metric].higher_is_better if metric in METRICS else True

    def per_work(name: str):
        f = frames(name)
        if f is None or metric not in f.columns:
            return None
        v = f[["group", metric]].copy()
        v = v[np.isfinite(v[metric].to_numpy(float))]
        return v.groupby(v["group"].astype(str))[metric].mean()

    bounds = [b for b in (per_work(o.name) for o in oracles) if b is not None]
    if not bounds:
        return {}
    import pandas as pd

    best = pd.concat(bounds, axis=1).max(axis=1) if hib else pd.concat(bounds, axis=1).min(axis=1)
    out = {}
    for e in shown:
        if e.oracle:
            continue
        w = per_work(e.name)
        if w is None:
            continue
        both = w.index.intersection(best.index)
        if not len(both):
            continue
        above = int(((w[both] > best[both]) if hib else (w[both] < best[both])).sum())
        if above > EXCEEDS_SHARE * len(both):
            out[e.name] = (f"better than every oracle row on {above} of {len(both)} works; not ranked until "
                           "reviewed (avbench leaderboard review)")
    return out

def columns(family: str) -> list[str]:
    """The metric columns of a board of ``family``, in display order (the registry's; a
    board shows those its entries score)."""
    from ..metrics.registry import columns as registered

    return registered(family)

def significance(parquet, ranked: list[tuple[int | None, Entry]],
                 seeds: dict[str, tuple[str, ...]] | None = None) -> dict[str, str]:
    """``name -> text`` comparing every ranked row with the top row on the main score
    (:func:`avbench.compare.compare_frames`: signed-rank test on per-work mean
    differences), where both have per-item scores (``parquet(name)`` returns an entry's or
    ``None``); the p-values are Holm-corrected for the number of rows tested.  Rows not
    significantly different from the top are marked ``≈``.

    A row that folds several seeds (``seeds``: row name -> its seed entries) is compared
    through its per-item seed means, and its p is the larger of that test's and the
    seed-and-work bootstrap's (:func:`~avbench.leaderboard.seeds.seed_work_difference_p`),
    so a difference that one lucky seed makes is not called significant."""
    from ..compare import ALPHA, compare_frames, holm
    from ..errors import AvbenchError
    from .seeds import row_frames, seed_mean_frame, seed_work_difference_p

    seeds = seeds or {}
    rows = [e for r, e in ranked if r is not None]
    if len(rows) < 2:
        return {}
    metric = rows[0].main_score

    def frames(name: str):
        return row_frames(parquet, seeds.get(name, (name,)), metric)

    top = rows[0]
    fa = frames(top.name)
    if fa is None:
        return {}
    a = fa[0] if len(fa) == 1 else seed_mean_frame(fa, metric)
    out = {top.name: "top"}
    tested: dict[str, float] = {}
    for e in rows[1:]:
        fb = frames(e.name)
        if fb is None:
            continue
        b = fb[0] if len(fb) == 1 else seed_mean_frame(fb, metric)
        try:
            p = compare_frames(a, b, e.family, metric)["test"]["p_value"]
        except AvbenchError:  # no shared scored values: nothing to say
            continue
        if len(fa) > 1 or len(fb) > 1:
            pb = seed_work_difference_p(fa, fb, metric)
            p = p if pb is None else max(p, pb)
        tested[e.name] = p
    for name, p in zip(tested, holm(list(tested.values()))):
        out[name] = ("≈ " if not p < ALPHA else "") + (f"p={p:.3f}" if p >= 0.001 else "p<0.001")
    return out

def gate_of(task: str) -> dict[str, float]:
    """The convergence gate the task declares (empty for an undeclared task or none)."""
    from ..errors import AvbenchError
    from ..tasks.declared import declared

    try:
        return dict(declared(task).gate)
    except AvbenchError:
        return {}


def not_converged(entry: Entry, gate: dict[str, float]) -> str | None:
    """Why ``entry`` fails the task's convergence gate, or ``None``: a non-oracle row whose
    silenced share of the sounding sources exceeds ``max_silenced`` or whose mean SDRi is
    below ``min_sdri`` (docs/protocol.md, "The convergence gate")."""
    st = entry.scores.get("sdri")
    return gate_reason(entry.oracle, entry.counts, st.get(entry.aggregate) if st is not None else None, gate)


def gate_reason(oracle: bool, counts: dict[str, int], sdri: float | None, gate: dict[str, float]) -> str | None:
    """:func:`not_converged` from an entry's fields: its oracle flag, bucket counts and mean SDRi."""
    if oracle or not gate:
        return None
    why = []
    c = counts
    sounding = c.get("sdr", 0) + c.get("eps", 0)
    if "max_silenced" in gate and sounding:
        share = c.get("eps", 0) / sounding
        if share > gate["max_silenced"]:
            why.append(f"silences {100 * share:.1f}% of the sounding sources (gate: at most "
                       f"{100 * gate['max_silenced']:g}%)")
    v = sdri
    if "min_sdri" in gate and v is not None and v < gate["min_sdri"]:
        why.append(f"SDRi {v:.2f} dB (gate: at least {gate['min_sdri']:g} dB)")
    return "; ".join(why) or None


@dataclass(frozen=True)
class Ranked:
    """A ranked board: its entries (as stored, by name), the rows in rank order (one per
    model: :mod:`avbench.leaderboard.seeds` folds a model's seed entries), the ``vs #1``
    text of each ranked row, and the report plots beside it (paths relative to the board
    folder)."""
    task: str
    version: str
    entries: list[Entry]
    rows: list[tuple[int | None, Entry]]
    sig: dict[str, str] = field(default_factory=dict)
    plots: tuple[str, ...] = ()
    #: name -> why, for each row outside the task's convergence gate (:func:`not_converged`)
    gated: dict[str, str] = field(default_factory=dict)
    #: row name -> the seed entries it folds, in seed order (a one-seed row: its own name)
    seeds: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: row name -> the seeds' main scores, in the order of :attr:`seeds`
    seed_values: dict[str, tuple[float | None, ...]] = field(default_factory=dict)
    #: name -> why, for each row better than every oracle row on most works and not reviewed:
    #: listed unranked (:func:`exceeds_bounds`)
    exceeds: dict[str, str] = field(default_factory=dict)
    #: the rows a maintainer reviewed (``reviewed.json`` of the board): ranked even when they
    #: exceed the oracle bounds
    reviewed: frozenset = frozenset()

    @property
    def folded(self) -> bool:
        """Whether any row folds several seeds (the tables then show the seed columns)."""
        return any(len(v) > 1 for v in self.seeds.values())


def ranked(task: str, version: str, entries: list[Entry], parquet: Callable | None = None,
           plots: tuple[str, ...] | list[str] = (), fold: bool = True,
           reviewed: frozenset | set = frozenset()) -> Ranked:
    """Rank ``entries``, one row per model (``fold=False``: one row per entry, as
    ``leaderboard show --seeds`` prints them); with ``parquet`` (``name -> per-item scores
    or None``), test every ranked row against the top one (:func:`significance`) and hold
    back the rows that exceed the oracle bounds (:func:`exceeds_bounds`) unless
    ``reviewed`` names them."""
    from .seeds import fold_all, row_frames, seed_mean_frame

    folds = fold_all(list(entries), parquet) if fold else []
    if fold:
        shown = [f.row for f in folds]
        seeds = {f.row.name: f.seeds for f in folds}
        values = {f.row.name: f.main_values for f in folds}
    else:
        shown = list(entries)
        seeds = {e.name: (e.name,) for e in entries}
        values = {e.name: (e.main_value,) for e in entries}
    exceeds: dict[str, str] = {}
    if parquet is not None and shown:
        metric = shown[0].main_score

        def frames(name: str):
            fs = row_frames(parquet, seeds.get(name, (name,)), metric)
            return None if fs is None else fs[0] if len(fs) == 1 else seed_mean_frame(fs, metric)

        exceeds = {n: w for n, w in exceeds_bounds(shown, frames).items()
                   if not set(seeds.get(n, (n,))) & set(reviewed) and n not in reviewed}
    rows = rank(shown, set(exceeds))
    gate = gate_of(task)
    why = {e.name: w for e in entries if (w := not_converged(e, gate))}
    gated = {}
    for row in shown:
        members = seeds[row.name]
        bad = [(n, why[n]) for n in members if n in why]
        if bad:
            gated[row.name] = bad[0][1] if members == (bad[0][0],) else "; ".join(f"seed entry {n}: {w}" for n, w in bad)
    return Ranked(task, version, list(entries), rows,
                  significance(parquet, rows, seeds) if parquet is not None else {},
                  tuple(plots), gated, seeds, values, exceeds, frozenset(reviewed))
