"""One board row per model (avbench.leaderboard.seeds): a model's seed entries fold into one
ranked row whose numbers are the seed means, whose interval resamples seeds and works, and
whose spread and per-seed counts are columns of their own; each seed stays an entry."""
import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from avbench.leaderboard.entry import Entry
from avbench.leaderboard.ranking import ranked
from avbench.leaderboard.render import render_csv, render_json, render_markdown
from avbench.leaderboard.seeds import groups, seed_of, seed_work_difference_p, seed_work_interval

BOARD = Path(__file__).resolve().parents[1] / "leaderboards" / "synth-ensembles-separation" / "3" / "entries"
TASK = "synth-ensembles-separation"


def _entry(name: str, sdr: float, silenced: int = 0, model: str | None = None, sdri: float = 4.0) -> Entry:
    d = json.loads((BOARD / "informed-nmf.json").read_text())
    d.update(name=name)
    if model is not None:
        d["model"] = model
    d["scores"]["sdr"]["mean"] = sdr
    d["scores"]["sdri"]["mean"] = sdri
    d["counts"] = {**d["counts"], "sdr": 100 - silenced, "eps": silenced}
    return Entry.model_validate(d)


def _frame(values_by_work: dict[str, list[float]], metric: str = "sdr") -> pd.DataFrame:
    rows = [{"item": f"{w}-{i}", "slot": "violin", "group": w, metric: v}
            for w, vs in values_by_work.items() for i, v in enumerate(vs)]
    return pd.DataFrame(rows)


def test_seed_names():
    assert seed_of("unet") == ("unet", 0)
    assert seed_of("unet.s2") == ("unet", 2)
    assert seed_of("unet.paper.s1") == ("unet.paper", 1)
    assert seed_of("v1.5") == ("v1.5", 0)


def test_a_models_seeds_make_one_row_of_seed_means():
    es = [_entry("m", 1.0, 0), _entry("m.s1", 2.0, 1), _entry("m.s2", 6.0, 0), _entry("other", 2.5)]
    board = ranked(TASK, "3", es)
    names = [e.name for _, e in board.rows]
    assert names == ["m", "other"]  # m: (1 + 2 + 6) / 3 = 3.0 > 2.5
    row = next(e for _, e in board.rows if e.name == "m")
    assert row.scores["sdr"].mean == pytest.approx(3.0)
    assert board.seeds["m"] == ("m", "m.s1", "m.s2") and board.seeds["other"] == ("other",)
    assert [e.name for e in board.entries] == ["m", "m.s1", "m.s2", "other"]  # every entry stays
    md = render_markdown(board)
    line = next(x for x in md.splitlines() if x.startswith("| 1 | m |"))
    assert "| 3 | 1.00 – 6.00 | 0/1/0 |" in line  # seeds, SDR seed range, silenced per seed
    assert "Seeds: a model trained with several seeds is one row" in md
    rows = {r["name"]: r for r in json.loads(render_json(board))["rows"]}
    assert rows["m"]["seeds"] == ["m", "m.s1", "m.s2"]
    assert rows["m"]["seed_range"] == [1.0, 6.0] and rows["m"]["silenced_by_seed"] == [0, 1, 0]
    assert rows["other"]["seeds"] == ["other"] and rows["other"]["seed_range"] is None
    m = next(r for r in csv.DictReader(io.StringIO(render_csv(board))) if r["submission"] == "m")
    assert m["seeds"] == "3" and m["sdr_seed_min"] == "1.0" and m["sdr_seed_max"] == "6.0"
    assert m["silenced_by_seed"] == "0/1/0"


def test_unfolded_the_board_lists_every_seed():
    es = [_entry("m", 1.0), _entry("m.s1", 2.0), _entry("m.s2", 6.0)]
    board = ranked(TASK, "3", es, fold=False)
    assert [e.name for _, e in board.rows] == ["m.s2", "m.s1", "m"]
    assert not board.folded and "| Seeds |" not in render_markdown(board)


def test_a_row_is_outside_the_gate_when_any_seed_is():
    es = [_entry("m", 5.0), _entry("m.s1", 5.0, silenced=6), _entry("m.s2", 5.0)]
    board = ranked(TASK, "3", es)
    assert list(board.gated) == ["m"] and "seed entry m.s1: silences 6.0%" in board.gated["m"]


def test_entries_that_differ_do_not_fold():
    """A seed entry whose model differs from its siblings' (e.g. a submission named like a
    baseline's seed) stands as a row of its own; a lone seed entry is a one-seed row."""
    es = [_entry("m", 1.0), _entry("m.s1", 2.0), _entry("m.s3", 50.0, model="something else"),
          _entry("solo.s1", 3.0)]
    gs = [[e.name for e in g] for g in groups(es)]
    assert gs == [["m", "m.s1"], ["m.s3"], ["solo.s1"]]
    board = ranked(TASK, "3", es)
    assert [e.name for _, e in board.rows] == ["m.s3", "solo.s1", "m"]


def _naive_work_bootstrap(frame: pd.DataFrame, rng, n_boot: int):
    """The entries' statistic on explicit resamples: the works drawn with replacement, the
    mean over the drawn works' items."""
    works = sorted(frame["group"].unique())
    vals = {w: frame.loc[frame["group"] == w, "sdr"].to_numpy() for w in works}
    out = []
    for _ in range(n_boot):
        pick = rng.integers(0, len(works), len(works))
        out.append(np.concatenate([vals[works[k]] for k in pick]).mean())
    return np.quantile(out, [0.025, 0.975])


def test_identical_seeds_give_the_work_bootstrap_interval():
    rng = np.random.default_rng(5)
    f = _frame({f"w{k}": list(rng.normal(k % 4, 1.0, 1 + k % 3)) for k in range(30)})
    lo, hi, n = seed_work_interval([f, f, f], "sdr", n_boot=4000)
    nlo, nhi = _naive_work_bootstrap(f, np.random.default_rng(1), 4000)
    assert n == 30
    assert lo == pytest.approx(nlo, abs=0.08) and hi == pytest.approx(nhi, abs=0.08)


def test_seed_variance_enters_the_interval():
    """Works all alike, seeds offset by -d, 0, +d: the only variance is the seeds'. The mean
    of three seeds drawn with replacement is -d with probability 1/27 > 2.5% (and +d alike),
    so the 95% interval is [c - d, c + d] exactly, where a work bootstrap gives [c, c]."""
    c, d = 2.0, 3.0
    fs = [_frame({f"w{k}": [c + off, c + off] for k in range(20)}) for off in (-d, 0.0, d)]
    lo, hi, _ = seed_work_interval(fs, "sdr")
    assert lo == pytest.approx(c - d) and hi == pytest.approx(c + d)


def test_a_difference_one_seed_makes_is_not_significant_against_the_top():
    """Model b's seeds sit at +3, -3 and +0.3 dB from the top row on every item: its per-item
    seed means are above the top everywhere (a paired test on them alone is significant), but
    with the seeds resampled the difference is as often negative as positive."""
    rng = np.random.default_rng(0)
    base = {f"w{k}": list(rng.normal(0, 1, 3)) for k in range(20)}
    top = _frame(base)
    b = [_frame({w: [v + off for v in vs] for w, vs in base.items()}) for off in (3.0, -3.0, 0.3)]
    p = seed_work_difference_p(b, [top], "sdr")
    assert p > 0.3
    same = [_frame({w: [v + 1.0 for v in vs] for w, vs in base.items()}) for _ in range(3)]
    assert seed_work_difference_p(same, [top], "sdr") < 0.001  # +1 dB in every seed: significant


def test_show_seeds_prints_every_seed_entry(tmp_path, capsys):
    from avbench.cli import main

    d = tmp_path / "lb" / TASK / "3" / "entries"
    d.mkdir(parents=True)
    for n in ("unet", "unet.s1", "unet.s2", "informed-nmf"):
        for suffix in (".json", ".scores.parquet"):
            (d / f"{n}{suffix}").write_bytes((BOARD / f"{n}{suffix}").read_bytes())
    lb = ["--leaderboards", str(tmp_path / "lb")]
    assert main(["leaderboard", "build", *lb, "--adopt", "--quiet"]) == 0
    capsys.readouterr()

    def names(argv):
        assert main(argv) == 0
        out = capsys.readouterr().out
        return [x.split(" | ")[1].split(" ")[0] for x in out.splitlines()
                if x.startswith("| ") and not x.startswith("| Rank")]

    assert names(["leaderboard", "show", f"{TASK}@3", "--wide", *lb]) == ["informed-nmf", "unet"]
    assert sorted(names(["leaderboard", "show", f"{TASK}@3", "--wide", "--seeds", *lb])) == [
        "informed-nmf", "unet", "unet.s1", "unet.s2"]
    assert main(["leaderboard", "verify", *lb]) == 0
    capsys.readouterr()
    # the default view is compact: one short line per row, the folded row's seeds in it
    assert main(["leaderboard", "show", f"{TASK}@3", *lb]) == 0
    out = capsys.readouterr().out.splitlines()
    assert max(len(x) for x in out if not x.startswith("every metric")) < 160
    unet = next(x for x in out if x.split()[1:2] == ["unet"])
    assert " 3 " in unet and "0/0/0" in unet and any("--wide" in x for x in out)

