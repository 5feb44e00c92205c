"""synth-ensembles version 2: independent timbre families, held-out test timbres,
expressive playing, deterministic bytes."""
import json

import numpy as np
import pytest

from avbench import audio as au
from avbench.data import synth as se
from avbench.data.synth import additive, performance as perf, soundfonts
from avbench.errors import DataError
from avbench.instruments import BY_NAME, CLASSES

pytestmark = pytest.mark.skipif(bool(soundfonts.missing_fonts()),
                                reason="the version-2 soundfonts are not installed (scripts/install.sh)")


# ------------------------------------------------------------------- timbre families


def test_timbre_table_is_as_measured():
    """The committed table is what the measurement gives on the pinned fonts."""
    assert soundfonts.measure() == soundfonts.load_table()


def test_three_families_per_class_one_held_out():
    table = soundfonts.load_table()["instruments"]
    for inst in CLASSES:
        fams = table[inst]["families"]
        assert len(fams) >= 3, inst
        held = [f for f in fams if f["splits"] == ["val", "test"]]
        train = [f for f in fams if f["splits"] == ["train"]]
        assert len(held) >= 1 and len(train) >= 1 and len(held) + len(train) == len(fams), inst
        assert all(f["kind"] == "samples" for f in held), f"{inst}: a held-out family must be recorded samples"
        members = [m for f in fams for m in f["members"]]
        assert len(members) == len(set(members)), f"{inst}: a source in two families"


def test_families_respect_the_independence_rule():
    """Every pair measured as sharing data or as near-identical is inside one family;
    presets made of another class's samples (TimGM6mb's viola is its violin) are left out."""
    table = soundfonts.load_table()
    rule = table["rule"]
    for inst, d in table["instruments"].items():
        fam_of = {m: f["id"] for f in d["families"] for m in f["members"]}
        for p in d["pairs"]:
            if p["a"] in soundfonts.FONTS and p["b"] in soundfonts.FONTS and p["a"] in fam_of and p["b"] in fam_of:
                same = p["shared_samples"] > 0 or p["spectral"] >= rule["spectral_same"] or p["waveform"] >= rule["waveform_same"]
                assert same == p["same_family"]
                if same:
                    assert fam_of[p["a"]] == fam_of[p["b"]], (inst, p)
    assert "timgm6mb" in table["instruments"]["viola"]["excluded"]
    assert "csound" in table["instruments"]["viola"]["excluded"]


def test_shared_samples_found_by_hash(tmp_path):
    """csound's GM bank reuses TimGM6mb's violin samples byte for byte: the sample hashes say so."""
    tim = soundfonts.preset_samples(soundfonts.FONTS["timgm6mb"].path())
    cs = soundfonts.preset_samples(soundfonts.FONTS["csound"].path())
    assert tim[(0, 40)][1] == cs[(0, 40)][1] and tim[(0, 40)][1]
    assert tim[(0, 40)][1] == tim[(0, 41)][1]  # TimGM6mb: viola = violin
    fl = soundfonts.preset_samples(soundfonts.FONTS["fluidr3"].path())
    assert not (fl[(0, 40)][1] & tim[(0, 40)][1])


def test_missing_font_names_it_and_the_command(monkeypatch, tmp_path):
    f = soundfonts.FONTS["fluidr3"]
    monkeypatch.setitem(soundfonts.FONTS, "fluidr3",
                        soundfonts.Font(f.id, f.file, f.sha256, f.source, f.licence, f.install,
                                        ("path", str(tmp_path / "nowhere.sf2"))))
    monkeypatch.delenv("AVBENCH_SOUNDFONT_DIR", raising=False)
    (err,) = soundfonts.missing_fonts()
    assert "FluidR3_GM.sf2" in str(err) and "apt-get install fluid-soundfont-gm" in str(err)
    with pytest.raises(DataError, match="fluid-soundfont-gm"):
        se.generate("mini2", root=tmp_path / "out", progress=False, force=True)


def test_wrong_font_file_is_refused(monkeypatch, tmp_path):
    bad = tmp_path / "FluidR3_GM.sf2"
    bad.write_bytes(b"RIFF0000sfbk")
    monkeypatch.setenv("AVBENCH_SOUNDFONT_DIR", str(tmp_path))
    with pytest.raises(DataError, match="not the expected file"):
        soundfonts.FONTS["fluidr3"].path()


# ------------------------------------------------------------------- synthesizer state


def _part(sf, program, keys):
    sf.channel_set_preset_index(0, sf.get_preset_index(0, program))
    out = []
    for j, k in enumerate(keys):
        sf.channel_note_on(0, k, 0.8)
        sf.channel_set_pitch_wheel(0, 8192 + 200 * (j % 3))
        out.append(soundfonts.render(sf, 3000))
        sf.channel_note_off(0, k)
    out.append(soundfonts.render(sf, 20000))
    return np.concatenate(out)


@pytest.mark.parametrize("font", sorted(soundfonts.FONTS))
def test_clean_state_renders_as_a_fresh_synthesizer(font):
    """A part rendered after other parts (other presets, bent pitch, notes left ringing)
    is byte-identical to the same part on a newly loaded synthesizer."""
    ref = _part(soundfonts.fresh_synth(font), 71, [60, 62, 64, 65])
    sf = soundfonts.synth(font)
    _part(sf, 40, [70, 72, 74, 50])
    sf.channel_note_on(0, 55, 1.0)  # still sounding when the next part starts
    again = _part(soundfonts.synth(font), 71, [60, 62, 64, 65])
    assert np.array_equal(ref, again)


# ------------------------------------------------------------------- the generated data


def test_no_val_or_test_timbre_in_train(mini2):
    table = soundfonts.load_table()["instruments"]
    rows = se.read_manifest(mini2)
    seen = {"train": set(), "val": set(), "test": set()}
    for r in rows:
        assert len(r["timbres"]) == len(r["instruments"])
        for inst, t in zip(r["instruments"], r["timbres"]):
            fam = next(f for f in table[inst]["families"] if f["id"] == t["family"])
            assert r["split"] in fam["splits"] and t["source"] in fam["members"]
            seen[r["split"]].add((inst, t["source"]))
    assert not seen["train"] & (seen["val"] | seen["test"])
    # the held-out timbres are really used, and the training timbres vary
    assert len({s for _, s in seen["test"]}) >= 3 and len({s for _, s in seen["train"]}) >= 4


def test_mixture_is_exact_sum_and_every_source_sounds(mini2):
    for r in se.read_manifest(mini2):
        mix, sr = au.read_audio(mini2 / r["mix"])
        acc = np.zeros_like(mix)
        for inst in r["instruments"]:
            s, _ = au.read_audio(mini2 / r["stems"][inst])
            assert s.any(), (r["id"], inst)
            acc += s
        assert np.array_equal(acc, mix) and np.abs(mix).max() <= 0.9


def test_recordings_render_again_to_the_same_bytes(mini2, tmp_path):
    """Determinism per recording: rendering a recording in another process history (after
    others, in another order) gives the manifest's bytes."""
    cfg = se.config_for("mini2")
    parsed = {p["work"]: p for p in (se.parse_work(w) for w in se.select_works(cfg)) if p}
    plans = se.plan(cfg, list(parsed.values()))
    rows = {r["id"]: r for r in se.read_manifest(mini2)}
    for rec in reversed(plans[-4:] + plans[:2]):
        row = se._render_recording((cfg, rec, parsed[rec.work]["parts"], str(tmp_path)))
        for rel, sha in row["sha256"].items():
            assert sha == rows[rec.id]["sha256"][rel], rel
        assert row["timbres"] == rows[rec.id]["timbres"]


def test_dataset_meta_records_fonts(mini2):
    meta = json.loads((mini2 / "dataset.json").read_text())
    assert meta["generator_version"] == "2.0.0" and meta["version"] == "2-mini"
    assert {k: v["sha256"] for k, v in meta["soundfonts"].items()} == {k: f.sha256 for k, f in soundfonts.FONTS.items()}


# ------------------------------------------------------------------- expressive playing


def test_performance_has_drift_timing_dynamics_and_articulation():
    rng = np.random.default_rng(3)
    tempo = perf.plan_tempo(rng)
    player = perf.plan_player("violin", rng)
    notes_q = [(float(i), 1.0, 60 + i % 5) for i in range(40)]
    notes, pitch, gain = perf.perform(notes_q, 90.0, tempo, player, 40.0, 11025)
    starts = np.array([n[0] for n in notes])
    nominal = np.arange(len(notes)) * 60 / 90
    ioi = np.diff(starts)
    assert np.std(ioi) > 0.005 and abs(np.mean(ioi) - 60 / 90) < 0.05  # drift and deviation, same tempo on average
    assert np.max(np.abs(starts - nominal)) > 0.02
    vel = np.array([n[3] for n in notes])
    assert vel.max() - vel.min() >= 10
    ratio = np.array([(e - s) for s, e, _, _ in notes]) / (60 / 90)
    assert ratio.min() < 0.6 and ratio.max() > 0.95  # staccato and legato
    assert np.abs(pitch).max() > 0.1 and 0.65 <= gain.min() and gain.max() <= 1.0 and np.ptp(gain) > 0.02
    _, pitch_tpt, _ = perf.perform(notes_q, 90.0, tempo, perf.plan_player("trumpet", rng), 40.0, 11025)
    assert not pitch_tpt.any()  # no vibrato on brass


def _f0_cents(x, sr, lo=150.0, hi=1000.0, frame=2048, hop=512):
    """f0 per frame by the autocorrelation peak (parabolic interpolation), in cents."""
    out = []
    for a in range(0, len(x) - frame, hop):
        f = x[a:a + frame] * np.hanning(frame)
        ac = np.fft.irfft(np.abs(np.fft.rfft(f, 2 * frame)) ** 2)[:frame]
        lag_lo, lag_hi = int(sr / hi), int(sr / lo)
        k = lag_lo + int(np.argmax(ac[lag_lo:lag_hi]))
        y0, y1, y2 = ac[k - 1], ac[k], ac[k + 1]
        k = k + 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2)
        out.append(1200 * np.log2(sr / k))
    return np.array(out)


@pytest.mark.parametrize("inst,source", [("violin", "fluidr3"), ("viola", "additive")])
def test_vibrato_is_in_the_audio(inst, source):
    """A held violin note with the player's vibrato swings in pitch by about its depth;
    without vibrato it does not."""
    t = np.arange(5 * se.RENDER_RATE) / se.RENDER_RATE
    pitch = 0.30 * np.sin(2 * np.pi * 5.5 * t)  # +-30 cents at 5.5 Hz, as the wheel carries it
    notes, gain = [(0.0, 4.0, 69, 100)], np.ones_like(t)
    timbre = {"source": source, "program": BY_NAME[inst].gm_program, "seed": 1}
    se.timbre_tables()
    sr = 22050
    with_vib = se.render_part_v2(inst, timbre, notes, pitch, gain, int(4.5 * sr), sr).astype(np.float64)
    flat = se.render_part_v2(inst, timbre, notes, np.zeros_like(pitch), gain, int(4.5 * sr), sr).astype(np.float64)
    a, b = int(1.0 * sr), int(3.0 * sr)
    cv, cf = _f0_cents(with_vib[a:b], sr), _f0_cents(flat[a:b], sr)
    # the difference of the two pitch tracks is the applied curve (a sample may carry
    # vibrato of its own): fit a 5.5 Hz sinusoid to it, amplitude in cents
    tc = (a + 1024 + 512 * np.arange(cv.size)) / sr
    basis = np.stack([np.sin(2 * np.pi * 5.5 * tc), np.cos(2 * np.pi * 5.5 * tc), np.ones_like(tc)], 1)
    coef, *_ = np.linalg.lstsq(basis, cv - cf, rcond=None)
    assert 24 < np.hypot(coef[0], coef[1]) < 36


def test_additive_models_sound_at_their_pitch():
    params = additive.player_params("flute", np.random.default_rng(1))
    for model in additive.MODELS:
        x = additive.render_note(model, "flute", params, 69, 0.8, 22050, 0)
        c = _f0_cents(x[4096:], additive.RENDER_RATE)
        assert np.all(np.abs(c - 1200 * np.log2(440)) < 5), model


# ------------------------------------------------------------------- styled video


def _motion_onset_correlation(inst, style, seed=0, fps=8.0, seconds=12.0):
    from avbench.data.synth import scenes
    from avbench.video import Note

    rng = np.random.default_rng(seed)
    lo, hi = BY_NAME[inst].low, BY_NAME[inst].high
    t, notes = 0.3, []
    while t < seconds - 1:
        dur = float(rng.choice([0.25, 0.5, 0.75, 1.0]))
        notes.append(Note(t, t + 0.9 * dur, int(rng.integers(lo, hi + 1))))
        t += dur + (float(rng.choice([0.0, 0.0, 0.5])))  # some rests
    n = int(seconds * fps)
    fr = scenes.styled_frames(notes, inst, style, 0.0, n, fps, 96).astype(np.float64)
    energy = np.abs(np.diff(fr, axis=0)).mean(axis=(1, 2, 3))
    onsets = np.zeros(n - 1)
    for nt in notes:
        k = int(np.ceil(nt.start * fps))  # first frame at or after the onset
        if 1 <= k < n:
            onsets[k - 1] = 1
    return float(np.corrcoef(energy, onsets)[0, 1])


@pytest.mark.parametrize("inst", ["violin", "cello", "flute", "clarinet", "trumpet", "trombone"])
def test_player_motion_follows_the_onsets(inst):
    """The frame-difference energy of a styled player (camera noise, blur and JPEG
    included) correlates with its note onsets."""
    from avbench.data.synth import scenes

    r = [_motion_onset_correlation(inst, scenes.plan_style(inst, "test", np.random.default_rng(seed)), seed)
         for seed in range(3)]
    assert min(r) > 0.2 and np.mean(r) > 0.4, (inst, r)


def test_styles_held_out_and_recorded(mini2):
    from avbench.data.synth import scenes

    seen = {"train": set(), "val": set(), "test": set()}
    for r in se.read_manifest(mini2):
        assert len(r["styles"]) == len(r["instruments"])
        for st in r["styles"]:
            assert st["background"] in scenes.STYLE_SPLITS[r["split"]]
            seen[r["split"]].add(st["background"])
    assert not seen["train"] & (seen["val"] | seen["test"])
    assert set(scenes.STYLE_SPLITS["train"]).isdisjoint(scenes.STYLE_SPLITS["test"])


def test_dataset_card_shows_the_measured_table():
    from pathlib import Path

    card = (Path(se.__file__).parents[1] / "cards" / "synth-ensembles.md").read_text()
    assert soundfonts.card_table() in card
    png = Path(se.__file__).parents[3] / "docs" / "synth-ensembles-frames.png"
    assert "../../../docs/synth-ensembles-frames.png" in card
    if png.exists():  # a checkout (the wheel carries the card, not the picture)
        assert png.stat().st_size < 2_000_000


def test_datasetdict_and_verify(mini2):
    dd = se.load("mini2")
    assert set(dd) == {"train", "val", "test"}
    train = {(i, s) for row in dd["train"] for i, s in zip(row["instruments"], row["timbre_sources"])}
    test = {(i, s) for row in dd["test"] for i, s in zip(row["instruments"], row["timbre_sources"])}
    assert train and test and not train & test
    assert not {b for row in dd["train"] for b in row["backgrounds"]} & {b for row in dd["test"] for b in row["backgrounds"]}
    assert se.verify(mini2) == []
