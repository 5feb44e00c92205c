"""MUSIC / MUSIC-21 (Zhao et al. 2018, 2019): solo and duet performances on YouTube.

Native layout, either the downloaded videos::

    <root>/solo/<class>/<ytid>.mp4      <root>/duet/<ytid>.mp4

or the Sound-of-Pixels preprocessing (audio and 8 fps frame folders)::

    <root>/audio/<class>/<ytid>.mp3     <root>/frames/<class>/<ytid>.mp4/000001.jpg ...
    <root>/audio/duet/<ytid>.mp3        <root>/frames/duet/<ytid>.mp4/...

Versions:

* ``1`` — MUSIC-11 solos (536), train/val/test 70/15/15 within each class; ``duet``: the
  149 duets (a test set without isolated sources).
* ``21-1`` — MUSIC-21 solos (1164), the same rule; ``duet`` as above.
* ``object-prior`` — the Object-Prior protocol: 505 solos, 300 train / 130 val / 75 test,
  allocated to the classes in proportion to their sizes (largest remainder) and drawn in
  a stable sha256 order; the other 31 solos are in ``unused``.  The paper's own list of
  its 505 available videos is not public: this list is avbench's frozen reconstruction
  with the same sizes.  Tasks: 8 fps frames, 11025 Hz audio, 6 s clips, two-source
  mixtures of different instruments.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..instruments import canonical
from . import _overlaps, _split
from .manifest import Row

NAME = "music"
PERCENT = {"train": 70, "val": 15, "test": 15}
OBJECT_PRIOR = {"train": 300, "val": 130, "test": 75}


def _solo(cls: str, yt: str, split: str, overlaps) -> Row:
    return Row(id=yt, split=split, labels=[canonical(cls)], native_labels=[cls], source_id=yt, group=yt,
               files={"video": f"solo/{cls}/{yt}.mp4"},
               alt_files={"audio": f"audio/{cls}/{yt}.mp3", "frames": f"frames/{cls}/{yt}.mp4"},
               extra={"kind": "solo", "also_in": [d for d in overlaps.get(yt, []) if not d.startswith("music")]})


def _duets(src: Path, overlaps) -> list[Row]:
    d = json.loads((src / "music" / "MUSIC_duet_videos.json").read_text())["videos"]
    rows = []
    for pair in sorted(d):
        names = pair.split()
        for yt in sorted(d[pair]):
            rows.append(Row(id=yt, split="duet", labels=sorted(canonical(n) for n in names), native_labels=names,
                            source_id=yt, group=yt, files={"video": f"duet/{yt}.mp4"},
                            alt_files={"audio": f"audio/duet/{yt}.mp3", "frames": f"frames/duet/{yt}.mp4"},
                            extra={"kind": "duet", "also_in": [x for x in overlaps.get(yt, []) if not x.startswith("music")]}))
    return rows


def object_prior_assign(by_class: dict[str, list[str]]) -> dict[str, str]:
    classes = sorted(by_class)
    sizes = [len(by_class[c]) for c in classes]
    alloc = {s: dict(zip(classes, _split.largest_remainder(sizes, n))) for s, n in OBJECT_PRIOR.items()}
    out = {}
    for c in classes:
        ids = _split.ranked(f"music-object-prior:{c}", by_class[c])
        k = 0
        for s in OBJECT_PRIOR:
            for yt in ids[k:k + alloc[s][c]]:
                out[yt] = s
            k += alloc[s][c]
        for yt in ids[k:]:
            out[yt] = "unused"
    return out


def build(src: Path) -> dict[str, tuple[dict[str, list[Row]], dict]]:
    overlaps = _overlaps.read(src)
    duets = _duets(src, overlaps)
    out = {}
    for version, fname, salt in (("1", "MUSIC_solo_videos.json", "music-1"), ("21-1", "MUSIC21_solo_videos.json", "music21-1")):
        by_class = json.loads((src / "music" / fname).read_text())["videos"]
        assign = _split.stratified(salt, by_class, PERCENT)
        splits: dict[str, list[Row]] = {s: [] for s in PERCENT}
        for c in sorted(by_class):
            for yt in sorted(by_class[c]):
                splits[assign[yt]].append(_solo(c, yt, assign[yt], overlaps))
        splits["duet"] = duets
        out[version] = (splits, {"title": "MUSIC" if version == "1" else "MUSIC-21", "source": fname,
                                 "protocol": f"solos train/val/test 70/15/15 within each class (sha256 order, salt {salt}); "
                                             "duet: the 149 duets"})
    by_class = json.loads((src / "music" / "MUSIC_solo_videos.json").read_text())["videos"]
    assign = object_prior_assign(by_class)
    splits = {s: [] for s in (*OBJECT_PRIOR, "unused")}
    for c in sorted(by_class):
        for yt in sorted(by_class[c]):
            splits[assign[yt]].append(_solo(c, yt, assign[yt], overlaps))
    splits["duet"] = duets
    out["object-prior"] = (splits, {"title": "MUSIC (Object-Prior protocol)", "source": "MUSIC_solo_videos.json",
                                    "protocol": "505 solos: 300 train / 130 val / 75 test by class in proportion "
                                                "(largest remainder), sha256 order; 31 unused (avbench reconstruction: "
                                                "the paper's list is not public); 8 fps, 11025 Hz, 6 s clips"})
    return out
