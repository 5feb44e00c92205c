"""The music21 works, their parsing, and the plan of every recording: its split, players and transpositions."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...instruments import BY_NAME, CLASSES
from .config import Config

# ---------------------------------------------------------------------------------------
# scores


def _corpus_works(composer: str) -> list[str]:
    from music21 import corpus

    root = Path(corpus.__file__).parent
    paths = []
    for p in corpus.getComposer(composer):
        rel = Path(p).resolve().relative_to(root.resolve()).as_posix()
        if rel.endswith((".mxl", ".xml", ".musicxml", ".krn", ".mid", ".midi")):
            paths.append(rel)
    return sorted(set(paths))


def _stable_hash(*parts) -> int:
    h = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(h[:8], "little")


def select_works(cfg: Config) -> list[str]:
    """Deterministic choice of works for a configuration (corpus-relative paths)."""
    works = []
    for composer, n in cfg.pools:
        cands = _corpus_works(composer)
        cands.sort(key=lambda p: _stable_hash(cfg.seed, "select", p))
        works.extend(cands[: n + n // 2 + 2])  # over-select: some fail the part filter
    return works


def parse_work(rel: str, max_quarters: float = 160.0) -> dict | None:
    """Parts of a work as note lists in quarter notes: ``{"title", "parts": [[(on, dur, key), ...]]}``.

    Works with fewer than two non-empty parts are rejected (``None``).
    """
    from music21 import corpus

    try:
        score = corpus.parse(rel)
    except Exception:  # noqa: BLE001 - corpus files that music21 cannot read are skipped
        return None
    parts = []
    for part in score.parts:
        try:
            flat = part.stripTies().flatten()
        except Exception:  # noqa: BLE001
            continue
        notes = []
        for el in flat.notes:
            on = float(el.offset)
            if on >= max_quarters:
                break
            dur = float(el.quarterLength)
            if dur <= 0:
                continue
            pitches = [p.midi for p in getattr(el, "pitches", [])]
            if not pitches:
                continue
            notes.append((on, min(dur, max_quarters - on), max(pitches)))
        if len(notes) >= 8:
            parts.append(notes)
    if len(parts) < 2:
        return None
    title = ""
    md = score.metadata
    if md is not None:
        title = md.title or md.movementName or ""
    return {"work": rel, "title": str(title), "parts": parts}


# ---------------------------------------------------------------------------------------
# planning


@dataclass
class PlayerPlan:
    instrument: str
    part: int
    transpose: int
    velocity: int


@dataclass
class RecordingPlan:
    id: str
    kind: str  # "ensemble" | "solo"
    split: str
    work: str
    composer: str
    title: str
    bpm: float
    players: list[PlayerPlan] = field(default_factory=list)


def _assign_splits(cfg: Config, parsed: list[dict]) -> list[tuple[dict, str]]:
    """Keep the first ``n`` usable works of each pool and split each pool by rank:
    the first 20% (rounded up) to test, the next 10% (rounded up) to val, the rest to
    train, so that no work is in two splits and every pool is in every split it can be."""
    by_pool: dict[str, list[dict]] = {}
    for w in parsed:
        by_pool.setdefault(w["work"].split("/")[0], []).append(w)
    out = []
    for composer, n in cfg.pools:
        ws = by_pool.get(composer, [])[:n]
        _, va, te = cfg.split_fractions
        n_test = int(np.ceil(te * len(ws)))
        n_val = int(np.ceil(va * len(ws)))
        for rank, w in enumerate(ws):
            split = "test" if rank < n_test else ("val" if rank < n_test + n_val else "train")
            out.append((w, split))
    return out


def _median_pitch(notes) -> float:
    return float(np.median([k for _, _, k in notes]))


def _transpose_for(notes, inst: str) -> int:
    i = BY_NAME[inst]
    centre = (i.low + i.high) / 2
    return int(12 * round((centre - _median_pitch(notes)) / 12))


def plan(cfg: Config, parsed: list[dict]) -> list[RecordingPlan]:
    """Assign ensemble sizes, parts, instruments, tempi and splits (sequential, seeded)."""
    rng = np.random.default_rng(cfg.seed)
    counts = {s: np.zeros(len(CLASSES)) for s in ("train", "val", "test")}
    solo_counts = {s: np.zeros(len(CLASSES)) for s in ("train", "val", "test")}
    plans: list[RecordingPlan] = []
    for w, split in _assign_splits(cfg, parsed):
        composer = w["work"].split("/")[0]
        bpm = float(rng.integers(66, 109))
        # only parts that play in the excerpt (at least 4 onsets before its last 0.5 s)
        last_q = (cfg.n_samples / cfg.sample_rate - 0.5) * bpm / 60.0
        active = [i for i, notes in enumerate(w["parts"]) if sum(on < last_q for on, _, _ in notes) >= 4]
        if len(active) < 2:
            continue
        sizes = [k for k in (2, 3, 4, 5) if k <= len(active)]
        weights = np.array([{2: 0.25, 3: 0.3, 4: 0.3, 5: 0.3}[k] for k in sizes])
        k = int(rng.choice(sizes, p=weights / weights.sum()))
        part_idx = sorted(rng.choice(active, size=k, replace=False).tolist())
        # instruments: balance classes (fewest so far first, ties by a seeded draw)
        c = counts[split]
        order = np.lexsort((rng.random(len(CLASSES)), c))
        chosen = [CLASSES[j] for j in order[:k]]
        for name in chosen:
            c[CLASSES.index(name)] += 1
        # highest part to the highest-sounding instrument
        parts_by_pitch = sorted(part_idx, key=lambda p: -_median_pitch(w["parts"][p]))
        insts_by_range = sorted(chosen, key=lambda n: -(BY_NAME[n].low + BY_NAME[n].high))
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", w["work"].rsplit(".", 1)[0].replace("/", "-")).strip("_")
        ens = RecordingPlan(f"ens-{slug}", "ensemble", split, w["work"], composer, w["title"], bpm)
        for p, name in sorted(zip(parts_by_pitch, insts_by_range), key=lambda t: CLASSES.index(t[1])):
            ens.players.append(PlayerPlan(name, p, _transpose_for(w["parts"][p], name), int(rng.integers(88, 113))))
        plans.append(ens)
        for s in range(cfg.solos_per_work):
            sc = solo_counts[split]
            j = int(np.lexsort((rng.random(len(CLASSES)), sc))[0])
            sc[j] += 1
            name = CLASSES[j]
            p = int(active[int(rng.integers(0, len(active)))])
            solo = RecordingPlan(f"solo-{slug}-{s}-{BY_NAME[name].abbr}", "solo", split, w["work"], composer,
                                 w["title"], bpm)
            solo.players.append(PlayerPlan(name, p, _transpose_for(w["parts"][p], name), int(rng.integers(88, 113))))
            plans.append(solo)
    return plans
