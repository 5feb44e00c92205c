"""Ranking: the order of a board's rows and its ``vs #1`` column.

:func:`ranked` turns a board's entries into a :class:`Ranked` table, the one input of
every renderer (:mod:`avbench.leaderboard.render`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..metrics import METRICS
from .entry import Entry


#: main scores equal to this many decimals are a tie: they share a rank, listed by name
RANK_DECIMALS = 6


def rank(entries: list[Entry]) -> list[tuple[int | None, Entry]]:
    """Entries in rank order with their rank (``None``: an oracle row, shown after the ranked ones)."""
    if not entries:
        return []
    main = entries[0].main_score
    hib = METRICS[main].higher_is_better if main in METRICS else True

    def key(e: Entry):
        v = e.main_value
        missing = v is None
        v = round(v or 0.0, RANK_DECIMALS)  # equal to 1e-6 (the published tolerance): a tie, broken by name
        return (missing, -v if hib else v, e.name)

    ranked = sorted([e for e in entries if not e.oracle], key=key)
    oracles = sorted([e for e in entries if e.oracle], key=key)
    out: list[tuple[int | None, Entry]] = []
    prev = None
    for i, e in enumerate(ranked):  # competition ranking: equal scores share a rank (1, 2, 2, 4)
        k = key(e)[:2]
        if k != prev:
            r, prev = i + 1, k
        out.append((r, e))
    out.extend((None, e) for e in oracles)
    return out

def columns(family: str) -> list[str]:
    """The metric columns of a board of ``family``, in display order (the registry's; a
    board shows those its entries score)."""
    from ..metrics.registry import columns as registered

    return registered(family)

def significance(parquet, ranked: list[tuple[int | None, Entry]]) -> dict[str, str]:
    """``name -> text`` comparing every ranked row with the top row on the main score
    (:func:`avbench.compare.compare_frames`: signed-rank test on per-work mean
    differences), where both have per-item scores (``parquet(name)`` returns them or
    ``None``); the p-values are Holm-corrected for the number of rows tested.  Rows not
    significantly different from the top are marked ``≈``."""
    from ..compare import ALPHA, compare_frames, holm

    rows = [e for r, e in ranked if r is not None]
    if len(rows) < 2:
        return {}
    top = rows[0]
    a = parquet(top.name)
    if a is None:
        return {}
    metric = top.main_score
    from ..errors import AvbenchError

    out = {top.name: "top"}
    tested: dict[str, float] = {}
    for e in rows[1:]:
        b = parquet(e.name)
        if b is None:
            continue
        try:
            tested[e.name] = compare_frames(a, b, e.family, metric)["test"]["p_value"]
        except AvbenchError:  # no shared scored values: nothing to say
            continue
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
    """A ranked board: its entries (as stored, by name), the rows in rank order, the
    ``vs #1`` text of each ranked row, and the report plots beside it (paths relative to
    the board folder)."""
    task: str
    version: str
    entries: list[Entry]
    rows: list[tuple[int | None, Entry]]
    sig: dict[str, str] = field(default_factory=dict)
    plots: tuple[str, ...] = ()
    #: name -> why, for each row outside the task's convergence gate (:func:`not_converged`)
    gated: dict[str, str] = field(default_factory=dict)


def ranked(task: str, version: str, entries: list[Entry], parquet: Callable | None = None,
           plots: tuple[str, ...] | list[str] = ()) -> Ranked:
    """Rank ``entries``; with ``parquet`` (``name -> per-item scores or None``), test every
    ranked row against the top one (:func:`significance`)."""
    rows = rank(entries)
    gate = gate_of(task)
    gated = {e.name: why for e in entries if (why := not_converged(e, gate))}
    return Ranked(task, version, list(entries), rows, significance(parquet, rows) if parquet is not None else {},
                  tuple(plots), gated)
