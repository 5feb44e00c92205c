"""Deterministic helpers for freezing splits (used only when manifests are built)."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence


def rank(salt: str, key: str) -> str:
    """A stable pseudo-random order key: sha256 of ``salt:key``."""
    return hashlib.sha256(f"{salt}:{key}".encode()).hexdigest()


def ranked(salt: str, keys: Iterable[str]) -> list[str]:
    return sorted(keys, key=lambda k: rank(salt, k))


def largest_remainder(weights: Sequence[float], total: int) -> list[int]:
    """Integers proportional to ``weights`` that sum exactly to ``total`` (Hamilton's method;
    ties broken by position)."""
    s = float(sum(weights))
    raw = [w * total / s for w in weights]
    out = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - out[i]), i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def stratified(salt: str, by_class: dict[str, list[str]], percent: dict[str, int]) -> dict[str, str]:
    """Split the ids of every class by integer ``percent`` (insertion order; each split but
    the last gets ``round_half_up(percent * n / 100)`` ids, the last the remainder), each
    class in its own stable pseudo-random order.  Returns id -> split."""
    names = list(percent)
    out = {}
    for cls in sorted(by_class):
        ids = ranked(f"{salt}:{cls}", by_class[cls])
        n = len(ids)
        counts = [(percent[s] * n + 50) // 100 for s in names[:-1]]
        bounds, start = [], 0
        for c in counts:
            bounds.append((start, start + c))
            start += c
        bounds.append((start, n))
        for s, (a, b) in zip(names, bounds):
            for i in ids[a:b]:
                out[i] = s
    return out
