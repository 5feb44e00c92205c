"""Trust boundaries: nothing a submitter ships beyond its estimates is trusted.

One regression test per finding of the trust review (numbered as there); each failed
before the fix.  The attack classes behind them are generated at scale by
``scripts/robustness.py trust`` (figures in docs/validation.md, "Trust boundaries").
"""
import io
import json
import os
import shutil
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import harness as R  # tests/robustness/harness.py (on the path: pytest adds this folder)
from avbench.testing import checklist as ck
from avbench import leaderboard as lb
from avbench.errors import LeaderboardError, SubmissionError
from avbench.results import Stat
from avbench.safeio import parse_predictions, read_flac, read_wav
from avbench.scoring import IDENTICAL_CAP_DB, score, score_separation_item, scores_path
from avbench.submission import content_sha256, parse_meta, validate
from avbench.tasks import get_task

deadline = R.deadline  # fail instead of hanging

SEP = "synth-ensembles-separation@1-mini"
CLS = "synth-ensembles-classification@1-mini"


def codes(e: SubmissionError) -> set:
    return {p.code for p in e.problems}


@pytest.fixture
def mixture(oracle_subs, copy_sub):
    """A copy of the input-mixture submission on the separation task (-2.21 dB)."""
    return copy_sub(oracle_subs[("synth-ensembles-separation", "oracle-mixture")])


@pytest.fixture(scope="module")
def clean_mixture_score(oracle_subs, tmp_path_factory):
    p = tmp_path_factory.mktemp("clean") / "sub"
    shutil.copytree(oracle_subs[("synth-ensembles-separation", "oracle-mixture")], p)
    return score(p, workers=1, progress=False)[0]


def _npy(x: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(x, dtype=np.float64))
    return buf.getvalue()


# ----------------------------------------------------------------------------- 1
def test_01_planted_resume_chunks_are_never_read(mixture, clean_mixture_score):
    """Chunks and a summary shipped under results/ (at the path the old resume state
    used) with invented numbers do not change the score."""
    task = get_task(SEP)
    rdir = mixture / "results" / SEP
    part = rdir / f".partial-{content_sha256(mixture)[:16]}"
    part.mkdir(parents=True)
    row = {"item": "x", "slot": "violin", "group": "g", "n_sources": 2, "bucket": "sdr", "flag": ""}
    ids = [i.id for i in task.items]
    for k in range(0, len(ids), 8):
        rows = [dict(row, item=i, **{m: 32.9 for m in ("sdr", "sir", "sar", "si_sdr", "sd_sdr", "pes", "eps",
                                                        "sdr_in", "si_sdr_in", "sdri", "si_sdri")})
                for i in ids[k:k + 8]]
        pd.DataFrame(rows).to_parquet(part / f"chunk-{k // 8:05d}.parquet", index=False)
    (rdir / "summary.json").write_text('{"forged": true}')
    r = score(mixture, workers=1, progress=False)[0]
    assert r.scores["sdr"].mean == pytest.approx(clean_mixture_score.scores["sdr"].mean, abs=1e-12)
    assert r.scores["sdr"].mean < 0


# ----------------------------------------------------------------------------- 2
def test_02_estimates_that_overflow_the_metrics_are_refused(mixture):
    """The worst 75% of the estimates multiplied by 1e200 (float64 NPY): refused, not
    scored NaN and dropped from the mean."""
    task = get_task(SEP)
    est = mixture / "synth-ensembles-separation" / "estimates"
    items = task.items
    for item in items[: int(0.75 * len(items))]:
        for f in sorted((est / item.id).iterdir()):
            from avbench.audio import read_audio

            x = read_audio(f, "float64")[0] if f.suffix != ".npy" else np.load(f)
            f.unlink()
            (f.with_suffix(".npy")).write_bytes(_npy(np.asarray(x, dtype=np.float64) * 1e200))
    with pytest.raises(SubmissionError) as ei:
        score(mixture, workers=1, progress=False)
    assert codes(ei.value) == {"AVB471"}


def test_02b_every_sounding_slot_is_in_the_mean(clean_mixture_score):
    r = clean_mixture_score
    assert r.scores["sdr"].n == r.counts["sdr"] and r.scores["sdr"].n_posinf == r.scores["sdr"].n_neginf == 0


@pytest.mark.parametrize("fx", ["audio-overflow", "audio-underflow"])
def test_02c_amplitudes_outside_the_exact_range_are_refused(fx, tmp_path, mini):
    p = ck.make(ck.BY_ID[fx], tmp_path / "sub", get_task(SEP))
    with pytest.raises(SubmissionError) as ei:
        score(p, workers=1, progress=False)
    assert codes(ei.value) == {"AVB471"}


def test_02d_a_metric_made_undefined_is_refused_not_dropped(mini):
    """The scoring backstop (validated files cannot reach it): NaN or -inf is never dropped."""
    task = get_task(SEP)
    item = task.items[0]
    ref = task.reference(item).astype(np.float64)
    with pytest.raises(SubmissionError) as ei:
        score_separation_item(task, ref, ref * 1e-200, item)
    assert codes(ei.value) == {"AVB473"}


# ----------------------------------------------------------------------------- 3
def test_03_a_results_link_is_refused_and_nothing_outside_is_touched(mixture, tmp_path):
    outside = tmp_path / "outside"
    (outside / SEP).mkdir(parents=True)
    keep = outside / SEP / ".precious.tmp"
    keep.write_text("keep me")
    os.symlink(outside, mixture / "results")
    before = sorted(p.name for p in (outside / SEP).iterdir())
    with pytest.raises(SubmissionError) as ei:
        validate(mixture)
    assert codes(ei.value) == {"AVB470"}
    with pytest.raises(SubmissionError) as ei:  # even when validation is skipped
        score(mixture, workers=1, progress=False, validate_first=False)
    assert codes(ei.value) == {"AVB470"}
    assert keep.read_text() == "keep me" and sorted(p.name for p in (outside / SEP).iterdir()) == before


def test_03b_a_planted_journal_cannot_write_or_delete_outside(mixture, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("intact")
    rdir = mixture / "results" / SEP
    rdir.mkdir(parents=True)
    rel = os.path.relpath(victim, rdir)
    (rdir / ".journal.json").write_text(json.dumps({"ops": [[rel, None, None]]}))
    score(mixture, workers=1, progress=False)
    assert victim.read_text() == "intact"


# ----------------------------------------------------------------------------- 4
def test_04_special_files_under_results_are_refused_without_hanging(mixture):
    rdir = mixture / "results" / SEP
    rdir.mkdir(parents=True)
    os.mkfifo(rdir / "summary.json")
    with deadline(120), pytest.raises(SubmissionError) as ei:
        score(mixture, workers=1, progress=False)
    assert codes(ei.value) == {"AVB470"}
    os.unlink(rdir / "summary.json")
    os.symlink("/dev/zero", rdir / "summary.json")
    with deadline(120), pytest.raises(SubmissionError) as ei:
        score(mixture, workers=1, progress=False)
    assert codes(ei.value) == {"AVB470"}


def test_04b_a_plain_file_named_results_is_refused(mixture):
    (mixture / "results").write_text("not a folder")
    with pytest.raises(SubmissionError) as ei:
        validate(mixture)
    assert codes(ei.value) == {"AVB470"}


# ----------------------------------------------------------------------------- 5
def _meta_bytes(**changes) -> bytes:
    m = {"name": "ok", "model": "m", "authors": ["a"], "tasks": [{"name": "synth-ensembles-separation",
                                                                 "version": "1-mini", "inputs": []}]}
    m.update(changes)
    return yaml.safe_dump(m, allow_unicode=True).encode()


@pytest.mark.parametrize("name", ["evil\n", "evil\r", "a" * 65, "-lead", ".hidden", "Upper"])
def test_05_names_must_match_in_full(name):
    meta, probs = parse_meta(_meta_bytes(name=name))
    assert "AVB403" in {p.code for p in probs}


def test_05b_unpaired_surrogates_and_huge_counts_are_refused():
    meta, probs = parse_meta(b'name: ok\nmodel: "bad \\ud800 text"\ntasks: [{name: t, version: "1", inputs: []}]\n')
    assert {p.code for p in probs} == {"AVB409"}
    meta, probs = parse_meta(_meta_bytes(n_parameters=10 ** 30))
    assert {p.code for p in probs} == {"AVB403"}
    meta, probs = parse_meta(_meta_bytes(n_parameters=12_000_000))
    assert probs == []


def test_05c_csv_cells_cannot_hold_formulas(oracle_subs, tmp_path):
    r = score(shutil.copytree(oracle_subs[("synth-ensembles-classification", "oracle-prior")], tmp_path / "s"),
              workers=1, progress=False)[0]
    meta = validate(tmp_path / "s").meta
    for k, model in enumerate(['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)", "\tx",
                               '  =HYPERLINK("http://x","y")', '\u00a0=1+1', "\u2003 @SUM(A1)"]):
        e = lb.entry_from(r, meta.model_copy(update={"name": f"m{k}", "model": model}))
        d = lb.add_entry(tmp_path / "lb", e)
    import csv

    rows = list(csv.reader(io.StringIO((d / "leaderboard.csv").read_text())))
    col = rows[0].index("model")
    for row in rows[1:]:
        assert row[col][:1] not in ("=", "+", "-", "@", "\t"), row[col]
        assert row[col].lstrip(" \u00a0\u2003")[:1] not in ("=", "+", "-", "@") or row[col][:1] == "'", row[col]


def test_05d_markdown_links_and_images_in_free_text_stay_dead(oracle_subs, tmp_path):
    """A link, an image (a tracking pixel) or a bare address in ``model`` is shown as text on
    the Markdown board, as the HTML renderer already does."""
    r = score(shutil.copytree(oracle_subs[("synth-ensembles-classification", "oracle-prior")], tmp_path / "s"),
              workers=1, progress=False)[0]
    meta = validate(tmp_path / "s").meta
    evil = ["[click me](https://evil.example/login)", "![](https://t.example/pixel.png)", "[x][1]",
            "see https://evil.example or www.evil.example"]
    for k, model in enumerate(evil):
        d = lb.add_entry(tmp_path / "lb", lb.entry_from(r, meta.model_copy(update={"name": f"m{k}", "model": model})))
    md = (d / "leaderboard.md").read_text()
    import re

    assert not re.search(r"(?<!\\)\[[^\]]*(?<!\\)\]\(", md)  # no [text](url) left unescaped
    assert "](https://" not in md.replace("\\]", "")
    assert "https://" not in md and "www.evil" not in md  # no bare address GitHub would autolink
    assert "\\[click me\\]" in md  # the text itself is kept


# ----------------------------------------------------------------------------- 6
@pytest.fixture
def sep_board(oracle_subs, tmp_path):
    subs = {}
    root = tmp_path / "lb"
    for name in ("oracle-ibm", "oracle-mixture"):
        s = shutil.copytree(oracle_subs[("synth-ensembles-separation", name)], tmp_path / "subs" / name)
        r = score(s, workers=1, progress=False)[0]
        lb.add_entry(root, lb.entry_from(r, validate(s).meta), scores_path(s, SEP))
        subs[name] = s
    return root, lb.board_dir(root, "synth-ensembles-separation", "1-mini"), subs


def _edit_entry(d: Path, name: str, fn) -> None:
    p = d / "entries" / f"{name}.json"
    raw = json.loads(p.read_text())
    fn(raw)
    p.write_text(json.dumps(raw))
    lb.build(d.parent.parent, adopt=True)  # the forger accepts the edit (or rewrites SHA256SUMS)


def test_06a_oracle_flag_flipped_is_caught_against_the_submission(sep_board):
    root, d, subs = sep_board
    assert lb.verify(root, list(subs.values()))[0] == []
    _edit_entry(d, "oracle-ibm", lambda e: e.update(oracle=False))
    probs, _ = lb.verify(root, list(subs.values()))
    assert any("oracle differs" in p for p in probs), probs


def test_06b_parquet_and_entry_forged_together_are_caught_by_rescoring(sep_board):
    root, d, subs = sep_board
    pq = d / "entries" / "oracle-mixture.scores.parquet"
    df = pd.read_parquet(pq)
    df["sdr"] = df["sdr"] + 15.0
    df.to_parquet(pq, index=False)
    stat = Stat.of(df["sdr"].to_numpy(), df["group"].to_numpy(), ci=True)
    _edit_entry(d, "oracle-mixture", lambda e: e["scores"].update(sdr=stat.model_dump()))
    # consistent with the parquet; only the breakdown the forger left unchanged gives it away
    assert all("breakdown" in p for p in lb.verify(root)[0]) and lb.verify(root)[0]
    probs, fig = lb.verify(root, list(subs.values()), rescore=True)
    assert fig["rescored"] == 2
    assert any("per-item sdr differs from a re-score" in p for p in probs), probs


def test_06c_removed_warning_flags_are_caught(oracle_subs, tmp_path, mini):
    task = get_task(SEP)
    p = ck.make(ck.BY_ID["audio-identical"], tmp_path / "sub", task)
    r = score(p, workers=1, progress=False)[0]
    d = lb.add_entry(tmp_path / "lb", lb.entry_from(r, validate(p).meta), scores_path(p, SEP))
    assert lb.verify(tmp_path / "lb")[0] == []
    _edit_entry(d, "checklist", lambda e: e.update(warnings={}))
    probs, _ = lb.verify(tmp_path / "lb")
    assert any("AVB452" in q for q in probs), probs


def test_06d_a_hand_set_f1_is_caught(oracle_subs, tmp_path):
    s = shutil.copytree(oracle_subs[("synth-ensembles-classification", "oracle-prior")], tmp_path / "s")
    r = score(s, workers=1, progress=False)[0]
    d = lb.add_entry(tmp_path / "lb", lb.entry_from(r, validate(s).meta), scores_path(s, CLS))
    assert lb.verify(tmp_path / "lb")[0] == []
    _edit_entry(d, "oracle-prior", lambda e: e["scores"]["macro_f1"].update(mean=0.99, median=0.99))
    probs, _ = lb.verify(tmp_path / "lb")
    assert any("score macro_f1" in q for q in probs), probs


# ----------------------------------------------------------------------------- 7
def test_07_dot_named_and_foreign_board_files_are_refused(sep_board):
    root, d, _ = sep_board
    shutil.copy(d / "entries" / "oracle-mixture.json", d / "entries" / ".sota.json")
    with pytest.raises(LeaderboardError) as ei:
        lb.build(root)
    assert ei.value.code == "AVB503"
    with pytest.raises(LeaderboardError):
        lb.build(root, adopt=True)  # adopting does not accept what avbench never writes
    probs, _ = lb.verify(root)
    assert any(".sota.json" in p for p in probs)


# ----------------------------------------------------------------------------- 8
def test_08_an_item_folder_swapped_for_a_link_after_validation_stops_scoring(mixture, tmp_path):
    sub = validate(mixture)
    task = get_task(SEP)
    d = mixture / "synth-ensembles-separation" / "estimates" / task.items[0].id
    elsewhere = tmp_path / "elsewhere"
    shutil.move(d, elsewhere)
    os.symlink(elsewhere, d)
    with pytest.raises(SubmissionError) as ei:
        score(sub, workers=1, progress=False)
    assert codes(ei.value) == {"AVB472"}


def test_08b_a_file_changed_after_validation_stops_scoring(mixture):
    sub = validate(mixture)
    task = get_task(SEP)
    f = next((mixture / "synth-ensembles-separation" / "estimates" / task.items[-1].id).iterdir())
    data = bytearray(f.read_bytes())
    data[-100:] = b"\x7f" * 100  # a corruption in the window between hashing and scoring
    f.write_bytes(bytes(data))
    with pytest.raises(SubmissionError) as ei:
        score(sub, workers=1, progress=False)
    assert codes(ei.value) == {"AVB472"}


# ----------------------------------------------------------------------------- 9
@pytest.mark.parametrize("how", ["noise-1e-7", "noise-1e-9", "one-ulp", "scaled"])
def test_09_near_copies_are_flagged_and_capped(how, mini):
    task = get_task(SEP)
    item = task.items[0]
    ref = task.reference(item).astype(np.float64)
    rng = np.random.default_rng(0)
    est = ref.copy()
    live = [k for k in range(ref.shape[0]) if ref[k].any()]
    for k in live:
        if how.startswith("noise"):
            est[k] = ref[k] + float(how.split("-", 1)[1]) * rng.standard_normal(ref.shape[1])
        elif how == "one-ulp":
            j = int(np.flatnonzero(ref[k])[0])
            est[k, j] = np.nextafter(ref[k, j], np.inf)
        else:
            est[k] = 0.5 * ref[k]
    rows = score_separation_item(task, ref, est, item)
    for r in rows:
        if r["bucket"] == "sdr":
            assert r["flag"] == "identical"
            for m in ("sdr", "sir", "sar", "si_sdr", "sd_sdr"):
                assert r[m] <= IDENTICAL_CAP_DB and np.isfinite(r[m])


# ----------------------------------------------------------------------------- 10
def test_10_a_header_repeating_one_column_uses_bounded_memory():
    header = "item_id," + ",".join(["violin"] * 1_000_000)
    data = (header + "\nx," + ",".join(["0.1"] * 1_000_000) + "\n").encode()
    tracemalloc.start()
    preds, probs = parse_predictions(data, "p.csv", ["violin", "cello"], ["x"])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert preds is None and len(probs) <= 3 and probs[0].code == "AVB431"
    assert peak < 300 << 20, peak


def test_10b_problem_lists_keep_a_bounded_number_per_code():
    from avbench.errors import CAP_PER_CODE, Problem, ProblemList, report

    pl = ProblemList()
    for k in range(100_000):
        pl.append(Problem("AVB434", "p.csv", f"column {k}", "fix"))
    assert len(pl) == CAP_PER_CODE + 1
    rep = report(pl)
    assert rep["counts"] == {"AVB434": 100_000} and len(rep["problems"]) == CAP_PER_CODE


# ----------------------------------------------------------------------------- 11
def test_11_links_in_a_board_folder_are_refused_unread(sep_board, tmp_path):
    root, d, _ = sep_board
    secret = tmp_path / "secret.txt"
    secret.write_text('{"name": "TOPSECRET-7f3a", "token": "TOPSECRET-7f3a"}')
    os.symlink(secret, d / "entries" / "leak.json")
    with pytest.raises(LeaderboardError) as ei:
        lb.load_entries(d, "synth-ensembles-separation", "1-mini")
    assert ei.value.code == "AVB503" and "TOPSECRET" not in str(ei.value)
    os.unlink(d / "entries" / "leak.json")
    os.symlink("/dev/zero", d / "entries" / "zero.json")
    with deadline(60):
        probs, _ = lb.verify(root)
    assert any("zero.json" in p for p in probs) and not any("TOPSECRET" in p for p in probs)


def test_11b_schema_errors_never_quote_the_entry(sep_board):
    root, d, _ = sep_board
    (d / "entries" / "oracle-ibm.json").write_text('{"name": "TOPSECRET-7f3a", "oops": 1}')
    with pytest.raises(LeaderboardError) as ei:
        lb.load_entries(d, "synth-ensembles-separation", "1-mini")
    assert ei.value.code == "AVB502" and "TOPSECRET" not in str(ei.value)


# ----------------------------------------------------------------------------- 12
def test_12_verify_matches_submissions_by_task_and_name(oracle_subs, tmp_path):
    root = tmp_path / "lb"
    folders = []
    import baselines

    for fam in ("synth-ensembles-separation", "synth-ensembles-mix2"):
        s = tmp_path / "subs" / fam  # two submissions named oracle-mixture, one per task
        baselines.registry()["oracle-mixture"](f"{fam}@1-mini", s, progress=False)
        r = score(s, workers=1, progress=False)[0]
        lb.add_entry(root, lb.entry_from(r, validate(s).meta), scores_path(s, f"{r.task}@{r.version}"))
        folders.append(s)
    probs, fig = lb.verify(root, [tmp_path / "subs"])
    assert probs == [] and fig["submissions_checked"] == 2


# ----------------------------------------------------------------------------- 13
def test_13_a_name_on_the_board_is_replaced_only_on_request(sep_board):
    root, d, _ = sep_board
    e = lb.Entry.model_validate_json((d / "entries" / "oracle-mixture.json").read_text())
    other = e.model_copy(update={"provenance": e.provenance.model_copy(update={"submission_sha256": "0" * 64})})
    with pytest.raises(LeaderboardError) as ei:  # other outputs, the same scores: a reproduction (AVB507)
        lb.add_entry(root, other)
    assert ei.value.code == "AVB507"
    moved = e.scores["sdr"].model_copy(update={"mean": e.scores["sdr"].mean + 1})
    other = other.model_copy(update={"scores": {**e.scores, "sdr": moved}})
    with pytest.raises(LeaderboardError) as ei:  # other outputs, other scores: refused
        lb.add_entry(root, other)
    assert ei.value.code == "AVB504"
    lb.add_entry(root, e)  # the same outputs scored again: allowed
    lb.add_entry(root, other, replace=True)
    assert json.loads((d / "entries" / "oracle-mixture.json").read_text())["provenance"]["submission_sha256"] == "0" * 64


# ----------------------------------------------------------------------------- 14
def _wav(fmt_chunks: list[bytes], payload: bytes, extra: list[bytes] = ()) -> bytes:
    body = b"WAVE" + b"".join(b"fmt " + struct.pack("<I", len(f)) + f for f in fmt_chunks) + b"".join(extra)
    body += b"data" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _fmt(tag=3, ch=1, sr=11025, bits=32, ext_guid: bytes | None = None) -> bytes:
    align = ch * bits // 8
    f = struct.pack("<HHIIHH", tag, ch, sr, sr * align, align, bits)
    if ext_guid is not None:
        f += struct.pack("<HHI", 22, bits, 4) + ext_guid
    return f


def test_14a_extensible_subformat_checked_on_the_whole_guid():
    x = np.zeros(100, dtype="<f4").tobytes()
    good = struct.pack("<H", 3) + bytes.fromhex("000000001000800000aa00389b71")
    bad = struct.pack("<H", 3) + bytes(14)
    assert read_wav(_wav([_fmt(0xFFFE, ext_guid=good)], x), "a.wav", 11025, 100)[0] is not None
    assert {p.code for p in read_wav(_wav([_fmt(0xFFFE, ext_guid=bad)], x), "a.wav", 11025, 100)[1]} == {"AVB427"}


def test_14b_two_fmt_chunks_and_many_chunks():
    x = np.zeros(100, dtype="<f4").tobytes()
    _, probs = read_wav(_wav([_fmt(), _fmt(sr=44100)], x), "a.wav", 11025, 100)
    assert [p.code for p in probs] == ["AVB420"] and "two fmt" in probs[0].message
    junk = [b"junk" + struct.pack("<I", 0)] * 300
    assert read_wav(_wav([_fmt()], x, junk), "a.wav", 11025, 100)[0] is not None  # 300 chunks are fine
    _, probs = read_wav(_wav([_fmt()], x, [b"junk" + struct.pack("<I", 0)] * 5000), "a.wav", 11025, 100)
    assert "more than 4096 chunks" in probs[0].message


def test_14c_flac_audio_past_the_declared_total_is_refused():
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.random.default_rng(0).uniform(-0.5, 0.5, 70000), 11025, format="FLAC", subtype="PCM_16")
    d = bytearray(buf.getvalue())
    at = d.find(b"fLaC") + 8 + 10
    v = int.from_bytes(d[at:at + 8], "big") >> 36 << 36 | 65535
    d[at:at + 8] = v.to_bytes(8, "big")
    x, probs = read_flac(bytes(d), "a.flac", 11025, 65535)
    assert x is None and [p.code for p in probs] == ["AVB422"]


@pytest.mark.parametrize("cell", ["\u0660.\u0665", "\uff10.\uff15", "\u0966.5"])
def test_14d_csv_numbers_are_ascii(cell):
    data = f"item_id,violin\nx,{cell}\n".encode()
    preds, probs = parse_predictions(data, "p.csv", ["violin"], ["x"])
    assert preds is None and {p.code for p in probs} == {"AVB432"}


def test_14e_ranked_over_n_names_every_row(sep_board, oracle_subs, tmp_path):
    root, d, _ = sep_board
    e = lb.Entry.model_validate_json((d / "entries" / "oracle-ibm.json").read_text())
    fewer = e.model_copy(update={"name": "aaa-fewer", "scores": {**e.scores, "sdr": e.scores["sdr"].model_copy(
        update={"n": 3})}})
    lb.add_entry(root, fewer)
    text = (d / "leaderboard.md").read_text()
    assert f"over 3–{e.scores['sdr'].n} (by row)" in text


def test_a_board_holds_one_item_list(sep_board):
    """An entry scored on other items (a local copy missing a recording, say) is refused,
    on pinned and unpinned task versions alike, and verify names a mixed board."""
    root, d, _ = sep_board
    e = lb.Entry.model_validate_json((d / "entries" / "oracle-ibm.json").read_text())
    other = e.model_copy(update={"name": "short-copy", "provenance": e.provenance.model_copy(
        update={"items_sha256": "f" * 64, "submission_sha256": "1" * 64})})
    with pytest.raises(LeaderboardError) as ei:
        lb.add_entry(root, other)
    assert ei.value.code == "AVB505"
    unpinned = [x.model_copy(update={"version": "local", "provenance": x.provenance.model_copy(
        update={"task_version": "local"})}) for x in (e, other)]
    lb.add_entry(root, unpinned[0])
    with pytest.raises(LeaderboardError) as ei:
        lb.add_entry(root, unpinned[1])
    assert ei.value.code == "AVB505"
    raw = json.loads((d / "entries" / "oracle-mixture.json").read_text())
    raw["provenance"]["items_sha256"] = "f" * 64
    (d / "entries" / "oracle-mixture.json").write_text(json.dumps(raw))
    lb.build(root, adopt=True)
    probs, _ = lb.verify(root)
    assert any("other items than" in p for p in probs)


# ----------------------------------------------------------------------------- round 3
def test_r3_blank_line_and_long_line_csvs_are_refused_in_bounded_memory():
    """A valid predictions.csv followed by 16 MiB of blank lines was valid and peaked at
    3 GB; now it is refused (AVB438) while the parser's own allocations stay a small
    multiple of the largest valid file; an over-long line is refused (AVB439)."""
    import tracemalloc

    from avbench.safeio import parse_predictions

    ids = [f"{i:06d}" for i in range(300)]
    classes = [f"c{k}" for k in range(13)]
    good = "item_id," + ",".join(classes) + "\n" + "".join(
        i + "," + ",".join("0.0769230769" for _ in classes) + "\n" for i in ids)
    out, probs = parse_predictions(good.encode(), "p.csv", classes, ids)
    assert out is not None and not probs
    for tail in ("\n" * (16 << 20), "\r\n" * (8 << 20), " \n" * (8 << 20)):
        data = (good + tail).encode()
        tracemalloc.start()
        out, probs = parse_predictions(data, "p.csv", classes, ids)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert out is None and [p.code for p in probs] == ["AVB438"], probs
        assert "blank line" in probs[0].message and probs[0].fix
        assert peak < 4 * len(data) + (64 << 20), peak  # decoding the text is the largest copy
    long = good + ids[0][:-1] + "9" * 20000 + "," + ",".join("0" for _ in classes) + "\n"
    out, probs = parse_predictions(long.encode(), "p.csv", classes, ids)
    assert out is None and "AVB439" in [p.code for p in probs]
    one_blank = good.replace(ids[5] + ",", "\n" + ids[5] + ",", 1)
    out, probs = parse_predictions(one_blank.encode(), "p.csv", classes, ids)
    assert out is None and [p.code for p in probs] == ["AVB438"] and probs[0].line == 7


@pytest.mark.parametrize("path", ["my-run/", "./my-run", "./my-run/", "my-run//", "."])
def test_r3_task_path_with_a_trailing_slash_or_leading_dot_is_the_same_folder(oracle_subs, tmp_path, path):
    """``path: my-run/`` and ``path: ./my-run`` name the folder ``my-run`` (they were reported as
    a missing folder); ``.`` alone, absolute paths and ``..`` stay refused (AVB440)."""
    src = oracle_subs[("synth-ensembles-separation", "oracle-mixture")]
    sub = shutil.copytree(src, tmp_path / "s")
    (sub / "synth-ensembles-separation").rename(sub / "my-run")
    y = yaml.safe_load((sub / "submission.yaml").read_text())
    y["tasks"][0]["path"] = path
    (sub / "submission.yaml").write_text(yaml.safe_dump(y))
    if path == ".":
        with pytest.raises(SubmissionError) as e:
            validate(sub)
        assert "AVB440" in str(e.value)
        return
    assert validate(sub).meta.tasks[0].folder == "my-run"
    r = score(sub, workers=1, progress=False)[0]
    ref = score(shutil.copytree(src, tmp_path / "ref"), workers=1, progress=False)[0]
    assert r.scores["sdr"].mean == ref.scores["sdr"].mean


@pytest.mark.parametrize("path", ["/tmp/x", "../x", "my-run/../../x", "my-run/..", "a\\b"])
def test_r3_task_paths_that_escape_stay_refused(oracle_subs, tmp_path, path):
    sub = shutil.copytree(oracle_subs[("synth-ensembles-separation", "oracle-mixture")], tmp_path / "s")
    y = yaml.safe_load((sub / "submission.yaml").read_text())
    y["tasks"][0]["path"] = path
    (sub / "submission.yaml").write_text(yaml.safe_dump(y))
    with pytest.raises(SubmissionError) as e:
        validate(sub)
    assert "AVB440" in str(e.value)


@pytest.mark.parametrize("where", ["in-task", "outside-task"])
def test_r3_verify_rescore_validates_before_it_copies(sep_board, tmp_path, monkeypatch, where):
    """A 4 GiB sparse file shipped in a submission: ``verify --rescore`` used to copy the
    folder first (3.4 GiB written to $TMPDIR in 20 s).  Now it validates the folder where
    it is and copies only what validation accepted, so nothing of the file is written."""
    root, d, subs = sep_board
    s = subs["oracle-mixture"]
    rel = ("synth-ensembles-separation/estimates/" + next(iter(
        p.name for p in (s / "synth-ensembles-separation" / "estimates").iterdir())) + "/violin.npy"
           if where == "in-task" else "extra/blob.bin")
    big = s / rel
    big.parent.mkdir(parents=True, exist_ok=True)
    with open(big, "wb") as f:
        f.truncate(4 << 30)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    import avbench.scoring

    copied, real = [], avbench.scoring.score

    def spy(path, *a, **k):  # what the copy holds when it is scored
        copied.extend((q.relative_to(path).as_posix(), q.stat().st_size) for q in Path(path).rglob("*") if q.is_file())
        return real(path, *a, **k)

    monkeypatch.setattr(avbench.scoring, "score", spy)
    probs, fig = lb.verify(root, [s], rescore=True)
    written = sum(p.stat().st_blocks * 512 for p in tmp.rglob("*") if p.is_file())
    assert written < (64 << 20), written
    assert rel not in dict(copied) and sum(n for _, n in copied) < (64 << 20), sorted(copied)[-3:]
    assert any("re-scoring" in p for p in probs) or fig["rescored"] == 1, probs
    if where == "in-task":
        assert any("re-scoring" in p and "AVB" in p for p in probs), probs


@pytest.mark.parametrize("shipped", ["report-folder", "report-file", "task-folder"])
def test_r3_report_never_writes_through_a_shipped_link(oracle_subs, tmp_path, shipped):
    """A submission that ships ``results/<task>/report`` (or a file in it, or
    ``results/<task>`` itself) as a link to a place outside: ``avbench report`` used to
    write its CSV and plots through it.  Now a linked folder is refused (AVB470, exit 2)
    and a linked file is replaced, never written through; the outside stays as it was."""
    from avbench.cli import main

    sub = shutil.copytree(oracle_subs[("synth-ensembles-separation", "oracle-mixture")], tmp_path / "s")
    score(sub, workers=1, progress=False)
    outside = tmp_path / "home"
    outside.mkdir()
    victim = outside / "breakdown.csv"
    victim.write_text("precious\n")
    rd = sub / "results" / SEP
    if shipped == "report-folder":
        (rd / "report").symlink_to(outside, target_is_directory=True)
    elif shipped == "report-file":
        (rd / "report").mkdir()
        (rd / "report" / "breakdown.csv").symlink_to(victim)
    else:
        moved = tmp_path / "elsewhere"
        shutil.move(str(rd), moved)
        rd.symlink_to(moved, target_is_directory=True)
        (moved / "report").symlink_to(outside, target_is_directory=True)
    code = main(["report", str(sub), "--task", SEP, "--quiet"])
    assert victim.read_text() == "precious\n"
    assert sorted(p.name for p in outside.iterdir()) == ["breakdown.csv"]
    if shipped == "report-file":
        assert code == 0 and not (rd / "report" / "breakdown.csv").is_symlink()
        assert "sdr_n" in (rd / "report" / "breakdown.csv").read_text()
    else:
        assert code == 2


def _forge_consistently(d: Path, name: str, df: pd.DataFrame) -> None:
    """Replace an entry's per-item scores by ``df`` and make everything the entry claims
    agree with them (scores, intervals, counts, breakdown), as a careful forger would."""
    df.to_parquet(d / "entries" / f"{name}.scores.parquet", index=False)
    p = d / "entries" / f"{name}.json"
    raw = json.loads(p.read_text())
    R.restate(raw, df)
    p.write_text(json.dumps(raw))
    lb.build(d.parent.parent, adopt=True)


def test_r3_forgeries_checkable_from_the_pinned_task_are_caught(oracle_subs, tmp_path, sep_board):
    """Consistent board forgeries pass the re-derivation from the parquet, but not the
    task: labels set to the predictions, the worst half of the items dropped, one work per
    item (narrower intervals), and an edited breakdown."""
    # classification: every label set to the prediction (a random classifier at Hit@1 1.000)
    s = shutil.copytree(oracle_subs[("synth-ensembles-classification", "oracle-prior")], tmp_path / "c")
    r = score(s, workers=1, progress=False)[0]
    dc = lb.add_entry(tmp_path / "lbc", lb.entry_from(r, validate(s).meta), scores_path(s, CLS))
    df = pd.read_parquet(dc / "entries" / "oracle-prior.scores.parquet")
    _forge_consistently(dc, "oracle-prior", df.assign(label=df["pred"], **{"hit@1": 1.0, "hit@3": 1.0}))
    probs, fig = lb.verify(tmp_path / "lbc")
    assert any("label(s) differ" in p for p in probs), probs
    assert not any("not what its per-item scores give" in p for p in probs), probs  # consistent
    # separation: the worst half of the items dropped; then one work per item
    root, d, _ = sep_board
    df = pd.read_parquet(d / "entries" / "oracle-mixture.scores.parquet")
    worst = df.groupby("item")["sdr"].mean().sort_values().index[: df["item"].nunique() // 2]
    _forge_consistently(d, "oracle-mixture", df[~df["item"].isin(worst)].reset_index(drop=True))
    probs, fig = lb.verify(root)
    assert any("cover other items" in p for p in probs), probs
    assert fig["entries_checked_against_the_task"] >= 2
    _forge_consistently(d, "oracle-mixture", df.assign(group=df["item"]))
    probs, _ = lb.verify(root)
    assert any("another work" in p for p in probs), probs
    # the breakdown alone edited
    _forge_consistently(d, "oracle-mixture", df)
    assert lb.verify(root)[0] == []
    _edit_entry(d, "oracle-mixture", lambda e: next(iter(e["breakdown"]["instrument"].values()))["sdr"].update(mean=42.0))
    probs, _ = lb.verify(root)
    assert any("breakdown instrument" in p for p in probs), probs


def test_r3_dropped_slot_rows_are_caught_under_either_protocol(oracle_subs, mini2, tmp_path, sep_board):
    """Consistent forgeries that drop (item, slot) rows (the worst source of each item, or
    the absent slots an estimate leaks into) keep every item and pass the re-derivation
    from the parquet; verify compares the rows with the task itself: under protocol 1, every
    slot whose reference has a nonzero sample (read here from the references) has a row;
    under protocol 2, every slot of every item does.  The honest boards verify clean."""
    # protocol 1 (1-mini): the worst sounding source of every item dropped
    root, d, _ = sep_board
    df = pd.read_parquet(d / "entries" / "oracle-mixture.scores.parquet")
    worst = df.loc[df.groupby("item")["sdr"].idxmin()]
    assert lb.verify(root)[0] == []
    _forge_consistently(d, "oracle-mixture", df.drop(index=worst.index).reset_index(drop=True))
    probs, _ = lb.verify(root)
    assert any("lack per-item rows of slots whose reference sounds" in p for p in probs), probs
    assert not any("not what its per-item scores give" in p for p in probs), probs
    # the references themselves, read independently: every item of the mini task has a sounding source
    t1 = get_task("synth-ensembles-separation", "1-mini")
    assert all(any(np.abs(t1.reference(i)).sum(axis=1) > 0) for i in t1.items)
    # protocol 2 (3-mini): the absent slots' rows of the mixture (its leakage, PES) dropped
    import baselines

    task = "synth-ensembles-separation@3-mini"
    s = tmp_path / "p2" / "oracle-mixture"
    baselines.registry()["oracle-mixture"](task, s, progress=False)
    r = score(s, workers=1, progress=False)[0]
    root2 = tmp_path / "lb2"
    d2 = lb.add_entry(root2, lb.entry_from(r, validate(s).meta), scores_path(s, task))
    assert lb.verify(root2)[0] == []
    df = pd.read_parquet(d2 / "entries" / "oracle-mixture.scores.parquet")
    t3 = get_task("synth-ensembles-separation", "3-mini")
    assert len(df) == len(t3.items) * len(t3.spec.slots)  # every (item, slot), counted by hand
    present = {i.id: set(i.sources) for i in t3.items}
    keep = [sl in present[str(it)] for it, sl in zip(df["item"], df["slot"])]
    _forge_consistently(d2, "oracle-mixture", df[keep].reset_index(drop=True))
    probs, _ = lb.verify(root2)
    assert any("lack per-item rows of slots" in p and "every (item, slot)" in p for p in probs), probs
    # a duplicated row (one slot counted twice) is named too
    _forge_consistently(d2, "oracle-mixture", pd.concat([df, df.iloc[:1]], ignore_index=True))
    probs, _ = lb.verify(root2)
    assert any("more than one per-item row" in p for p in probs), probs


SEP_BOARD = Path(__file__).resolve().parents[2] / "leaderboards" / "synth-ensembles-separation" / "3" / "entries"
SEP_TASK = "synth-ensembles-separation"


def _board_with(tmp_path, rows: dict[str, float]):
    """A board of informed-nmf, the two ideal-mask oracles and, for each ``name: offset``
    of ``rows``, a non-oracle row whose per-item SDR is oracle-ibm's plus ``offset`` dB."""
    d = tmp_path / "lb" / SEP_TASK / "3" / "entries"
    d.mkdir(parents=True)
    for n in ("informed-nmf", "oracle-ibm", "oracle-irm"):
        for suffix in (".json", ".scores.parquet"):
            (d / f"{n}{suffix}").write_bytes((SEP_BOARD / f"{n}{suffix}").read_bytes())
    for name, off in rows.items():
        e = json.loads((SEP_BOARD / "oracle-ibm.json").read_text())
        e.update(name=name, oracle=False)
        f = pd.read_parquet(SEP_BOARD / "oracle-ibm.scores.parquet")
        f["sdr"] = f["sdr"] + off
        R.restate(e, f)  # a consistent forgery: verify cannot tell it from the data alone
        (d / f"{name}.json").write_text(json.dumps(e))
        f.to_parquet(d / f"{name}.scores.parquet")
    return tmp_path / "lb"


def test_r4_a_row_beyond_every_oracle_is_held_back_until_reviewed(tmp_path, capsys):
    """A near-copy of the references (here: the ideal binary mask's scores plus 20 dB on
    every item) is better than every oracle row on every work: it is listed unranked with
    the mark, and ranked once a maintainer reviews it.  A row just below the oracles is
    ranked as usual."""
    from avbench.cli import main

    lb = _board_with(tmp_path, {"near-copy": 20.0, "strong": -0.5})
    root = ["--leaderboards", str(lb)]
    assert main(["leaderboard", "build", *root, "--adopt", "--quiet"]) == 0
    rows = {r["name"]: r for r in json.loads((lb / SEP_TASK / "3" / "leaderboard.json").read_text())["rows"]}
    assert rows["near-copy"]["rank"] is None and "better than every oracle row on" in rows["near-copy"][
        "exceeds_oracle_bounds"]
    assert rows["strong"]["rank"] == 1 and rows["strong"]["exceeds_oracle_bounds"] is None
    md = (lb / SEP_TASK / "3" / "leaderboard.md").read_text()
    assert "near-copy (exceeds the oracle bounds)" in md and "not ranked until a maintainer reviews" in md
    assert main(["leaderboard", "review", f"{SEP_TASK}@3", "near-copy", *root, "--quiet"]) == 0
    rows = {r["name"]: r for r in json.loads((lb / SEP_TASK / "3" / "leaderboard.json").read_text())["rows"]}
    assert rows["near-copy"]["rank"] == 1 and rows["strong"]["rank"] == 2
    assert main(["leaderboard", "verify", *root]) == 0  # reviewed.json is part of the board
    assert main(["leaderboard", "review", f"{SEP_TASK}@3", "near-copy", "--remove", *root, "--quiet"]) == 0
    rows = {r["name"]: r for r in json.loads((lb / SEP_TASK / "3" / "leaderboard.json").read_text())["rows"]}
    assert rows["near-copy"]["rank"] is None
    capsys.readouterr()
    assert main(["leaderboard", "review", f"{SEP_TASK}@3", "near-copyy", *root]) != 0
    assert "did you mean" in capsys.readouterr().err
    # a hand-written reviewed.json is a hand edit: refused until adopted
    (lb / SEP_TASK / "3" / "reviewed.json").write_text('{"reviewed": ["near-copy"]}')
    assert main(["leaderboard", "build", *root, "--quiet"]) != 0
