"""The README's first-day path, run as written: the demo, a submission of one's own,
validate, score onto one's own board, show, compare and report."""
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _blocks():
    text = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- first day: tests/test_first_day.py runs this file and the commands below -->\n"
                  r"```python\n(.*?)```\n\n```sh\n(.*?)```", text, re.S)
    assert m, "the README's first-day blocks are missing"
    code, sh = m.groups()
    commands = [line.split("  #")[0].strip() for line in sh.splitlines() if line.strip()]
    return code, commands


def _published_bytes():
    return {p: p.read_bytes() for p in sorted((ROOT / "leaderboards").rglob("*")) if p.is_file()}


def test_readme_first_day_path_runs_as_written(mini, tmp_path):
    code, commands = _blocks()
    first = code.splitlines()[0]
    assert first.startswith("# ") and first[2:].endswith(".py")
    (tmp_path / first[2:]).write_text(code)
    assert [c.split()[:2] for c in commands] == [
        ["avbench", "demo"], ["python", first[2:]], ["avbench", "validate"], ["avbench", "score"],
        ["avbench", "leaderboard"], ["avbench", "compare"], ["avbench", "report"]]
    before = _published_bytes()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    out = {}
    for c in commands:
        p = subprocess.run(shlex.split(c), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, f"{c}\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}"
        assert "Traceback" not in p.stderr, c
        out[c.split()[1]] = p.stdout + p.stderr
    demo = out["demo"]  # the demo's claim: the ideal binary mask 5 dB above the mixture
    for task in ("separation", "mix2", "classification"):
        assert f"synth-ensembles-{task}@3-mini: ranked by mean" in demo
    assert max(len(x) for x in demo.splitlines()) < 160  # a compact view fits a terminal
    rows = {}
    for line in demo.split("synth-ensembles-mix2@3-mini")[0].splitlines():
        cells = line.split()
        if len(cells) > 3 and cells[1] in ("oracle-ibm", "oracle-mixture"):
            rows.setdefault(cells[1], float(cells[2]))
    assert rows["oracle-ibm"] >= rows["oracle-mixture"] + 5
    assert "valid" in out["validate"].lower()
    m = re.search(r"my-model on synth-ensembles-separation@3-mini: mean sdr = (-?\d+\.\d+)", out["score"])
    assert m, out["score"]
    assert "from the published board" in out["score"]  # your board starts with the reference rows
    show = out["leaderboard"]
    # an equal share of the mixture is no better than the mixture: the convergence gate marks it
    row = next(x for x in show.splitlines() if x.split()[1:2] == ["my-model"])
    assert "not converged" in row or float(row.split()[2]) > 0, show
    assert any(x.split()[1:2] == ["oracle-irm"] for x in show.splitlines()), show
    assert "--wide" in show
    assert "Wilcoxon signed-rank" in out["compare"] and "my-model vs oracle-irm" in out["compare"]
    report = tmp_path / "submissions/my-model/results/synth-ensembles-separation@3-mini/report"
    assert sorted(p.suffix for p in report.iterdir()) and any(p.suffix == ".svg" for p in report.iterdir())
    mine = Path(os.environ["AVBENCH_HOME"]) / "leaderboards/synth-ensembles-separation/3-mini/entries"
    assert (mine / "my-model.json").is_file() and (mine / "oracle-irm.json").is_file()
    assert _published_bytes() == before  # the committed boards are never written


def test_seeding_copies_the_published_board_once_and_reading_prefers_yours(tmp_path, monkeypatch):
    from avbench import leaderboard as lb

    monkeypatch.setenv("AVBENCH_HOME", str(tmp_path))
    pub = ROOT / "leaderboards" / "synth-ensembles-mix2" / "3-mini"
    assert lb.reading_board(None, "synth-ensembles-mix2", "3-mini") == pub  # nothing of yours yet
    root = tmp_path / "leaderboards"
    n = lb.seed_from_published(root, "synth-ensembles-mix2", "3-mini")
    assert n == len(list((pub / "entries").glob("*.json"))) > 0
    mine = root / "synth-ensembles-mix2" / "3-mini"
    assert lb.integrity_problems(mine) == []
    assert lb.verify(root)[0] == []
    assert lb.seed_from_published(root, "synth-ensembles-mix2", "3-mini") == 0  # once
    assert lb.seed_from_published(ROOT / "leaderboards", "synth-ensembles-mix2", "3-mini") == 0  # never onto itself
    assert lb.reading_board(None, "synth-ensembles-mix2", "3-mini") == mine
    assert lb.reading_board(tmp_path / "x", "synth-ensembles-mix2", "3-mini") == tmp_path / "x/synth-ensembles-mix2/3-mini"
