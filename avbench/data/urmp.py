"""URMP (University of Rochester Multi-Modal Music Performance dataset).

Native layout (the ``Dataset/`` folder of the Dryad archive)::

    <root>/<NN>_<Title>_<inst>_<inst>.../
        AuMix_<folder>.wav              mixture, 48 kHz
        AuSep_<part>_<abbr>_<NN>_<Title>.wav   one stem per part, 48 kHz
        Vid_<folder>.mp4                ensemble video
        F0s_<part>_<abbr>_<NN>_<Title>.txt     "time  f0" per line (Hz)
        Notes_<part>_<abbr>_<NN>_<Title>.txt   "onset  f0  duration" per line

Piece 15 (``15_Surprise_tpt_tpt_tbn``) names the files of its trombone part ``tpt``:
labels come from the folder, paths from the file names (and the glob
``AuSep_3_*_15_Surprise.wav`` when the file was renamed).

Versions:

* ``1`` — every piece, split train/val/test grouped by piece name (instrumentation
  variants of a piece, which reuse recorded takes, never straddle splits).
* ``thesis`` — the seed thesis' test protocol: the four same-instrument duets removed,
  tracks of the same instrument in a piece merged into one source; 40 pieces
  (12 with 2 sources, 20 with 3, 8 with 4), all in ``test``; 11025 Hz, 65535-sample
  segments, 13 output slots.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..instruments import BY_ABBR, CLASSES
from . import _split
from .manifest import Row

NAME = "urmp"
SAMPLE_RATE = 48000
SPLIT_SEED_SALT = "urmp-1"
THESIS_REMOVED = ("02_Sonata_vn_vn", "04_Allegro_fl_fl", "05_Entertainer_tpt_tpt", "06_Entertainer_sax_sax")


def _read(src: Path):
    pieces = list(csv.DictReader(open(src / "urmp" / "pieces.csv")))
    tracks = list(csv.DictReader(open(src / "urmp" / "tracks.csv")))
    return pieces, tracks


def _row(p: dict, tracks: list[dict], split: str, thesis: bool) -> Row:
    folder = p["folder"]
    mine = sorted((t for t in tracks if t["folder"] == folder), key=lambda t: int(t["part"]))
    files = {"mix": f"{folder}/AuMix_{folder}.wav", "video": f"{folder}/Vid_{folder}.mp4"}
    parts, sources = [], {}
    for t in mine:
        k = t["part"]
        files[f"stem/{k}"] = f"{folder}/{t['ausep_wav']}"
        files[f"f0s/{k}"] = f"{folder}/{t['f0s_txt']}"
        files[f"notes/{k}"] = f"{folder}/{t['notes_txt']}"
        inst = BY_ABBR[t["instrument"]].name
        parts.append({"part": int(k), "instrument": inst, "abbr": t["instrument"], "file_abbr": t["file_abbr"],
                      "shared_take_group": t["shared_take_group"] or None})
        sources.setdefault(inst, []).append(int(k))
    labels = [c for c in CLASSES if c in sources]
    extra = {"piece": p["piece_name"], "number": p["number"], "ensemble": p["ensemble"], "parts": parts,
             "sample_rate": SAMPLE_RATE, "anomaly": p["anomaly"] or None,
             "shares_takes_with": [s for s in p["shares_takes_with"].split()] if p["shares_takes_with"] else []}
    if thesis:
        extra["sources"] = {c: sources[c] for c in labels}
    return Row(id=folder, split=split, labels=labels, native_labels=p["part_instruments"].split(),
               source_id=folder, group=p["piece_name"], files=files, extra=extra)


def grouped_split(pieces: list[dict], tracks: list[dict]) -> tuple[dict[str, str], int]:
    """piece name -> split: the first seed whose order gives ~15% of the pieces to test and
    val each and puts every instrument in train and at least 10 in test."""
    groups: dict[str, list[dict]] = {}
    for p in pieces:
        groups.setdefault(p["piece_name"], []).append(p)
    inst = {p["folder"]: {t["instrument"] for t in tracks if t["folder"] == p["folder"]} for p in pieces}
    for seed in range(10_000):
        order = _split.ranked(f"{SPLIT_SEED_SALT}:{seed}", groups)
        assign, n = {}, {"test": 0, "val": 0}
        for g in order:
            s = "test" if n["test"] < 7 else "val" if n["val"] < 6 else "train"
            assign[g] = s
            if s in n:
                n[s] += len(groups[g])
        cover = {s: set().union(*(inst[p["folder"]] for g, ss in assign.items() if ss == s for p in groups[g]))
                 for s in ("train", "val", "test")}
        if len(cover["train"]) == 13 and len(cover["test"]) >= 10 and len(cover["val"]) >= 8:
            return assign, seed
    raise RuntimeError("no URMP split met the coverage rule")


def build(src: Path) -> dict[str, tuple[dict[str, list[Row]], dict]]:
    pieces, tracks = _read(src)
    assign, seed = grouped_split(pieces, tracks)
    v1: dict[str, list[Row]] = {"train": [], "val": [], "test": []}
    for p in pieces:
        s = assign[p["piece_name"]]
        v1[s].append(_row(p, tracks, s, thesis=False))
    thesis = {"test": [_row(p, tracks, "test", thesis=True) for p in pieces if p["folder"] not in THESIS_REMOVED]}
    common = {"title": "URMP", "sample_rate": SAMPLE_RATE, "layout": "native URMP Dataset/ folders"}
    return {
        "1": (v1, {**common, "protocol": f"all 44 pieces; splits grouped by piece name (seed {seed} of the "
                                         "coverage rule in avbench.data.urmp.grouped_split)"}),
        "thesis": (thesis, {**common, "protocol": "seed thesis test protocol: same-instrument duets "
                                                  f"{', '.join(THESIS_REMOVED)} removed; same-instrument tracks "
                                                  "merged; 11025 Hz; 65535-sample segments; 13 slots"}),
    }


def read_notes(path: str | Path) -> np.ndarray:
    """A ``Notes_*.txt`` file as ``(n_notes, 3)``: onset (s), f0 (Hz), duration (s)."""
    rows = [line.split() for line in Path(path).read_text().splitlines() if line.strip()]
    return np.array([[float(v) for v in r[:3]] for r in rows], dtype=np.float64).reshape(-1, 3)


def read_f0s(path: str | Path) -> np.ndarray:
    """An ``F0s_*.txt`` file as ``(n_frames, 2)``: time (s), f0 (Hz, 0 when unvoiced)."""
    rows = [line.split() for line in Path(path).read_text().splitlines() if line.strip()]
    return np.array([[float(v) for v in r[:2]] for r in rows], dtype=np.float64).reshape(-1, 2)
