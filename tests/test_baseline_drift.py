"""Published numbers cannot move unnoticed: the committed 1-mini, 2-mini and 3-mini oracle
entries are re-scored from scratch and compared with a tolerance of 1e-6."""
import shutil
from pathlib import Path

import pytest

from avbench import leaderboard as lb
from avbench.cli import main
from avbench.scoring import score
from avbench.submission import validate

COMMITTED = Path(__file__).resolve().parent.parent / "leaderboards"


def test_committed_mini_baselines_reproduce(oracle_subs, tmp_path, capsys):
    fresh = tmp_path / "fresh"
    for key, src in oracle_subs.items():
        dst = tmp_path / "subs" / src.name
        shutil.copytree(src, dst)
        for r in score(dst, progress=False):
            lb.add_entry(fresh, lb.entry_from(r, validate(dst).meta))
    problems, n = lb.drift(COMMITTED, fresh, 1e-6)
    assert not problems, "\n".join(problems)
    assert n > 100
    assert main(["leaderboard", "check", "--against", str(fresh), "--leaderboards", str(COMMITTED)]) == 0

    # a moved number is caught and named
    e = next(fresh.glob("synth-ensembles-separation/1-mini/entries/oracle-ibm.json"))
    ent = lb.Entry.model_validate_json(e.read_text())
    ent.scores["sdr"] = ent.scores["sdr"].model_copy(update={"mean": ent.scores["sdr"].mean + 0.01})
    e.write_text(ent.model_dump_json())
    capsys.readouterr()
    assert main(["leaderboard", "check", "--against", str(fresh), "--leaderboards", str(COMMITTED)]) == 1
    err = capsys.readouterr().err
    assert "oracle-ibm.json: sdr.mean moved" in err


@pytest.mark.parametrize("version", ["2-mini", "3-mini"])
def test_committed_protocol2_mini_oracles_reproduce(request, mini, tmp_path, version):
    import baselines

    if version == "3-mini":  # data version 2
        request.getfixturevalue("mini2")
    reg = baselines.registry()
    fresh = tmp_path / "fresh"
    for task, names in [(f"synth-ensembles-separation@{version}", ("oracle-ibm", "oracle-irm", "oracle-mixture")),
                        (f"synth-ensembles-mix2@{version}", ("oracle-ibm", "oracle-irm", "oracle-mixture")),
                        (f"synth-ensembles-classification@{version}", ("oracle-label", "oracle-prior"))]:
        for name in names:
            dst = tmp_path / "subs" / f"{task}-{name}"
            reg[name](task, dst, progress=False)
            for r in score(dst, progress=False):
                lb.add_entry(fresh, lb.entry_from(r, validate(dst).meta))
    problems, n = lb.drift(COMMITTED, fresh, 1e-6)
    assert not problems, "\n".join(problems)
    assert n > 100


def test_oracle_drift_script_passes_and_names_a_moved_value(mini, tmp_path, capsys):
    """scripts/oracle_drift.py (which CI runs on the full versions) on the mini ones."""
    import importlib.util

    import pandas as pd

    spec = importlib.util.spec_from_file_location("oracle_drift", COMMITTED.parent / "scripts" / "oracle_drift.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    args = ["--versions", "1-mini", "2-mini", "--sample", "3"]
    assert mod.main(args + ["--leaderboards", str(COMMITTED)]) == 0
    moved = tmp_path / "lb"
    shutil.copytree(COMMITTED, moved)
    f = moved / "synth-ensembles-mix2" / "2-mini" / "entries" / "oracle-irm.scores.parquet"
    df = pd.read_parquet(f)
    df.loc[df["bucket"] == "sdr", "sar"] += 1e-4
    df.to_parquet(f, index=False)
    capsys.readouterr()
    assert mod.main(args + ["--leaderboards", str(moved)]) == 1
    assert "synth-ensembles-mix2@2-mini oracle-irm" in capsys.readouterr().err
