"""Leaderboard updates lose nothing and accept no hand edits; verify recomputes every claim."""
import json
import shutil
from pathlib import Path

import pytest

from avbench.testing import checklist as ck
from avbench import leaderboard as lb
from avbench.cli import main
from avbench.errors import LeaderboardError
from avbench.results import Stat
from avbench.scoring import score, scores_path
from avbench.submission import validate
from avbench.tasks import get_task


@pytest.fixture(scope="module")
def board(mini, tmp_path_factory):
    """A classification board with one scored, kept submission."""
    wd = tmp_path_factory.mktemp("safety")
    t = get_task(ck.CLS_TASK)
    sub = ck.base(wd / "sub", t)
    r = score(sub, workers=1, progress=False)[0]
    entry = lb.entry_from(r, validate(sub).meta)
    root = wd / "lb"
    d = lb.add_entry(root, entry, scores_path(sub, f"{r.task}@{r.version}"))
    return {"sub": sub, "root": root, "d": d, "entry": entry}


def fresh(board, tmp_path) -> tuple[Path, Path]:
    root = tmp_path / "lb"
    shutil.copytree(board["root"], root)
    return root, lb.board_dir(root, board["entry"].task, board["entry"].version)


def snapshot(d: Path) -> dict:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in d.rglob("*") if p.is_file() and p.name != ".lock"}


def test_null_main_score_is_stored_as_null_and_ranked_last(board, tmp_path):
    root, d = fresh(board, tmp_path)
    e = board["entry"]
    empty = {m: Stat(n=0) for m in e.scores}
    lb.add_entry(root, e.model_copy(update={"name": "aaa-null", "scores": empty}))
    lb.add_entry(root, e.model_copy(update={"name": "zzz-scored"}))
    raw = json.loads((d / "entries" / "aaa-null.json").read_text())
    assert raw["scores"]["hit@1"]["mean"] is None  # explicit null, never NaN
    rows = json.loads((d / "leaderboard.json").read_text())["rows"]
    ranked = [r["name"] for r in rows if r["rank"] is not None]
    assert ranked[-1] == "aaa-null" and rows[-1]["scores"]["hit@1"]["mean"] is None


def test_hand_edited_board_is_refused_and_untouched(board, tmp_path):
    root, d = fresh(board, tmp_path)
    md = d / "leaderboard.md"
    md.write_text(md.read_text().replace("| 1 |", "| 1 (best!) |"))
    before = snapshot(d)
    with pytest.raises(LeaderboardError, match="edited by hand") as ei:
        lb.add_entry(root, board["entry"].model_copy(update={"name": "newcomer"}))
    assert ei.value.code == "AVB501" and snapshot(d) == before
    assert main(["leaderboard", "build", "--leaderboards", str(root)]) == 2 and snapshot(d) == before
    assert main(["leaderboard", "build", "--leaderboards", str(root), "--adopt", "--quiet"]) == 0
    assert "(best!)" not in md.read_text()  # rebuilt from the entries, now listed in SHA256SUMS


def test_schema_invalid_entry_is_refused_and_untouched(board, tmp_path):
    root, d = fresh(board, tmp_path)
    p = d / "entries" / f"{board['entry'].name}.json"
    raw = json.loads(p.read_text())
    raw["scores"]["hit@1"]["mean"] = "high"
    p.write_text(json.dumps(raw))
    before = snapshot(d)
    with pytest.raises(LeaderboardError):
        lb.build(root, adopt=True)  # even when the hand edit is adopted, the schema is not
    assert snapshot(d) == before


def test_orphans_are_swept_and_rescoring_is_byte_identical(board, tmp_path):
    root, d = fresh(board, tmp_path)
    before = snapshot(d)
    for orphan in (d / ".leaderboard.md.99-dead.tmp", d / "entries" / ".x.json.99-dead.bak"):
        orphan.write_text("left by a killed scorer")
    later = board["entry"].provenance.model_copy(update={"date": "2099-01-01T00:00:00+00:00"})
    lb.add_entry(root, board["entry"].model_copy(update={"provenance": later}),
                 scores_path(board["sub"], f"{board['entry'].task}@{board['entry'].version}"))
    assert snapshot(d) == before  # same scores: the first date is kept, no byte changes, orphans gone


def test_sums_cover_every_file(board):
    sums = lb.read_sums(board["d"])
    assert set(sums) == set(lb.board_files(board["d"])) and lb.integrity_problems(board["d"]) == []
    assert all(r.startswith(("entries/", "leaderboard.")) for r in sums)


def test_verify_cli(board, tmp_path, capsys):
    root, d = fresh(board, tmp_path)
    sub = tmp_path / "sub"
    shutil.copytree(board["sub"], sub)
    assert main(["leaderboard", "verify", "--leaderboards", str(root), "--submissions", str(sub), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verified"] and out["submissions_checked"] == 1 and out["files_hashed"] == 2
    assert out["scores_recomputed"] == 4  # hit@1, hit@3 and both F1 scores from the per-item parquet
    csv = sub / ck.CLS_TASK.split("@")[0] / "predictions.csv"
    csv.write_bytes(csv.read_bytes().replace(b"0.076923", b"0.076924", 1))
    assert main(["leaderboard", "verify", "--leaderboards", str(root), "--submissions", str(sub)]) == 2
    assert "changed since it was scored" in capsys.readouterr().err
    # an entry whose number was edited together with SHA256SUMS: the per-item scores disagree
    p = d / "entries" / f"{board['entry'].name}.json"
    raw = json.loads(p.read_text())
    raw["scores"]["hit@1"]["mean"] = 0.99
    p.write_text(json.dumps(raw, indent=2, sort_keys=True) + "\n")
    assert main(["leaderboard", "build", "--leaderboards", str(root), "--adopt", "--quiet"]) == 0
    probs, _ = lb.verify(root)
    assert any("hit@1 is not what its per-item scores give" in p for p in probs)


def test_committed_leaderboards_verify():
    root = Path(__file__).resolve().parents[2] / "leaderboards"
    probs, fig = lb.verify(root)
    assert probs == [] and fig["boards"] >= 6 and fig["scores_recomputed"] > 100


def test_content_hash_is_the_published_definition(tmp_path):
    """sha256 over (path, bytes) in path order, as every committed entry records it."""
    import hashlib

    from avbench.submission import content_sha256

    for rel, data in [("submission.yaml", b"name: x\n"), ("t/a-c/x.wav", b"1"), ("t/a/b.wav", b"2"),
                      ("t/a.b/c.wav", b"3"), ("results/t@1/summary.json", b"ignored")]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    h = hashlib.sha256()
    for rel in ["submission.yaml", "t/a/b.wav", "t/a-c/x.wav", "t/a.b/c.wav"]:  # Path order: folder by folder
        h.update(rel.encode() + b"\0" + (tmp_path / rel).read_bytes() + b"\0")
    assert content_sha256(tmp_path) == h.hexdigest()


def test_the_write_hook_injects_a_fault_at_any_step_and_is_removed_after(tmp_path):
    """The public fault-injection hook: every write step passes through the wrapper; a
    failure at step k leaves the old files intact (and no temporary file); outside the
    block the plain primitives are back."""
    import errno
    import os

    from avbench import files
    from avbench.errors import WriteError

    class Fail:
        def __init__(self, inner, at):
            self.inner, self.at, self.steps = inner, at, []

        def __getattr__(self, name):
            def step(*a):
                self.steps.append(name)
                if len(self.steps) - 1 == self.at:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                return getattr(self.inner, name)(*a)
            return step

    d = tmp_path / "board"
    d.mkdir()
    files.commit(d, {"a.txt": b"old a", "b.txt": b"old b"})
    with files.write_hook(lambda ops: Fail(ops, None)) as probe:
        files.commit(d, {"a.txt": b"new a", "b.txt": b"new b"})
    n = len(probe.steps)
    assert n >= 8 and {"write", "link", "replace", "unlink", "fsync_dir"} <= set(probe.steps)
    files.commit(d, {"a.txt": b"old a", "b.txt": b"old b"})
    for k in range(n):
        with files.write_hook(lambda ops: Fail(ops, k)):
            with pytest.raises(WriteError, match="previous files are intact"):
                files.commit(d, {"a.txt": b"new a", "b.txt": b"new b"})
        assert (d / "a.txt").read_bytes() == b"old a" and (d / "b.txt").read_bytes() == b"old b", k
        assert sorted(p.name for p in d.iterdir()) == ["a.txt", "b.txt"], k
    assert type(files._ops) is files.Ops  # the hook is gone
    files.commit(d, {"a.txt": b"new a"})
    assert (d / "a.txt").read_bytes() == b"new a"


# --- links under a board root (task or version folder, lock): refused with AVB503 by score,
# build and verify; nothing is written where the link points (git stores links, so a change
# to leaderboards/ could set this up for CI)


def _linked(board, tmp_path, where: str) -> tuple[Path, Path]:
    """A copy of the board whose ``where`` (task | version | lock) is a link to a folder outside."""
    root = tmp_path / "lb"
    shutil.copytree(board["root"], root)
    e = board["entry"]
    d = lb.board_dir(root, e.task, e.version)
    outside = tmp_path / "outside"
    if where == "task":
        shutil.move(str(d.parent), outside)
        d.parent.symlink_to(outside, target_is_directory=True)
    elif where == "version":
        shutil.move(str(d), outside)
        d.symlink_to(outside, target_is_directory=True)
    else:
        outside.mkdir()
        (d / ".lock").unlink(missing_ok=True)
        (d / ".lock").symlink_to(outside / "victim")
    return root, outside


@pytest.mark.parametrize("where", ["task", "version", "lock"])
def test_links_under_a_board_root_are_refused_by_build_add_and_verify(board, tmp_path, where, capsys):
    root, outside = _linked(board, tmp_path, where)
    before = sorted(p.relative_to(outside).as_posix() for p in outside.rglob("*")) if outside.is_dir() else []
    with pytest.raises(LeaderboardError) as ex:
        lb.add_entry(root, board["entry"], replace=True)
    assert ex.value.code == "AVB503" and "symbolic link" in str(ex.value)
    for argv in (["leaderboard", "build", "--leaderboards", str(root)],
                 ["leaderboard", "verify", "--leaderboards", str(root)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "AVB503" in err and "Traceback" not in err
    after = sorted(p.relative_to(outside).as_posix() for p in outside.rglob("*")) if outside.is_dir() else []
    assert after == before  # nothing was written through the link
