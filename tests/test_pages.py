"""LaTeX and HTML leaderboards; the HTML page in a real headless browser (Chromium)."""
import json
import os
import re
import shutil
import subprocess

import pytest

from avbench import leaderboard as lb
from avbench.scoring import score
from avbench.submission import validate


@pytest.fixture(scope="module")
def board(oracle_subs, tmp_path_factory):
    root = tmp_path_factory.mktemp("board")
    for key in [("synth-ensembles-separation", "oracle-ibm"), ("synth-ensembles-separation", "oracle-mixture")]:
        dst = root / "subs" / key[1]
        shutil.copytree(oracle_subs[key], dst)
        res = score(dst, progress=False)[0]
        e = lb.entry_from(res, validate(dst).meta)
        lb.add_entry(root / "lb", e, scores=dst / "results" / f"{res.task}@{res.version}" / "scores.parquet")
        # a second ranked row with other numbers, to sort
        if key[1] == "oracle-mixture":
            worse = e.model_copy(update={"name": "z-worse", "model": "Worse & <b>bold</b> 100% model",
                                         "scores": {k: v.model_copy(update={"mean": (v.mean or 0) - 3})
                                                    for k, v in e.scores.items()}})
            lb.add_entry(root / "lb", worse)
    return lb.board_dir(root / "lb", "synth-ensembles-separation", "1-mini")


def test_latex_table(board):
    tex = (board / "leaderboard.tex").read_text()
    assert r"\toprule" in tex and r"\bottomrule" in tex and r"\begin{tabular}" in tex
    assert r"\resizebox{\textwidth}{!}{%" in tex and r"\end{tabular}}" in tex and "p{14em}" in tex
    assert "in brackets the 95\\% bootstrap interval over works" in tex
    assert r"Worse \& <b>bold</b> 100\% model" in tex  # escaped
    assert r"oracle-ibm$^\dagger$" in tex
    body = tex.split(r"\midrule", 1)[1]
    assert body.index("oracle-mixture") < body.index("z-worse") < body.index("oracle-ibm")


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def dump_dom(page, tmp_path, fragment=""):
    exe = chromium()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    r = subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=2000", "--dump-dom", page.resolve().as_uri() + fragment],
        capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout, r.stderr


def names_in_order(dom):
    body = dom.split("<tbody>", 1)[1]
    return re.findall(r'<td data-v="((?:oracle|z)-[a-z-]+)">', body)


def test_html_page_in_a_real_browser(board, tmp_path):
    page = board / "leaderboard.html"
    rows = json.loads((board / "leaderboard.json").read_text())["rows"]
    dom, log = dump_dom(page, tmp_path)
    assert "Uncaught" not in log and "SyntaxError" not in log
    assert sorted(names_in_order(dom)) == sorted(r["name"] for r in rows)  # every row is there
    assert names_in_order(dom)[:2] == ["oracle-mixture", "z-worse"]       # ranked order
    assert "95% CI" in dom and "details" in dom
    dom_up, _ = dump_dom(page, tmp_path, "#sort=sdr")                # ascending SDR, sorted by the page's script
    dom_down, _ = dump_dom(page, tmp_path, "#sort=sdr:desc")
    up, down = names_in_order(dom_up), names_in_order(dom_down)
    assert up == ["z-worse", "oracle-mixture", "oracle-ibm"]
    assert down == list(reversed(up))
    assert 'class="sorted-asc"' in dom_up and 'class="sorted-desc"' in dom_down
    assert names_in_order(dump_dom(page, tmp_path, "#sort=4")[0]) == up  # a column index still works


def test_reports_write_plots(board, oracle_subs, tmp_path):
    from avbench.cli import main

    lbroot = board.parent.parent
    out = tmp_path / "r1"
    assert main(["report", "oracle-ibm", "--task", "synth-ensembles-separation@1-mini", "--leaderboards",
                 str(lbroot), "--out", str(out), "--quiet"]) == 0
    for n in ("sdr_per_instrument", "si_sdr_per_instrument", "sdr_per_n_sources", "si_sdri_vs_input"):
        assert (out / f"{n}.png").stat().st_size > 1000 and (out / f"{n}.svg").exists()
    import pandas as pd

    b = pd.read_csv(out / "breakdown.csv")
    assert set(b["by"]) == {"slot", "n_sources"}
    # one n per metric, counted from the task's items: the SDR of a slot is over the items
    # it sounds in, its PES over the items it is absent from (not the item count for both)
    import avbench

    items = avbench.get_task("synth-ensembles-separation@1-mini").items
    for r in b[b["by"] == "slot"].itertuples():
        sounding = sum(r.value in i.sources for i in items)
        assert r.sdr_n == sounding and r.n_slots >= sounding
        if "pes_n" in b and r.n_slots == len(items):  # protocol 2 scores the absent slots too
            assert r.pes_n == len(items) - sounding
    out2 = tmp_path / "r2"
    assert main(["report", "synth-ensembles-separation", "--task", "synth-ensembles-separation@1-mini",
                 "--leaderboards", str(lbroot), "--out", str(out2), "--quiet"]) == 0
    assert (out2 / "sdr_per_submission.png").exists() and (out2 / "sdr_per_conditioning.png").exists()
    cond = pd.read_csv(out2 / "by_conditioning.csv")
    assert set(cond["conditioning"]) == {"oracle", "mixture, labels"}
    sub = tmp_path / "cls"
    shutil.copytree(oracle_subs[("synth-ensembles-classification", "oracle-prior")], sub)
    score(sub, progress=False)
    assert main(["report", str(sub), "--task", "synth-ensembles-classification@1-mini", "--quiet"]) == 0
    rdir = sub / "results" / "synth-ensembles-classification@1-mini" / "report"
    assert (rdir / "confusion_matrix.png").exists() and (rdir / "per_class.csv").exists()


def test_html_page_shows_the_report_plots(board, tmp_path):
    from avbench.cli import main

    lbroot = board.parent.parent
    assert main(["report", "synth-ensembles-separation", "--task", "synth-ensembles-separation@1-mini",
                 "--leaderboards", str(lbroot), "--quiet"]) == 0
    lb.build(lbroot)
    html = (board / "leaderboard.html").read_text()
    assert "<h2>Plots</h2>" in html and 'src="report/sdr_per_submission.svg"' in html
    assert (board / "report" / "sdr_per_submission.svg").exists()
    before = html
    lb.build(lbroot)
    assert (board / "leaderboard.html").read_text() == before
    shutil.rmtree(board / "report")
    lb.build(lbroot)
