"""The mistakes a new user makes on the first day: each is refused, or answered, with a
message that names the real problem and its fix."""
import shutil

import numpy as np
import pytest

import avbench
from avbench.errors import SubmissionError
from avbench.scoring import score
from avbench.submission import SubmissionWriter, validate

TASK = "synth-ensembles-separation@1-mini"


@pytest.fixture(scope="module")
def equal_share(mini, tmp_path_factory):
    """The README's first model: every sounding instrument gets an equal share of the mixture."""
    task = avbench.get_task(TASK)
    root = tmp_path_factory.mktemp("first-day") / "my-model"
    with SubmissionWriter(root, name="my-model", model="Equal share") as w:
        w.add_task(task, inputs=["mixture", "labels"])
        for iid in task.ids:
            mix, present = task.input(iid, "mixture"), task.input(iid, "labels")
            w.write_estimates(task, iid, {s: mix / len(present) for s in present})
    return task, root


def _codes(problems):
    return [p.code for p in problems]


def _errors(path):
    """The errors ``validate`` reports (none when it passes)."""
    try:
        validate(path, TASK)
    except SubmissionError as e:
        return [p for p in e.problems if p.severity == "error"]
    return []


def _copy(src, tmp_path):
    dst = tmp_path / src.name
    shutil.copytree(src, dst)
    return dst


def test_the_writer_declares_silence_for_the_absent_instruments_and_the_copy_is_valid(equal_share):
    task, root = equal_share
    assert "omitted_slots: silence" in (root / "submission.yaml").read_text()
    assert _errors(root) == []


def test_a_deleted_item_folder_is_an_error_of_validate_and_score(equal_share, tmp_path):
    task, root = equal_share
    sub = _copy(root, tmp_path)
    item = task.items[3]
    shutil.rmtree(sub / task.spec.name / "estimates" / item.id)  # a model that crashed mid-run
    errs = _errors(sub)
    assert _codes(errs) == ["AVB410"]
    assert item.id in errs[0].message and item.id in errs[0].path
    with pytest.raises(SubmissionError) as e:
        score(sub, TASK, progress=False)
    assert "AVB410" in str(e.value)


def test_a_missing_file_of_a_sounding_instrument_is_an_error_even_with_omitted_slots_silence(equal_share, tmp_path):
    task, root = equal_share
    sub = _copy(root, tmp_path)
    item = task.items[0]
    gone = sub / task.spec.name / "estimates" / item.id / f"{item.sources[0]}.wav"
    gone.unlink()
    errs = _errors(sub)
    assert _codes(errs) == ["AVB414"]
    assert errs[0].path.endswith(f"{item.id}/{item.sources[0]}.wav") and "plays" in errs[0].message
    with pytest.raises(SubmissionError):
        score(sub, TASK, progress=False)


def test_an_all_zero_estimate_of_a_sounding_instrument_is_written_and_its_warning_names_the_file(mini, tmp_path):
    task = avbench.get_task(TASK)
    item = task.items[0]
    with SubmissionWriter(tmp_path / "zeros", name="zeros", model="m") as w:
        w.add_task(task, inputs=["mixture", "labels"])
        for iid in task.ids:
            mix, present = task.input(iid, "mixture"), task.input(iid, "labels")
            est = {s: mix / len(present) for s in present}
            if iid == item.id:
                est[item.sources[0]] = np.zeros_like(mix)  # the model gave nothing for it
            w.write_estimates(task, iid, est)
    f = tmp_path / "zeros" / task.spec.name / "estimates" / item.id / f"{item.sources[0]}.wav"
    assert f.exists()
    res = score(tmp_path / "zeros", TASK, progress=False)[0]
    silent = [w for w in res.warnings if w["code"] == "AVB451"]
    assert [w["path"] for w in silent] == [f"{task.spec.name}/estimates/{item.id}/{item.sources[0]}.wav"]


def test_omitted_slots_error_gives_one_line_for_the_absent_instruments(equal_share, tmp_path):
    task, root = equal_share
    sub = _copy(root, tmp_path)
    y = sub / "submission.yaml"
    y.write_text(y.read_text().replace("omitted_slots: silence", "omitted_slots: error"))
    errs = _errors(sub)
    n_absent = sum(len(task.spec.slots) - len(i.sources) for i in task.items)
    assert _codes(errs) == ["AVB414"]
    assert errs[0].message.startswith(f"{n_absent} estimates missing for instruments that do not play")
    assert "omitted_slots: silence" in errs[0].fix


# ----------------------------------------------------------------------------- typos
TYPOS = [  # (command, what the answer must name)
    (["leaderboard", "show", "synth-ensembles-seperation@3-mini"],
     ["unknown task 'synth-ensembles-seperation'", "did you mean synth-ensembles-separation?"]),
    (["leaderboard", "show", "synth-ensembles-separation@3mini"],
     ["no version '3mini'", "did you mean 3-mini?", "3-mini (protocol 2"]),
    (["leaderboard", "show", "synth-ensembles-separation@4"], ["no version '4'", "versions 2-mini"]),
    (["compare", "oracle-irn", "oracle-ibm", "--task", "synth-ensembles-separation@3"],
     ["no entry 'oracle-irn'", "did you mean oracle-irm?"]),
    (["baseline", "run", "oracle-ibn", "--task", "synth-ensembles-separation@1-mini", "--out", "x"],
     ["unknown baseline 'oracle-ibn'", "did you mean oracle-ibm?", "avbench baseline list"]),
]


@pytest.mark.parametrize("argv,says", TYPOS, ids=[" ".join(a[:3]) for a, _ in TYPOS])
def test_a_typo_is_named_with_a_did_you_mean(argv, says, capsys, mini):
    from avbench.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    for s in says:
        assert s in err, err
    assert "AVB000" not in err and "no leaderboard there" not in err


@pytest.mark.parametrize("key,says", [("synth-ensemble-separation@1-mini", "did you mean synth-ensembles-separation?"),
                                      ("synth-ensembles-separation@4", "no version '4'")])
def test_validate_and_score_name_a_task_typo(equal_share, key, says):
    _, root = equal_share
    for run in (lambda: validate(root, key), lambda: score(root, key, progress=False)):
        with pytest.raises(SubmissionError) as e:
            run()
        assert says in str(e.value) and "not declared" not in str(e.value)


def test_no_command_raises_the_generic_code():
    """Every error the package raises has a class with its own code (AVB000 is retired)."""
    from pathlib import Path

    import avbench as pkg

    for f in Path(pkg.__file__).parent.rglob("*.py"):
        assert "raise AvbenchError(" not in f.read_text(), f


def test_report_without_task_uses_the_one_scored_task(equal_share, capsys):
    from avbench.cli import main

    _, root = equal_share
    score(root, TASK, progress=False)
    assert main(["report", str(root), "--quiet"]) == 0
    assert (root / "results" / TASK / "report" / "breakdown.csv").exists()
    assert main(["report", "not-a-folder"]) == 2
    assert "pass --task NAME@VERSION" in capsys.readouterr().err


def test_equal_scores_share_a_rank():
    from types import SimpleNamespace as E

    from avbench.leaderboard.ranking import rank

    es = [E(name=n, main_score="sdr", main_value=v, oracle=o) for n, v, o in
          [("b", 2.0, False), ("a", 2.0000000001, False), ("c", 1.0, False), ("d", 3.0, False), ("ibm", 9.0, True)]]
    got = [(r, e.name) for r, e in rank(es)]
    assert got == [(1, "d"), (2, "a"), (2, "b"), (4, "c"), (None, "ibm")]


def test_rescoring_a_published_row_under_its_name_says_it_reproduces(mini, oracle_subs, tmp_path, capsys):
    from avbench.cli import main

    src = oracle_subs[("synth-ensembles-separation", "oracle-ibm")]
    a, b = shutil.copytree(src, tmp_path / "a"), shutil.copytree(src, tmp_path / "b")
    lbd = str(tmp_path / "lb")
    assert main(["score", str(a), "--update-leaderboard", "--leaderboards", lbd, "--quiet"]) == 0
    board = next((tmp_path / "lb").glob("*/*/leaderboard.json"))
    before = board.read_bytes()
    (b / "synth-ensembles-separation" / "README.txt").write_text("regenerated\n")  # other content
    capsys.readouterr()
    assert main(["score", str(b), "--update-leaderboard", "--leaderboards", lbd, "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "reproduces the published entry" in err and "scores agree" in err
    assert board.read_bytes() == before


def test_print_result_is_a_short_summary(equal_share):
    _, root = equal_share
    r = score(root, TASK, progress=False)[0]
    text = str(r)
    lines = text.splitlines()
    assert lines[0].startswith("my-model on synth-ensembles-separation@1-mini")
    assert lines[1].split()[0] == r.main_score and "(main)" in lines[1] and f"{r.main_value:.3f}" in lines[1]
    assert len(text) < 2000 and "provenance" not in text


def test_the_score_line_gives_unit_interval_rank_and_the_html_and_says_unchanged(equal_share, tmp_path, capsys):
    from avbench.cli import main

    _, root = equal_share
    sub = _copy(root, tmp_path)
    lbd = str(tmp_path / "lb")
    assert main(["score", str(sub), "--update-leaderboard", "--leaderboards", lbd]) == 0
    out = capsys.readouterr().out
    assert "dB (SDR) [95% CI" in out and "over 4 works]" in out
    assert "(rank 1 of 1; HTML: " in out and "leaderboard.html" in out and "leaderboard updated" in out
    assert main(["score", str(sub), "--update-leaderboard", "--leaderboards", lbd]) == 0
    assert "leaderboard unchanged" in capsys.readouterr().out


def test_help_names_every_positional_shows_defaults_and_an_example(capsys):
    from avbench.cli import build_parser

    p = build_parser()

    def walk(parser, path):
        for a in parser._actions:
            if isinstance(a, __import__("argparse")._SubParsersAction):
                for name, sub in a.choices.items():
                    yield from walk(sub, path + [name])
        yield path, parser

    seen = 0
    for path, parser in walk(p, []):
        if not path or any(isinstance(a, __import__("argparse")._SubParsersAction) for a in parser._actions):
            continue
        text = parser.format_help()
        seen += 1
        assert "example: avbench " + " ".join(path) in text, path
        for a in parser._actions:
            if not a.option_strings:  # a positional argument
                assert a.help, (path, a.dest)
    assert seen >= 20
    gen = p._subparsers._group_actions[0].choices["data"]._subparsers._group_actions[0].choices["generate"]
    assert "default: mini2" in gen.format_help()


def test_leaderboard_path_names_the_board_that_is_read(equal_share, tmp_path, capsys):
    from avbench.cli import main

    _, root = equal_share
    lbd = tmp_path / "lb"
    assert main(["leaderboard", "path", TASK, "--leaderboards", str(lbd)]) == 0
    assert "none yet" in capsys.readouterr().out
    assert main(["score", str(_copy(root, tmp_path)), "--update-leaderboard", "--leaderboards", str(lbd), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["leaderboard", "path", TASK, "--leaderboards", str(lbd), "--json"]) == 0
    out = __import__("json").loads(capsys.readouterr().out)
    assert out["board"] == str(lbd / "synth-ensembles-separation" / "1-mini") and out["html"].endswith("leaderboard.html")
    assert out["which"] == "your board"
