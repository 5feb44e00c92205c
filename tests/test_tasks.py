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

    from avbench.data import synth_ensembles as se

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
