"""Every checklist item has a fixture that yields exactly its code (docs/validation.md)."""
import json
from pathlib import Path

import numpy as np
import pytest

from avbench.testing import checklist as ck
from avbench.cli import main
from avbench.errors import CODES, SubmissionError
from avbench.scoring import IDENTICAL_CAP_DB, score
from avbench.submission import validate
from avbench.tasks import get_task
from avbench.tasks.base import Task

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def tasks(mini):
    return {"separation": get_task(ck.SEP_TASK), "classification": get_task(ck.CLS_TASK)}


def codes_of(path, **kw) -> set:
    try:
        sub = validate(path, **kw)
    except SubmissionError as e:
        return {p.code for p in e.problems}
    return {w.code for w in sub.warnings}


def test_bases_are_valid(tasks, tmp_path):
    for fam, t in tasks.items():
        assert codes_of(ck.base(tmp_path / fam, t)) == set()


@pytest.mark.parametrize("fx", [f for f in ck.FIXTURES if f.stage == "validate"], ids=lambda f: f.id)
def test_fixture_yields_exactly_its_code(fx, tasks, tmp_path, monkeypatch):
    for k, v in fx.env.items():
        monkeypatch.setenv(k, v)
    try:
        p = ck.make(fx, tmp_path / "sub", tasks[fx.family])
    except PermissionError:
        if fx.needs == "root":
            pytest.skip("making a device file needs root")
        raise
    assert codes_of(p) == {fx.code}


def test_silent_estimates_get_a_defined_score_and_a_warning(tasks, tmp_path):
    p = ck.make(ck.BY_ID["audio-silent"], tmp_path / "sub", tasks["separation"])
    r = score(p, workers=1, progress=False)[0]
    assert set(r.warning_counts) == {"AVB451"}
    assert r.scores["eps"].n == r.warning_counts["AVB451"] > 0 and r.scores["eps"].mean is not None
    assert r.scores["sdr"].n == 0  # nothing to rank on: shown as null, ranked last


def test_identical_estimates_are_capped_and_flagged(tasks, tmp_path):
    p = ck.make(ck.BY_ID["audio-identical"], tmp_path / "sub", tasks["separation"])
    r = score(p, workers=1, progress=False)[0]
    assert set(r.warning_counts) == {"AVB452"}
    for m in ("sdr", "si_sdr", "sd_sdr"):
        assert r.scores[m].mean == IDENTICAL_CAP_DB and r.scores[m].n_posinf == 0
    from avbench import leaderboard as lb

    d = lb.add_entry(tmp_path / "lb", lb.entry_from(r, validate(p).meta))
    assert "checklist (flagged AVB452)" in (d / "leaderboard.md").read_text()
    assert json.loads((d / "leaderboard.json").read_text())["rows"][0]["warnings"] == r.warning_counts


def test_copies_are_refused_under_protocol2(mini, tmp_path):
    fx = ck.BY_ID["audio-copy"]
    p = ck.make(fx, tmp_path / "sub", get_task(fx.task))
    with pytest.raises(SubmissionError) as ei:
        score(p, workers=1, progress=False)
    assert {q.code for q in ei.value.problems} == {"AVB474"}
    assert not (p / "results" / "synth-ensembles-separation@2-mini" / "summary.json").exists()


def test_silent_estimates_score_the_floor_under_protocol2(mini, tmp_path):
    t = get_task("synth-ensembles-separation@2-mini")
    p = ck.make(ck.BY_ID["audio-silent"], tmp_path / "sub", t)
    r = score(p, workers=1, progress=False)[0]
    sounding = sum(int(t.reference(i).any(axis=1).sum()) for i in t.items)
    assert r.warning_counts["AVB451"] == r.counts["eps"] == sounding == r.scores["sdr"].n
    for m in ("sdr", "sir", "sar", "si_sdr", "sd_sdr"):
        assert r.scores[m].mean == -80.0, m


def test_every_code_is_documented_and_fixtured():
    fixtured = {f.code for f in ck.FIXTURES}
    assert set(CODES) - fixtured == set(), "codes without a fixture"
    doc = (ROOT / "docs" / "validation.md").read_text()
    assert ck.markdown() in doc, "docs/validation.md is stale: python -m avbench.testing.checklist"


def test_json_report_fields_and_exit_code(tasks, tmp_path, capsys):
    p = ck.make(ck.BY_ID["csv-negative"], tmp_path / "sub", tasks["classification"])
    assert main(["validate", str(p), "--json"]) == 2
    rep = json.loads(capsys.readouterr().out)["error"]
    (q,) = rep["problems"]
    assert q["code"] == "AVB436" and q["severity"] == "error" and q["path"] == f"{ck.CLS_TASK.split('@')[0]}/predictions.csv"
    assert (q["line"], q["column"]) == (2, 2) and q["hint"] and rep["counts"] == {"AVB436": 1}


def test_lists_are_capped_with_counts(tasks, tmp_path, capsys):
    p = ck.base(tmp_path / "sub", tasks["separation"])
    for f in p.rglob("*.flac"):
        f.write_bytes(b"junk")
    n = len(list(p.rglob("*.flac")))
    assert main(["validate", str(p), "--json"]) == 2
    rep = json.loads(capsys.readouterr().out)["error"]
    assert rep["counts"] == {"AVB420": n} and len(rep["problems"]) == 20 and rep["n_unlisted"] == n - 20
    assert main(["validate", str(p)]) == 2
    err = capsys.readouterr().err  # one grouped line for n files that say the same
    assert f"[AVB420] {n} files: " in err and "; first: " in err and err.count("[AVB420]") == 1


def test_ids_are_strings_and_row_order_never_matters(tasks, tmp_path):
    t = tasks["classification"]
    p = ck.base(tmp_path / "sub", t)
    csv = p / t.spec.name / "predictions.csv"
    lines = csv.read_text().splitlines()
    rng = np.random.default_rng(0)
    body = lines[1:]
    scores = rng.random((len(body), len(t.spec.classes)))
    body = [b.split(",")[0] + "," + ",".join(f"{v:.6f}" for v in s) for b, s in zip(body, scores)]
    csv.write_text("\n".join([lines[0]] + body) + "\n")
    a = score(p, workers=1, progress=False)[0]
    cols = lines[0].split(",")
    perm = [0] + list(rng.permutation(np.arange(1, len(cols))))
    shuffled = [",".join(r.split(",")[k] for k in perm) for r in [lines[0]] + list(rng.permutation(body))]
    csv.write_text("\n".join(shuffled) + "\n")
    b = score(p, workers=1, progress=False)[0]
    assert a.scores == b.scores
    fx = ck.make(ck.BY_ID["csv-unknown-id"], tmp_path / "ids", t)
    with pytest.raises(SubmissionError, match="'007'"):
        validate(fx)


def test_validation_never_reads_references(tasks, tmp_path, monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("validation read a reference")

    monkeypatch.setattr(Task, "reference", refuse, raising=False)
    for cls in type(tasks["separation"]).__mro__:
        if "reference" in vars(cls):
            monkeypatch.setattr(cls, "reference", refuse)
    assert codes_of(ck.base(tmp_path / "a", tasks["separation"])) == set()
    assert codes_of(ck.make(ck.BY_ID["audio-length"], tmp_path / "b", tasks["separation"])) == {"AVB422"}


def test_metadata_text_is_stored_raw_and_escaped_when_rendered(tasks, tmp_path):
    from avbench import leaderboard as lb

    t = tasks["classification"]
    p = ck.base(tmp_path / "sub", t)
    ck.edit_meta(p, model="<script>alert(1)</script> | `x` \\ & {tex}_%")
    sub = validate(p)
    r = score(p, workers=1, progress=False)[0]
    d = lb.add_entry(tmp_path / "lb", lb.entry_from(r, sub.meta))
    entry = json.loads((d / "entries" / "checklist.json").read_text())
    assert entry["model"] == "<script>alert(1)</script> | `x` \\ & {tex}_%"  # raw
    html = (d / "leaderboard.html").read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    md = (d / "leaderboard.md").read_text()
    assert "&lt;script>" in md and "\\|" in md and "\\`x\\`" in md
    tex = (d / "leaderboard.tex").read_text()
    assert r"\{tex\}\_\%" in tex and r"\&" in tex


def test_validation_warnings_reach_the_result_through_the_cli(tasks, tmp_path, capsys):
    p = ck.make(ck.BY_ID["audio-far-outside"], tmp_path / "sub", tasks["separation"])
    assert main(["score", str(p), "--json", "--workers", "1"]) == 0
    (r,) = json.loads(capsys.readouterr().out)
    assert r["warning_counts"].get("AVB450") == 1
