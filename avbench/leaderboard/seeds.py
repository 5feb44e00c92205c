"""Seeds fold into one row per model.

A model trained with several seeds is published as one entry per seed, named
``<name>`` (seed 0), ``<name>.s1``, ``<name>.s2`` (:data:`SEED_NAME`).  Each entry stays
on the board, verifiable as any other; the ranked tables show one row per model:

* each statistic of a metric is the mean of the seeds' statistics (the *seed mean*), and
  its 95% interval comes from a bootstrap that resamples the seeds and, within them, the
  works (:func:`seed_work_interval`), so the seed-to-seed variance is in the interval;
* the spread of the seeds' main scores (lowest and highest) is a column of its own;
* a row is outside the convergence gate when any of its seeds is.

Entries fold only when they agree on everything that describes the model and the task
(:data:`SAME`): a seed entry that differs from its siblings stands as a row of its own.
A single entry, seed or not, is a one-seed row, exactly as stored.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..results import Stat
from .entry import Entry

#: ``<name>.s<k>`` is seed ``k`` of ``<name>``; ``<name>`` itself is seed 0
SEED_NAME = re.compile(r"(.+)\.s(\d+)")
#: the fields every seed of one model shares (entries that differ are not folded)
SAME = ("family", "task", "version", "aggregate", "main_score", "model", "oracle", "inputs", "n_parameters",
        "authors", "extra_training_data", "paper_url", "code_url")
#: resamples of the seed-and-work bootstrap, and its seed (as the entries' intervals)
N_BOOT, BOOT_SEED = 1000, 0
#: resamples of the bootstrap test: its smallest p is 2 / (N_BOOT_TEST + 1), small enough to
#: survive Holm's adjustment over a board's rows
N_BOOT_TEST = 20000


def seed_of(name: str) -> tuple[str, int]:
    """``unet.s2`` -> ``("unet", 2)``; ``unet`` -> ``("unet", 0)``."""
    m = SEED_NAME.fullmatch(name)
    return (m[1], int(m[2])) if m else (name, 0)


def _signature(e: Entry) -> tuple:
    return tuple(repr(getattr(e, f)) for f in SAME) + (e.protocol, e.provenance.items_sha256)


def groups(entries: list[Entry]) -> list[list[Entry]]:
    """The entries grouped by model, each group in seed order; an entry whose fields
    (:data:`SAME`, the protocol and the items scored) differ from its group's lowest seed
    is a group of its own."""
    by: dict[str, list[Entry]] = {}
    for e in entries:
        by.setdefault(seed_of(e.name)[0], []).append(e)
    out: list[list[Entry]] = []
    for base in sorted(by):
        members = sorted(by[base], key=lambda e: seed_of(e.name)[1])
        sig = _signature(members[0])
        same = [e for e in members if _signature(e) == sig]
        out.append(same)
        out.extend([e] for e in members if _signature(e) != sig)
    return out


@dataclass(frozen=True)
class Folded:
    """One row: the entry the tables show, the names of the seed entries it folds (in seed
    order) and the seeds' main scores."""
    row: Entry
    seeds: tuple[str, ...]
    main_values: tuple[float | None, ...]


def _mean(xs):
    xs = [x for x in xs if x is not None]
    return float(np.mean(xs)) if xs else None


def seed_work_interval(frames: list, metric: str, n_boot: int = N_BOOT, seed: int = BOOT_SEED):
    """The 95% interval of the seed mean of ``metric``: ``(low, high, n_works)``.

    ``frames``: each seed's per-item scores (columns ``group`` and ``metric``).  Each
    resample draws the seeds with replacement and, for all of them alike, the works with
    replacement; its statistic is the mean over the drawn seeds of each seed's mean over the
    drawn works' finite values (the entries' own statistic, item-weighted within a work).
    ``None`` where a seed has no finite value."""
    works = sorted({str(w) for f in frames for w in f["group"].astype(str)})
    col = {w: i for i, w in enumerate(works)}
    S = np.zeros((len(frames), len(works)))
    C = np.zeros_like(S)
    for k, f in enumerate(frames):
        v = f[metric].to_numpy(float)
        ok = np.isfinite(v)
        w = np.array([col[str(x)] for x in f["group"].astype(str).to_numpy()[ok]], dtype=np.int64)
        S[k] = np.bincount(w, weights=v[ok], minlength=len(works))
        C[k] = np.bincount(w, minlength=len(works))
    if (C.sum(1) == 0).any():
        return None
    rng = np.random.default_rng(seed)
    n_s, n_w = S.shape
    ks = rng.multinomial(n_s, np.full(n_s, 1 / n_s), size=n_boot).astype(float)
    kw = rng.multinomial(n_w, np.full(n_w, 1 / n_w), size=n_boot).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_seed = (kw @ S.T) / (kw @ C.T)  # (boot, seed): each seed's mean over the drawn works
    stat = np.nansum(ks * per_seed, 1) / np.sum(ks * np.isfinite(per_seed), 1)
    stat = stat[np.isfinite(stat)]
    low, high = np.quantile(stat, [0.025, 0.975])
    return float(low), float(high), n_w


def fold(members: list[Entry], parquet: Callable | None = None) -> Folded:
    """The row of one model's seed entries (one entry: itself, unchanged)."""
    e0 = members[0]
    mains = tuple(e.main_value for e in members)
    if len(members) == 1:
        return Folded(e0, (e0.name,), mains)
    frames = None
    if parquet is not None:
        frames = [parquet(e.name) for e in members]
        if any(f is None for f in frames):
            frames = None
    scores: dict[str, Stat] = {}
    for c in e0.scores:
        sts = [e.scores.get(c) for e in members]
        if any(s is None for s in sts):
            continue
        lo = hi = ng = None
        if e0.aggregate == "mean" and frames is not None and all(s.ci_low is not None for s in sts) \
                and all(c in f.columns for f in frames):
            got = seed_work_interval(frames, c)
            if got is not None:
                lo, hi, ng = got
        scores[c] = Stat(mean=_mean(s.mean for s in sts), median=_mean(s.median for s in sts),
                         std=_mean(s.std for s in sts), n=sum(s.n for s in sts),
                         n_posinf=sum(s.n_posinf for s in sts), n_neginf=sum(s.n_neginf for s in sts),
                         ci_low=lo, ci_high=hi, n_groups=ng)
    counts: dict[str, int] = {}
    warnings: dict[str, int] = {}
    for e in members:
        for k, v in e.counts.items():
            counts[k] = counts.get(k, 0) + v
        for k, v in e.warnings.items():
            warnings[k] = warnings.get(k, 0) + v
    base = seed_of(e0.name)[0]
    row = e0.model_copy(update={"name": base, "scores": scores, "counts": counts, "warnings": warnings})
    return Folded(row, tuple(e.name for e in members), mains)


def fold_all(entries: list[Entry], parquet: Callable | None = None) -> list[Folded]:
    """Every row of a board: one per model (:func:`groups`, :func:`fold`)."""
    return [fold(g, parquet) for g in groups(entries)]


def seed_mean_frame(frames: list, metric: str):
    """Per-(item, slot) mean of ``metric`` over the seeds, on the pairs every seed scored
    (finite in all): one model's scores for a paired test (with the first seed's ``group``
    and, where it has one, ``n_sources``)."""
    keys = ["item", "slot"] if "slot" in frames[0].columns else ["item"]
    kept = keys + ["group"] + (["n_sources"] if "n_sources" in frames[0].columns else [])
    m = frames[0][kept]
    for i, f in enumerate(frames):
        m = m.merge(f[keys + [metric]].rename(columns={metric: f"v{i}"}), on=keys)
    arr = m[[f"v{i}" for i in range(len(frames))]].to_numpy(float)
    ok = np.isfinite(arr).all(1)
    out = m.loc[ok, kept].copy()
    out[metric] = arr[ok].mean(1)
    return out


def row_frames(parquet: Callable, members, metric: str) -> list | None:
    """The per-item scores of a row's seed entries (``members``), or ``None`` where one has
    none or lacks ``metric``."""
    fs = [parquet(n) for n in members]
    return None if any(f is None or metric not in f.columns for f in fs) else fs


def seed_work_difference_p(frames_a: list, frames_b: list, metric: str, n_boot: int = N_BOOT_TEST,
                           seed: int = BOOT_SEED) -> float | None:
    """Two-sided p of the seed-mean difference ``a - b`` on the (item, slot) pairs every seed
    of both scored: a bootstrap that draws each model's seeds with replacement (the two
    models' seeds are independent trainings) and the works with replacement (one draw for
    both: the comparison is paired by item).  ``(count + 1) / (n_boot + 1)`` at each tail."""
    keys = ["item", "slot"] if "slot" in frames_a[0].columns else ["item"]
    m = frames_a[0][keys + ["group"]]
    fs = list(frames_a) + list(frames_b)
    for i, f in enumerate(fs):
        m = m.merge(f[keys + [metric]].rename(columns={metric: f"v{i}"}), on=keys)
    arr = m[[f"v{i}" for i in range(len(fs))]].to_numpy(float)
    ok = np.isfinite(arr).all(1)
    if not ok.any():
        return None
    arr = arr[ok]
    works, inv = np.unique(m["group"].astype(str).to_numpy()[ok], return_inverse=True)
    S = np.stack([np.bincount(inv, weights=arr[:, i], minlength=works.size) for i in range(len(fs))])
    C = np.bincount(inv, minlength=works.size).astype(float)
    na = len(frames_a)
    rng = np.random.default_rng(seed)
    kw = rng.multinomial(works.size, np.full(works.size, 1 / works.size), size=n_boot).astype(float)
    ka = rng.multinomial(na, np.full(na, 1 / na), size=n_boot).astype(float) / na
    nb = len(fs) - na
    kb = rng.multinomial(nb, np.full(nb, 1 / nb), size=n_boot).astype(float) / nb
    per = (kw @ S.T) / (kw @ C)[:, None]  # (boot, seed entry): each one's mean over the drawn works
    d = np.sum(ka * per[:, :na], 1) - np.sum(kb * per[:, na:], 1)
    tail = min(int((d <= 0).sum()), int((d >= 0).sum()))
    return min(1.0, 2 * (tail + 1) / (n_boot + 1))
