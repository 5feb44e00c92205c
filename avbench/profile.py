"""Where scoring spends its time: ``avbench score --profile`` (and ``--json``).

Each scoring process adds the seconds of its steps to :data:`TIMES` by category
(:func:`timed`); a chunk of items returns its totals with its scores and the parent
adds them up.  The categories:

* ``kernel`` -- the metric kernels (BSS Eval, SI-SDR/SD-SDR, PES/EPS, the input
  mixture's metrics when they are not cached yet);
* ``io`` -- reading the task's references and the submission's files (bytes, and the
  check that they are the bytes validation hashed);
* ``decode`` -- turning those bytes into samples;
* ``checks`` -- validation of the submission before scoring (parent);
* ``other`` -- everything else (item bookkeeping, rows, summaries, writing results).
"""
from __future__ import annotations

import contextlib
import time
from typing import Iterator

CATEGORIES = ("kernel", "io", "decode", "checks", "other")
#: seconds by category in this process (reset by :func:`take`)
TIMES: dict[str, float] = {}


@contextlib.contextmanager
def timed(category: str) -> Iterator[None]:
    t = time.perf_counter()
    try:
        yield
    finally:
        TIMES[category] = TIMES.get(category, 0.0) + time.perf_counter() - t


def take() -> dict[str, float]:
    """This process' totals since the last call (and start again from zero)."""
    out = dict(TIMES)
    TIMES.clear()
    return out


def add(into: dict[str, float], more: dict[str, float]) -> dict[str, float]:
    for k, v in more.items():
        into[k] = into.get(k, 0.0) + float(v)
    return into


def split(times: dict[str, float], wall: float, workers: int) -> dict:
    """The report: seconds per category summed over the scoring processes, ``other`` the
    rest of their busy time, and each category's share of it; with the wall-clock time
    and the number of workers."""
    busy = sum(times.values())
    cats = {k: float(times.get(k, 0.0)) for k in CATEGORIES if k != "other"}
    cats["other"] = float(times.get("other", 0.0))
    total = sum(cats.values()) or 1.0
    return {"wall_s": round(wall, 3), "workers": workers, "busy_s": round(busy, 3),
            "seconds": {k: round(v, 3) for k, v in cats.items()},
            "share": {k: round(v / total, 4) for k, v in cats.items()}}


def format_split(p: dict) -> str:
    parts = ", ".join(f"{k} {p['seconds'][k]:.1f} s ({100 * p['share'][k]:.0f}%)" for k in p["seconds"])
    return f"time: {p['wall_s']:.1f} s wall with {p['workers']} worker(s), {p['busy_s']:.1f} s busy: {parts}"
