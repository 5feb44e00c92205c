"""Solos (Montesinos et al. 2020): 13 URMP instruments, solo performances on YouTube.

Native layout: ``<root>/<Class>/<ytid>.mp4`` (class folders as in ``solos_ids.json``:
``Bassoon``, ``Cello``, ..., ``DoubleBass``, ``Horn``).  The timestamps of
``solos_timestamps.json`` are frame indices at 25 fps; every ``[start, end]`` stretch is
one item (videos without stretches are one whole-video item).

Version ``1``: train/val/test frozen by video (70/15/15 within each instrument, in a
stable sha256 order), so the stretches of one video never straddle splits.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..instruments import canonical
from . import _overlaps, _split
from .manifest import Row

NAME = "solos"
FPS = 25.0
PERCENT = {"train": 70, "val": 15, "test": 15}


def build(src: Path) -> dict[str, tuple[dict[str, list[Row]], dict]]:
    ids = json.loads((src / "solos" / "solos_ids.json").read_text())
    ts = json.loads((src / "solos" / "solos_timestamps.json").read_text())
    overlaps = _overlaps.read(src)
    assign = _split.stratified("solos-1", ids, PERCENT)
    splits: dict[str, list[Row]] = {s: [] for s in PERCENT}
    for cls in sorted(ids):
        for yt in sorted(ids[cls]):
            s = assign[yt]
            stretches = ts[cls].get(yt, [])
            common = dict(split=s, labels=[canonical(cls)], native_labels=[cls], source_id=yt, group=yt,
                          files={"video": f"{cls}/{yt}.mp4"})
            extra = {"also_in": [d for d in overlaps.get(yt, []) if d != "solos"]}
            if not stretches:
                splits[s].append(Row(id=f"{yt}/all", **common, extra={**extra, "timestamps": None}))
            for k, (a, b) in enumerate(stretches):
                splits[s].append(Row(id=f"{yt}/{k:02d}", start=a / FPS, end=b / FPS, **common,
                                     extra={**extra, "timestamps": [a, b]}))
    return {"1": (splits, {"title": "Solos", "fps": FPS,
                           "protocol": "train/val/test 70/15/15 by video within each instrument (sha256 order, "
                                       "salt solos-1); one item per timestamp stretch (25 fps frames)"})}
