import numpy as np
import pytest

from avbench.errors import TaskError
from avbench.instruments import CLASSES
from avbench.tasks import get_task


def test_separation_items_are_segments_of_test_ensembles(mini):
    t = get_task("synth-ensembles-separation@1-mini")
    assert t.spec.slots == list(CLASSES) and t.spec.segment_samples == 65535
    for it in t.items:
        c = it.clips[0]
        assert c.end - c.start == 65535 and c.start % 65535 == 0
        assert t.rows[c.recording]["split"] == "test" and t.rows[c.recording]["kind"] == "ensemble"
        ref = t.reference(it)
        assert ref.shape == (13, 65535)
        present = {CLASSES[k] for k in range(13) if ref[k].any()}
        assert present <= set(it.sources)
        mix, _ = __import__("avbench.audio", fromlist=["read_audio"]).read_audio(t.root / t.rows[c.recording]["mix"])
        assert np.array_equal(t.mixture(it), mix[c.start:c.end])


def test_mix2_pairs_are_fixed_and_valid(mini):
    t = get_task("synth-ensembles-mix2@1-mini")
    assert len(t.items) >= 10
    for it in t.items:
        a, b = it.clips
        assert a.instrument != b.instrument
        assert t.rows[a.recording]["work"] != t.rows[b.recording]["work"]
    from avbench.tasks.synth import SynthTask

    again = SynthTask("synth-ensembles-mix2", "1-mini")
    assert [i.id for i in again.items] == [i.id for i in t.items]
    assert again.spec.items_sha256 == t.spec.items_sha256


def test_classification_items(mini):
    t = get_task("synth-ensembles-classification@1-mini")
    assert t.spec.classes == list(CLASSES)
    assert {i.label for i in t.items} == set(CLASSES)
    fr = t.frames(t.items[0])
    assert list(fr) == [t.items[0].label] and fr[t.items[0].label].shape[1:] == (224, 224, 3)
    # the model's input audio is the player's clip, read straight from the stem file
    import soundfile as sf

    from avbench.data import synth as se

    for item in t.items[:5]:
        c = item.clips[0]
        row = next(r for r in se.read_manifest(t.root) if r["id"] == c.recording)
        stem, _ = sf.read(str(t.root / row["stems"][item.label]), dtype="float32")
        x = t.mixture(item)
        assert x.any() and np.array_equal(x, stem[c.start:c.end])


def test_unknown_task_and_version(mini):
    with pytest.raises(TaskError, match="unknown task"):
        get_task("nope@1")
    with pytest.raises(TaskError, match="no version"):
        get_task("synth-ensembles-mix2@9")


# ----------------------------------------------------------------------------- declarations
def test_every_task_is_declared_in_one_file():
    from avbench.tasks import available
    from avbench.tasks.declared import SPECS, registry

    files = sorted(p.stem for p in SPECS.glob("*.yaml") if not p.name.startswith("_"))
    assert sorted(registry()) == files and len(files) == 8
    assert {n for n, _ in available()} == set(files)
    d = registry()["urmp-separation"]
    assert d.binding == "real" and d.dataset == "urmp" and d.items == "segments"
    assert {v: (vd.protocol, vd.data) for v, vd in d.versions.items()} == {
        "1": (1, "1"), "thesis": (1, "thesis"), "2": (2, "1"), "thesis-2": (2, "thesis")}


def test_a_task_on_an_existing_dataset_is_one_yaml_file(mini, tmp_path, monkeypatch):
    """A declaration in a folder of AVBENCH_TASK_SPECS is a task: bound to the built-in
    data, its items from the builder of its kind and protocol, its metrics its own."""
    from avbench import tasks
    from avbench.scoring import check_metric_params

    (tmp_path / "synth-ensembles-duets.yaml").write_text("""\
name: synth-ensembles-duets
family: separation
binding: synth
items: pairs
description: Two-player mixtures, SDR only.
protocol: {1: the mix2 pairs, scored by SDR and SI-SDR}
slots: [$instruments]
inputs: [mixture]
metrics: {1: [sdr, si_sdr]}
main_score: sdr
metric_params: {1: mix2-synth-1}
versions:
  1-mini: {protocol: 1, data: mini}
""")
    monkeypatch.setenv("AVBENCH_TASK_SPECS", str(tmp_path))
    tasks._CACHE.clear()
    t = get_task("synth-ensembles-duets@1-mini")
    mix2 = get_task("synth-ensembles-mix2@1-mini")
    assert t.spec.items_sha256 == mix2.spec.items_sha256 and t.spec.metrics == ["sdr", "si_sdr"]
    assert t.spec.inputs == ["mixture"] and t.spec.slots == list(CLASSES)
    check_metric_params(t.spec)
    with pytest.raises(TaskError, match="does not offer 'frames'"):
        t.input(t.ids[0], "frames")
    assert ("synth-ensembles-duets", "1-mini") in tasks.available()


@pytest.mark.parametrize("edit,match", [
    ({"score": 1}, "unknown key"),
    ({"metric_params": {1: "no-such-set"}}, "no parameter set 'no-such-set'"),
    ({"versions": {"3": {"protocol": 3, "data": "mini"}}}, "protocol 3 has versions but no metrics"),
    ({"name": "other-name"}, "the file declares 'other-name'"),
])
def test_a_bad_declaration_names_its_file(tmp_path, edit, match):
    import yaml

    from avbench.tasks.declared import SPECS, load

    doc = yaml.safe_load((SPECS / "synth-ensembles-mix2.yaml").read_text())
    doc.update(edit)
    p = tmp_path / "synth-ensembles-mix2.yaml"
    p.write_text(yaml.safe_dump(doc))
    with pytest.raises(TaskError, match=match) as e:
        load(p)
    assert str(p) in str(e.value)


def test_training_data_is_on_the_task_interface(mini):
    """Baselines train through Task: the built-in tasks offer clips, their audio and frames,
    labels, recordings and stems; a task that has none says so, naming itself."""
    t = get_task("synth-ensembles-classification@1-mini")
    clips = t.train_clips("train")
    assert clips and all(c.end - c.start == 65535 and c.instrument in CLASSES for c in clips)
    assert t.clip_audio(clips[0]).shape == (65535,) and t.clip_frames(clips[0], 8.0, 32).shape[1:] == (32, 32, 3)
    assert set(t.train_labels()) <= set(CLASSES)
    sep = get_task("synth-ensembles-separation@1-mini")
    rec = sep.recordings("train")[0]
    assert sep.stem(rec["id"], rec["instruments"][0]).ndim == 1
    from avbench.tasks.base import Task

    class Bare(Task):
        spec = sep.spec
        items = []
        item = reference = mixture = frames = labels = None

    with pytest.raises(TaskError, match="synth-ensembles-separation@1-mini offers no training clips"):
        Bare().train_clips("train")


def test_the_training_interface_never_serves_the_test_split(mini):
    """Training data comes from train and val: the test recordings (what the items are
    made of) and their labels are refused, whichever call asks."""
    t = get_task("synth-ensembles-classification@2-mini")
    sep = get_task("synth-ensembles-separation@2-mini")
    with pytest.raises(TaskError, match="training data comes from train and val, not 'test'"):
        t.train_clips("test")
    with pytest.raises(TaskError, match="not 'test'"):
        sep.recordings("test")
    test_clip = t.items[0].clips[0]
    with pytest.raises(TaskError, match="not 'test'"):
        t.clip_audio(test_clip)
    with pytest.raises(TaskError, match="not 'test'"):
        t.clip_frames(test_clip)
    rec = sep.items[0].clips[0].recording
    with pytest.raises(TaskError, match="not 'test'"):
        sep.stem(rec, sep.items[0].sources[0])
    assert t.train_clips("val") and sep.recordings("val")


def test_v3_frames_are_the_styled_scene(mini2):
    """Version 3-mini serves the recorded style's frames (not the plain drawing)."""
    from avbench.data.synth import scenes
    from avbench.data import synth as se

    t = get_task("synth-ensembles-classification@3-mini")
    item = t.items[0]
    (fr,) = t.frames(item, 8.0, 64)
    row = t.rows[item.clips[0].recording]
    notes = se.load_notes(mini2, row)[item.label]
    want = scenes.styled_frames(notes, item.label, row["styles"][0], item.clips[0].start / 11025, len(fr), 8.0, 64)
    assert np.array_equal(fr, want)


def test_a_version_scored_on_val_scores_val_and_never_trains_on_it(mini, tmp_path, monkeypatch):
    """``split: val`` makes the items of the val recordings (the manifest read here, not
    through the task) and takes val out of the training interface; ``split: train`` is refused."""
    import json

    from avbench import tasks

    decl = """\
name: synth-ensembles-valsep
family: separation
binding: synth
items: segments
description: The separation task on the val ensembles.
protocol: {1: val ensembles cut into 65535-sample segments}
slots: [$instruments]
inputs: [mixture]
metrics: {1: [sdr]}
main_score: sdr
metric_params: {1: ensemble-1}
versions:
  v-mini: {protocol: 1, data: mini, split: %s}
"""
    (tmp_path / "synth-ensembles-valsep.yaml").write_text(decl % "val")
    monkeypatch.setenv("AVBENCH_TASK_SPECS", str(tmp_path))
    tasks._CACHE.clear()
    t = get_task("synth-ensembles-valsep@v-mini")
    root = get_task("synth-ensembles-separation@1-mini").root
    rows = [json.loads(x) for x in (root / "manifest.jsonl").read_text().splitlines() if x.strip()]
    val_ens = {r["id"]: r for r in rows if r["split"] == "val" and r["kind"] == "ensemble"}
    want = sum(-(-r["n_samples"] // 65535) for r in val_ens.values())
    assert val_ens and len(t.items) == want  # every segment of every val ensemble (rounded up, by hand)
    assert {i.clips[0].recording for i in t.items} == set(val_ens)
    assert t.training_splits == ("train",)
    with pytest.raises(TaskError, match="training data comes from train, not 'val'"):
        t.recordings("val")
    with pytest.raises(TaskError, match="not 'val'"):
        t.stem(t.items[0].clips[0].recording, t.items[0].sources[0])
    assert t.recordings("train")
    (tmp_path / "synth-ensembles-valsep.yaml").write_text(decl % "train")
    tasks._CACHE.clear()
    from avbench.tasks import declared as dm

    dm._registry.cache_clear()
    with pytest.raises(TaskError, match="split train is what models train on"):
        get_task("synth-ensembles-valsep@v-mini")
    dm._registry.cache_clear()


def test_a_declaration_edited_in_place_is_refused_by_its_pin(tmp_path, monkeypatch):
    """Adding a metric to a protocol's list, or changing the main score, changes the columns
    of every published version of that protocol; the pins refuse it, and a new version
    declaring its own list is accepted (no pin: a new version)."""
    import yaml

    from avbench import tasks
    from avbench.tasks import declared as dm

    spec = dm.SPECS / "synth-ensembles-separation.yaml"
    doc = yaml.safe_load(spec.read_text())
    pins = tasks.frozen()
    assert pins["synth-ensembles-separation@3"]["metrics"] == doc["metrics"][2]  # the published list, pinned
    doc["metrics"][2] = doc["metrics"][2] + ["si_sdr_extra"]
    edited = tmp_path / "synth-ensembles-separation.yaml"
    edited.write_text(yaml.safe_dump(doc))
    d = dm.load(edited)
    for v in ("2", "2-mini", "3", "3-mini"):
        with pytest.raises(TaskError, match=f"synth-ensembles-separation@{v} declares metrics") as e:
            d.check_pin(v, pins[f"synth-ensembles-separation@{v}"])
        assert str(edited) in str(e.value) and "new version" in e.value.fix
    d.check_pin("1", pins["synth-ensembles-separation@1"])  # protocol 1's list is unchanged
    doc = yaml.safe_load(spec.read_text())
    doc["main_score"] = "si_sdr"
    edited.write_text(yaml.safe_dump(doc))
    with pytest.raises(TaskError, match="declares main_score 'si_sdr'"):
        dm.load(edited).check_pin("3", pins["synth-ensembles-separation@3"])
    # the way forward: a new version with its own list, which no pin constrains yet
    doc = yaml.safe_load(spec.read_text())
    doc["versions"]["4"] = {"protocol": 2, "data": "full2", "metrics": doc["metrics"][2] + ["si_sdr_extra"]}
    edited.write_text(yaml.safe_dump(doc))
    d = dm.load(edited)
    assert d.metric_list("4")[-1] == "si_sdr_extra" and d.metric_list("3") == pins["synth-ensembles-separation@3"]["metrics"]
    d.check_pin("4", pins.get("synth-ensembles-separation@4"))
    # and get_task itself refuses the package's declaration when its pin disagrees
    monkeypatch.setitem(pins["synth-ensembles-separation@3-mini"], "metrics", ["sdr"])
    monkeypatch.setattr(tasks, "frozen", lambda: pins)
    tasks._CACHE.clear()
    with pytest.raises(TaskError, match="its pin records"):
        get_task("synth-ensembles-separation@3-mini")
    tasks._CACHE.clear()


def test_the_synthetic_configs_are_one_table():
    """The CLI's choices and the current task version of each data configuration come from
    the configuration table and the task declarations, never a list of their own."""
    from avbench.commands import CONFIG_NAMES
    from avbench.data.synth import CONFIGS
    from avbench.tasks.synth import current

    assert CONFIG_NAMES == ["mini2", "full2", "mini", "full"] and set(CONFIG_NAMES) == set(CONFIGS)
    assert {c: current(c) for c in CONFIG_NAMES} == {"mini2": "3-mini", "full2": "3", "mini": "2-mini", "full": "2"}
