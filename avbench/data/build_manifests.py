"""Build the shipped split manifests from the public source lists.

    python -m avbench.data.build_manifests [--src DIR] [--out DIR]

``--src`` defaults to the copies of the public lists in ``avbench/data/sources`` (their
provenance and sha256 are in ``SOURCES.md`` there).  The output is byte-deterministic:
rebuilding must reproduce the shipped manifests exactly (a test checks it).
"""
from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from . import audioset, icmr, music, solos, urmp
from .manifest import MANIFESTS, write

SOURCES = Path(__file__).parent / "sources"
BUILDERS = {"urmp": urmp.build, "solos": solos.build, "music": music.build,
            "fcvid": icmr.build_fcvid, "yt8m": icmr.build_yt8m}
#: the source lists each dataset's manifests are built from
INPUTS = {
    "urmp": ["urmp/pieces.csv", "urmp/tracks.csv", "urmp/shared_takes.csv"],
    "solos": ["solos/solos_ids.json", "solos/solos_timestamps.json", "cross_dataset_overlaps.csv"],
    "music": ["music/MUSIC_solo_videos.json", "music/MUSIC21_solo_videos.json", "music/MUSIC_duet_videos.json",
              "cross_dataset_overlaps.csv"],
    "fcvid": ["fcvid/fcvid_dataset.csv", "fcvid/classes.csv", "cross_dataset_overlaps.csv"],
    "yt8m": ["yt8m/yt8m_dataset.csv", "yt8m/classes.csv", "cross_dataset_overlaps.csv"],
    "audioset": ["audioset/ontology.json"],
}


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def build_all(src: Path = SOURCES, out: Path = MANIFESTS) -> dict[str, dict[str, dict]]:
    src, out = Path(src), Path(out)
    done: dict[str, dict[str, dict]] = {}
    for name, fn in BUILDERS.items():
        sources = {rel: _sha(src / rel) for rel in INPUTS[name]}
        for version, (splits, meta) in fn(src).items():
            done.setdefault(name, {})[version] = write(name, version, splits, {**meta, "sources": sources}, root=out)
    d = out / audioset.NAME / audioset.VERSION
    d.mkdir(parents=True, exist_ok=True)
    (d / "classes.json").write_text(json.dumps(audioset.build(src), indent=1, sort_keys=True) + "\n")
    meta = {"dataset": audioset.NAME, "version": audioset.VERSION, "reconstruction": True, "splits": {},
            "title": "AudioSet single-source instruments (avbench reconstruction)",
            "protocol": "no shipped items: `avbench data derive audioset` builds them from the official segment CSVs",
            "sources": {rel: _sha(src / rel) for rel in INPUTS["audioset"]},
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
