"""The Python API: in-memory evaluation gives the CLI's numbers; the README example runs."""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import avbench
from avbench.audio import read_audio
from avbench.errors import SubmissionError

ROOT = Path(__file__).resolve().parents[1]
SEP = "synth-ensembles-separation@1-mini"
CLS = "synth-ensembles-classification@1-mini"


def _stats(r):
    return {m: s.model_dump() for m, s in r.scores.items()}


def test_import_is_lazy_and_documented():
    out = subprocess.run([sys.executable, "-c", "import sys, avbench; print('torch' in sys.modules, "
                          "'avbench.scoring' in sys.modules); help(avbench.evaluate)"],
                         capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[0] == "False False" and "estimates held in memory" in out
    assert set(avbench.__all__) >= {"evaluate", "get_task", "list_tasks", "load_results", "SubmissionWriter"}
    assert SEP in avbench.list_tasks()


def test_evaluate_in_memory_equals_scoring_the_folder(oracle_subs, copy_sub):
    sub = copy_sub(oracle_subs[("synth-ensembles-separation", "oracle-ibm")])
    task = avbench.get_task(SEP)
    estimates = {}
    for item in task.items:
        d = sub / task.spec.name / "estimates" / item.id
        estimates[item.id] = {f.stem: read_audio(f, "float64")[0] for f in sorted(d.glob("*.wav"))}
    mem = avbench.evaluate(task, estimates, name="oracle-ibm")
    disk = avbench.score(sub, workers=1, progress=False)[0]
    assert _stats(mem) == _stats(disk) and mem.counts == disk.counts and mem.breakdown == disk.breakdown
    loaded = avbench.load_results(sub, SEP)
    assert _stats(loaded) == _stats(disk)
    assert not (Path.cwd() / "results").exists()


def test_evaluate_classification_from_a_dataframe(oracle_subs, copy_sub):
    sub = copy_sub(oracle_subs[("synth-ensembles-classification", "oracle-prior")])
    task = avbench.get_task(CLS)
    df = pd.read_csv(sub / task.spec.name / "predictions.csv", dtype={"item_id": str}).set_index("item_id")
    mem = avbench.evaluate(CLS, df)
    disk = avbench.score(sub, workers=1, progress=False)[0]
    assert _stats(mem) == _stats(disk)


def test_evaluate_reports_every_problem(mini):
    task = avbench.get_task(SEP)
    a, b, c = task.items[:3]
    n = a.clips[0].end - a.clips[0].start
    est = {i.id: {} for i in task.items}
    est[a.id] = {task.spec.slots[0]: np.full(n, np.nan)}
    est[b.id] = {"kazoo": np.zeros(n)}
    est[c.id] = {task.spec.slots[0]: np.zeros(n - 1)}
    est["not-an-item"] = {}
    del est[task.items[3].id]
    with pytest.raises(SubmissionError) as ei:
        avbench.evaluate(task, est)
    assert {p.code for p in ei.value.problems} == {"AVB424", "AVB413", "AVB422", "AVB411", "AVB410"}
    assert any(p.path == f"estimates[{a.id!r}][{task.spec.slots[0]!r}]" for p in ei.value.problems)


def test_submission_writer_round_trip(mini, tmp_path):
    task = avbench.get_task(SEP)
    est = {}
    with avbench.SubmissionWriter(tmp_path / "w", name="toy", model="equal shares", authors=["me"]) as w:
        w.add_task(task, inputs=["mixture", "labels"])
        for item in task.items:
            mix, present = task.mixture(item), task.labels(item)
            est[item.id] = {s: (mix / len(present)).astype(np.float32) for s in present}
            w.write_estimates(task, item.id, est[item.id])
    disk = avbench.score(avbench.validate(tmp_path / "w"), workers=1, progress=False)[0]
    assert _stats(avbench.evaluate(task, est)) == _stats(disk)


def test_readme_example_runs(mini2, capsys):
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- README example: tests/test_api.py runs this block -->\n```python\n(.*?)```", text, re.S)
    code = block.group(1)
    assert len(code.strip().splitlines()) <= 10
    exec(compile(code, "README example", "exec"), {})
    out = capsys.readouterr().out
    assert re.fullmatch(r"sdr = -?\d+\.\d\d dB over \d+ sources\n", out), out


def test_publish_is_the_library_call_behind_update_leaderboard(oracle_subs, tmp_path, monkeypatch):
    """``avbench.publish`` adds a scored result to its board: the entry holds the result's
    scores, a second publish of the same outputs rewrites nothing, and without a folder the
    board starts in AVBENCH_HOME from the published rows (counted here from the checkout)."""
    import json
    import shutil

    from avbench import leaderboard as lb

    sub_dir = shutil.copytree(oracle_subs[("synth-ensembles-separation", "oracle-ibm")], tmp_path / "sub")
    sub = avbench.validate(sub_dir)
    (r,) = avbench.score(sub, workers=1, progress=False)
    pub = avbench.publish(r, sub, tmp_path / "lb")
    assert pub.status == "updated" and pub.seeded == 0 and pub.markdown.is_file()
    raw = json.loads((pub.board / "entries" / "oracle-ibm.json").read_text())
    assert raw["scores"]["sdr"]["mean"] == r.scores["sdr"].mean and raw["name"] == r.submission
    files = {p.name: p.read_bytes() for p in pub.board.rglob("*") if p.is_file()}
    again = avbench.publish(r, sub, tmp_path / "lb")
    assert again.status == "unchanged"
    assert {p.name: p.read_bytes() for p in pub.board.rglob("*") if p.is_file()} == files
    # the default folder: AVBENCH_HOME/leaderboards, started from the published board
    home = tmp_path / "home"
    monkeypatch.setenv("AVBENCH_HOME", str(home))
    published = Path(__file__).resolve().parents[1] / "leaderboards" / r.task / r.version / "entries"
    n_published = len(list(published.glob("*.json")))
    pub = avbench.publish(r, sub)
    assert pub.board == home / "leaderboards" / r.task / r.version
    assert pub.seeded == n_published > 0
    names = {p.stem for p in (pub.board / "entries").glob("*.json")}
    assert "oracle-ibm" in names and len(names) >= n_published
    assert lb.verify(home / "leaderboards")[0] == []
    assert "publish" in avbench.__all__ and avbench.publish is lb.publish
