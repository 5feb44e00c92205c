"""AudioSet instrument subsets for audio-visual separation — an avbench reconstruction.

The clip lists of the AudioSet subsets used by Gao & Grauman (AV-MIML, ECCV 2018;
AudioSet-SingleSource, ICCV 2019) are not public.  avbench ships the next best thing and
names it as such: version ``recon-1`` fixes the 15 instrument classes of the
Co-Separation detector, each mapped to its AudioSet ontology class and all of that
class's descendants (``classes.json``, built from ``ontology.json``), and a
deterministic rule that turns the *official* AudioSet segment CSVs, which a user has
with their copy, into a frozen single-source manifest (``avbench data derive audioset``):

* a segment is kept when the instrument labels among its positive labels (the
  "Musical instrument" subtree, root excluded) all belong to exactly one of the 15
  classes, or are ancestors of that class (e.g. "Bowed string instrument" with Violin);
* ``eval_segments.csv`` gives ``test``; the training CSVs give ``train`` and ``val``
  (10% of YouTube ids, in sha256 order, salt ``audioset-recon-1``);
* a YouTube id in the evaluation CSV is dropped from train/val.

The derived manifest is written under ``AVBENCH_HOME/manifests/audioset/recon-1`` with
its sha256, which every task and result records.  Native layout: ``<root>/<ytid>_<start
ms>.mp4`` (or ``.wav``/``.flac`` audio of the same stem).
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..config import home
from ..errors import DataError
from . import _split
from .manifest import Row, write

NAME = "audioset"
VERSION = "recon-1"
INSTRUMENT_ROOT = "/m/04szw"
#: the Co-Separation detector's classes (1-based detector ids) -> AudioSet ontology class
CLASSES: tuple[tuple[str, str, str], ...] = (
    ("Banjo", "banjo", "/m/018j2"), ("Cello", "cello", "/m/01xqw"), ("Drum", "drums", "/m/026t6"),
    ("Guitar", "guitar", "/m/0342h"), ("Harp", "harp", "/m/03m5k"), ("Harmonica", "harmonica", "/m/03qjg"),
    ("Oboe", "oboe", "/m/05kms"), ("Piano", "piano", "/m/05r5c"), ("Saxophone", "saxophone", "/m/06ncr"),
    ("Trombone", "trombone", "/m/07c6l"), ("Trumpet", "trumpet", "/m/07gql"), ("Violin", "violin", "/m/07y_7"),
    ("Flute", "flute", "/m/0l14j_"), ("Accordion", "accordion", "/m/0mkg"), ("Horn", "horn", "/m/0319l"),
)


def class_table(ontology: list[dict]) -> list[dict]:
    """The 15 classes with their ontology names and descendant ids (sorted)."""
    by_id = {c["id"]: c for c in ontology}

    def desc(mid: str) -> set[str]:
        out, stack = {mid}, [mid]
        while stack:
            for ch in by_id[stack.pop()]["child_ids"]:
                if ch not in out:
                    out.add(ch)
                    stack.append(ch)
        return out

    return [{"detector_id": k + 1, "native": nat, "label": lab, "mid": mid, "ontology_name": by_id[mid]["name"],
             "mids": sorted(desc(mid))} for k, (nat, lab, mid) in enumerate(CLASSES)]


def _ancestors(ontology: list[dict]) -> dict[str, set[str]]:
    parents: dict[str, set[str]] = {}
    for c in ontology:
        for ch in c["child_ids"]:
            parents.setdefault(ch, set()).add(c["id"])
    memo: dict[str, set[str]] = {}

    def anc(m: str) -> set[str]:
        if m not in memo:
            memo[m] = set()
            for p in parents.get(m, ()):
                memo[m] |= {p} | anc(p)
        return memo[m]

    return {c["id"]: anc(c["id"]) for c in ontology}


def build(src: Path) -> dict:
    """The shipped part: ``classes.json`` (no items: the clip lists are not public)."""
    ontology = json.loads((src / "audioset" / "ontology.json").read_text())
    anc = _ancestors(ontology)
    instruments = sorted(m for m, a in anc.items() if INSTRUMENT_ROOT in a)
    return {"classes": class_table(ontology), "instrument_mids": instruments,
            "ancestors": {m: sorted(anc[m]) for m in instruments}}


def shipped_classes() -> dict:
    return json.loads((Path(__file__).parent / "manifests" / NAME / VERSION / "classes.json").read_text())


def read_segments_csv(path: str | Path) -> list[tuple[str, float, float, list[str]]]:
    """An official AudioSet segment CSV (``# ``-comment header lines; quoted label lists)."""
    text = Path(path).read_text()
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    out = []
    for k, r in enumerate(csv.reader(io.StringIO("\n".join(lines)), skipinitialspace=True)):
        if len(r) < 4:
            raise DataError(f"line {k + 1} has {len(r)} fields, expected YTID, start_seconds, end_seconds, positive_labels",
                            path=path, fix="pass the official AudioSet segment CSVs unchanged")
        out.append((r[0], float(r[1]), float(r[2]), [m for m in r[3].split(",") if m]))
    return out


def single_source_label(labels: list[str], table: dict) -> dict | None:
    inst = [m for m in labels if m in table["_inst"]]
    hit = {c["label"] for m in inst for c in table["classes"] if m in table["_mids"][c["label"]]}
    if len(hit) != 1:
        return None
    cls = next(c for c in table["classes"] if c["label"] in hit)
    for m in inst:
        if m not in table["_mids"][cls["label"]] and m not in table["_anc"][cls["mid"]]:
            return None
    return cls


def derive(eval_csv: str | Path, train_csvs: list[str | Path], out_root: Path | None = None, val_fraction: float = 0.1) -> dict:
    """Derive the ``recon-1`` manifest from the official segment CSVs; returns its index."""
    t = shipped_classes()
    table = {"classes": t["classes"], "_inst": set(t["instrument_mids"]),
             "_mids": {c["label"]: set(c["mids"]) for c in t["classes"]},
             "_anc": {c["mid"]: set(t["ancestors"].get(c["mid"], [])) for c in t["classes"]}}
    splits: dict[str, list[Row]] = {"train": [], "val": [], "test": []}
    test_ids = set()

    def row(yt, a, b, labels, split):
        cls = single_source_label(labels, table)
        if cls is None:
            return None
        stem = f"{yt}_{int(round(a * 1000))}"
        return Row(id=stem, split=split, labels=[cls["label"]], native_labels=[cls["native"]], source_id=yt, group=yt,
                   files={"video": f"{stem}.mp4"}, alt_files={"audio": f"{stem}.wav"}, start=a, end=b,
                   extra={"positive_labels": labels})

    for yt, a, b, labels in read_segments_csv(eval_csv):
        r = row(yt, a, b, labels, "test")
        if r:
            splits["test"].append(r)
            test_ids.add(yt)
    seen = set()
    train_rows = []
    for p in train_csvs:
        for yt, a, b, labels in read_segments_csv(p):
            if yt in test_ids or (yt, a) in seen:
                continue
            seen.add((yt, a))
            train_rows.append((yt, a, b, labels))
    ordered = _split.ranked("audioset-recon-1", sorted({r[0] for r in train_rows}))
    val_ids = set(ordered[: round(val_fraction * len(ordered))])
    for yt, a, b, labels in train_rows:
        r = row(yt, a, b, labels, "val" if yt in val_ids else "train")
        if r:
            splits[r.split].append(r)
    for s in splits:
        splits[s].sort(key=lambda r: r.id)
    out_root = Path(out_root) if out_root is not None else home() / "manifests"
    return write(NAME, VERSION, splits, {"title": "AudioSet single-source instruments (avbench reconstruction)",
                                         "protocol": "derived from the official segment CSVs by the rule in "
                                                     "avbench.data.audioset", "reconstruction": True}, root=out_root)
