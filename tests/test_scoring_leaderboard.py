"""Scoring against mir_eval, the demo's claim, leaderboards and their guarantees."""
import json
import os
import multiprocessing as mp
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

from avbench import leaderboard as lb
from avbench.errors import LeaderboardError
from avbench.instruments import CLASSES
from avbench.results import load_result
from avbench.scoring import score
from avbench.submission import validate
from avbench.tasks import get_task

mir_sep = pytest.importorskip("mir_eval.separation")


@pytest.fixture(scope="module")
def scored(oracle_subs, tmp_path_factory):
    root = tmp_path_factory.mktemp("scored")
    out = {}
    for key, p in oracle_subs.items():
        dst = root / p.name
        shutil.copytree(p, dst)
        out[key] = (dst, score(dst, progress=False)[0])
    return out


def test_ibm_beats_mixture_by_5_db(scored):
    ibm = scored[("synth-ensembles-separation", "oracle-ibm")][1]
    mix = scored[("synth-ensembles-separation", "oracle-mixture")][1]
    assert ibm.scores["sdr"].mean >= mix.scores["sdr"].mean + 5


def test_item_scores_match_mir_eval(scored):
    path, res = scored[("synth-ensembles-separation", "oracle-ibm")]
    df = pd.read_parquet(path / "results" / "synth-ensembles-separation@1-mini" / "scores.parquet")
    task = get_task("synth-ensembles-separation@1-mini")
    sub = validate(path)
    entry = sub.meta.tasks[0]
    checked = 0
    for item in task.items[:3]:
        ref = task.reference(item).astype(np.float64)
        est = sub.read_estimates(entry, task, item)
        keep = [k for k in range(13) if ref[k].any() and est[k].any()]
        present = [k for k in range(13) if ref[k].any()]
        if keep != present:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sdr, sir, sar, _ = mir_sep.bss_eval_sources(ref[keep], est[keep], compute_permutation=False)
        rows = df[df["item"] == item.id].set_index("slot")
        for pos, k in enumerate(keep):
            np.testing.assert_allclose(rows.loc[CLASSES[k], ["sdr", "sir", "sar"]].to_numpy(float), [sdr[pos], sir[pos], sar[pos]], atol=1e-7)
            checked += 1
    assert checked >= 4


def test_result_provenance_and_json(scored):
    path, res = scored[("synth-ensembles-classification", "oracle-label")]
    s = json.loads((path / "results" / "synth-ensembles-classification@1-mini" / "summary.json").read_text())
    p = s["provenance"]
    for k in ("avbench_version", "git_commit", "task", "task_version", "manifest_sha256", "items_sha256",
              "submission_sha256", "metric_params", "libraries", "date"):
        assert k in p
    assert s["scores"]["hit@1"]["mean"] == 1.0 and s["scores"]["macro_f1"]["mean"] == 1.0
    assert load_result(path / "results" / "synth-ensembles-classification@1-mini" / "summary.json").main_value == 1.0
    prior = scored[("synth-ensembles-classification", "oracle-prior")][1]
    assert prior.scores["hit@1"].mean < 0.3


def test_scoring_resumes_from_finished_chunks(oracle_subs, tmp_path):
    """Resume state lives under AVBENCH_HOME (named by an HMAC), never in the submission."""
    from avbench.scoring.engine import _state_dir
    from avbench.submission import content_sha256

    p = tmp_path / "sub"
    shutil.copytree(oracle_subs[("synth-ensembles-separation", "oracle-ibm")], p)
    full = score(p, progress=False, workers=1)[0]
    task = get_task("synth-ensembles-separation@1-mini")
    rdir = p / "results" / "synth-ensembles-separation@1-mini"
    part = _state_dir(task, content_sha256(p)) / "chunks"
    assert not part.exists()  # removed once the results are written
    part.mkdir()
    # a finished chunk whose values were changed: a resumed run must reuse it as is
    df = pd.read_parquet(rdir / "scores.parquet")
    first = df[df["item"].isin([i.id for i in task.items[:8]])].copy()
    first["sdr"] = 99.0
    first.to_parquet(part / "chunk-00000.parquet", index=False)
    resumed = score(p, progress=False, workers=1)[0]
    df2 = pd.read_parquet(rdir / "scores.parquet")
    assert (df2[df2["item"].isin(first["item"])]["sdr"] == 99.0).all()
    assert resumed.scores["sdr"].mean != full.scores["sdr"].mean
    assert not part.exists()
    assert str(part).startswith(os.environ["AVBENCH_HOME"]) and content_sha256(p)[:16] not in str(part)


def _entries(scored, fam):
    out = []
    for (task, name), (path, res) in scored.items():
        if task == fam:
            out.append(lb.entry_from(res, validate(path).meta))
    return out


def test_ranking_oracles_and_ties(scored, tmp_path):
    es = _entries(scored, "synth-ensembles-separation")
    for e in es:
        lb.add_entry(tmp_path, e)
    tie_a = es[1].model_copy(update={"name": "b-tie", "oracle": False})
    tie_b = es[1].model_copy(update={"name": "a-tie", "oracle": False})
    lb.add_entry(tmp_path, tie_a)
    lb.add_entry(tmp_path, tie_b)
    d = lb.board_dir(tmp_path, "synth-ensembles-separation", "1-mini")
    rows = json.loads((d / "leaderboard.json").read_text())["rows"]
    names = [r["name"] for r in rows]
    ranks = [r["rank"] for r in rows]
    assert names[-1] == "oracle-ibm" and ranks[-1] is None  # oracle: shown, not ranked
    assert names.index("a-tie") < names.index("b-tie")        # ties are listed by name
    assert ranks[:3] == [1, 1, 1]                              # and share a rank
    md = (d / "leaderboard.md").read_text()
    assert "SDR ↑ [dB]" in md and "PES ↓ [dB]" in md


def test_build_is_deterministic_and_versions_never_mix(scored, tmp_path):
    for e in _entries(scored, "synth-ensembles-classification"):
        lb.add_entry(tmp_path, e)
    d = lb.board_dir(tmp_path, "synth-ensembles-classification", "1-mini")
    first = {p.name: p.read_bytes() for p in d.glob("leaderboard.*")}
    lb.build(tmp_path)
    assert first == {p.name: p.read_bytes() for p in d.glob("leaderboard.*")}
    other = lb.board_dir(tmp_path, "synth-ensembles-classification", "1")
    (other / "entries").mkdir(parents=True)
    shutil.copy(next((d / "entries").glob("*.json")), other / "entries")
    with pytest.raises(LeaderboardError, match="edited by hand"):  # a file avbench did not write
        lb.build(tmp_path)
    with pytest.raises(LeaderboardError, match="not synth-ensembles-classification@1"):  # even when adopted
        lb.build(tmp_path, adopt=True)


def _add_many(args):
    root, entry_json, names = args
    e = lb.Entry.model_validate_json(entry_json)
    for n in names:
        lb.add_entry(root, e.model_copy(update={"name": n}))


def test_concurrent_writers_lose_nothing(scored, tmp_path):
    e = _entries(scored, "synth-ensembles-classification")[0]
    jobs = [(tmp_path, e.model_dump_json(), [f"w{w}-{k}" for k in range(5)]) for w in range(4)]
    with mp.get_context("fork").Pool(4) as pool:
        pool.map(_add_many, jobs)
    d = lb.board_dir(tmp_path, e.task, e.version)
    rows = json.loads((d / "leaderboard.json").read_text())["rows"]
    assert len(rows) == 20 and len(list((d / "entries").glob("*.json"))) == 20
    assert not list(d.rglob(".*.tmp"))


def test_intervals_on_scores(scored):
    ibm = scored[("synth-ensembles-separation", "oracle-ibm")][1]
    s = ibm.scores["sdr"]
    assert s.ci_low < s.mean < s.ci_high
    lab = scored[("synth-ensembles-classification", "oracle-prior")][1]
    assert lab.scores["macro_f1"].ci_low <= lab.scores["macro_f1"].mean <= lab.scores["macro_f1"].ci_high


def test_compare_paired_tests(scored):
    from avbench.compare import compare_frames

    def frame(key):
        path, res = scored[key]
        return pd.read_parquet(path / "results" / f"{res.task}@{res.version}" / "scores.parquet")

    ibm = frame(("synth-ensembles-separation", "oracle-ibm"))
    mix = frame(("synth-ensembles-separation", "oracle-mixture"))
    r = compare_frames(ibm, mix, "separation", "sdr")
    assert r["bootstrap"]["low"] > 5 and r["test"]["name"] == "wilcoxon-works"
    assert r["n_works"] == ibm["group"].nunique()
    # the mini task has few works: even a 15 dB difference cannot be significant there
    assert r["significant"] == (r["n_works"] >= 6 and r["test"]["p_value"] < 0.05)
    same = compare_frames(ibm, ibm, "separation", "sdr")
    assert not same["significant"] and same["bootstrap"]["diff"] == 0
    lab = frame(("synth-ensembles-classification", "oracle-label"))
    pri = frame(("synth-ensembles-classification", "oracle-prior"))
    c = compare_frames(lab, pri, "classification", "hit@1")
    assert c["test"]["name"] == "wilcoxon-works" and c["mean_a"] == 1.0 and c["n_works"] == lab["group"].nunique()


def test_compare_on_the_full_task_finds_the_oracle_gap():
    """The committed version-1 entries (many works): the IBM beats the mixture."""
    from pathlib import Path

    from avbench.compare import compare_frames
    from avbench.leaderboard import load_scores

    root = Path(__file__).resolve().parent.parent / "leaderboards"
    _, a = load_scores("oracle-ibm", "synth-ensembles-separation@1", root)
    _, b = load_scores("oracle-mixture", "synth-ensembles-separation@1", root)
    r = compare_frames(a, b, "separation", "sdr")
    assert r["n_works"] >= 20 and r["significant"] and r["test"]["p_value"] < 1e-4


def test_differences_from_one_work_are_not_significant():
    """Large per-item differences that all come from one work: an item-level test would
    call them significant; the work-level test does not."""
    from avbench.compare import compare_frames
    from avbench.metrics.functional.stats import wilcoxon

    rng = np.random.default_rng(0)
    groups = np.repeat([f"w{k}" for k in range(10)], [60] + [4] * 9)
    a = pd.DataFrame({"item": [f"i{k}" for k in range(groups.size)], "slot": "violin", "group": groups,
                      "sdr": rng.normal(5.0, 1.0, groups.size)})
    b = a.copy()
    b.loc[b["group"] == "w0", "sdr"] += rng.uniform(8, 12, 60)  # only work w0 differs, by about 10 dB
    assert wilcoxon(b["sdr"], a["sdr"])["p_value"] < 1e-6  # what a per-(item, slot) test would say
    r = compare_frames(b, a, "separation", "sdr")
    assert r["n_works"] == 10 and r["bootstrap"]["diff"] > 5 and not r["significant"]
    assert r["test"]["p_value"] == pytest.approx(1.0)


def test_holm_by_hand():
    from avbench.compare import holm

    # sorted 0.01, 0.03, 0.04 -> 3 x 0.01 = 0.03; max(0.03, 2 x 0.03) = 0.06; max(0.06, 1 x 0.04) = 0.06
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0]) and holm([]) == []


def test_leaderboard_marks_rows_tied_with_the_top(scored, tmp_path, capsys):
    from avbench.cli import main

    path, res = scored[("synth-ensembles-separation", "oracle-mixture")]
    e = lb.entry_from(res, validate(path).meta)
    pq = path / "results" / f"{res.task}@{res.version}" / "scores.parquet"
    lb.add_entry(tmp_path, e, scores=pq)
    lb.add_entry(tmp_path, e.model_copy(update={"name": "same-as-mixture"}), scores=pq)
    d = lb.board_dir(tmp_path, res.task, res.version)
    rows = json.loads((d / "leaderboard.json").read_text())["rows"]
    assert rows[0]["vs_top"] == "top" and rows[1]["vs_top"].startswith("≈")
    md = (d / "leaderboard.md").read_text()
    assert "(95% CI)" in md and "≈ p=1.000" in md
    assert main(["compare", "oracle-mixture", "same-as-mixture", "--task", f"{res.task}@{res.version}",
                 "--leaderboards", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "95% CI" in out and "Wilcoxon" in out and "not significant" in out


def test_improvements_over_the_mixture(scored):
    path, res = scored[("synth-ensembles-separation", "oracle-mixture")]
    df = pd.read_parquet(path / "results" / f"{res.task}@{res.version}" / "scores.parquet")
    sdr = df[df["bucket"] == "sdr"]
    # the mixture improves nothing over itself, exactly
    assert (sdr["sdri"].abs() < 1e-9).all() and (sdr["si_sdri"].abs() < 1e-9).all()
    ibm = scored[("synth-ensembles-separation", "oracle-ibm")][1]
    assert ibm.scores["sdri"].mean > 10 and ibm.scores["si_sdri"].mean > 10


def test_ray_engine_gives_the_same_scores(oracle_subs, tmp_path):
    pytest.importorskip("ray")
    import ray

    a = tmp_path / "a"
    b = tmp_path / "b"
    shutil.copytree(oracle_subs[("synth-ensembles-separation", "oracle-ibm")], a)
    shutil.copytree(oracle_subs[("synth-ensembles-separation", "oracle-ibm")], b)
    try:
        ra = score(a, progress=False, engine="ray", workers=2)[0]
    finally:
        ray.shutdown()
    rb = score(b, progress=False, engine="process", workers=2)[0]
    key = "synth-ensembles-separation@1-mini"
    da = pd.read_parquet(a / "results" / key / "scores.parquet")
    db = pd.read_parquet(b / "results" / key / "scores.parquet")
    pd.testing.assert_frame_equal(da, db, check_exact=False, rtol=0, atol=1e-9)
    assert abs(ra.scores["sdr"].mean - rb.scores["sdr"].mean) < 1e-9 and ra.scores["sdr"].n == rb.scores["sdr"].n


def test_rescore_under_a_new_version(oracle_subs, tmp_path, monkeypatch, capsys):
    from avbench.cli import main
    from avbench.tasks import synth
    from avbench.tasks.declared import VersionDecl, declared

    versions = declared("synth-ensembles-separation").versions
    monkeypatch.setitem(versions, "1-mini-b", VersionDecl(1, "mini"))  # a metric-parameter bump: same items
    sub = tmp_path / "sub"
    shutil.copytree(oracle_subs[("synth-ensembles-separation", "oracle-ibm")], sub)
    old = score(sub, progress=False, workers=1)[0]
    lbroot = tmp_path / "lb"
    lb.add_entry(lbroot, lb.entry_from(old, validate(sub).meta))
    assert main(["leaderboard", "rescore", str(sub), "--task", "synth-ensembles-separation", "--from", "1-mini",
                 "--to", "1-mini-b", "--leaderboards", str(lbroot), "--quiet", "--workers", "1"]) == 0
    new = lb.Entry.model_validate_json(
        (lbroot / "synth-ensembles-separation" / "1-mini-b" / "entries" / "oracle-ibm.json").read_text())
    assert new.version == "1-mini-b" and new.inputs == ["mixture"]
    assert abs(new.scores["sdr"].mean - old.scores["sdr"].mean) < 1e-9
    # the old entry stays where it was, under its own version
    assert (lbroot / "synth-ensembles-separation" / "1-mini" / "entries" / "oracle-ibm.json").exists()
    # other items cannot be re-scored
    monkeypatch.setitem(versions, "1-other", VersionDecl(1, "mini"))
    monkeypatch.setattr(synth, "SEG", 32768)
    capsys.readouterr()
    assert main(["leaderboard", "rescore", str(sub), "--task", "synth-ensembles-separation", "--from", "1-mini",
                 "--to", "1-other", "--leaderboards", str(lbroot), "--quiet"]) == 2
    assert "run the model again" in capsys.readouterr().err


def test_macro_f1_interval_of_a_perfect_classifier_is_a_point(scored):
    """Resamples that miss a class must not score that class as F1 = 0."""
    lab = scored[("synth-ensembles-classification", "oracle-label")][1]
    s = lab.scores["macro_f1"]
    assert s.mean == s.ci_low == s.ci_high == 1.0


def test_recorded_metric_parameters_are_the_ones_used(mini, oracle_subs, copy_sub):
    from avbench.errors import TaskError
    from avbench.scoring import check_metric_params

    for key in ("synth-ensembles-separation@1-mini", "synth-ensembles-mix2@1-mini",
                "synth-ensembles-classification@1-mini"):
        check_metric_params(get_task(key).spec)  # every shipped task passes
    spec = get_task("synth-ensembles-separation@1-mini").spec
    for bad in ({"window": 2048}, {"bss_eval": "v4"}, {"compute_permutation": True}, {"zero_mean": True}):
        with pytest.raises(TaskError):
            check_metric_params(spec.model_copy(update={"metric_params": {**spec.metric_params, **bad}}))
    task = get_task("synth-ensembles-separation@1-mini")
    sub = copy_sub(oracle_subs[("synth-ensembles-separation", "oracle-mixture")])
    old = task.spec
    try:
        task.spec = old.model_copy(update={"metric_params": {**old.metric_params, "unused_key": 1}})
        with pytest.raises(TaskError, match="does not read it"):
            score(sub, workers=1, progress=False)
    finally:
        task.spec = old


def test_ties_to_six_decimals_break_by_name(scored):
    """Floating-point noise (1e-10) never orders two rows: they tie and sort by name."""
    path, res = scored[("synth-ensembles-separation", "oracle-mixture")]
    e = lb.entry_from(res, validate(path).meta).model_copy(update={"oracle": False})
    s = e.scores["sdr"]
    a = e.model_copy(update={"name": "zz-first-by-noise", "scores": {**e.scores, "sdr": s.model_copy(
        update={"mean": s.mean + 1e-10})}})
    b = e.model_copy(update={"name": "aa-second-by-noise"})
    c = e.model_copy(update={"name": "mm-better", "scores": {**e.scores, "sdr": s.model_copy(
        update={"mean": s.mean + 2e-6})}})
    assert [x.name for _, x in lb.rank([a, b, c])] == ["mm-better", "aa-second-by-noise", "zz-first-by-noise"]


def test_adopt_says_what_it_does_with_each_hand_edit(scored, tmp_path, capsys):
    """An edited entry is accepted (the tables follow it); an edited table is rendered again,
    and the command says so instead of dropping the edit silently."""
    from avbench.cli import main

    for e in _entries(scored, "synth-ensembles-classification"):
        lb.add_entry(tmp_path, e)
    d = lb.board_dir(tmp_path, "synth-ensembles-classification", "1-mini")
    md = d / "leaderboard.md"
    md.write_text(md.read_text() + "\nhand-written note\n")
    f = next((d / "entries").glob("*.json"))
    raw = json.loads(f.read_text())
    raw["model"] = "renamed by a reviewer"
    f.write_text(json.dumps(raw))
    capsys.readouterr()
    assert main(["leaderboard", "build", "--leaderboards", str(tmp_path), "--adopt", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert f"entries/{f.name}: changed since avbench wrote it: accepted" in err
    assert "leaderboard.md: changed since avbench wrote it: rendered again from the entries" in err
    assert "hand-written note" not in md.read_text() and "renamed by a reviewer" in md.read_text()


def test_every_interval_names_its_works_and_few_are_marked(scored, tmp_path):
    """An interval records how many works it resamples (counted here from the task's items);
    the tables say it, and an interval over fewer than 10 works carries the mark."""
    path, res = scored[("synth-ensembles-separation", "oracle-ibm")]
    works = {i.group for i in get_task("synth-ensembles-separation", res.version).items}
    assert res.scores["sdr"].n_groups == len(works) < lb.FEW_GROUPS
    assert res.breakdown["instrument"]["violin"]["sdr"].n_groups is None  # no interval there
    from avbench.results import Stat

    st = Stat.of([1.0, 2.0, np.nan, 4.0, 5.0], ["a", "a", "b", "c", "c"], ci=True)
    assert st.n_groups == 2  # the NaN's work has no value left
    e = lb.entry_from(res, validate(path).meta)
    lb.add_entry(tmp_path, e, scores=path / "results" / f"{res.task}@{res.version}" / "scores.parquet")
    d = lb.board_dir(tmp_path, e.task, e.version)
    md = (d / "leaderboard.md").read_text()
    assert f"{len(works)} works; ‡ marks an interval over fewer than 10 works" in md
    assert f"{res.scores['sdr'].ci_high:.2f}]‡" in md
    row = pd.read_csv(d / "leaderboard.csv").iloc[0]
    assert row["sdr_n_groups"] == len(works) and row["sdr_n"] == res.scores["sdr"].n
    assert r"$^\ddagger$" in (d / "leaderboard.tex").read_text()
    many = e.model_copy(update={"scores": {m: s.model_copy(update={"n_groups": 12}) for m, s in e.scores.items()}})
    assert "‡" not in lb.render_markdown(lb.ranked(e.task, e.version, [many]))
    f = d / "entries" / f"{e.name}.json"
    raw = json.loads(f.read_text())
    raw["scores"]["sdr"]["n_groups"] = 40
    f.write_text(json.dumps(raw))
    problems = lb.verify(tmp_path)[0]
    assert any("score sdr is not what its per-item scores give" in p for p in problems), problems


def test_infinite_values_of_protocol_1_are_counted_in_the_cell(scored):
    """Protocol 1 leaves an infinite value out of a mean: the cell says how many, and a
    metric infinite everywhere shows the count instead of a bare +inf."""
    path, res = scored[("synth-ensembles-separation", "oracle-mixture")]
    e = lb.entry_from(res, validate(path).meta)
    sar = e.scores["sar"]
    assert sar.mean is None and sar.n_posinf == res.scores["sdr"].n  # an exact sum of the references
    header, rows, _ = lb.table(lb.ranked(e.task, e.version, [e]))
    assert rows[0][header.index("SAR ↑ [dB]")] == f"+inf (all {sar.n_posinf})"
    sdr = e.scores["sdr"].model_copy(update={"n_posinf": 3})
    header, rows, _ = lb.table(lb.ranked(e.task, e.version, [e.model_copy(update={"scores": {**e.scores, "sdr": sdr}})]))
    assert rows[0][header.index("SDR ↑ [dB] (95% CI)")].endswith(" (+3 inf)")


def test_input_mixture_metrics_are_kept_per_task_and_never_trusted_blindly(mini):
    """SDR_in and SI-SDR_in depend on the task alone: computed once, kept under
    AVBENCH_HOME, equal to mir_eval's on the mixture; a damaged record is recomputed."""
    from avbench import scoring
    from avbench.config import home

    task = get_task("synth-ensembles-separation@2-mini")
    item = task.items[0]
    ref = task.reference(item).astype(np.float64)
    present = [k for k in range(ref.shape[0]) if ref[k].any()]
    got = scoring.input_mixture_metrics(task, item, ref, present)
    mix = ref[present].astype(np.float32).sum(0, dtype=np.float32).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sdr, _, _, _ = mir_sep.bss_eval_sources(ref[present], np.tile(mix, (len(present), 1)),
                                                compute_permutation=False)
    np.testing.assert_allclose([got[task.spec.slots[k]][0] for k in present], sdr, atol=1e-9)
    files = list((home() / "scoring" / "mixture" / task.spec.key).rglob("*.json"))
    rec = next(f for f in files if json.loads(f.read_text())["item"] == item.id)
    def same(a, b):  # recomputed in another thread layout: equal to the last bits' noise
        return a.keys() == b.keys() and all(np.allclose(a[k], b[k], rtol=0, atol=1e-9) for k in a)

    rec.write_text(json.dumps({"item": item.id, "values": {"violin": [99.0, 99.0]}}))  # foreign record
    assert same(scoring.input_mixture_metrics(task, item, ref, present), got)
    rec.write_text("{damaged")
    assert same(scoring.input_mixture_metrics(task, item, ref, present), got)
    assert json.loads(rec.read_text())["item"] == item.id  # written again
    stored = {k: tuple(v) for k, v in json.loads(rec.read_text())["values"].items()}
    assert scoring.input_mixture_metrics(task, item, ref, present) == stored  # then read, bit for bit
