"""Renderers: pure functions of a :class:`~avbench.leaderboard.ranking.Ranked` table.

Markdown, CSV (numeric columns, formula-safe text cells), JSON, LaTeX (booktabs) and a
self-contained sortable HTML page whose style and script are package data
(``templates/``).  Text from ``submission.yaml`` is stored raw and escaped here, for each
format."""
from __future__ import annotations

import csv
import functools
import io
import json
import re
from importlib import resources
from pathlib import PurePosixPath

from ..metrics import METRICS
from ..results import Stat
from .entry import Entry
from .ranking import Ranked, columns

#: the order in which pages show a submission's plots: the main score first
PLOT_ORDER = ["sdr_per_instrument", "sdr_per_n_sources", "si_sdri_vs_input", "si_sdr_per_instrument",
              "pes_per_instrument", "hit_at_1_per_submission", "confusion_matrix", "per_class_f1"]

RENDERS = ("leaderboard.md", "leaderboard.csv", "leaderboard.json", "leaderboard.tex", "leaderboard.html")


def label(metric: str) -> str:
    """A metric's display label (the registry's), or its name when it is not registered."""
    m = METRICS.get(metric)
    return m.label if m is not None else metric


def _labels_longest_first() -> list[tuple[str, str]]:
    return sorted(((k, m.label) for k, m in METRICS.items()), key=lambda kv: (-len(kv[1]), kv[0]))


@functools.lru_cache(maxsize=None)
def _template(name: str) -> str:
    return resources.files(__package__).joinpath("templates", name).read_text(encoding="utf-8")


def renders(board: Ranked) -> dict[str, str]:
    """Every table of a board (file name -> text)."""
    return {"leaderboard.md": render_markdown(board), "leaderboard.csv": render_csv(board),
            "leaderboard.json": render_json(board), "leaderboard.tex": render_latex(board),
            "leaderboard.html": render_html(board)}


def fmt(v: float | None, metric: str, stat: Stat | None = None) -> str:
    """A value as a table cell: 3 decimals for a unitless metric, 2 for dB; never \"-0.00\"."""
    if v is None:
        if stat is not None and stat.n == 0 and (stat.n_posinf or stat.n_neginf):  # protocol 1 only
            k = stat.n_posinf + stat.n_neginf
            return ("+inf" if stat.n_posinf >= stat.n_neginf else "-inf") + f" (all {k})"
        return "–"
    text = f"{v:.3f}" if METRICS.get(metric) and METRICS[metric].unit == "" else f"{v:.2f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text  # never "-0.00"

def table(board: Ranked) -> tuple[list[str], list[list[str]], list[dict]]:
    """Header, formatted rows and machine-readable rows of a leaderboard.

    The main score shows its 95% bootstrap interval; column ``vs #1`` compares every
    ranked row with the top one."""
    entries, sig = board.entries, board.sig
    if not entries:
        return [], [], []
    fam = entries[0].family
    agg = entries[0].aggregate
    cols = [c for c in columns(fam) if any(c in e.scores for e in entries)]
    header = ["Rank", "Submission", "Model", "Inputs"]
    for c in cols:
        info = METRICS.get(c)
        unit = f" [{info.unit}]" if info and info.unit else ""
        header.append(f"{label(c)} {info.arrow if info else ''}{unit}".strip())
    with_ci = {c for c in cols if agg == "mean" and any(e.scores.get(c) is not None and e.scores[c].ci_low is not None
                                                       for e in entries)}
    for k, c in enumerate(cols):
        if c in with_ci:
            header[4 + k] += " (95% CI)"
    silenced = fam == "separation"
    folded = board.folded
    main = entries[0].main_score
    if folded:
        info = METRICS.get(main)
        header += ["Seeds", f"Seed range ({label(main)})" + (f" [{info.unit}]" if info and info.unit else "")]
    header += (["Silenced"] if silenced else []) + ["vs #1", "Params", "Oracle"]
    by_name = {x.name: x for x in entries}
    rows, machine = [], []
    for r, e in board.rows:
        members = board.seeds.get(e.name, (e.name,))
        seed_entries = [by_name[n] for n in members if n in by_name] or [e]
        vals = [e.scores[c].get(agg) if c in e.scores else None for c in cols]
        cells = []
        for v, c in zip(vals, cols):
            cell = fmt(v, c, e.scores.get(c))
            st = e.scores.get(c)
            if c in with_ci and st is not None and st.ci_low is not None:
                cell += f" [{fmt(st.ci_low, c)}, {fmt(st.ci_high, c)}]"
                if st.n_groups is not None and st.n_groups < FEW_GROUPS:
                    cell += FEW_MARK
            if st is not None and st.n and (st.n_posinf or st.n_neginf):  # protocol 1: left out of the mean
                cell += f" (+{st.n_posinf + st.n_neginf} inf)"
            cells.append(cell)
        gated = board.gated.get(e.name)
        shown = e.name + (f" (flagged {', '.join(sorted(e.warnings))})" if e.warnings else "") + (
            f" {NOT_CONVERGED_MARK}" if gated else "") + (f" {EXCEEDS_MARK}" if e.name in board.exceeds else "")
        n_sil = e.counts.get("eps")
        per_seed_sil = [x.counts.get("eps") for x in seed_entries]
        values = board.seed_values.get(e.name, (e.main_value,))
        known = [v for v in values if v is not None]
        spread = (min(known), max(known)) if len(known) > 1 else None
        if folded:
            cells.append(str(len(members)))
            cells.append(f"{fmt(spread[0], main)} – {fmt(spread[1], main)}" if spread else "–")
        if silenced:
            if len(seed_entries) > 1:
                cells.append("/".join("–" if k is None else str(k) for k in per_seed_sil))
            else:
                cells.append(str(n_sil) if n_sil is not None else "–")
        rows.append([str(r) if r is not None else "–", shown, e.model, ", ".join(e.inputs) or "–", *cells,
                     sig.get(e.name, "–") if r is not None else "–",
                     f"{e.n_parameters:,}" if e.n_parameters is not None else "–", "yes" if e.oracle else ""])
        machine.append({"rank": r, "name": e.name, "model": e.model, "oracle": e.oracle, "inputs": e.inputs,
                        "n_parameters": e.n_parameters, "paper_url": e.paper_url, "code_url": e.code_url,
                        "scores": {c: e.scores[c].model_dump() for c in cols if c in e.scores},
                        "vs_top": sig.get(e.name), "warnings": dict(sorted(e.warnings.items())),
                        **({"converged": gated is None, "not_converged": gated} if board.gated else {}),
                        **({"exceeds_oracle_bounds": board.exceeds.get(e.name)} if board.exceeds else {}),
                        **({"silenced": n_sil} if silenced else {}),
                        **({"seeds": list(members), "seed_values": list(values),
                            "seed_range": list(spread) if spread else None} if folded else {}),
                        **({"silenced_by_seed": per_seed_sil} if folded and silenced else {}),
                        "submission_sha256": e.provenance.submission_sha256,
                        "git_commit": e.provenance.git_commit, "date": e.provenance.date})
    return header, rows, machine

def _data_note(task: str, version: str) -> str:
    """``, data config full2`` for the data a task version reads (two versions over other
    audio then never show the same item hash without saying which data it is of)."""
    from ..errors import AvbenchError
    from ..tasks.declared import declared

    try:
        data = declared(task).version(version).data
    except (AvbenchError, KeyError, AttributeError):
        return ""
    return f", data `{data}`" if data else ""


def render_markdown(board: Ranked) -> str:
    header, rows, _ = table(board)
    task, version, entries = board.task, board.version, board.entries
    lines = [f"# {task} — version {version}", ""]
    if not entries:
        return "\n".join(lines + ["No entries yet.", ""])
    e0 = entries[0]
    lines.append(f"Ranked by {e0.aggregate} {label(e0.main_score)} over "
                 f"{_n_range(entries)} scored {'sources' if e0.family == 'separation' else 'clips'}; "
                 "↑ higher is better, ↓ lower is better; oracle rows use the references and are not ranked. "
                 f"{interval_note(entries)} "
                 "vs #1: paired test against the top row on the items both scored (Wilcoxon signed-rank on "
                 "the per-work mean differences, Holm-corrected over the rows); ≈ marks no significant "
                 "difference at 0.05.")
    lines.append(f"Task items sha256 `{e0.provenance.items_sha256[:16]}`, manifest sha256 "
                 f"`{e0.provenance.manifest_sha256[:16]}`{_data_note(task, version)}.")
    lines.append(protocol_note(e0))
    if board.exceeds:
        lines.append(exceeds_note(board))
    if board.folded:
        lines.append(seeds_note(board))
    if board.gated:
        lines.append(gate_note(board))
    lines.append("")
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join("---" if i < 4 else "---:" for i in range(len(header))) + "|")
    for r in rows:
        lines.append("| " + " | ".join(_md_text(x) if 1 <= i <= 3 else _md(x) for i, x in enumerate(r)) + " |")
    lines.append("")
    return "\n".join(lines)

def protocol_note(e: Entry) -> str:
    """The header line naming the scoring protocol a board's rows follow."""
    n = e.protocol
    if n >= 2 and e.family != "separation":
        return (f"Scoring protocol {n} (docs/protocol.md): opaque item ids; a model reads only the declared "
                "inputs, frames by player position.")
    if n >= 2:
        return (f"Scoring protocol {n} (docs/protocol.md): every (item, slot) is scored; a silent estimate of a "
                "sounding source takes the floor in every SDR-family metric (column Silenced counts them); "
                "both-silent slots score PES and EPS at the floor.")
    text = ("Scoring protocol 1 (docs/protocol.md): silent estimates are left out of the SDR family and "
            "both-silent slots are not scored; an infinite value is left out of the mean and counted "
            "(\"+3 inf\"; \"+inf (all n)\" when every value is); kept as published, superseded by protocol 2.")
    return text if e.family == "separation" else "Scoring protocol 1 (docs/protocol.md): item ids name the class."


def seeds_note(board: Ranked) -> str:
    """The header sentence saying how a model's seeds make one row."""
    main = label(board.entries[0].main_score)
    sil = " and Silenced each seed's count," if board.entries[0].family == "separation" else ""
    return ("Seeds: a model trained with several seeds is one row, and each number is the mean over its seeds; "
            "its interval resamples the seeds and, within them, the works; column Seeds counts them, "
            f"Seed range gives the lowest and the highest seed's {main}{sil} and vs #1 of such a row is the "
            "larger p of the test on its per-item seed means and of the seed-and-work bootstrap. Each seed "
            "stays an entry of its own (`avbench leaderboard show --seeds`). A row is outside the gate when "
            "any of its seeds is.")


#: the mark of a row held back because it beats every oracle row on most works (``Ranked.exceeds``)
EXCEEDS_MARK = "(exceeds the oracle bounds)"


def exceeds_note(board: Ranked) -> str:
    """The header sentence on the rows held back for review."""
    return (f"{EXCEEDS_MARK}: a row better than every oracle row on most works, which no method that reads "
            f"only the mixture is expected to be (a copy of the references, plain or degraded, is); "
            f"{len(board.exceeds)} row(s) here, listed after the ranked rows and not ranked until a maintainer "
            "reviews the submission (`avbench leaderboard review`; docs/protocol.md).")


#: the mark of a row outside the task's convergence gate (``Ranked.gated``)
NOT_CONVERGED_MARK = "(not converged)"


def gate_note(board: Ranked) -> str:
    """The header sentence naming the gate and the rows outside it (empty when none is)."""
    from .ranking import gate_of

    if not board.gated:
        return ""
    g = gate_of(board.task)
    parts = []
    if "max_silenced" in g:
        parts.append(f"silences more than {100 * g['max_silenced']:g}% of the sounding sources")
    if "min_sdri" in g:
        parts.append(f"has a mean SDRi below {g['min_sdri']:g} dB")
    return (f"{NOT_CONVERGED_MARK}: a row that {' or '.join(parts)} (the task's convergence gate, "
            f"docs/protocol.md); {len(board.gated)} row(s) here; no claim rests on such a row.")


#: an interval resampling fewer works than this is marked :data:`FEW_MARK` (read it as rough)
FEW_GROUPS = 10


FEW_MARK = "‡"


def interval_note(entries: list[Entry]) -> str:
    """What the brackets are: the bootstrap, and the number of works (groups) it resamples,
    with the mark of an interval over fewer than :data:`FEW_GROUPS` works."""
    ns = sorted({st.n_groups for e in entries for st in e.scores.values()
                 if st.ci_low is not None and st.n_groups is not None})
    text = "Intervals: 95% percentile bootstrap over works (1000 resamples, seed 0)"
    if ns:
        text += f", {ns[0]} works" if len(ns) == 1 else f", {ns[0]}–{ns[-1]} works (by row)"
    if ns and ns[0] < FEW_GROUPS:
        text += (f"; {FEW_MARK} marks an interval over fewer than {FEW_GROUPS} works, too few for the "
                 "interval to be more than a rough guide")
    return text + "."


def _n_range(entries: list[Entry]) -> str:
    """The number of scored values behind the main score: one number, or the range over the rows."""
    ns = sorted({e.scores[e.main_score].n if e.main_score in e.scores else 0 for e in entries})
    return str(ns[0]) if len(ns) == 1 else f"{ns[0]}–{ns[-1]} (by row)"


def _md(x: str) -> str:
    """A Markdown table cell: text from submission.yaml is stored raw and escaped here."""
    import re

    x = x.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`").replace("\n", " ")
    return re.sub(r"<(?=[A-Za-z/!?])", "&lt;", x)  # no HTML tag can start


def _md_text(x: str) -> str:
    """A Markdown cell of free text from submission.yaml (name, model, inputs): as
    :func:`_md`, and no link or image stays live."""
    import re

    x = _md(x)
    # no link or image can start ([text](url), ![alt](url), [text][ref]) and no bare address
    # is turned into a link by the renderer (GitHub autolinks http://, https://, www.)
    x = x.replace("[", "\\[").replace("]", "\\]").replace("!", "\\!")
    x = re.sub(r"(?i)(?<=[a-z])://", ":&#47;&#47;", x)
    x = re.sub(r"(?i)\bwww\.", "www&#46;", x)
    return re.sub(r"<(?=[A-Za-z/!?])", "&lt;", x)  # no HTML tag can start


def render_csv(board: Ranked) -> str:
    """One row per entry with numeric columns a spreadsheet or pandas can sort: for every
    metric ``<m>`` (the aggregate), ``<m>_ci_low``, ``<m>_ci_high``, ``<m>_n`` (values) and
    ``<m>_n_groups`` (the works the interval resamples); empty
    where a value does not exist.  Text cells from ``submission.yaml`` are neutralised."""
    _, _, machine = table(board)
    entries = board.entries
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if not machine:
        return buf.getvalue()
    agg = entries[0].aggregate
    cols = [c for c in columns(entries[0].family) if any(c in e.scores for e in entries)]
    sep = entries[0].family == "separation"
    head = ["rank", "submission", "model", "inputs"]
    for c in cols:
        head += [c, f"{c}_ci_low", f"{c}_ci_high", f"{c}_n", f"{c}_n_groups"]
    folded = board.folded
    main = entries[0].main_score
    if folded:
        head += ["seeds", f"{main}_seed_min", f"{main}_seed_max"]
    head += (["silenced"] if sep else []) + (["silenced_by_seed"] if sep and folded else []) + [
        "vs_top", "n_parameters", "oracle", "flags"]
    w.writerow(head)

    def num(x) -> str:
        return "" if x is None else repr(round(float(x), 6))

    for m in machine:
        row = ["" if m["rank"] is None else str(m["rank"]), _csv_cell(m["name"]), _csv_cell(m["model"]),
               _csv_cell(" ".join(m["inputs"]))]
        for c in cols:
            st = m["scores"].get(c)
            row += [""] * 5 if st is None else [num(st.get(agg)), num(st.get("ci_low")), num(st.get("ci_high")),
                                                str(st.get("n", "")), "" if st.get("n_groups") is None else
                                                str(st["n_groups"])]
        flags = " ".join([f"{k}x{n}" for k, n in m["warnings"].items()]
                         + (["not-converged"] if m.get("not_converged") else [])
                         + (["exceeds-oracle-bounds"] if m.get("exceeds_oracle_bounds") else []))
        if folded:
            rng = m.get("seed_range")
            row += [str(len(m["seeds"])), num(rng[0]) if rng else "", num(rng[1]) if rng else ""]
        row += ([str(m.get("silenced", "")) if m.get("silenced") is not None else ""] if sep else [])
        if sep and folded:
            row.append("/".join("" if k is None else str(k) for k in m["silenced_by_seed"]))
        row += [
            m["vs_top"] or "", "" if m["n_parameters"] is None else str(m["n_parameters"]),
            "yes" if m["oracle"] else "no", flags]
        w.writerow(row)
    return buf.getvalue()

def _csv_cell(x: str) -> str:
    """A text cell from submission.yaml, neutralised against spreadsheet formula injection
    (OWASP): a cell starting with ``= + - @``, a tab or a carriage return gets a leading ``'``,
    also after leading white space of any kind (spaces, non-breaking spaces), which
    spreadsheets skip before reading a formula."""
    bad = ("=", "+", "-", "@", "\t", "\r")
    return "'" + x if x[:1] in bad or x.lstrip()[:1] in bad else x


def render_json(board: Ranked) -> str:
    _, _, machine = table(board)
    task, version, entries = board.task, board.version, board.entries
    proto = entries[0].protocol if entries else None
    return json.dumps({"task": task, "version": version, "protocol": proto, "rows": machine}, indent=2, sort_keys=True,
                      allow_nan=False, ensure_ascii=False) + "\n"

_TEX_ESCAPE = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
               "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}


def _tex(s: str) -> str:
    out = "".join(_TEX_ESCAPE.get(ch, ch) for ch in s)
    return (out.replace("↑", r"$\uparrow$").replace("↓", r"$\downarrow$").replace("≈", r"$\approx$")
            .replace("–", "--").replace("+inf", r"$+\infty$").replace("-inf", r"$-\infty$")
            .replace(FEW_MARK, r"$^\ddagger$"))


def render_latex(board: Ranked) -> str:
    """A booktabs table scaled to the text width (needs ``\\usepackage{booktabs,graphicx}``),
    the Model column wrapped, oracle rows after a rule."""
    header, rows, _ = table(board)
    task, version, entries = board.task, board.version, board.entries
    label = f"tab:{task}-{version}".replace("_", "-")
    lines = [f"% {task} version {version}: generated by `avbench leaderboard build`; do not edit",
             r"\begin{table}[t]", r"\centering"]
    if not entries:
        return "\n".join(lines + [r"\caption{" + _tex(f"{task} (version {version}): no entries") + "}",
                                  r"\end{table}", ""])
    e0 = entries[0]
    keep = [i for i, h in enumerate(header) if h not in ("Inputs", "Oracle")]
    cols = "".join("l" if header[i] == "Submission" else "p{14em}" if header[i] == "Model" else
                   ("c" if header[i] == "Rank" else "r") for i in keep)
    proto = e0.protocol
    lines.append(r"\caption{" + _tex(f"{task} (version {version}, scoring protocol {proto}): {e0.aggregate} over the test items; "
                                    "in brackets the 95% bootstrap interval over works; oracle rows (marked ") + r"$^\dagger$"
                 + _tex(") use the references and are not ranked. " + interval_note(entries)
                        + (" " + seeds_note(board).replace("`", "") if board.folded else "")) + "}")
    lines.append(r"\label{" + label + "}")
    lines.append(r"\resizebox{\textwidth}{!}{%")
    lines.append(r"\begin{tabular}{" + cols + "}")
    lines.append(r"\toprule")
    lines.append(" & ".join(_tex(header[i]) for i in keep) + r" \\")
    lines.append(r"\midrule")
    oracle_started = False
    for k, r in enumerate(rows):
        is_oracle = r[-1] == "yes"
        if is_oracle and not oracle_started:
            if k:
                lines.append(r"\midrule")
            oracle_started = True
        cells = []
        for i in keep:
            c = _tex(r[i])
            if header[i] == "Submission" and is_oracle:
                c += r"$^\dagger$"
            cells.append(c)
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}}", r"\end{table}", ""]
    return "\n".join(lines)

def _column_key(header: str) -> str:
    """The name ``#sort=`` takes for a column: the metric key (``sdr``, ``hit@1``) or the
    header in lower case with dashes (``rank``, ``vs-1``, ``params``)."""
    for k, lab in _labels_longest_first():
        if header == lab or header.startswith(lab + " "):
            return k
    return re.sub(r"[^a-z0-9@]+", "-", header.lower()).strip("-")


def render_html(board: Ranked) -> str:
    """A self-contained page (no network): sortable table, intervals, provenance per row."""
    import html

    header, rows, machine = table(board)
    task, version, entries = board.task, board.version, board.entries
    if header:  # the main score, its test and the counts first: the other metrics may scroll
        main_at = next((i for i, h in enumerate(header) if _column_key(h) == entries[0].main_score), 4)
        first = [i for i in range(4)] + [main_at] + [i for i, h in enumerate(header) if h in ("vs #1", "Silenced", "Params")]
        order = first + [i for i in range(len(header)) if i not in first]
        header = [header[i] for i in order]
        rows = [[r[i] for i in order] for r in rows]
    esc = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{esc(task)} — version {esc(version)} — avbench</title>",
           f"<style>{_template('leaderboard.css')}</style></head><body>",
           f"<h1>{esc(task)} — version {esc(version)}</h1>"]
    if not entries:
        out += ["<p>No entries yet.</p>", "</body></html>", ""]
        return "\n".join(out)
    e0 = entries[0]
    out.append('<p class="meta">' + esc(
        f"Ranked by {e0.aggregate} {label(e0.main_score)}; ↑ higher is better, ↓ lower is "
        f"better. {interval_note(entries)} vs #1: paired test against the top row "
        "(Wilcoxon signed-rank on the per-work mean differences, Holm-corrected over the rows); "
        "≈ = not significantly different at 0.05. "
        "Oracle rows use the references and are not ranked. Click a column to sort.") + "</p>")
    out.append('<p class="meta">' + esc(f"Task items sha256 {e0.provenance.items_sha256}, manifest sha256 "
                                         f"{e0.provenance.manifest_sha256}{_data_note(board.task, board.version).replace('`', '')}.")
               + "</p>")
    out.append('<p class="meta">' + esc(protocol_note(e0)) + "</p>")
    if board.exceeds:
        out.append('<p class="meta">' + esc(exceeds_note(board).replace("`", "")) + "</p>")
    if board.folded:
        out.append('<p class="meta">' + esc(seeds_note(board).replace("`", "")) + "</p>")
    if board.gated:
        out.append('<p class="meta">' + esc(gate_note(board)) + "</p>")
    keys = [_column_key(h) for h in header]
    out.append('<div class="wrap"><table class="lb"><thead><tr>'
               + "".join(f'<th data-key="{esc(k)}">{esc(h)}</th>' for h, k in zip(header, keys))
               + '<th data-key="links">Links</th><th data-key="provenance">Provenance</th></tr></thead><tbody>')
    by_name = {e.name: e for e in entries}
    agg = e0.aggregate
    for r, m in zip(rows, machine):
        e = by_name[m["name"]]
        cls = ' class="oracle"' if e.oracle else ""
        cells = []
        for h, c in zip(header, r):
            key = next((k for k, lab in _labels_longest_first() if h.startswith(lab + " ")), None)
            if key is not None and key in e.scores:
                v = e.scores[key].get(agg)
                val = "" if v is None else repr(float(v))
                main_, _, ci = c.partition(" [")  # the interval on a second, smaller line
                shown = esc(main_) + (f'<br><span class="ci">[{esc(ci)}</span>' if ci else "")
                cells.append(f'<td class="num" data-v="{esc(val)}">{shown}</td>')
            elif h == "Model":
                cells.append(f'<td class="model" data-v="{esc(c)}" title="{esc(c)}">{esc(c)}</td>')
            elif h == "Submission":  # sorts by the name; the flags and the gate's mark are shown after it
                rest = c[len(e.name):]
                cells.append(f'<td data-v="{esc(e.name)}">{esc(e.name)}'
                             + (f'<span class="mark">{esc(rest)}</span>' if rest else "") + "</td>")
            elif h == "Rank":
                cells.append(f'<td class="num" data-v="{m["rank"] if m["rank"] is not None else 1e9}">{esc(c)}</td>')
            elif h == "Params":
                cells.append(f'<td class="num" data-v="{e.n_parameters if e.n_parameters is not None else ""}">{esc(c)}</td>')
            else:
                cells.append(f'<td data-v="{esc(c)}">{esc(c)}</td>')
        links = " ".join(f'<a href="{esc(u)}">{lab}</a>' for lab, u in (("paper", e.paper_url), ("code", e.code_url)) if u)
        p = e.provenance
        prov = (f"<details><summary>details</summary>avbench {esc(p.avbench_version)}, commit "
                f"<code>{esc(str(p.git_commit))}</code>{' (dirty)' if p.git_dirty else ''}, scored {esc(p.date)}<br>"
                f"submission sha256 <code>{esc(p.submission_sha256)}</code><br>"
                f"metric parameters <code>{esc(json.dumps(p.metric_params, sort_keys=True))}</code><br>"
                f"libraries <code>{esc(json.dumps(p.libraries, sort_keys=True))}</code></details>")
        out.append(f"<tr{cls}>" + "".join(cells) + f'<td data-v="">{links}</td><td data-v="">{prov}</td></tr>')  # noqa: E501
    out.append("</tbody></table></div>")
    plots = [PurePosixPath(p) for p in board.plots]
    if plots:
        out.append("<h2>Plots</h2>")
        out.append('<p class="meta">Written by <code>avbench report</code> (per-item scores of the entries).</p>')
        rank_of = {m["name"]: k for k, m in enumerate(machine)}
        kind = {n: k for k, n in enumerate(PLOT_ORDER)}
        top = PurePosixPath("report")
        # the board's own plots first, then each entry's in rank order, the main score's first
        plots.sort(key=lambda p: (p.parent != top, rank_of.get(p.parent.name, len(rank_of)),
                                  p.parent.name, not p.stem.endswith("_per_submission"),
                                  kind.get(p.stem, len(kind)), p.stem))
        for p in plots:
            rel = p.as_posix()
            cap = p.relative_to(top).with_suffix("").as_posix().replace("/", ": ").replace("_", " ")
            out.append(f'<figure><img src="{esc(rel)}" alt="{esc(cap)}" style="max-width:48rem">'
                       f"<figcaption>{esc(cap)}</figcaption></figure>")
    out += [f"<script>{_template('leaderboard.js')}</script>", "</body></html>", ""]
    return "\n".join(out)

#: the columns of the compact terminal view (besides the main score), when the board has them
TERMINAL_COLUMNS = ("Rank", "Seeds", "Silenced", "vs #1")
#: the widest a compact view's submission name gets (longer names are cut with "…")
TERMINAL_NAME = 32


def render_terminal(board: Ranked, more: str = "") -> str:
    """A compact, aligned view of a board for a terminal: rank, submission, the main score
    with its interval, the seed count and range, silenced sources, ``vs #1`` and a Notes
    column (outside the convergence gate, flags); the other metrics are in the Markdown
    table and the HTML page, which ``more`` names."""
    header, rows, _ = table(board)
    task, version = board.task, board.version
    if not header:
        return f"{task}@{version}: no entries yet\n"
    main = board.entries[0].main_score
    main_at = next((i for i, h in enumerate(header) if h.startswith(label(main) + " ")), 4)
    keep = [i for i, h in enumerate(header) if h in TERMINAL_COLUMNS or h.startswith("Seed range")]
    keep = keep[:1] + [main_at] + keep[1:]
    grid = [[header[0], "Submission"] + [header[i] for i in keep[1:]] + ["Notes"]]
    for r, (_, e) in zip(rows, board.rows):
        name = e.name if len(e.name) <= TERMINAL_NAME else e.name[: TERMINAL_NAME - 1] + "…"
        notes = (["not converged"] if e.name in board.gated else []) + (
            ["exceeds the oracle bounds: not ranked until reviewed"] if e.name in board.exceeds else []) + (
            [f"flagged {', '.join(sorted(e.warnings))}"] if e.warnings else []) + (["oracle"] if e.oracle else [])
        grid.append([r[0], name] + [r[i] for i in keep[1:]] + ["; ".join(notes)])
    widths = [max(len(g[k]) for g in grid) for k in range(len(grid[0]))]
    left = {1, len(grid[0]) - 1}
    lines = [f"{task}@{version}: ranked by {board.entries[0].aggregate} {label(main)}; "
             f"{len(rows)} rows, {sum(r[0] != '–' for r in rows)} ranked"]
    for k, g in enumerate(grid):
        lines.append("  ".join(x.ljust(w) if j in left else x.rjust(w)
                               for j, (x, w) in enumerate(zip(g, widths))).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    tail = []
    if any(FEW_MARK in g[2] for g in grid[1:]):
        tail.append(f"{FEW_MARK}: an interval over fewer than {FEW_GROUPS} works, a rough guide only")
    if board.gated:
        tail.append("not converged: outside the task's convergence gate (docs/protocol.md); no claim rests on it")
    if more:
        tail.append(more)
    return "\n".join(lines + [""] + tail) + "\n"
