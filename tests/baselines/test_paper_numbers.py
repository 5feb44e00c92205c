"""Every paper number typed into a claim table's config is the paper's: it appears in the
cited table of the source document (``../shared/papers/``), or, for a change between two
item sets (a ``contrast`` claim), it is the difference of two numbers of that table."""
import itertools
import os
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PAPERS = Path(os.environ.get("AVBENCH_PAPERS", ROOT.parent / "shared" / "papers"))
THESIS, OBJECT_PRIOR = "slizovskaia-2020-thesis.md", "nguyen-object-prior.md"


def _clean(t: str) -> str:
    for a in ("<b>", "</b>", "<math>", "</math>", "<i>", "</i>", "**", "$", "\\"):
        t = t.replace(a, "")
    return t.replace("\u2212", "-")


def table_text(table: str) -> str:
    """The text of the cited table(s): a thesis table (``5.3``) is the 45 lines above its
    caption ``Table 5.3:`` (the captions follow the tables); an Object-Prior table (``II``)
    the 30 lines from its heading ``TABLE II``; ``"4.3 / 4.2"`` cites both."""
    thesis = (PAPERS / THESIS).read_text().splitlines()
    op = (PAPERS / OBJECT_PRIOR).read_text().splitlines()
    out = []
    for t in (x.strip() for x in str(table).split("/")):
        if re.fullmatch(r"[IVX]+", t):
            out += ["\n".join(op[i:i + 30]) for i, line in enumerate(op) if line.strip() == f"TABLE {t}"]
        else:
            out += ["\n".join(thesis[max(0, i - 45):i + 3]) for i, line in enumerate(thesis)
                    if line.startswith(f"Table {t}:")]
    return _clean("\n".join(out))


def appears(v: float, text: str) -> bool:
    return any(re.search(r"(?<![\d.])" + re.escape(s) + r"(?![\d])", text)
               for s in {f"{v:.2f}", f"{v:.1f}", repr(v), f"{v:g}"})


def numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"(?<![\w.])-?\d+\.\d+", text)]


def claims():
    for f in sorted((ROOT / "baselines").glob("*/configs/claims.yaml")):
        for c in yaml.safe_load(f.read_text()):
            p = c.get("paper") or {}
            for k in ("a", "b"):
                if isinstance(p.get(k), (int, float)) and "table" in p:
                    yield pytest.param(c, k, id=f"{f.parts[-3]}: {c['claim'][:60]} [{k}]")


@pytest.mark.skipif(not (PAPERS / THESIS).exists(), reason=f"the source documents are not at {PAPERS} "
                    "(set AVBENCH_PAPERS to their folder)")
@pytest.mark.parametrize("claim,side", list(claims()))
def test_the_paper_number_is_in_the_cited_table(claim, side):
    p = claim["paper"]
    v, text = float(p[side]), table_text(p["table"])
    assert text, f"Table {p['table']} is not in the source documents"
    if claim.get("contrast"):  # a change from one item set to another: the difference of two cells
        assert any(abs((y - x) - v) < 0.005 for x, y in itertools.permutations(numbers(text), 2)), \
            f"{v} is no difference of two numbers of Table {p['table']}"
    else:
        assert appears(v, text), f"{v} ({p.get('rows')}) is not in Table {p['table']}"


def test_numbers_that_cannot_be_checked_are_listed():
    """Claims whose paper side is prose (``paper.text``), not a number of a table: listed,
    so that a reader checks them by hand."""
    prose = [(f.parts[-3], c) for f in sorted((ROOT / "baselines").glob("*/configs/claims.yaml"))
             for c in yaml.safe_load(f.read_text())
             if not all(isinstance((c.get("paper") or {}).get(k), (int, float)) for k in ("a", "b"))]
    for b, c in prose:
        print(f"not checked automatically ({b}): {c['claim']}")
        p = c.get("paper") or {}
        # the paper's words and where they are, for the reader to check
        assert p.get("text") and ("table" in p or "section" in p), f"{b}: {c['claim']} cites nothing checkable"
