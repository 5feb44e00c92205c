"""Malformed submissions: every problem is reported with its code and file; exit 2."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from avbench import audio as au
from avbench.cli import main
from avbench.errors import SubmissionError
from avbench.submission import validate

SEP = ("synth-ensembles-separation", "oracle-ibm")
CLS = ("synth-ensembles-classification", "oracle-label")


def first_estimate(sub: Path) -> Path:
    return sorted((sub / "synth-ensembles-separation" / "estimates").rglob("*.wav"))[0]


def codes(excinfo) -> set:
    return {p.code for p in excinfo.value.problems}


def check(sub, code, fragment=None):
    with pytest.raises(SubmissionError) as ei:
        validate(sub)
    assert code in codes(ei), str(ei.value)
    msg = str(ei.value)
    if fragment:
        assert fragment.replace(f"{sub}/", "") in msg  # paths are relative to the submission
    return ei.value


def test_valid_oracle_submissions(oracle_subs):
    for p in oracle_subs.values():
        validate(p)


def test_missing_item(oracle_subs, copy_sub):
    sub = copy_sub(oracle_subs[SEP])
    item = first_estimate(sub).parent
    meta = yaml.safe_load((sub / "submission.yaml").read_text())
    meta["tasks"][0]["omitted_slots"] = "error"
    (sub / "submission.yaml").write_text(yaml.safe_dump(meta))
    shutil.rmtree(item)
    err = check(sub, "AVB410", str(item))
    assert "AVB414" in {p.code for p in err.problems}  # and the slots of every other item


def test_extra_item_and_unknown_slot(oracle_subs, copy_sub):
    sub = copy_sub(oracle_subs[SEP])
    est = first_estimate(sub)
    extra = sub / "synth-ensembles-separation" / "estimates" / "ens-nope" / "00"
    extra.mkdir(parents=True)
    shutil.copy(est, extra / "violin.wav")
    shutil.copy(est, est.parent / "piano.wav")
    err = check(sub, "AVB411", "ens-nope/00")
    assert "AVB413" in {p.code for p in err.problems}
    assert any("piano.wav" in p.path for p in err.problems)


def test_audio_problems_all_reported_at_once(oracle_subs, copy_sub):
    sub = copy_sub(oracle_subs[SEP])
    files = sorted((sub / "synth-ensembles-separation" / "estimates").rglob("*.wav"))
    x, _ = au.read_audio(files[0])
    sf.write(files[0], x, 22050, subtype="FLOAT")                      # wrong rate
    au.write_wav(files[1], np.zeros(1000, np.float32), 11025)           # wrong length
    au.write_wav(files[2], np.stack([x, x]), 11025)                     # stereo
    y = x.copy()
    y[10] = np.nan
    au.write_wav(files[3], y, 11025)                                    # NaN
    files[4].write_bytes(b"not audio at all")                           # unreadable
    both = files[5].with_suffix(".flac")
    sf.write(both, au.read_audio(files[5])[0], 11025)                   # duplicate slot
    with pytest.raises(SubmissionError) as ei:
        validate(sub)
    got = {(p.code, Path(p.path).name if p.code != "AVB412" else "dup") for p in ei.value.problems}
    assert ("AVB421", files[0].name) in got
    assert ("AVB422", files[1].name) in got
    assert ("AVB423", files[2].name) in got
    assert ("AVB424", files[3].name) in got
    assert ("AVB420", files[4].name) in got
    assert any(p.code == "AVB412" for p in ei.value.problems)
    assert all(p.fix for p in ei.value.problems)


def test_classification_csv_problems(oracle_subs, copy_sub):
    sub = copy_sub(oracle_subs[CLS])
    p = sub / "synth-ensembles-classification" / "predictions.csv"
    lines = p.read_text().splitlines()
    header = lines[0].split(",")
    header[header.index("tuba")] = "kazoo"
    first = lines[1].split(",")
    first[1] = "nan"
    lines = [",".join(header), ",".join(first), lines[2], lines[2], "unknown-item" + lines[3][lines[3].index(","):]] + lines[5:]
    p.write_text("\n".join(lines) + "\n")
    err = check(sub, "AVB431", "tuba")
    got = {q.code for q in err.problems}
    assert {"AVB431", "AVB432", "AVB412", "AVB411", "AVB410"} <= got


def test_path_escape_symlink_and_unsafe_yaml(oracle_subs, copy_sub, tmp_path):
    sub = copy_sub(oracle_subs[SEP])
    meta = yaml.safe_load((sub / "submission.yaml").read_text())
    meta["tasks"][0]["path"] = "../elsewhere"
    (sub / "submission.yaml").write_text(yaml.safe_dump(meta))
    check(sub, "AVB440", "escapes")

    sub2 = copy_sub(oracle_subs[CLS])
    os.symlink("/etc/passwd", sub2 / "synth-ensembles-classification" / "link.csv")
    check(sub2, "AVB441", "link.csv")

    sub3 = tmp_path / "unsafe"
    sub3.mkdir()
    (sub3 / "submission.yaml").write_text("name: !!python/object/apply:os.system ['echo pwned']\nmodel: x\ntasks: []\n")
    check(sub3, "AVB402", "unsafe YAML")

    sub4 = tmp_path / "schema"
    sub4.mkdir()
    (sub4 / "submission.yaml").write_text("name: Bad Name\nmodel: x\nunknown_field: 1\ntasks: []\n")
    err = check(sub4, "AVB403")
    assert any("unknown_field" in p.message for p in err.problems)


def test_cli_exits_2_without_traceback_and_leaves_leaderboards(oracle_subs, copy_sub, tmp_path):
    sub = copy_sub(oracle_subs[SEP])
    first_estimate(sub).write_bytes(b"garbage")
    lb = tmp_path / "lb"
    good = copy_sub(oracle_subs[("synth-ensembles-separation", "oracle-mixture")])
    assert main(["score", str(good), "--update-leaderboard", "--leaderboards", str(lb), "--quiet", "--workers", "1"]) == 0
    before = {p: p.read_bytes() for p in lb.rglob("*") if p.is_file()}
    env = dict(os.environ)
    r = subprocess.run([sys.executable, "-m", "avbench.cli", "score", str(sub), "--update-leaderboard",
                        "--leaderboards", str(lb)], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "AVB420" in r.stderr and str(first_estimate(sub).relative_to(sub)) in r.stderr
    after = {p: p.read_bytes() for p in lb.rglob("*") if p.is_file()}
    assert before == after


def test_shipped_example_submission_is_valid_and_scores(mini, tmp_path):
    import shutil as sh

    from avbench.scoring import score

    src = Path(__file__).resolve().parent.parent / "submissions" / "example"
    validate(src)
    dst = tmp_path / "example"
    sh.copytree(src, dst)
    r = score(dst, progress=False)[0]
    assert r.task == "synth-ensembles-classification" and r.scores["hit@1"].n == r.n_items


def test_first_day_csv_and_tree_mistakes_name_their_fix(tmp_path, mini):
    """A stray file in estimates/, a pandas index column, another delimiter, spaces around
    names: each problem says what to do."""
    from avbench.testing import checklist as ck
    from avbench.errors import SubmissionError
    from avbench.safeio import parse_predictions
    from avbench.tasks import get_task

    p = ck.base(tmp_path / "s", get_task(ck.SEP_TASK))
    (p / "synth-ensembles-separation" / "estimates" / ".DS_Store").write_bytes(b"\0\0")
    with pytest.raises(SubmissionError) as ei:
        validate(p)
    (prob,) = ei.value.problems
    assert prob.code == "AVB413" and prob.path.endswith("estimates/.DS_Store") and "estimates/<item-id>" in prob.fix

    def fixes(data):
        return [q.fix for q in parse_predictions(data, "p.csv", ["violin"], ["x"])[1]]

    assert fixes(b"item_id;violin\nx;0.1\n") == ["the delimiter must be ',' (e.g. pandas to_csv(sep=','))"]
    assert any("index=False" in f for f in fixes(b",item_id,violin\n0,x,0.1\n"))
    assert any("strip the spaces" in f for f in fixes(b"item_id, violin\nx,0.1\n"))
    assert any("strip the spaces around the id" in f for f in fixes(b"item_id,violin\n x ,0.1\n"))


def test_negative_zero_is_never_printed():
    from avbench.leaderboard import fmt as _fmt

    assert _fmt(-0.001, "sdr") == "0.00" and _fmt(-0.0, "sdr") == "0.00" and _fmt(-0.01, "sdr") == "-0.01"
    assert _fmt(-0.0004, "hit@1") == "0.000"


def test_an_archive_is_named_and_left_unextracted(tmp_path):
    import zipfile

    z = tmp_path / "my-model.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("my-model/submission.yaml", "name: x\n")
    with pytest.raises(SubmissionError) as ei:
        validate(z)
    p = ei.value.problems[0]
    assert p.code == "AVB401" and "archive" in p.message and "unzip" in p.fix
    assert sorted(x.name for x in tmp_path.iterdir()) == ["my-model.zip"]


@pytest.mark.parametrize("where", ["known-item", "unknown-item", "unknown-slot"])
def test_a_sparse_estimate_is_refused_by_its_size_and_never_read(oracle_subs, copy_sub, monkeypatch, where):
    """The cap of an estimate is what its item's length implies (8 bytes a sample plus a
    header), not the global 1 GiB: a sparse file just under the global cap is refused
    from its size alone, and never opened to be hashed or decoded."""
    import avbench.submission.checks as checks

    sub = copy_sub(oracle_subs[("synth-ensembles-separation", "oracle-ibm")])
    est = first_estimate(sub)
    big = {"known-item": est, "unknown-item": est.parent.parent / "no-such-item" / est.name,
           "unknown-slot": est.parent / "kazoo.wav"}[where]
    big.parent.mkdir(exist_ok=True)
    with open(big, "wb") as f:
        f.truncate((1 << 30) - 4096)  # under FILE_CAP, far over any item of the task
    read = []
    real = checks.submission_hashes

    def spy(root, files=None):
        read.extend(files)
        return real(root, files)

    monkeypatch.setattr(checks, "submission_hashes", spy)
    rel = big.relative_to(sub).as_posix()
    with pytest.raises(SubmissionError) as ei:
        validate(sub)
    got = {(p.code, p.path) for p in ei.value.problems}
    if where == "unknown-item":
        assert ("AVB411", rel.rpartition("/")[0]) in got
    elif where == "unknown-slot":
        assert ("AVB413", rel) in got
    else:
        assert ("AVB445", rel) in got
    assert rel not in read and "submission.yaml" in read
