"""FCVID and YouTube-8M musical-instrument subsets of the ICMR 2017 multimodal study.

Native layouts: FCVID ``<root>/<category>/<ytid>.mp4`` (the category folders of
``fcvid_dataset.csv``), YouTube-8M ``<root>/<ytid>.mp4``.  ``.mkv`` and ``.webm`` files of
the same stem are accepted too.

Version ``icmr2017``: the study's 70/15/15 split frozen.  It is the split of the
reference code (scikit-learn ``train_test_split(test_size=0.3, random_state=10)`` on the
CSV rows, then ``train_test_split(held_out, test_size=0.5, random_state=10)``, first part
validation), computed here without scikit-learn: ``p = RandomState(10).permutation(n)``,
held-out = rows ``p[:ceil(0.3 n)]``, train = the rest; ``q = RandomState(10).permutation(m)``,
test = held-out ``q[:ceil(m/2)]``, validation = the rest.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from ..instruments import canonical
from . import _overlaps
from .manifest import Row

SEED = 10
TEST_VAL = 0.3


def icmr_split(n: int) -> dict[str, np.ndarray]:
    """Row indices of train / val / test for ``n`` CSV rows."""
    n_test = math.ceil(TEST_VAL * n)
    p = np.random.RandomState(SEED).permutation(n)
    held, train = p[:n_test], p[n_test:]
    q = np.random.RandomState(SEED).permutation(n_test)
    n_half = math.ceil(n_test / 2)
    return {"train": train, "val": held[q[n_half:]], "test": held[q[:n_half]]}


def _build(src: Path, name: str) -> dict[str, tuple[dict[str, list[Row]], dict]]:
    with open(src / name / f"{name}_dataset.csv") as f:
        rows = [r for r in csv.reader(f) if r]
    with open(src / name / "classes.csv") as f:
        classes = {int(r["class_id"]): r["name"] for r in csv.DictReader(f)}
    overlaps = _overlaps.read(src)
    parts = icmr_split(len(rows))
    splits: dict[str, list[Row]] = {}
    for s, idx in parts.items():
        out = []
        for i in idx:
            csv_id, cid = rows[i][0], int(rows[i][1])
            yt = csv_id.rsplit("/", 1)[-1]
            native = classes[cid]
            rel = f"{csv_id[2:]}.mp4" if name == "fcvid" else f"{yt}.mp4"
            label = canonical(native)
            out.append(Row(id=yt, split=s, labels=[label], native_labels=[native], source_id=yt, group=yt,
                           files={"video": rel},
                           extra={"csv_id": csv_id, "class_id": cid, "row": int(i),
                                  "also_in": [d for d in overlaps.get(yt, []) if d != name]}))
        splits[s] = sorted(out, key=lambda r: r.id)
    meta = {"title": "FCVID (musical performance)" if name == "fcvid" else "YouTube-8M (musical instruments)",
            "classes": [classes[k] for k in sorted(classes)],
            "protocol": "ICMR 2017 split: RandomState(10) permutations, 70/15/15 (see avbench.data.icmr)"}
    return {"icmr2017": (splits, meta)}


def build_fcvid(src: Path):
    return _build(src, "fcvid")


def build_yt8m(src: Path):
    return _build(src, "yt8m")
