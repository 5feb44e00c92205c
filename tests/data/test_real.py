"""Loaders of the real datasets on fixture trees in their exact native layouts."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import scipy.signal
import soundfile as sf

from avbench import cli
from avbench.data import audioset, manifest as mf, real
from avbench.testing import fixtures
from avbench.errors import AvbenchError, DataError, TaskError


def _ids(dd) -> dict[str, list[str]]:
    return {s: sorted(dd[s]["id"]) for s in dd}


def _manifest_ids(name, version, splits=None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in real._rows_of(name, version, splits):
        out.setdefault(r.split, []).append(r.id)
    return {s: sorted(v) for s, v in out.items()}


@pytest.fixture(scope="module")
def urmp_tree(tmp_path_factory):
    return fixtures.make("urmp", tmp_path_factory.mktemp("urmp") / "Dataset", "1")


# ----------------------------------------------------------------------------- URMP
def test_urmp_fixture_loads_and_verifies(urmp_tree):
    assert real.verify("urmp", urmp_tree) == []
    dd = real.load("urmp", urmp_tree)
    assert _ids(dd) == _manifest_ids("urmp", "1")
    row = dd["test"].filter(lambda r: r["id"] == "19_Pavane_vn_vn_vc")[0] if "19_Pavane_vn_vn_vc" in dd["test"]["id"] else dd["train"][0]
    assert len(row["stems"]) == len(row["stem_labels"]) and row["audio"]["path"].endswith(".wav")
    assert dd["train"].features["audio"].decode is False
    # the trombone of piece 15 is found under its tpt-coded file name and labelled from the folder
    p15 = [r for s in dd for r in dd[s] if r["id"] == "15_Surprise_tpt_tpt_tbn"][0]
    assert p15["stem_labels"] == ["trumpet", "trumpet", "trombone"]
    assert p15["stems"][2]["path"].endswith("AuSep_3_tpt_15_Surprise.wav")


def test_urmp_verify_names_exactly_the_damaged_files(urmp_tree, tmp_path):
    import shutil

    tree = tmp_path / "Dataset"
    shutil.copytree(urmp_tree, tree)
    gone = ["01_Jupiter_vn_vc/AuSep_2_vc_01_Jupiter.wav", "44_K515_vn_vn_va_va_vc/Notes_4_va_44_K515.txt",
            "10_March_tpt_sax/Vid_10_March_tpt_sax.mp4"]
    for g in gone:
        (tree / g).unlink()
    trunc = tree / "03_Dance_fl_cl/AuMix_03_Dance_fl_cl.wav"
    trunc.write_bytes(trunc.read_bytes()[:5000])
    wrong = tree / "11_Maria_ob_vc/AuSep_1_ob_11_Maria.wav"
    x, _ = sf.read(str(wrong))
    sf.write(str(wrong), x[:44100], 44100)
    probs = real.verify("urmp", tree)
    got = {p.path: p.problem for p in probs}
    assert set(got) == set(gone) | {"03_Dance_fl_cl/AuMix_03_Dance_fl_cl.wav", "11_Maria_ob_vc/AuSep_1_ob_11_Maria.wav"}
    assert all(got[g] == "missing" for g in gone)
    assert "data chunk declares" in got["03_Dance_fl_cl/AuMix_03_Dance_fl_cl.wav"]
    assert "44100 Hz, expected 48000 Hz" in got["11_Maria_ob_vc/AuSep_1_ob_11_Maria.wav"]
    assert next(p for p in probs if p.path == gone[0]).items == ["01_Jupiter_vn_vc"]
    # the CLI prints the same list and exits 2
    rc = cli.main(["data", "verify", "urmp", "--root", str(tree), "--json"])
    assert rc == 2
    with pytest.raises(DataError, match="missing files"):
        real.load("urmp", tree)
    dd = real.load("urmp", tree, missing="skip")
    assert "01_Jupiter_vn_vc" not in [i for s in dd for i in dd[s]["id"]]
    # a renamed tpt/tbn file is still found by the glob fallback
    p = tree / "15_Surprise_tpt_tpt_tbn"
    os.rename(p / "AuSep_3_tpt_15_Surprise.wav", p / "AuSep_3_tbn_15_Surprise.wav")
    assert "15_Surprise_tpt_tpt_tbn/AuSep_3_tpt_15_Surprise.wav" not in {q.path for q in real.verify("urmp", tree)}


def test_urmp_thesis_prepare_and_task(urmp_tree, tmp_path, monkeypatch):
    monkeypatch.setenv("AVBENCH_HOME", str(tmp_path / "home"))
    out = real.prepare("urmp", urmp_tree, "thesis", workers=1, progress=False)
    state = json.loads((out / "prepared.json").read_text())
    assert len(state["items"]) == 40
    # same-instrument parts are summed: K515's two violins, resampled 48000 -> 11025 independently
    parts = [sf.read(str(urmp_tree / f"44_K515_vn_vn_va_va_vc/AuSep_{k}_vn_44_K515.wav"))[0] for k in (1, 2)]
    ref = sum(scipy.signal.resample_poly(p, 147, 640) for p in parts)
    got, sr = sf.read(str(out / state["items"]["44_K515_vn_vn_va_va_vc"]["stems"]["violin"]))
    assert sr == 11025
    np.testing.assert_allclose(got, ref[: len(got)], atol=1e-4)
    # resume: a second run touches nothing
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.wav")}
    real.prepare("urmp", urmp_tree, "thesis", progress=False)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.wav")} == before

    from avbench.tasks import get_task

    t = get_task("urmp-separation", "thesis", check_frozen=False)
    # hand count: one 65535-sample segment for every thesis piece numbered NN with NN % 3 == 2
    n_seg = sum(1 for r in mf.read("urmp", "thesis") if int(r.extra["number"]) % 3 == 2)
    assert t.spec.n_items == n_seg == 13
    assert {i.clips[0].recording for i in t.items} == {r.id for r in mf.read("urmp", "thesis") if int(r.extra["number"]) % 3 == 2}
    item = t.items[0]
    ref = t.reference(item)
    assert ref.shape == (13, 65535)
    assert {t.spec.slots[k] for k in range(13) if ref[k].any()} == set(item.sources)
    np.testing.assert_array_equal(t.mixture(item), ref.sum(0, dtype=np.float32))
    assert t.spec.manifest_sha256 == mf.index("urmp", "thesis")["manifest_sha256"]


def test_separation_task_needs_prepared_data(tmp_path, monkeypatch):
    monkeypatch.setenv("AVBENCH_HOME", str(tmp_path))
    from avbench.tasks import get_task

    with pytest.raises(TaskError, match="avbench data prepare urmp"):
        get_task("urmp-separation", "thesis", check_frozen=False)


def test_on_the_fly_resampling_matches_scipy(urmp_tree):
    p = urmp_tree / "01_Jupiter_vn_vc/AuSep_1_vn_01_Jupiter.wav"
    x, sr = sf.read(str(p))
    assert sr == 48000
    y = real.decode_audio({"path": str(p), "bytes": None}, 11025)
    np.testing.assert_allclose(y, scipy.signal.resample_poly(x, 147, 640), atol=1e-6)


def test_urmp_annotations(urmp_tree):
    from avbench.data import urmp

    notes = urmp.read_notes(urmp_tree / "01_Jupiter_vn_vc/Notes_1_vn_01_Jupiter.txt")
    f0 = urmp.read_f0s(urmp_tree / "01_Jupiter_vn_vc/F0s_1_vn_01_Jupiter.txt")
    assert notes.shape[1] == 3 and f0.shape[1] == 2 and np.all(np.diff(f0[:, 0]) > 0)


# ----------------------------------------------------------------------------- YouTube datasets
@pytest.mark.parametrize("name,version,splits,layout", [
    ("solos", "1", None, "video"),
    ("music", "object-prior", None, "video"),
    ("music", "1", ["test", "duet"], "alt"),
    ("fcvid", "icmr2017", None, "video"),
    ("yt8m", "icmr2017", ["test"], "video"),
])
def test_youtube_fixture_trees(name, version, splits, layout, tmp_path):
    tree = fixtures.make(name, tmp_path / name, version, splits=splits, layout=layout)
    assert real.verify(name, tree, version, splits) == []
    dd = real.load(name, tree, version, splits)
    assert _ids(dd) == _manifest_ids(name, version, splits)
    rows = {r.id: r for r in real._rows_of(name, version, splits)}
    some = dd[sorted(dd)[0]][0]
    r = rows[some["id"]]
    assert some["labels"] == r.labels and some["native_labels"] == r.native_labels and some["start"] == r.start
    files = r.alt_files if layout == "alt" else r.files
    assert Path(some["audio"]["path"]) == tree / (files.get("audio") or files["video"])
    # remove two files and truncate a third: verify names exactly those
    victims = sorted(rows)[:3]
    paths = [rows[v].alt_files["audio"] if layout == "alt" else rows[v].files["video"] for v in victims]
    (tree / paths[0]).unlink()
    (tree / paths[1]).unlink()
    data = (tree / paths[2]).read_bytes()
    (tree / paths[2]).unlink()  # break the hard link before truncating
    (tree / paths[2]).write_bytes(data[: len(data) // 3])
    probs = real.verify(name, tree, version, splits)
    assert {p.path for p in probs} == set(paths)
    assert [p.problem for p in probs if p.path == paths[2]][0].startswith("corrupt")


def test_music_object_prior_prepare_and_mix2(tmp_path, monkeypatch):
    monkeypatch.setenv("AVBENCH_HOME", str(tmp_path / "home"))
    tree = fixtures.make("music", tmp_path / "MUSIC", "object-prior", splits=["test"], seconds=6.5, layout="alt")
    real.prepare("music", tree, "object-prior", ["test"], progress=False)
    from avbench.tasks import get_task

    t = get_task("music-mix2", "object-prior", check_frozen=False)
    classes = [r.labels[0] for r in mf.read("music", "object-prior", "test")]
    assert t.spec.n_items <= len(classes) // 2 and t.spec.n_items >= len(classes) // 2 - 2
    for item in t.items:
        assert len({c.instrument for c in item.clips}) == 2
    ref = t.reference(t.items[0])
    assert ref.shape[1] == 65535 and (ref.any(axis=1)).sum() == 2
    fr = t.frames(t.items[0], size=64)
    assert set(fr) == set(t.items[0].sources) and all(f.shape[1:] == (64, 64, 3) for f in fr.values())


def test_real_classification_scoring_end_to_end(tmp_path):
    """An oracle submission on fcvid-classification scores Hit@1 = 1 without any media."""
    import baselines

    sub = tmp_path / "oracle"
    baselines.registry()["oracle-label"]("fcvid-classification@icmr2017", sub, progress=False)
    assert cli.main(["score", str(sub), "--quiet"]) == 0
    res = json.loads((sub / "results" / "fcvid-classification@icmr2017" / "summary.json").read_text())
    assert res["scores"]["hit@1"]["mean"] == 1.0
    assert res["provenance"]["manifest_sha256"] == mf.index("fcvid", "icmr2017")["manifest_sha256"]


# ----------------------------------------------------------------------------- AudioSet
EVAL_CSV = """# Segments csv created Sun Mar  5 10:54:31 2017
# num_ytids=4, num_segs=4, num_unique_labels=5, num_positive_labels=7
# YTID, start_seconds, end_seconds, positive_labels
aaaaaaaaaaa, 30.000, 40.000, "/m/04rlf,/m/07y_7"
bbbbbbbbbbb, 0.000, 10.000, "/m/07y_7,/m/01xqw"
ccccccccccc, 10.000, 20.000, "/m/0l14_3,/m/07y_7"
ddddddddddd, 5.000, 15.000, "/m/09x0r"
"""
TRAIN_CSV = """# Segments csv created Sun Mar  5 10:54:25 2017
# YTID, start_seconds, end_seconds, positive_labels
eeeeeeeeeee, 0.000, 10.000, "/m/042v_gx"
fffffffffff, 20.000, 30.000, "/m/05r5c,/m/04rlf"
aaaaaaaaaaa, 0.000, 10.000, "/m/07y_7"
ggggggggggg, 0.000, 10.000, "/m/026t6,/m/0342h"
"""


def test_audioset_derive_and_load(tmp_path, monkeypatch):
    monkeypatch.setenv("AVBENCH_HOME", str(tmp_path / "home"))
    (tmp_path / "eval.csv").write_text(EVAL_CSV)
    (tmp_path / "train.csv").write_text(TRAIN_CSV)
    with pytest.raises(DataError, match="avbench data derive audioset"):
        real.rows("audioset", "recon-1")
    assert cli.main(["data", "derive", "audioset", "--eval", str(tmp_path / "eval.csv"),
                     "--train", str(tmp_path / "train.csv"), "--val-fraction", "0", "--quiet"]) == 0
    rows = real.rows("audioset", "recon-1")
    # by hand: a violin alone (with the Music root) and a violin with its ancestor "Bowed string
    # instrument" are single-source; violin + cello and speech are not; in train, an acoustic
    # guitar (a Guitar descendant) and a piano are kept, drum + guitar is not, and the eval
    # video aaaaaaaaaaa never enters train.
    assert {(r.id, r.split, r.labels[0]) for r in rows} == {
        ("aaaaaaaaaaa_30000", "test", "violin"), ("ccccccccccc_10000", "test", "violin"),
        ("eeeeeeeeeee_0", "train", "guitar"), ("fffffffffff_20000", "train", "piano")}
    tree = fixtures.make("audioset", tmp_path / "as", "recon-1")
    assert real.verify("audioset", tree, "recon-1") == []
    assert _ids(real.load("audioset", tree, "recon-1")) == _manifest_ids("audioset", "recon-1")


def test_bad_segment_csv_names_the_file(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("# header\nxxxxxxxxxxx, 1.0\n")
    with pytest.raises(DataError, match="bad.csv"):
        audioset.read_segments_csv(p)


# ----------------------------------------------------------------------------- CLI and hub
def test_data_list_shows_every_dataset(capsys):
    assert cli.main(["data", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    have = {(r["dataset"], r["version"]) for r in rows}
    for d in real.DATASETS:
        assert any(x[0] == d for x in have), d
    urmp = next(r for r in rows if r["dataset"] == "urmp" and r["version"] == "thesis")
    assert urmp["splits"] == {"test": 40}


def test_verify_needs_a_root():
    with pytest.raises(AvbenchError, match="--root"):
        cli.cmd_data_verify(cli.build_parser().parse_args(["data", "verify", "solos"]))


def test_hub_payload_has_no_media():
    dd = real.hub_payload("music", "object-prior")
    assert set(dd) == {"train", "val", "test", "unused", "duet"}
    for ds in dd.values():
        assert not set(ds.column_names) & set(real.MEDIA_COLUMNS)
        assert not any("path" in c for c in ds.column_names)
    assert dd["test"].num_rows == 75


def test_load_of_a_missing_folder_says_so(tmp_path):
    with pytest.raises(DataError, match="is not a folder"):
        real.load("urmp", tmp_path / "nonexistent")
