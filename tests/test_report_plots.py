"""The task plots: one box per model (a model's seeds folded into its per-item seed means),
oracles apart, every whisker on the axis, points shown under small boxes, and a plot that
sits at the floor says so."""
import numpy as np
import pandas as pd
import pytest

from avbench import report


def _frame(values, works=None):
    n = len(values)
    return pd.DataFrame({"item": [f"i{k}" for k in range(n)], "slot": "violin",
                         "group": works or [f"w{k % 5}" for k in range(n)], "sdr": values})


@pytest.fixture
def figures(monkeypatch):
    got = []
    monkeypatch.setattr(report, "_save", lambda fig, out, name: got.append((name, fig)) or [])
    return got


def test_seeds_fold_into_one_box_of_seed_means(tmp_path, figures):
    rng = np.random.default_rng(0)
    base = rng.normal(0, 1, 20)
    frames = {"m": _frame(base + 1), "m.s1": _frame(base + 2), "m.s2": _frame(base + 6),
              "other": _frame(base), "oracle-x": _frame(base + 10)}
    seeds = {"m": ["m", "m.s1", "m.s2"], "other": ["other"], "oracle-x": ["oracle-x"]}
    report.task_report(frames, "sdr", tmp_path, "t", {"m": "mixture", "other": "mixture", "oracle-x": "oracle"},
                       seeds, {"oracle-x"})
    table = pd.read_csv(tmp_path / "by_conditioning.csv").set_index("submission")
    assert sorted(table.index) == ["m", "oracle-x", "other"]
    assert table.loc["m", "seeds"] == 3 and table.loc["m", "count"] == 20  # 20 items, not 60
    assert table.loc["m", "mean"] == pytest.approx(base.mean() + 3.0)  # (1 + 2 + 6) / 3
    name, fig = figures[0]
    labels = [t.get_text().split("\n")[0] for t in fig.axes[0].get_xticklabels()]
    assert labels == ["m", "other", "oracle-x"]  # ranked models first, the oracle after them
    _, per_conditioning = figures[1]
    ticks = [t.get_text() for t in per_conditioning.axes[0].get_xticklabels()]
    assert ticks == ["mixture\nn=2", "oracle\nn=1"]  # one value per model


def test_every_whisker_is_on_the_axis_and_far_values_are_counted(tmp_path, figures):
    # 200 values near 0, a whisker-range spread of 30, and two values far beyond it
    v = np.concatenate([np.linspace(-15, 15, 200), [400.0, 500.0]])
    report._box(_frame(v), "sdr", "slot", ["violin"], "t", "SDR", tmp_path, "x")
    ax = figures[0][1].axes[0]
    lo, hi = ax.get_ylim()
    assert lo <= -15 and hi >= 15 and hi < 400
    notes = [t.get_text() for t in ax.texts]
    assert any("2 value(s) beyond the axis" in t for t in notes)


def test_small_boxes_show_their_points_and_a_floor_plot_says_so(tmp_path, figures):
    report._box(_frame([-80.0, -80.0, -80.0], ["a", "b", "c"]), "sdr", "slot", ["violin"], "t", "SDR", tmp_path, "x",
                floor=-80.0)
    ax = figures[0][1].axes[0]
    pts = [ln for ln in ax.lines if ln.get_marker() == "." and len(ln.get_xdata()) == 3]
    assert pts, "three values: each is drawn as a point"
    assert any("every value is at the floor (-80)" in t.get_text() for t in ax.texts)
