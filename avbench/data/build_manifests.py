"""Build the shipped split manifests from the public source lists.

    python -m avbench.data.build_manifests [--src DIR] [--out DIR]

``--src`` defaults to the copies of the public lists in ``avbench/data/sources`` (their
provenance and sha256 are in ``SOURCES.md`` there).  The output is byte-deterministic:
rebuilding must reproduce the shipped manifests exactly (a test checks it).
"""
from __future__ import annotations

import argparse
import hashlib
import importlib
import json
from pathlib import Path

from . import audioset
from .manifest import MANIFESTS, write
from .real import DATASETS

SOURCES = Path(__file__).parent / "sources"


def builders() -> dict:
    """Each shipped dataset's manifest builder, from the dataset table (:data:`DATASETS`)."""
    out = {}
    for name, d in DATASETS.items():
        if d.builder is not None:
            mod, _, fn = d.builder.partition(":")
            out[name] = getattr(importlib.import_module(f"{__package__}.{mod}"), fn)
    return out


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def build_all(src: Path = SOURCES, out: Path = MANIFESTS) -> dict[str, dict[str, dict]]:
    src, out = Path(src), Path(out)
    done: dict[str, dict[str, dict]] = {}
    for name, fn in builders().items():
        sources = {rel: _sha(src / rel) for rel in DATASETS[name].inputs}
        for version, (splits, meta) in fn(src).items():
            done.setdefault(name, {})[version] = write(name, version, splits, {**meta, "sources": sources}, root=out)
    d = out / audioset.NAME / audioset.VERSION
    d.mkdir(parents=True, exist_ok=True)
    (d / "classes.json").write_text(json.dumps(audioset.build(src), indent=1, sort_keys=True) + "\n")
    meta = {"dataset": audioset.NAME, "version": audioset.VERSION, "reconstruction": True, "splits": {},
            "title": "AudioSet single-source instruments (avbench reconstruction)",
            "protocol": "no shipped items: `avbench data derive audioset` builds them from the official segment CSVs",
            "sources": {rel: _sha(src / rel) for rel in DATASETS["audioset"].inputs},
            "classes_sha256": _sha(d / "classes.json")}
    (d / "recipe.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return done


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", default=str(SOURCES))
    ap.add_argument("--out", default=str(MANIFESTS))
    a = ap.parse_args(argv)
    for name, vs in build_all(Path(a.src), Path(a.out)).items():
        for v, ix in vs.items():
            counts = ", ".join(f"{s} {x['n_items']}" for s, x in ix["splits"].items())
            print(f"{name}@{v}: {counts}  sha256 {ix['manifest_sha256'][:12]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
