"""The convergence gate (docs/protocol.md): a non-oracle separation row that silences more
than 5% of its sounding sources, or whose mean SDRi is below 0 dB, is marked *not
converged* on every rendering of the board."""
import json
from pathlib import Path

import pytest

from avbench.leaderboard.entry import Entry
from avbench.leaderboard.ranking import gate_of, not_converged, ranked
from avbench.leaderboard.render import render_csv, render_json, render_markdown

BOARD = Path(__file__).resolve().parents[1] / "leaderboards" / "synth-ensembles-separation" / "3" / "entries"
TASK = "synth-ensembles-separation"


def _entry(name: str, sounding: int, silenced: int, sdri: float, oracle: bool = False) -> Entry:
    d = json.loads((BOARD / "informed-nmf.json").read_text())
    d.update(name=name, oracle=oracle)
    d["counts"] = {**d["counts"], "sdr": sounding - silenced, "eps": silenced}
    d["scores"]["sdri"]["mean"] = sdri
    return Entry.model_validate(d)


def test_the_gate_is_task_metadata():
    assert gate_of(TASK) == {"max_silenced": 0.05, "min_sdri": 0.0}
    assert gate_of("synth-ensembles-mix2") == {"max_silenced": 0.05, "min_sdri": 0.0}
    assert gate_of("synth-ensembles-classification") == {}


@pytest.mark.parametrize("silenced, sdri, marked", [
    (6, 5.0, True),    # 6% of 100 sounding sources silenced
    (5, 5.0, False),   # 5%: at the gate, inside it
    (0, -0.01, True),  # below the mixture
    (0, 0.0, False),
])
def test_a_row_outside_the_gate_is_marked(silenced, sdri, marked):
    e = _entry("model-x", 100, silenced, sdri)
    assert (not_converged(e, gate_of(TASK)) is not None) == marked


def test_an_oracle_row_is_never_gated():
    assert not_converged(_entry("oracle-x", 100, 50, -5.0, oracle=True), gate_of(TASK)) is None


def test_the_mark_shows_in_markdown_json_and_csv():
    board = ranked(TASK, "3", [_entry("good", 100, 0, 4.0), _entry("silencer", 100, 6, 4.0)])
    assert list(board.gated) == ["silencer"] and "6.0%" in board.gated["silencer"]
    md = render_markdown(board)
    assert "silencer (not converged)" in md and "good (not converged)" not in md
    assert "convergence gate" in md
    rows = {r["name"]: r for r in json.loads(render_json(board))["rows"]}
    assert rows["silencer"]["converged"] is False and "silences 6.0%" in rows["silencer"]["not_converged"]
    assert rows["good"]["converged"] is True and rows["good"]["not_converged"] is None
    csv = render_csv(board).splitlines()
    line = next(x for x in csv if x.split(",")[1] == "silencer")
    assert line.endswith("not-converged")
    assert not next(x for x in csv if x.split(",")[1] == "good").endswith("not-converged")
