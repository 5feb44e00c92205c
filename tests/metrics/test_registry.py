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
        M.register(M.Metric("sdr", "separation", False, "dB", "SDR", "another", 1))
    M.register(m)  # the same record again is no change
    with pytest.raises(ValueError, match="family"):
        M.register(M.Metric("x", "detection", True, "", "X", "", 1))


def _toy_snr(ref, est, present, slots, params):
    s, e = ref[slots], est[slots]
    return {"toy_snr": 10.0 * np.log10((s ** 2).sum(1) / ((s - e) ** 2).sum(1))}


def test_a_new_metric_is_one_registration(mini, monkeypatch):
    """Registered next to its kernel, listed by a task: scoring computes it on every scored
    (item, slot), a result carries it, a board shows it with its label and arrow."""
    monkeypatch.setitem(M.METRICS, "toy_snr", M.Metric(
        "toy_snr", "separation", True, "dB", "ToySNR", "signal-to-noise ratio", 5.5, bucket="sdr",
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
