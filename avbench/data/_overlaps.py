"""YouTube ids shared between the real datasets (cross-dataset leakage flags)."""
from __future__ import annotations

import csv
from pathlib import Path


def read(src: Path) -> dict[str, list[str]]:
    """youtube id -> the datasets that hold it (``music21_solo+music11_solo`` counts as one)."""
    out = {}
    with open(src / "cross_dataset_overlaps.csv") as f:
        for r in csv.DictReader(f):
            out[r["youtube_id"]] = sorted(r["datasets"].split(";"))
    return out
