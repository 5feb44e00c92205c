"""Contrast claims ("a degrades less than b from 2 to 4 sources"), against values computed
by hand."""
import json

import numpy as np
import pandas as pd
import pytest

from baselines import claims as cl


def _frame(rows):
    return pd.DataFrame(rows, columns=["item", "slot", "group", "n_sources", "sdr"])


# two 2-source works (w1, w2) and two 4-source works (w3, w4); b is a minus a known offset
A = _frame([("i1", "violin", "w1", 2, 10.0), ("i2", "violin", "w1", 2, 8.0), ("i3", "cello", "w2", 2, 6.0),
            ("i4", "violin", "w3", 4, 1.0), ("i5", "cello", "w4", 4, 3.0), ("i6", "flute", "w4", 4, np.nan)])
B = _frame([("i1", "violin", "w1", 2, 9.0), ("i2", "violin", "w1", 2, 7.0), ("i3", "cello", "w2", 2, 4.0),
            ("i4", "violin", "w3", 4, -4.0), ("i5", "cello", "w4", 4, -3.0), ("i6", "flute", "w4", 4, 0.0)])


def test_contrast_by_hand():
    r = cl.contrast_frames(A, B, "sdr", {"n_sources": [2, 4]}, n_boot=200)
    # a: 2-source mean 8, 4-source mean 2 (i6 is not finite in a: left out of both) -> change -6
    # b: 2-source mean 20/3, 4-source mean -3.5 -> change -61/6
    assert r["mean_a"] == pytest.approx(-6.0)
    assert r["mean_b"] == pytest.approx(-3.5 - 20 / 3)
    # a - b: 1, 1, 2 on 2 sources (mean 4/3), 5, 6 on 4 sources (mean 5.5)
    assert r["bootstrap"]["diff"] == pytest.approx(5.5 - 4 / 3)
    assert r["bootstrap"]["diff"] == pytest.approx(r["mean_a"] - r["mean_b"])
    # per-work means 1, 2 (2 sources) against 5, 6 (4 sources): completely separated, so the
    # exact two-sided Mann-Whitney p is 2 / C(4, 2)
    assert r["test"]["p_value"] == pytest.approx(2 / 6)
    assert r["n"] == 5 and r["n_works"] == 4
    lo, hi = r["bootstrap"]["low"], r["bootstrap"]["high"]
    # every resample of the works gives 2-source means in [1, 2] and 4-source means in [5, 6]
    assert 3 <= lo <= r["bootstrap"]["diff"] <= hi <= 5


def test_contrast_refuses_works_in_both_sets_and_a_missing_set():
    shared = A.assign(group=["w1", "w1", "w2", "w1", "w4", "w4"])
    with pytest.raises(ValueError, match="needs disjoint works"):
        cl.contrast_frames(shared, B, "sdr", {"n_sources": [2, 4]})
    with pytest.raises(ValueError, match="needs both"):
        cl.contrast_frames(A, B, "sdr", {"n_sources": [2, 5]})


def test_contrast_claims_on_a_board_flip_when_swapped(tmp_path):
    board = tmp_path / "synth-ensembles-separation" / "3" / "entries"
    board.mkdir(parents=True)
    for name, f in [("a", A), ("b", B)]:
        (board / f"{name}.json").write_text(json.dumps({"n_parameters": 1, "inputs": ["mixture"],
                                                        "scores": {"sdr": {"mean": 0.0}}}))
        f.to_parquet(board / f"{name}.scores.parquet")
    claim = {"claim": "a degrades more", "a": "b", "b": "a", "metric": "sdr", "direction": "greater",
             "contrast": {"n_sources": [2, 4]}, "paper": {"table": "5.2", "rows": "x", "a": -1, "b": -2}}
    e = cl.evaluate(tmp_path, "synth-ensembles-separation@3", claim)
    assert e["r"]["bootstrap"]["diff"] == pytest.approx(4 / 3 - 5.5)
    # the wrong direction, but p = 1/3: no evidence either way, so inconclusive (not "does not
    # hold", which needs a significant effect the other way)
    assert e["verdict"] == "inconclusive"
    row = cl.table(tmp_path, "synth-ensembles-separation@3", [claim])
    assert "the change from items with n_sources = 2 to n_sources = 4" in row and "works resampled within each set" in row
