"""The generated benchmark: exact mixtures, determinism, splits, ranges, loaders, video."""
import json
from collections import Counter

import numpy as np
import pytest

from avbench import audio as au
from avbench.data import synth as se
from avbench.instruments import BY_NAME, CLASSES
from avbench.video import draw_player, player_frames, player_state, read_video, tile, write_mp4


def test_mixture_is_exact_sum_of_stems(mini):
    rows = se.read_manifest(mini)
    ens = [r for r in rows if r["kind"] == "ensemble"]
    assert {r["n_sources"] for r in ens} >= {2, 3, 4}
    for r in ens:
        mix, sr = au.read_audio(mini / r["mix"])
        assert sr == 11025 and mix.dtype == np.float32 and mix.shape == (r["n_samples"],)
        acc = np.zeros_like(mix)
        for inst in r["instruments"]:
            s, _ = au.read_audio(mini / r["stems"][inst])
            assert s.any(), f"{r['id']}: {inst} stem is silent"
            acc += s
        assert np.array_equal(acc, mix)
        assert np.abs(mix).max() <= 0.9


def test_same_version_gives_identical_bytes(mini, tmp_path):
    other = se.generate("mini", root=tmp_path / "again", progress=False)
    a = (mini / "manifest.jsonl").read_bytes()
    b = (other / "manifest.jsonl").read_bytes()
    assert a == b
    for r in se.read_manifest(other):
        for rel, sha in r["sha256"].items():
            assert au.sha256_file(other / rel) == sha
            assert (mini / rel).read_bytes() == (other / rel).read_bytes()
    ma = json.loads((mini / "dataset.json").read_text())
    mb = json.loads((other / "dataset.json").read_text())
    assert ma["manifest_sha256"] == mb["manifest_sha256"]


def test_splits_by_work_and_distinct_instruments(mini):
    rows = se.read_manifest(mini)
    split_of = {}
    for r in rows:
        assert split_of.setdefault(r["work"], r["split"]) == r["split"], f"{r['work']} is in two splits"
        assert len(set(r["instruments"])) == len(r["instruments"])
    assert set(split_of.values()) == {"train", "val", "test"}
    test_solo = Counter(r["instruments"][0] for r in rows if r["kind"] == "solo" and r["split"] == "test")
    assert set(test_solo) == set(CLASSES)  # every class is in the classification test set


def test_notes_in_range_and_sounding(mini):
    sounding = se.sounding_keys()
    for r in se.read_manifest(mini):
        notes = json.loads((mini / r["notes"]).read_text())["players"]
        for inst, ns in notes.items():
            i = BY_NAME[inst]
            assert ns, f"{r['id']} {inst} plays nothing"
            for s, e, k, v in ns:
                assert i.low <= k <= i.high and k in sounding[inst]
                assert 0 <= s < e <= r["n_samples"] / r["sample_rate"] - 0.5 + 1e-6


def test_soundfont_holes_are_detected():
    snd = se.sounding_keys()
    for inst in BY_NAME.values():
        assert len(snd[inst.name]) > 0.8 * (inst.high - inst.low + 1)


def test_datasetdict_matches_manifest(mini):
    from datasets import Audio

    dd = se.load("mini")
    rows = se.read_manifest(mini)
    assert set(dd) == {"train", "val", "test"}
    for split, ds in dd.items():
        want = [r for r in rows if r["split"] == split]
        assert [x["id"] for x in ds] == [r["id"] for r in want]
        assert isinstance(ds.features["mix"], Audio) and ds.features["mix"].decode is False
        x = ds[0]
        audio, sr = au.read_audio(x["mix"]["path"])
        assert sr == 11025 and audio.shape[0] == x["n_samples"]
        assert len(x["stems"]) == len(x["instruments"])


def test_verify_reports_missing_and_corrupt(mini, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(mini, copy)
    rows = se.read_manifest(copy)
    gone = rows[0]["mix"]
    bad = next(iter(rows[1]["stems"].values()))
    (copy / gone).unlink()
    with open(copy / bad, "r+b") as f:
        f.seek(100)
        f.write(b"\x00\x01\x02\x03")
    problems = se.verify(copy)
    assert len(problems) == 2
    assert any(gone in p and "missing" in p and rows[0]["id"] in p for p in problems)
    assert any(bad in p and "corrupt" in p for p in problems)


def test_frames_are_deterministic_class_distinct_and_follow_notes(mini):
    from avbench.video import Note

    notes = [Note(0.0, 0.5, 60), Note(0.5, 1.0, 67)]
    a = player_frames(notes, "violin", 0.0, 8)
    b = player_frames(notes, "violin", 0.0, 8)
    assert a.shape == (8, 224, 224, 3) and np.array_equal(a, b)
    # motion: frames differ over time while playing
    assert not np.array_equal(a[1], a[3])
    # class-distinct: every pair of instruments draws a different picture for the same state
    st = player_state(notes, 0.1, "violin")
    pics = {c: draw_player(c, st) for c in CLASSES}
    for i, c1 in enumerate(CLASSES):
        for c2 in CLASSES[i + 1:]:
            assert np.abs(pics[c1].astype(int) - pics[c2].astype(int)).sum() > 1000, (c1, c2)


def test_mp4_export_roundtrip(tmp_path):
    from avbench.video import Note

    notes = [Note(0.0, 0.4, 60), Note(0.5, 1.0, 64)]
    frames = tile([player_frames(notes, "trumpet", 0, 8, size=64), player_frames(notes, "cello", 0, 8, size=64)])
    write_mp4(tmp_path / "v.mp4", frames, fps=8)
    back = read_video(tmp_path / "v.mp4")
    assert back.shape[0] == 8 and back.shape[1:3] == (64, 128)
    assert np.abs(back.astype(int) - frames.astype(int)).mean() < 12


def test_unknown_version_is_a_clear_error():
    from avbench.errors import DataError

    with pytest.raises(DataError, match="unknown synth-ensembles version"):
        se.config_for("7")


def test_44k_path_has_same_notes_and_duration(mini, tmp_path):
    hi = se.generate("mini", root=tmp_path / "hi", progress=False, sample_rate=44100)
    lo_rows = {r["id"]: r for r in se.read_manifest(mini)}
    for r in se.read_manifest(hi):
        lo = lo_rows[r["id"]]
        assert r["sample_rate"] == 44100 and r["n_samples"] == 4 * lo["n_samples"]
        assert (hi / r["notes"]).read_bytes() == (mini / lo["notes"]).read_bytes()
    assert json.loads((hi / "dataset.json").read_text())["version"] == "1-mini-44100"
