"""Entry names of the baselines' rows: a config other than the reference one is part of
the name, so its rows sit beside the reference rows and never replace them."""
import json
import subprocess
import sys

import pandas as pd
import pytest

from baselines import claims as cl
from baselines.names import DEFAULT_CONFIG, OTHER_CONFIGS, entry_config, parse_entry, seed_entry


@pytest.mark.parametrize("entry,parsed", [
    ("unet", ("unet", None, 0)),
    ("unet.s2", ("unet", None, 2)),
    ("unet.paper", ("unet", "paper", 0)),
    ("unet.paper.s1", ("unet", "paper", 1)),
    ("mm-video-f10.s1", ("mm-video-f10", None, 1)),
    ("exp-wave-u-net.paper.s12", ("exp-wave-u-net", "paper", 12)),
    ("unet.small", ("unet", "small", 0)),  # a config may start with "s"
])
def test_entry_names_by_hand(entry, parsed):
    assert parse_entry(entry) == parsed
    name, config, seed = parsed
    assert seed_entry(name, seed, config) == entry


def test_the_reference_config_carries_no_name_and_bad_names_are_refused():
    assert seed_entry("unet", 0, DEFAULT_CONFIG) == "unet"
    assert seed_entry("unet", 1, DEFAULT_CONFIG) == "unet.s1"
    for bad in ("unet.s1.s2", "unet.paper.cpu", ".s1", "unet..s1", "Unet.Paper"):
        with pytest.raises(ValueError, match="not a baseline entry name"):
            parse_entry(bad)


def test_entry_config_prefers_the_name_then_the_argument_then_the_environment(monkeypatch):
    monkeypatch.setenv("AVBENCH_X_CONFIG", "tiny")
    assert entry_config("unet.paper.s2", "AVBENCH_X_CONFIG") == ("unet", "paper", 2)
    assert entry_config("unet.s2", "AVBENCH_X_CONFIG") == ("unet", "tiny", 2)
    assert entry_config("unet.s2", "AVBENCH_X_CONFIG", "paper") == ("unet", "paper", 2)
    monkeypatch.delenv("AVBENCH_X_CONFIG")
    assert entry_config("unet", "AVBENCH_X_CONFIG") == ("unet", DEFAULT_CONFIG, 0)
    with pytest.raises(ValueError, match="names config 'paper', not 'cpu'"):
        entry_config("unet.paper", "AVBENCH_X_CONFIG", "cpu")


def test_the_scripts_name_entries_as_the_registry_does():
    def name(*args):
        return subprocess.run([sys.executable, "-m", "baselines.names", *args], check=True, capture_output=True,
                              text=True).stdout.strip()

    assert name("unet", "0", "cpu") == "unet"
    assert name("unet", "2", "cpu") == "unet.s2"
    assert name("unet", "0", "paper") == "unet.paper"
    assert name("cexp-wave-u-net", "1", "paper") == "cexp-wave-u-net.paper.s1"
    assert subprocess.run([sys.executable, "-m", "baselines.names", "unet"], capture_output=True).returncode == 2


def test_every_trained_baseline_has_config_rows_that_collide_with_no_reference_row():
    import baselines

    reg = baselines.registry()
    for c in OTHER_CONFIGS:
        own = [e for e in reg if parse_entry(e)[1] == c]
        ref = [e for e in reg if parse_entry(e)[1] is None]
        assert own and not set(own) & set(ref)
        for e in own:  # each one is the reference entry of the same name and seed, with the config named
            n, _, k = parse_entry(e)
            assert seed_entry(n, k) in reg
    for n in ("unet", "mhunet-ratio", "sound-of-pixels", "object-prior", "exp-wave-u-net", "mm-av"):
        assert {seed_entry(n, k, c) for k in (0, 1, 2) for c in (None, "paper")} <= set(reg)


def _entry(board, name, sdr):
    board.mkdir(parents=True, exist_ok=True)
    (board / f"{name}.json").write_text(json.dumps({"n_parameters": 10, "inputs": ["mixture"],
                                                    "scores": {"sdr": {"mean": sdr}}}))
    pd.DataFrame({"item": ["a"], "slot": ["violin"], "group": ["w"], "sdr": [sdr]}).to_parquet(
        board / f"{name}.scores.parquet")


def test_config_rows_sit_beside_the_reference_rows(tmp_path):
    board = tmp_path / "synth-ensembles-separation" / "3" / "entries"
    for name, sdr in [("unet", 1.0), ("unet.s1", 3.0), ("unet.paper", 7.0), ("other", 2.0)]:
        _entry(board, name, sdr)
    task = "synth-ensembles-separation@3"
    rows = dict(cl.config_rows(tmp_path, task, "unet"))
    assert sorted(rows) == ["unet", "unet.paper"]
    assert [n for n, _, _ in rows["unet"]] == ["unet", "unet.s1"]  # the paper row is no seed of the reference
    assert [n for n, _, _ in rows["unet.paper"]] == ["unet.paper"]
    assert [n for n, _ in cl.config_rows(tmp_path, task, "other")] == ["other"]
    table = cl.seed_table(tmp_path, task, ["unet", "missing"], ["sdr"])
    assert "| `unet` | 2 | 10 | 2.00 [1.00, 3.00] |" in table
    assert "| `unet.paper` | 1 | 10 | 7.00 [7.00, 7.00] |" in table
    assert "| `missing` | 0 | – | not run |" in table
