"""Integrity of the shipped split manifests.

Reference values (counts per class, check hashes of the ICMR 2017 split, URMP piece
counts) are the ones published with the source lists (``avbench/data/sources/SOURCES.md``),
not recomputed by the code under test.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from avbench.data import build_manifests, manifest as mf, real
from avbench.instruments import CLASSES, EXTENDED

ALL = [(d, v) for d in mf.datasets() for v in mf.versions(d)]

# sha256 of the sorted CSV ids joined by "\n" (published with the ICMR split recipe)
ICMR_CHECK = {
    "fcvid": {"train": "4d058b9228738e0a391749cd25f1b93fc31c8b6ab5132b534f9b717fb08b4230",
              "val": "a1005013b78ec25212d2ae09bc8aa3f3708a86df04ebe43c03b3be41b0ea766c",
              "test": "fead2501eb7bfd170892d00737d4625c9f7e35e0b40c4cdea6680c5b2c0fe5a3"},
    "yt8m": {"train": "ef534fe5d40dff62e1a57ace92f8ceb8e2e7214a787d77606a21fd18fbdf3e2b",
             "val": "6a92644904571b553ab97159c26f98aed41243b121ef82f617fb126253dabc26",
             "test": "e0124b99be356a19ca99a3b06d07c44d43316ab0a5fae1c9e6b4d49ff198bb46"},
}
ICMR_PER_CLASS = {
    "fcvid": {"train": [419, 389, 184, 223, 183, 320, 319, 281, 343, 253, 352, 336],
              "val": [79, 65, 52, 49, 46, 65, 80, 50, 83, 51, 84, 68],
              "test": [87, 63, 37, 45, 40, 79, 73, 50, 81, 54, 83, 81]},
    "yt8m": {"train": [16837, 8803, 4682, 2362, 2417, 1974, 1214, 893, 643, 768, 644, 750, 568],
             "val": [3606, 1948, 987, 489, 516, 435, 263, 173, 112, 159, 157, 158, 116],
             "test": [3637, 1891, 960, 526, 492, 442, 285, 209, 126, 141, 152, 137, 122]},
}
SOLOS_VIDEOS = {"Bassoon": 56, "Cello": 134, "Clarinet": 49, "DoubleBass": 58, "Flute": 47, "Horn": 50, "Oboe": 53,
                "Saxophone": 45, "Trombone": 50, "Trumpet": 50, "Tuba": 41, "Viola": 55, "Violin": 66}
MUSIC11 = {"accordion": 60, "acoustic_guitar": 56, "cello": 57, "clarinet": 41, "erhu": 53, "flute": 48,
           "saxophone": 25, "trumpet": 43, "tuba": 51, "violin": 53, "xylophone": 49}
MUSIC_DUETS = {"acoustic_guitar violin": 43, "saxophone acoustic_guitar": 30, "clarinet acoustic_guitar": 28,
               "cello acoustic_guitar": 15, "flute violin": 11, "flute trumpet": 7, "xylophone acoustic_guitar": 7,
               "xylophone flute": 5, "trumpet tuba": 3}


@pytest.mark.parametrize("dataset,version", ALL)
def test_manifest_integrity(dataset, version):
    ix = mf.index(dataset, version)
    rows = mf.read(dataset, version)
    assert sum(x["n_items"] for x in ix["splits"].values()) == len(rows)
    for s, x in ix["splits"].items():
        assert sum(r.split == s for r in rows) == x["n_items"]
    ids = [r.id for r in rows]
    assert len(ids) == len(set(ids)), "an id is in two splits or twice in one"
    split_of_group: dict[str, set] = {}
    for r in rows:
        split_of_group.setdefault(r.group, set()).add(r.split)
        assert r.labels and all(lab in CLASSES or lab in EXTENDED for lab in r.labels)
        assert r.files and all(not p.startswith("/") and ".." not in p for p in r.files.values())
    assert all(len(s) == 1 for s in split_of_group.values()), "a group straddles splits"
    assert mf.manifest_sha256(dataset, version) == ix["manifest_sha256"]


def test_rebuild_reproduces_shipped_bytes(tmp_path):
    build_manifests.build_all(out=tmp_path)
    for d, v in ALL:
        a, b = mf.MANIFESTS / d / v, tmp_path / d / v
        assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
        for p in a.iterdir():
            assert p.read_bytes() == (b / p.name).read_bytes(), f"{d}@{v}/{p.name} differs from a rebuild"
    for name in ("classes.json", "recipe.json"):
        assert (mf.MANIFESTS / "audioset/recon-1" / name).read_bytes() == (tmp_path / "audioset/recon-1" / name).read_bytes()


def test_sources_match_published_sha256():
    text = (build_manifests.SOURCES / "SOURCES.md").read_text()
    for p in sorted(build_manifests.SOURCES.rglob("*")):
        if p.is_file() and p.name != "SOURCES.md":
            rel = p.relative_to(build_manifests.SOURCES).as_posix()
            assert f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {rel}" in text, rel


@pytest.mark.parametrize("dataset", ["fcvid", "yt8m"])
def test_icmr_split_matches_published_check_values(dataset):
    for split in ("train", "val", "test"):
        rows = mf.read(dataset, "icmr2017", split)
        ids = sorted(r.extra["csv_id"] for r in rows)
        assert hashlib.sha256("\n".join(ids).encode()).hexdigest() == ICMR_CHECK[dataset][split]
        c = Counter(r.extra["class_id"] for r in rows)
        assert [c[k] for k in range(len(ICMR_PER_CLASS[dataset][split]))] == ICMR_PER_CLASS[dataset][split]


def test_icmr_split_equals_scikit_learn():
    from sklearn.model_selection import train_test_split

    rows = mf.read("fcvid", "icmr2017")
    by_row = sorted(rows, key=lambda r: r.extra["row"])
    ids = [r.extra["csv_id"] for r in by_row]
    labels = [r.extra["class_id"] for r in by_row]
    train, held, _, _ = train_test_split(ids, labels, test_size=0.3, random_state=10)
    val, test = train_test_split(held, test_size=0.5, random_state=10)
    got = {s: {r.extra["csv_id"] for r in rows if r.split == s} for s in ("train", "val", "test")}
    assert got == {"train": set(train), "val": set(val), "test": set(test)}


def test_urmp_pieces_and_thesis_protocol():
    v1 = mf.read("urmp", "1")
    assert len(v1) == 44 and sum(len(r.extra["parts"]) for r in v1) == 149
    assert Counter(r.extra["ensemble"] for r in v1) == {"duet": 11, "trio": 12, "quartet": 14, "quintet": 7}
    codes = Counter(p["abbr"] for r in v1 for p in r.extra["parts"])
    assert codes == {"vn": 34, "tpt": 21, "fl": 18, "va": 13, "vc": 11, "sax": 11, "cl": 10, "tbn": 9, "ob": 6,
                     "tba": 5, "hn": 5, "bn": 3, "db": 3}
    s15 = next(r for r in v1 if r.id == "15_Surprise_tpt_tpt_tbn")
    assert s15.extra["parts"][2]["instrument"] == "trombone"
    assert s15.files["stem/3"] == "15_Surprise_tpt_tpt_tbn/AuSep_3_tpt_15_Surprise.wav"
    assert s15.labels == ["trumpet", "trombone"]
    # fugue variants and every other piece name stay together; shared takes never straddle
    split_of = {r.id: r.split for r in v1}
    assert len({split_of[f] for f in split_of if "_Fugue_" in f}) == 1
    takes: dict[str, set] = {}
    for r in v1:
        for p in r.extra["parts"]:
            if p["shared_take_group"]:
                takes.setdefault(p["shared_take_group"], set()).add(r.split)
    assert len(takes) == 15 and all(len(s) == 1 for s in takes.values())
    assert {c for r in v1 if r.split == "train" for c in r.labels} == set(CLASSES)

    th = mf.read("urmp", "thesis")
    assert len(th) == 40 and {r.split for r in th} == {"test"}
    removed = {r.id for r in v1} - {r.id for r in th}
    assert removed == {"02_Sonata_vn_vn", "04_Allegro_fl_fl", "05_Entertainer_tpt_tpt", "06_Entertainer_sax_sax"}
    assert Counter(len(r.labels) for r in th) == {2: 12, 3: 20, 4: 8}
    k515 = next(r for r in th if r.id.startswith("44_"))
    assert k515.extra["sources"] == {"violin": [1, 2], "viola": [3, 4], "cello": [5]}


def test_solos_manifest():
    rows = mf.read("solos", "1")
    videos = {}
    for r in rows:
        videos.setdefault(r.native_labels[0], set()).add(r.source_id)
    assert {k: len(v) for k, v in videos.items()} == SOLOS_VIDEOS
    assert sum(r.start is not None for r in rows) == 1349 and sum(r.start is None for r in rows) == 10
    by_split = Counter(r.split for r in {r.source_id: r for r in rows}.values())
    # per class: round-half-up 70% train, 15% val, the rest test (hand-summed over the 13 classes)
    assert by_split == {"train": 529, "val": 114, "test": 111}
    for cls, n in SOLOS_VIDEOS.items():  # stratified: every class in every split
        per = Counter(r.split for r in {r.source_id: r for r in rows if r.native_labels[0] == cls}.values())
        assert set(per) == {"train", "val", "test"} and abs(per["test"] - 0.15 * n) <= 1
    r = next(r for r in rows if r.source_id == "Iz2SAWjD9mQ")
    assert (r.start, r.end) == (94 / 25, 4390 / 25)


def test_music_manifests():
    one = mf.read("music", "1")
    solos = [r for r in one if r.split != "duet"]
    assert Counter(r.native_labels[0] for r in solos) == MUSIC11
    duets = [r for r in one if r.split == "duet"]
    assert Counter(" ".join(r.native_labels) for r in duets) == MUSIC_DUETS
    assert not {r.id for r in duets} & {r.id for r in solos}
    m21 = [r for r in mf.read("music", "21-1") if r.split != "duet"]
    assert len(m21) == 1164 and len({r.native_labels[0] for r in m21}) == 21
    op = mf.read("music", "object-prior")
    assert Counter(r.split for r in op) == {"train": 300, "val": 130, "test": 75, "unused": 31, "duet": 149}
    assert {r.id for r in op if r.split != "duet"} == {r.id for r in solos}
    test_classes = Counter(r.labels[0] for r in op if r.split == "test")
    assert len(test_classes) == 11


def test_audioset_classes_from_ontology():
    t = json.loads((mf.MANIFESTS / "audioset/recon-1/classes.json").read_text())
    assert [c["native"] for c in t["classes"]][:3] == ["Banjo", "Cello", "Drum"] and len(t["classes"]) == 15
    guitar = next(c for c in t["classes"] if c["native"] == "Guitar")
    assert {"/m/0342h", "/m/042v_gx", "/m/02sgy"} <= set(guitar["mids"])
    assert len(t["instrument_mids"]) == 91  # the 92-class subtree without its root


def test_every_real_dataset_is_listed():
    assert set(real.DATASETS) == {"urmp", "solos", "music", "audioset", "fcvid", "yt8m"}
    for name, info in real.DATASETS.items():
        assert (Path(real.__file__).parent / "cards" / info.card).exists()
