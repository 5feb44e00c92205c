"""The command line: data and task listings, leaderboard commands (the demo: tests/test_first_day.py)."""
import json

from avbench.cli import main


def test_data_list_tasks_and_verify(mini, capsys):
    assert main(["data", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    mini_row = next(r for r in rows if r["version"] == "1-mini")
    assert mini_row["state"] == "generated" and sum(mini_row["splits"].values()) > 0
    assert main(["tasks", "--json"]) == 0
    tasks = json.loads(capsys.readouterr().out)
    assert {t["task"] for t in tasks} == {"synth-ensembles-separation", "synth-ensembles-mix2",
                                          "synth-ensembles-classification", "urmp-separation", "music-mix2",
                                          "solos-classification", "fcvid-classification", "yt8m-classification"}
    # real classification tasks have their items without any data; separation tasks need preparing
    by_key = {(t["task"], t["version"]): t for t in tasks}
    assert by_key[("fcvid-classification", "icmr2017")]["n_items"] == 773
    assert by_key[("urmp-separation", "thesis")]["n_items"] is None
    mini_sep = by_key[("synth-ensembles-separation", "1-mini")]
    assert mini_sep["inputs"] == ["mixture", "labels", "frames"] and len(mini_sep["items_sha256"]) == 64
    assert mini_sep["protocol"] == 1 and by_key[("synth-ensembles-separation", "2-mini")]["protocol"] == 2
    assert by_key[("urmp-separation", "thesis-2")]["protocol"] is None  # not pinned yet: no data, no list
    full = by_key[("synth-ensembles-separation", "1")]  # not generated: the pin still names its items
    assert full["data"] == "missing" and full["n_items"] == 212 and len(full["items_sha256"]) == 64
    assert main(["tasks"]) == 0
    assert "items sha256 " in capsys.readouterr().out
    assert main(["data", "verify", "synth-ensembles", "--config", "mini", "--quiet"]) == 0


def test_user_errors_exit_2(mini, tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "AVB401" in err and "nowhere" in err
    assert main(["baseline", "run", "nope", "--task", "synth-ensembles-mix2@1-mini", "--out", str(tmp_path)]) == 2
    assert main(["leaderboard", "show", "synth-ensembles-mix2@7", "--leaderboards", str(tmp_path)]) == 2
    assert main(["data", "generate", "urmp"]) == 2


def test_video_export(mini, tmp_path, capsys):
    from avbench.data import synth as se
    from avbench.video import read_video

    rec = next(r for r in se.read_manifest(mini) if r["kind"] == "ensemble")
    out = tmp_path / "v.mp4"
    assert main(["data", "video", rec["id"], "--out", str(out), "--size", "64", "--quiet"]) == 0
    v = read_video(out)
    k = rec["n_sources"]
    cols, rows = (k, 1) if k <= 3 else (-(-k // 2), 2)
    assert v.shape[:3] == (int(rec["n_samples"] / 11025 * 8), 64 * rows, 64 * cols)


def test_compare_committed_baselines_without_local_data(mini, capsys):
    """The committed version-1 entries carry their per-item scores: comparing them needs
    no generated data (the session's AVBENCH_HOME holds only the mini version)."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "leaderboards"
    assert main(["compare", "oracle-ibm", "oracle-irm", "--task", "synth-ensembles-separation@1",
                 "--leaderboards", str(root)]) == 0
    out = capsys.readouterr().out
    assert "on 596 paired values of sdr" in out and "95% CI" in out and "Wilcoxon" in out


def test_compare_checks_the_metric_name(mini, capsys):
    """--metric takes the tables' names or the keys; a wrong or corpus-level one is a
    one-line error listing the valid names (no traceback)."""
    from pathlib import Path

    root = str(Path(__file__).resolve().parent.parent / "leaderboards")
    base = ["compare", "oracle-ibm", "oracle-irm", "--task", "synth-ensembles-separation@1", "--leaderboards", root]
    assert main(base + ["--metric", "SI-SDR"]) == 0 and "paired values of si_sdr" in capsys.readouterr().out
    for bad in ("foo", "macro_f1"):
        assert main(base + ["--metric", bad]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "use one of: sdr, sir, sar, si_sdr, sd_sdr" in err and "Traceback" not in err
    cls = ["compare", "mm-av", "mm-video", "--task", "synth-ensembles-classification@1", "--leaderboards", root]
    assert main(cls + ["--metric", "macro_f1"]) == 2
    assert "corpus-level" in capsys.readouterr().err


def test_show_json_quiet_score_and_json_errors(oracle_subs, copy_sub, tmp_path, capsys):
    import json as _json
    from pathlib import Path

    root = str(Path(__file__).resolve().parent.parent / "leaderboards")
    assert main(["leaderboard", "show", "synth-ensembles-separation@1", "--leaderboards", root, "--json"]) == 0
    assert _json.loads(capsys.readouterr().out)["task"] == "synth-ensembles-separation"
    sub = copy_sub(oracle_subs[("synth-ensembles-classification", "oracle-prior")])
    assert main(["score", str(sub), "--quiet", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("oracle-prior on synth-ensembles-classification@1-mini: mean hit@1 = ")
    (sub / "submission.yaml").write_text("name: [broken\n")
    assert main(["validate", str(sub), "--json"]) == 2
    cap = capsys.readouterr()
    assert _json.loads(cap.out)["error"]["counts"] == {"AVB415": 1} and cap.err == ""


def test_update_leaderboard_writes_under_avbench_home_unless_named(oracle_subs, copy_sub, avbench_home, capsys):
    """The committed boards of the checkout change only when named with --leaderboards."""
    from pathlib import Path

    committed = Path(__file__).resolve().parent.parent / "leaderboards"
    before = {p: p.stat().st_mtime_ns for p in committed.rglob("*") if p.is_file()}
    sub = copy_sub(oracle_subs[("synth-ensembles-classification", "oracle-prior")])
    assert main(["score", str(sub), "--update-leaderboard"]) == 0
    assert f"leaderboard updated: {avbench_home / 'leaderboards'}" in capsys.readouterr().out
    assert (avbench_home / "leaderboards" / "synth-ensembles-classification" / "1-mini" / "leaderboard.md").is_file()
    assert main(["leaderboard", "build", "--quiet"]) == 0
    assert {p: p.stat().st_mtime_ns for p in committed.rglob("*") if p.is_file()} == before


def test_progress_in_a_log_is_plain_named_lines(capsys, monkeypatch):
    """Not a terminal: no carriage returns or bar characters; every line names its step."""
    from avbench import progress

    monkeypatch.setattr(progress, "LOG_EVERY", 0.0)
    assert list(progress.bar(range(3), desc="score task@v", unit="chunk")) == [0, 1, 2]
    lines = capsys.readouterr().err.splitlines()
    assert "\r" not in "".join(lines) and len(lines) == 5
    assert lines[0] == "score task@v: 0/3 chunk (0%, 0 s; start)" and lines[-1].endswith("; done)")
    assert all(line.startswith("score task@v: ") for line in lines)
    with progress.bar(total=2, desc="quiet", disable=True) as b:
        b.update(2)
    assert capsys.readouterr().err == ""


def test_other_rate_data_is_listed_and_named_by_the_task_error(mini, avbench_home, capsys):
    import pytest

    from avbench.errors import TaskError
    from avbench.tasks import get_task

    d = avbench_home / "data" / "synth-ensembles" / "1-mini-44100"
    d.mkdir(parents=True, exist_ok=True)
    meta = json.loads((mini / "dataset.json").read_text())
    (d / "dataset.json").write_text(json.dumps({"counts": meta["counts"]}))
    try:
        assert main(["data", "list", "--json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        row = next(r for r in rows if r["version"] == "1-mini-44100")
        assert row["state"].startswith("generated at 44100 Hz")
        with pytest.raises(TaskError, match="11025 Hz"):
            get_task("synth-ensembles-separation@1-mini-44100")
    finally:
        import shutil

        shutil.rmtree(d)


def test_score_profile_splits_the_time(oracle_subs, copy_sub, capsys):
    """`score --profile` says where the time went; the categories add up to the busy time
    and the kernels took some of it (the BSS kernel on every item)."""
    import json as _json

    sub = copy_sub(oracle_subs[("synth-ensembles-separation", "oracle-ibm")])
    capsys.readouterr()
    assert main(["score", str(sub), "--quiet", "--workers", "1", "--profile"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("time: ") and all(f"{k} " in line for k in ("kernel", "io", "decode", "checks", "other"))
    assert main(["score", str(sub), "--json", "--workers", "2", "--profile"]) == 0
    (r,) = _json.loads(capsys.readouterr().out)
    p = r["profile"]
    assert p["workers"] == 2 and p["seconds"]["kernel"] > 0 and p["seconds"]["checks"] > 0
    assert abs(sum(p["share"].values()) - 1) < 1e-3
    assert abs(sum(p["seconds"].values()) - p["busy_s"]) < 0.01
