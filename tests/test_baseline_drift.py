"""Published numbers cannot move unnoticed: the committed 1-mini oracle entries are
re-scored from scratch and compared with a tolerance of 1e-6."""
import shutil
from pathlib import Path

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
