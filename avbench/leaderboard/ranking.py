"""Ranking: the order of a board's rows and its ``vs #1`` column.

:func:`ranked` turns a board's entries into a :class:`Ranked` table, the one input of
every renderer (:mod:`avbench.leaderboard.render`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..metrics import METRICS
from .entry import Entry

CLASSIFICATION_COLUMNS = ["hit@1", "hit@3", "macro_f1", "micro_f1"]


#: main scores equal to this many decimals rank as a tie, broken by name
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
    r = 0
    for e in ranked:
        r += 1
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


def ranked(task: str, version: str, entries: list[Entry], parquet: Callable | None = None,
           plots: tuple[str, ...] | list[str] = ()) -> Ranked:
    """Rank ``entries``; with ``parquet`` (``name -> per-item scores or None``), test every
    ranked row against the top one (:func:`significance`)."""
    rows = rank(entries)
    return Ranked(task, version, list(entries), rows, significance(parquet, rows) if parquet is not None else {},
                  tuple(plots))
