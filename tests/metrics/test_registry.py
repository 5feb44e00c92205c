"""The metric registry drives scoring, parameters, leaderboard columns and labels: a new
metric is its kernel and one registration, with no list to edit elsewhere."""
import numpy as np
import pytest

import avbench
from avbench import leaderboard as lb
from avbench import scoring
from avbench.errors import TaskError
from avbench.metrics import registry as M
from avbench.tasks.synth import SynthTask

SEP = ("synth-ensembles-separation", "2-mini")


def test_the_registry_holds_every_metric_with_its_metadata():
    # the published column order of the boards
    assert [c for c in M.columns("separation") if c not in ("isr", "sdr_v4")] == [
        "sdr", "sir", "sar", "si_sdr", "sd_sdr", "sdri", "si_sdri", "pes", "eps"]
    assert M.columns("classification") == ["hit@1", "hit@3", "macro_f1", "micro_f1"]
    assert {m: M.METRICS[m].label for m in ("si_sdr", "sdri", "hit@1", "macro_f1")} == {
        "si_sdr": "SI-SDR", "sdri": "SDRi", "hit@1": "Hit@1", "macro_f1": "Macro-F1"}
    assert not M.METRICS["pes"].higher_is_better and M.METRICS["pes"].floor == -80.0
    # the parameters a task may record: the kernels' and the protocol's, written out by hand
    assert scoring.metric_params("separation") == {
        "filter_length": None, "si_sdr_eps": None, "pes_eps": None, "bss_eval": "v3", "compute_permutation": False,
        "silence": "exact zero", "zero_mean": False, "include_both_silent": None, "protocol": None, "db_floor": None,
        "db_cap": None, "near_copy_db": None, "min_active_fraction": None, "min_sources": None, "active_frame": None,
        "active_db": None}
    assert scoring.metric_params("classification") == {
        "zero_division": 0.0, "ties": "(-score, class index)", "min_active_fraction": None, "protocol": None,
        "active_frame": None, "active_db": None}


def test_a_metric_is_registered_once():
    m = M.METRICS["sdr"]
    with pytest.raises(ValueError, match="registered twice"):
        M.register(M.Metric(name="sdr", family="separation", higher_is_better=False, unit="dB", label="SDR", description="another", position=1))
    M.register(m)  # the same record again is no change
    with pytest.raises(ValueError, match="family"):
        M.register(M.Metric(name="x", family="detection", higher_is_better=True, unit="", label="X", description="", position=1))


def _toy_snr(ref, est, present, slots, params):
    s, e = ref[slots], est[slots]
    return {"toy_snr": 10.0 * np.log10((s ** 2).sum(1) / ((s - e) ** 2).sum(1))}


def test_a_new_metric_is_one_registration(mini, monkeypatch):
    """Registered next to its kernel, listed by a task: scoring computes it on every scored
    (item, slot), a result carries it, a board shows it with its label and arrow."""
    monkeypatch.setitem(M.METRICS, "toy_snr", M.Metric(
        name="toy_snr", family="separation", higher_is_better=True, unit="dB", label="ToySNR", description="signal-to-noise ratio", position=5.5, bucket="sdr",
        params={"toy_param": None}, compute=_toy_snr))
    task = SynthTask(*SEP)
    task.spec = task.spec.model_copy(update={"metrics": [*task.spec.metrics, "toy_snr"]})
    rng = np.random.default_rng(0)
    estimates, want = {}, []
    for item in task.items:
        ref = task.reference(item).astype(np.float64)
        noise = rng.standard_normal(ref.shape) * 0.05 * np.abs(ref).max(axis=1, keepdims=True)
        est = np.where(ref.any(axis=1, keepdims=True), ref + noise, 0.0)
        estimates[item.id] = est
        for k in np.flatnonzero(ref.any(axis=1)):  # the closed form
            s, e = ref[k], est[k]
            want.append(10 * np.log10((s ** 2).sum() / ((s - e) ** 2).sum()))
    r = avbench.evaluate(task, estimates)
    assert r.scores["toy_snr"].n == len(want)
    assert r.scores["toy_snr"].mean == pytest.approx(float(np.mean(want)), abs=1e-9)
    assert "toy_param" in scoring.metric_params("separation")
    meta = avbench.submission.SubmissionMeta(name="toy", model="noisy references", tasks=[
        avbench.submission.TaskEntry(name=task.spec.name, version=task.spec.version, inputs=[])])
    e = lb.entry_from(r, meta)
    header, rows, _ = lb.table(lb.ranked(e.task, e.version, [e]))
    at = [k for k, h in enumerate(header) if h.startswith(("ToySNR ↑ [dB]", "SD-SDR ↑ [dB]"))]
    assert [header[k].split()[0] for k in at] == ["SD-SDR", "ToySNR"] and at[1] == at[0] + 1


def test_an_unregistered_metric_is_refused(mini):
    task = SynthTask(*SEP)
    spec = task.spec.model_copy(update={"metrics": ["sdr", "not_a_metric", "hit@1"]})
    with pytest.raises(TaskError, match="not_a_metric, hit@1 are not registered separation metrics"):
        scoring.check_metric_params(spec)


def _toy_metrics():
    """A metric with a kernel, the input mixture's score on it and the improvement over it,
    each with its role in the registry (and where a report shows it)."""
    kw = dict(family="separation", higher_is_better=True, unit="dB", bucket="sdr")
    return [M.Metric(name="toy_snr", label="ToySNR", description="signal-to-noise ratio", position=5.5,
                     sdr_family=True, compute=_toy_snr, report=("instrument", "breakdown"), **kw),
            M.Metric(name="toy_snr_in", label="ToySNR (mixture)", description="the mixture's", position=5.85,
                     mixture_of="toy_snr", **kw),
            M.Metric(name="toy_snri", label="ToySNRi", description="improvement", position=7.5,
                     improvement_of="toy_snr", report=("breakdown", "versus_input"), **kw)]


def test_a_derived_metric_reaches_the_board_the_report_and_verify(mini, monkeypatch, tmp_path):
    """An SDR variant with an improvement column is three registrations: scoring computes
    the variant, the mixture's score on it (through the variant's own kernel) and the
    improvement (closed form below); the board shows the columns; the task report plots
    them; verify re-derives them from the per-item scores and catches a changed value."""
    from avbench.leaderboard.verify import _rederive
    from avbench.report import separation_report
    from avbench.scoring.summaries import summarize_separation

    for m in _toy_metrics():
        monkeypatch.setitem(M.METRICS, m.name, m)
    task = SynthTask(*SEP)
    task.spec = task.spec.model_copy(update={"metrics": [*task.spec.metrics, "toy_snr", "toy_snri"]})
    rng = np.random.default_rng(1)
    estimates, want, rows = {}, [], []
    snr = lambda s, e: 10 * np.log10((s ** 2).sum() / ((s - e) ** 2).sum())  # noqa: E731
    for item in task.items:
        ref = task.reference(item).astype(np.float64)
        noise = rng.standard_normal(ref.shape) * 0.1 * np.abs(ref).max(axis=1, keepdims=True)
        est = np.where(ref.any(axis=1, keepdims=True), ref + noise, 0.0)
        estimates[item.id] = est
        mix = ref.sum(0)
        for k in np.flatnonzero(ref.any(axis=1)):  # the closed form: SNR(est) - SNR(mixture)
            want.append(snr(ref[k], est[k]) - snr(ref[k], mix))
        rows.extend(scoring.score_separation_item(task, ref, est, item))
    r = avbench.evaluate(task, estimates)
    assert r.scores["toy_snri"].n == len(want)
    assert r.scores["toy_snri"].mean == pytest.approx(float(np.mean(want)), abs=1e-4)
    # the board: both columns, the improvement after SI-SDRi (its position)
    meta = avbench.submission.SubmissionMeta(name="toy", model="noisy references", tasks=[
        avbench.submission.TaskEntry(name=task.spec.name, version=task.spec.version, inputs=[])])
    e = lb.entry_from(r, meta)
    header, _, _ = lb.table(lb.ranked(e.task, e.version, [e]))
    names = [h.split()[0] for h in header]
    assert "ToySNR" in names and names.index("ToySNRi") == names.index("SI-SDRi") + 1
    assert "ToySNR (mixture)" not in " ".join(header)  # a per-item value, never a column
    # the report: a box per instrument, the scatter against the input, the breakdown columns
    import pandas as pd

    df = pd.DataFrame(rows)
    written = {p.name for p in separation_report(df, tmp_path / "report", "toy")}
    assert {"toy_snr_per_instrument.png", "toy_snri_vs_input.png"} <= written
    breakdown = pd.read_csv(tmp_path / "report" / "breakdown.csv")
    assert {"toy_snr_mean", "toy_snri_mean"} <= set(breakdown.columns)
    # verify: re-derived from the per-item frame, and a changed value is caught
    scores, _, _ = summarize_separation(df, task.spec.metrics)
    assert scores["toy_snri"].mean == pytest.approx(r.scores["toy_snri"].mean, abs=1e-12)
    fig = {"scores_recomputed": 0}
    assert _rederive(e, df, fig) == [] and fig["scores_recomputed"] == len(e.scores)
    bad = df.copy()
    bad.loc[bad["toy_snri"].notna().idxmax(), "toy_snri"] += 0.5
    assert "score toy_snri is not what its per-item scores give" in _rederive(e, bad, {"scores_recomputed": 0})


def test_a_role_must_name_another_separation_metric():
    with pytest.raises(ValueError, match="improvement_of must name another separation metric"):
        M.register(M.Metric(name="x_i", family="separation", higher_is_better=True, unit="dB", label="X",
                            description="", position=9, improvement_of="x_i"))
    with pytest.raises(TypeError):  # keyword-only fields
        M.Metric("x", "separation", True, "dB", "X", "", 1)
