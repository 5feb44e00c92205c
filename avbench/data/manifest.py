"""Frozen split manifests of the real datasets.

A manifest is one JSON-lines file per split under
``avbench/data/manifests/<dataset>/<version>/<split>.jsonl`` (gzip-compressed, written
with a zero timestamp, as ``<split>.jsonl.gz`` when it would exceed 1 MB) plus an
``index.json`` that records the item counts, each split's sha256 and the sha256 of the
source lists the manifest was built from.  Rows are :class:`Row` objects.

The *manifest sha256* of a dataset version is the sha256 of its splits' uncompressed
bytes concatenated in sorted split order; it is what tasks and results record.
"""
from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..errors import DataError

MANIFESTS = Path(__file__).parent / "manifests"
GZIP_ABOVE = 1 << 20


class Row(BaseModel):
    """One item of a real dataset.

    ``files`` maps a role (``mix``, ``video``, ``audio``, ``frames``, ``stem/<part>``,
    ``f0s/<part>``, ``notes/<part>``) to a path relative to the dataset's root in its
    native layout; ``alt_files`` is an alternative layout (e.g. the Sound-of-Pixels
    ``audio/`` + ``frames/`` folders instead of the videos).  ``start``/``end`` are
    seconds within the recording when the item is a segment (``None``: whole recording).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    split: str
    labels: list[str]                 #: avbench canonical / extended names
    native_labels: list[str]          #: the dataset's own names
    source_id: str                    #: YouTube id, URMP folder, ...
    group: str                        #: what must never straddle splits
    files: dict[str, str] = Field(default_factory=dict)
    alt_files: dict[str, str] = Field(default_factory=dict)
    start: float | None = None
    end: float | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


def dumps(rows: list[Row]) -> bytes:
    return "".join(json.dumps(r.model_dump(), sort_keys=True, separators=(",", ":"), allow_nan=False) + "\n"
                   for r in rows).encode()


def sha256_bytes(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def write(dataset: str, version: str, splits: dict[str, list[Row]], meta: dict, root: Path = MANIFESTS) -> dict:
    """Write the split files and ``index.json`` of one dataset version (deterministic bytes)."""
    d = Path(root) / dataset / version
    d.mkdir(parents=True, exist_ok=True)
    for old in list(d.glob("*.jsonl")) + list(d.glob("*.jsonl.gz")):
        old.unlink()
    index = {"dataset": dataset, "version": version, **meta, "splits": {}}
    whole = hashlib.sha256()
    for split in sorted(splits):
        rows = splits[split]
        for r in rows:
            if r.split != split:
                raise ValueError(f"row {r.id} has split {r.split!r} but is written to {split!r}")
        b = dumps(rows)
        whole.update(b)
        if len(b) > GZIP_ABOVE:
            name = f"{split}.jsonl.gz"
            (d / name).write_bytes(gzip.compress(b, compresslevel=9, mtime=0))
        else:
            name = f"{split}.jsonl"
            (d / name).write_bytes(b)
        index["splits"][split] = {"file": name, "n_items": len(rows), "sha256": sha256_bytes(b)}
    index["manifest_sha256"] = whole.hexdigest()
    (d / "index.json").write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    return index


def datasets(root: Path = MANIFESTS) -> list[str]:
    return sorted(p.name for p in Path(root).iterdir() if p.is_dir()) if Path(root).exists() else []


def versions(dataset: str, root: Path = MANIFESTS) -> list[str]:
    d = Path(root) / dataset
    return sorted(p.name for p in d.iterdir() if (p / "index.json").exists()) if d.exists() else []


def index(dataset: str, version: str, root: Path = MANIFESTS) -> dict:
    p = Path(root) / dataset / version / "index.json"
    if not p.exists():
        have = ", ".join(versions(dataset, root)) or "none"
        raise DataError(f"no manifest for {dataset} version {version!r}", path=p,
                        fix=f"use one of the shipped versions ({have}); `avbench data list` shows them")
    return json.loads(p.read_text())


def _split_bytes(dataset: str, version: str, split: str, root: Path = MANIFESTS) -> bytes:
    ix = index(dataset, version, root)
    if split not in ix["splits"]:
        raise DataError(f"{dataset}@{version} has no split {split!r}", fix=f"use one of {', '.join(ix['splits'])}")
    p = Path(root) / dataset / version / ix["splits"][split]["file"]
    b = p.read_bytes()
    if p.suffix == ".gz":
        b = gzip.decompress(b)
    if sha256_bytes(b) != ix["splits"][split]["sha256"]:
        raise DataError(f"manifest split {split} does not match the sha256 in index.json", path=p,
                        fix="reinstall avbench; manifests are never edited by hand")
    return b


def read(dataset: str, version: str, split: str | None = None, root: Path = MANIFESTS) -> list[Row]:
    """Rows of one split, or of every split (sorted split order)."""
    ix = index(dataset, version, root)
    splits = [split] if split else sorted(ix["splits"])
    out = []
    for s in splits:
        out += [Row.model_validate_json(line) for line in _split_bytes(dataset, version, s, root).splitlines() if line]
    return out


def manifest_sha256(dataset: str, version: str, root: Path = MANIFESTS) -> str:
    """sha256 of the splits' uncompressed bytes in sorted split order (checked on read)."""
    ix = index(dataset, version, root)
    h = hashlib.sha256()
    for s in sorted(ix["splits"]):
        h.update(_split_bytes(dataset, version, s, root))
    got = h.hexdigest()
    if got != ix["manifest_sha256"]:
        raise DataError(f"{dataset}@{version}: manifest sha256 differs from index.json",
                        path=Path(root) / dataset / version, fix="reinstall avbench")
    return got



