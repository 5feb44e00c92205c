"""Scoring protocol 2 (docs/protocol.md): every (item, slot) counts, doing less never
scores more, no trivial items, no answers in the inputs, recorded parameters checked.

References are closed forms and hand counts, not the scoring code's own output."""
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from avbench import leaderboard as lb
from avbench.errors import LeaderboardError, SubmissionError, TaskError
from avbench.instruments import CLASSES
from avbench.metrics import functional as F
from avbench.scoring import evaluate
from avbench.tasks import frozen, get_task

ROOT = Path(__file__).resolve().parent.parent
SEP, MIX2, CLS = "synth-ensembles-separation", "synth-ensembles-mix2", "synth-ensembles-classification"
FLOOR = 10 * math.log10(1e-8)  # -80 dB


@pytest.fixture(scope="module")
def sep2(mini):
    return get_task(SEP, "2-mini")


def _irm(task):
    from baselines.oracle.infer import ideal_masks

    return {it.id: ideal_masks(task.reference(it), task.mixture(it), "irm") for it in task.items}


# ----------------------------------------------------------------------------- PES / EPS by hand
def test_pes_eps_by_hand_both_silent_included():
    ref = np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [1.0, -1.0, 0.0, 0.0], [0.5, 0.0, 0.0, 0.0]])
    est = np.array([[0.1, 0.2, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.5, 0.0, 0.0, 0.0]])
    pes = F.pes(ref, est, include_both_silent=True)
    eps = F.eps(ref, est, include_both_silent=True)
    # PES: energy of the estimate where the reference is silent; 0.01 + 0.04 = 0.05
    assert pes[0] == pytest.approx(10 * math.log10(0.05 + 1e-8), abs=1e-12)
    assert pes[1] == pytest.approx(FLOOR, abs=1e-12) and eps[1] == pytest.approx(FLOOR, abs=1e-12)
    # EPS: energy of the reference where the estimate is silent; 1 + 1 = 2
    assert eps[2] == pytest.approx(10 * math.log10(2 + 1e-8), abs=1e-12)
    assert np.isnan(pes[2]) and np.isnan(pes[3]) and np.isnan(eps[0]) and np.isnan(eps[3])
    # protocol 1 leaves both-silent out of both
    assert np.isnan(F.pes(ref, est)[1]) and np.isnan(F.eps(ref, est)[1])


# ----------------------------------------------------------------------------- every slot counts
def test_every_item_slot_is_scored_and_exact_silence_on_absent_slots_gives_minus_80(sep2):
    est = _irm(sep2)
    r = evaluate(sep2, est)
    n_slots = len(sep2.items) * len(CLASSES)
    refs = {it.id: sep2.reference(it) for it in sep2.items}
    sounding = sum(int(ref.any(axis=1).sum()) for ref in refs.values())
    assert sum(r.counts.values()) == n_slots  # every (item, slot)
    assert r.counts["both_silent"] == n_slots - sounding > 0  # the IRM is exactly silent where the reference is
    assert r.scores["pes"].mean == pytest.approx(FLOOR, abs=1e-9) and r.scores["pes"].n == n_slots - sounding
    assert r.scores["sdr"].n == sounding
    for m, s in r.scores.items():
        assert s.n > 0 and math.isfinite(s.mean) and s.n_posinf == 0 and s.n_neginf == 0, m


def test_silencing_the_worst_half_scores_strictly_lower(sep2):
    est = _irm(sep2)
    base = evaluate(sep2, est)
    # the worst half of the sounding sources by SI-SDR (computed here, independently of scoring)
    pairs = []
    for it in sep2.items:
        ref = sep2.reference(it).astype(np.float64)
        for k in np.flatnonzero(ref.any(axis=1)):
            a = ref[k] @ est[it.id][k] / (ref[k] @ ref[k])
            pairs.append((10 * np.log10((a * a * ref[k] @ ref[k]) / np.sum((a * ref[k] - est[it.id][k]) ** 2)), it.id, k))
    pairs.sort()
    silenced = {iid: dict(e=est[iid].copy()) for iid in est}
    for _, iid, k in pairs[: len(pairs) // 2]:
        silenced[iid]["e"][k] = 0.0
    worse = evaluate(sep2, {i: v["e"] for i, v in silenced.items()})
    for m in ("sdr", "sir", "sar", "si_sdr", "sd_sdr", "sdri", "si_sdri"):
        assert worse.scores[m].n == base.scores[m].n, m  # nothing left out
        assert worse.scores[m].mean < base.scores[m].mean, m
    assert worse.counts["eps"] == len(pairs) // 2
    # silence scores the floor in every SDR-family metric, below any score it replaced
    assert worse.scores["sdr"].mean == pytest.approx(
        (base.scores["sdr"].mean * base.scores["sdr"].n - sum(
            _sdr_of(base, sep2, iid, k) for _, iid, k in pairs[: len(pairs) // 2]) + FLOOR * (len(pairs) // 2))
        / base.scores["sdr"].n, abs=1e-6)


def _sdr_of(result, task, iid, k):
    est = _irm(task)[iid]
    ref = task.reference(task.item(iid)).astype(np.float64)
    present = np.flatnonzero(ref.any(axis=1))
    bss = F.bss_eval_sources(ref[present], est[present], 512, check=False)
    return float(np.clip(bss.sdr[list(present).index(k)], FLOOR, 100.0))


def test_copies_score_no_more(sep2):
    """Writing the mixture into every slot (a copy of the input) scores below the IRM and
    loses PES on every absent slot; a copy of a reference is refused, not capped."""
    est = _irm(sep2)
    copy = {it.id: np.broadcast_to(sep2.mixture(it).astype(np.float64), (len(CLASSES), sep2.n_samples(it))).copy()
            for it in sep2.items}
    a, b = evaluate(sep2, est), evaluate(sep2, copy)
    assert b.scores["sdr"].mean < a.scores["sdr"].mean and b.scores["pes"].mean > a.scores["pes"].mean
    it = sep2.items[0]
    leak = dict(est)
    leak[it.id] = sep2.reference(it).astype(np.float64)
    with pytest.raises(SubmissionError) as ei:
        evaluate(sep2, leak)
    assert ei.value.problems[0].code == "AVB474" and it.id in ei.value.problems[0].path


# ----------------------------------------------------------------------------- no trivial items
@pytest.mark.parametrize("version", ["2-mini", "3-mini"])
@pytest.mark.parametrize("name", [SEP, MIX2])
def test_no_trivial_items(request, mini, name, version):
    """Every protocol-2 separation item has two sources or more that sound (RMS -60 dB in
    25% of the 1024-sample frames), checked here frame by frame on the references
    (version 3-mini: data version 2)."""
    if version == "3-mini":
        request.getfixturevalue("mini2")
    t = get_task(name, version)
    p = t.spec.metric_params
    assert p["min_sources"] == 2 and p["protocol"] == 2
    for it in t.items:
        ref = t.reference(it).astype(np.float64)
        n = ref.shape[1]
        sounding = 0
        for x in ref:
            frames = [x[s:s + 1024] for s in range(0, n, 1024)]
            frac = np.mean([np.mean(f ** 2) >= 1e-6 for f in frames])
            sounding += frac >= 0.25
        assert sounding >= 2, it.id
        mix = t.mixture(it).astype(np.float64)
        for x in ref[ref.any(axis=1)]:  # the mixture is never a copy of a reference
            assert np.sum((mix - x) ** 2) > 1e-6 * np.sum(x ** 2)


def test_protocol2_drops_the_trivial_segments_of_version_1(mini):
    """The same segments as version 1 except those where fewer than two sources sound."""
    v1, v2 = get_task(SEP, "1-mini"), get_task(SEP, "2-mini")
    key = lambda it: (it.clips[0].recording, it.clips[0].start)  # noqa: E731
    assert {key(i) for i in v2.items} <= {key(i) for i in v1.items}
    assert frozen()[f"{SEP}@2"]["n_items"] < frozen()[f"{SEP}@1"]["n_items"]


# ----------------------------------------------------------------------------- the input surface
def _forbidden_words(task) -> set[str]:
    from avbench.instruments import BY_ABBR

    words = set(CLASSES) | {a for a in BY_ABBR if len(a) >= 2}
    rows = getattr(task, "rows", {})
    for r in rows.values():
        if isinstance(r, dict):
            words |= {r.get("composer", ""), r.get("work", ""), r["id"]}
            words |= set(re.split(r"[/.\-]", r.get("work", "")))
    return {w.lower() for w in words if len(w) >= 2 and not w.isdigit()}


@pytest.mark.parametrize("name", [SEP, MIX2, CLS])
def test_input_surface_of_every_protocol2_synth_task(mini, name):
    t = get_task(name, "2-mini")
    bad = _forbidden_words(t)
    for iid in t.ids:
        assert re.fullmatch(r"(seg|pair|clip)-\d{4}", iid), iid
        assert not any(w in iid.lower().split("-") for w in bad), iid
    inp = t.inputs(t.ids[0])
    assert list(inp) == t.spec.inputs
    for name_ in {"mixture", "audio", "labels", "frames", "reference", "group"} - set(t.spec.inputs):
        with pytest.raises(TaskError, match="does not offer"):
            t.input(t.ids[0], name_)
    if "labels" not in t.spec.inputs:
        with pytest.raises(TaskError, match="does not offer"):
            t.labels(t.items[0])
    assert isinstance(inp["frames"], list)  # by player position, never keyed by class
    if t.spec.family == "separation":
        assert inp["labels"] == sorted(inp["labels"], key=CLASSES.index)


def test_frame_positions_carry_no_class_order(mini):
    """The players' positions (the order of the frames) are not the class order of the
    labels, in mix2 and in the ensembles (whose manifest lists instruments in class order)."""
    t = get_task(MIX2, "2-mini")
    first_is_first = [it.clips[0].instrument == t.labels(it)[0] for it in t.items]
    assert 0 < sum(first_is_first) < len(first_is_first)
    sep = get_task(SEP, "2-mini")
    in_class_order = [it.sources == sep.labels(it) for it in sep.items]
    assert sum(in_class_order) < len(in_class_order) / 2, in_class_order
    assert all(sorted(it.sources) == sorted(sep.labels(it)) for it in sep.items)
    # one frame stack per player
    it = next(i for i, f in zip(t.items, first_is_first) if not f)
    fr = t.frames(it, size=32)
    assert len(fr) == 2 and fr[0].shape[1:] == (32, 32, 3)


def test_classification_tasks_do_not_offer_labels(mini):
    for v in ("1-mini", "2-mini"):
        t = get_task(CLS, v)
        with pytest.raises(TaskError, match="does not offer 'labels'"):
            t.labels(t.items[0])


@pytest.mark.parametrize("key", ["solos-classification@2", "fcvid-classification@icmr2017-2",
                                 "yt8m-classification@icmr2017-2"])
def test_real_protocol2_ids_are_opaque(key):
    t = get_task(key)
    assert all(re.fullmatch(r"clip-\d{4,5}", i) for i in t.ids[:50])
    v1 = get_task(key.rsplit("-2", 1)[0] if key.endswith("-2") and "@2" not in key else key.replace("@2", "@1"))
    assert len(t.items) == len(v1.items) and {i.clips[0].recording for i in t.items} == {i.clips[0].recording for i in v1.items}
    with pytest.raises(TaskError, match="does not offer 'labels'"):
        t.input(t.ids[0], "labels")


# ----------------------------------------------------------------------------- pins and boards
def test_every_task_version_is_pinned_with_its_protocol(mini):
    pins = frozen()
    for v in ("1-mini", "2-mini"):
        for n in (SEP, MIX2, CLS):
            t = get_task(n, v)
            pin = pins[t.spec.key]
            assert pin["items_sha256"] == t.spec.items_sha256
            assert pin["protocol"] == t.spec.protocol_number == (2 if v.startswith("2") else 1)
            assert pin["metric_params"] == t.spec.metric_params


def test_board_refuses_and_verify_flags_other_protocol_parameters(tmp_path):
    src = ROOT / "leaderboards" / SEP / "2-mini"
    root = tmp_path / "lb"
    import shutil

    shutil.copytree(src, root / SEP / "2-mini")
    d = root / SEP / "2-mini"
    e = lb.Entry.model_validate_json((d / "entries" / "oracle-ibm.json").read_text())
    stale = e.model_copy(update={"name": "stale", "provenance": e.provenance.model_copy(
        update={"metric_params": {**e.provenance.metric_params, "db_floor": -60.0},
                "submission_sha256": "2" * 64})})
    with pytest.raises(LeaderboardError) as ei:
        lb.add_entry(root, stale)
    assert ei.value.code == "AVB506" and "db_floor" in str(ei.value)
    raw = json.loads((d / "entries" / "oracle-irm.json").read_text())
    raw["provenance"]["metric_params"].pop("include_both_silent")
    (d / "entries" / "oracle-irm.json").write_text(json.dumps(raw))
    lb.build(root, adopt=True)
    probs, _ = lb.verify(root)
    assert any("oracle-irm.json: scored under other protocol parameters" in p and "include_both_silent" in p
               for p in probs), probs


def test_protocol_note_in_every_board_header():
    for md in (ROOT / "leaderboards").glob("*/*/leaderboard.md"):
        from avbench.tasks.declared import declared

        v = md.parent.name
        text = md.read_text()
        n = declared(md.parent.parent.name).version(v).protocol  # versions 2, 3: protocol 2
        assert n == (1 if v.startswith("1") else 2), md
        assert f"Scoring protocol {n} (docs/protocol.md)" in text, md
        if md.parent.parent.name != CLS:
            assert "| Silenced |" in text, md


def test_protocol2_spec_records_every_parameter(mini):
    from avbench.scoring import PROTOCOL2_KEYS, check_metric_params

    t = get_task(SEP, "2-mini")
    assert set(PROTOCOL2_KEYS) <= set(t.spec.metric_params)
    broken = t.spec.model_copy(update={"metric_params": {k: v for k, v in t.spec.metric_params.items()
                                                         if k != "db_floor"}})
    with pytest.raises(TaskError, match="db_floor"):
        check_metric_params(broken)


def test_real_separation_items_are_pinned_and_a_short_copy_is_refused(tmp_path, monkeypatch):
    """urmp-separation@thesis-2 reads a pinned item list, not whatever the local copy
    gives: a copy with one recording cut short is refused by `score` (the task) and by
    `data verify`, naming the recording."""
    import soundfile as sf

    from avbench import tasks
    from avbench.data import manifest as mf, real
    from avbench.testing import fixtures
    from avbench.tasks import real as tr

    monkeypatch.setenv("AVBENCH_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(tr, "PINS", tmp_path / "pins")
    tasks._CACHE.clear()
    tree = fixtures.make("urmp", tmp_path / "Dataset", "1")
    real.prepare("urmp", tree, "thesis", workers=1, progress=False)
    with pytest.raises(TaskError, match="no pinned item list yet"):
        get_task("urmp-separation", "thesis-2", check_frozen=False)
    pin = tr.pin_items("urmp-separation", "thesis-2")
    doc = json.loads(pin.read_text())
    v1 = get_task("urmp-separation", "thesis", check_frozen=False)
    t = get_task("urmp-separation", "thesis-2", check_frozen=False)
    assert doc["n_candidates"] == len(v1.items) and t.spec.protocol_number == 2
    assert all(re.fullmatch(r"seg-\d{4}", i) for i in t.ids)
    # every pinned item has two sounding sources, and every dropped one fewer (by hand)
    kept = {(i.clips[0].recording, i.clips[0].start) for i in t.items}
    for it in v1.items:
        ref = v1.reference(it).astype(np.float64)
        frames = ref[:, : ref.shape[1] // 1024 * 1024].reshape(ref.shape[0], -1, 1024)
        tail = ref[:, ref.shape[1] // 1024 * 1024:]
        e = np.concatenate([(frames ** 2).mean(-1), (tail ** 2).mean(-1, keepdims=True)], 1) if tail.shape[1] else (frames ** 2).mean(-1)
        n_sound = int(((e >= 1e-6).mean(1) >= 0.25).sum())
        assert ((it.clips[0].recording, it.clips[0].start) in kept) == (n_sound >= 2)
    assert kept
    # a copy with one pinned recording cut short
    rec = t.items[0].clips[0].recording
    assert real.verify("urmp", tree, "thesis") == []
    row = next(r for r in mf.read("urmp", "thesis") if r.id == rec)
    mix = tree / row.files["mix"]
    x, sr = sf.read(str(mix))
    sf.write(str(mix), x[: len(x) // 3], sr)
    assert real.verify("urmp", tree, "thesis") == []  # the copy against its manifest: complete
    probs = tr.verify_copy("urmp", tree, "thesis")  # and against the pinned items of the tasks
    assert any("too short for the pinned items of urmp-separation@thesis-2" in p.problem and rec in p.items
               for p in probs), probs
    prep = tmp_path / "home" / "data" / "urmp" / "thesis" / "prepared.json"
    state = json.loads(prep.read_text())
    state["items"][rec]["n_samples"] = 1000
    prep.write_text(json.dumps(state))
    tasks._CACHE.clear()
    with pytest.raises(TaskError, match=f"cannot produce .*{re.escape(rec)}"):
        get_task("urmp-separation", "thesis-2", check_frozen=False)
