"""Versioned leaderboards.

``<leaderboards>/<task>/<version>/entries/<submission>.json`` holds one entry per
submission (its metadata, scores and provenance); ``leaderboard.md``, ``.csv``,
``.json``, ``.tex`` (booktabs) and ``.html`` (a self-contained sortable page) beside it
are rebuilt deterministically from the entries.  Entries scored
under another task version are refused, never mixed in.  The main score ranks (its
direction from the metric's metadata), ties break by name, oracle rows are shown
after the ranked rows, marked, and not ranked; an entry without a main score (``null``)
ranks last.

Every update is one transaction under the folder's file lock (:func:`avbench.files.commit`:
staged files, fsync, journal, atomic renames, directory fsync; rolled forward after a
kill, rolled back on an I/O error), so concurrent scorers lose nothing and a reader
sees the old or the new board.  ``SHA256SUMS`` lists every file of the board as
avbench last wrote it: a hand-edited or schema-invalid board is refused, never
overwritten; :func:`verify` recomputes everything an entry claims.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from filelock import FileLock
from pydantic import BaseModel, ConfigDict, Field

from .config import home, repo_root
from .errors import LeaderboardError
from .files import commit, recover
from .metrics import METRICS
from .results import Provenance, Result, Stat, dump_json, keep_first_date
from .submission import SubmissionMeta

SUMS = "SHA256SUMS"
RENDERS = ("leaderboard.md", "leaderboard.csv", "leaderboard.json", "leaderboard.tex", "leaderboard.html")
#: seconds a scorer waits for another one's update of the same board
LOCK_TIMEOUT = float(os.environ.get("AVBENCH_LOCK_TIMEOUT", "900"))

SEPARATION_COLUMNS = ["sdr", "sir", "sar", "si_sdr", "sd_sdr", "sdri", "si_sdri", "pes", "eps"]
CLASSIFICATION_COLUMNS = ["hit@1", "hit@3", "macro_f1", "micro_f1"]
LABELS = {"sdr": "SDR", "sir": "SIR", "sar": "SAR", "si_sdr": "SI-SDR", "sd_sdr": "SD-SDR", "pes": "PES",
          "eps": "EPS", "sdri": "SDRi", "si_sdri": "SI-SDRi", "hit@1": "Hit@1", "hit@3": "Hit@3", "macro_f1": "Macro-F1", "micro_f1": "Micro-F1"}


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_version: int = 2
    name: str
    model: str
    authors: list[str] = Field(default_factory=list)
    paper_url: str | None = None
    code_url: str | None = None
    oracle: bool = False
    extra_training_data: str = "none"
    n_parameters: int | None = None
    inputs: list[str] = Field(default_factory=list)
    task: str
    version: str
    family: str
    main_score: str
    aggregate: str
    scores: dict[str, Stat]
    breakdown: dict[str, dict[str, dict[str, Stat]]] = Field(default_factory=dict)
    counts: dict[str, int] = Field(default_factory=dict)
    #: warnings of the scoring run, counted by code (e.g. AVB452: estimate identical to the reference)
    warnings: dict[str, int] = Field(default_factory=dict)
    provenance: Provenance

    @property
    def protocol(self) -> int:
        """The scoring protocol the entry was scored under."""
        from .tasks.base import protocol_number

        return protocol_number(self.provenance.metric_params)

    @property
    def main_value(self) -> float | None:
        s = self.scores.get(self.main_score)
        v = s.get(self.aggregate) if s else None
        return None if v is None or v != v else v


def default_root(write: bool = False) -> Path:
    """Where a command finds leaderboards when none is named.

    Writing (``score --update-leaderboard``, ``leaderboard build``, ``rescore``): always
    ``$AVBENCH_HOME/leaderboards``, so the committed boards of a checkout change only when
    named (``--leaderboards leaderboards``).  Checking the whole set (``verify``,
    ``check``): the checkout's committed ``leaderboards/`` when running from one, else
    ``$AVBENCH_HOME/leaderboards``.  ``show``, ``compare`` and ``report`` resolve one board
    at a time (:func:`reading_board`)."""
    if write:
        return home() / "leaderboards"
    r = repo_root()
    return r / "leaderboards" if r is not None else home() / "leaderboards"


def board_dir(root: Path, task: str, version: str) -> Path:
    return Path(root) / task / version


def published_root() -> Path | None:
    """The committed boards of the checkout avbench runs from, if it runs from one."""
    r = repo_root()
    return r / "leaderboards" if r is not None and (r / "leaderboards").is_dir() else None


def reading_board(root: Path | None, task: str, version: str) -> Path:
    """The board a reading command (``show``, ``compare``, ``report``) uses for one task
    version: under ``root`` when one is named; else your own board under
    ``$AVBENCH_HOME/leaderboards`` when you have written one (it began as a copy of the
    published board, :func:`seed_from_published`), else the published one of the checkout."""
    if root is not None:
        return board_dir(root, task, version)
    mine = board_dir(default_root(write=True), task, version)
    pub = published_root()
    if (mine / "entries").is_dir() or pub is None:
        return mine
    return board_dir(pub, task, version)


def seed_from_published(root: Path, task: str, version: str) -> int:
    """Start the board ``task@version`` under ``root`` as a copy of the published one (the
    reference rows, so that a new entry is ranked beside them), when ``root`` has no such
    board yet and the checkout has one.  The copy is verified against its ``SHA256SUMS``
    and moved into place whole.  Returns the number of entries copied (0: nothing done)."""
    pub = published_root()
    dst = board_dir(root, task, version)
    if pub is None or Path(root).resolve() == pub.resolve() or dst.exists():
        return 0
    src = board_dir(pub, task, version)
    if not (src / "entries").is_dir():
        return 0
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{version}.seed-", dir=dst.parent))
    try:
        for f in sorted(src.rglob("*")):
            if any(part.startswith(".") for part in f.relative_to(src).parts):
                continue  # the lock file
            if f.is_symlink() or not (f.is_file() or f.is_dir()):
                raise LeaderboardError(f"{f}: not a regular file; the published board is damaged")
            t = tmp / f.relative_to(src)
            if f.is_dir():
                t.mkdir(parents=True, exist_ok=True)
            else:
                t.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, t)
        bad = integrity_problems(tmp)
        if bad:
            raise LeaderboardError(f"{src}: the published board does not match its SHA256SUMS ({bad[0]})")
        try:
            os.rename(tmp, dst)
        except OSError:  # another writer seeded it first
            return 0
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return len(list((dst / "entries").glob("*.json")))


def entry_from(result: Result, meta: SubmissionMeta) -> Entry:
    t = meta.task(f"{result.task}@{result.version}") or meta.task(result.task)  # re-scored: inputs of any version
    return Entry(name=meta.name, model=meta.model, authors=meta.authors, paper_url=meta.paper_url,
                 code_url=meta.code_url, oracle=meta.oracle, extra_training_data=meta.extra_training_data,
                 n_parameters=meta.n_parameters, inputs=t.inputs if t else [], task=result.task,
                 version=result.version, family=result.family, main_score=result.main_score,
                 aggregate=result.aggregate, scores=result.scores, breakdown=result.breakdown,
                 counts=result.counts, warnings=dict(result.warning_counts), provenance=result.provenance)


def _lock(d: Path) -> FileLock:
    d.mkdir(parents=True, exist_ok=True)
    return FileLock(str(d / ".lock"), timeout=LOCK_TIMEOUT)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: the most bytes an entry JSON or a per-item parquet of a board may take
ENTRY_CAP = 16 << 20
PARQUET_CAP = 512 << 20
_BOARD_TOP = set(RENDERS) | {SUMS, ".lock", ".journal.json", "entries", "report"}


def board_problems(d: Path) -> list[str]:
    """What a board folder holds beyond what avbench writes: any link (git stores them,
    so a pull request can add one), special file, or name in ``entries/`` that is not
    ``<name>.json`` / ``<name>.scores.parquet`` with ``name`` in ``[a-z0-9._-]``.
    Such a board is refused, never read."""
    import stat as st_

    from .files import _TMP_SUFFIXES
    from .submission import NAME_RE

    probs = []
    if not d.is_dir():
        return probs
    for dirpath, dirnames, names in os.walk(d):
        rel_dir = Path(dirpath).relative_to(d).as_posix()
        for n in sorted(dirnames + names):
            p = Path(dirpath) / n
            rel = n if rel_dir == "." else f"{rel_dir}/{n}"
            m = os.lstat(p).st_mode
            if st_.S_ISLNK(m):
                probs.append(f"{rel}: a symbolic link (never followed)")
                if n in dirnames:
                    dirnames.remove(n)
                continue
            if not (st_.S_ISREG(m) or st_.S_ISDIR(m)):
                probs.append(f"{rel}: a special file")
                continue
            if n.startswith(".") and n.endswith(_TMP_SUFFIXES):
                continue  # left by a killed update; swept by recover
            if rel_dir == "." and n not in _BOARD_TOP:
                probs.append(f"{rel}: not a file avbench writes in a board folder")
            elif rel_dir == "." and n in ("entries", "report") and not st_.S_ISDIR(m):
                probs.append(f"{rel}: not a folder")
            elif rel_dir == "entries":
                stem = n[:-len(".scores.parquet")] if n.endswith(".scores.parquet") else (
                    n[:-len(".json")] if n.endswith(".json") else None)
                if stem is None or not NAME_RE.fullmatch(stem) or not st_.S_ISREG(m):
                    probs.append(f"{rel}: not an entry (<name>.json or <name>.scores.parquet, name in [a-z0-9._-])")
            elif rel_dir.startswith("entries/"):
                probs.append(f"{rel}: not an entry")
    return probs


def _refuse_foreign(d: Path) -> None:
    probs = board_problems(d)
    if probs:
        raise LeaderboardError("the board folder holds what avbench does not write; refusing to read it:\n  "
                               + "\n  ".join(probs[:20]), path=d, code="AVB503",
                               fix="remove those files and links (git checkout -- <board>; git clean)")


def _read(p: Path, cap: int) -> bytes:
    """A board file's bytes: no link followed, at most ``cap`` bytes."""
    from .safeio import read_regular

    try:
        return read_regular(p, cap)
    except ValueError as e:
        raise LeaderboardError(f"cannot read: {e}", path=p, code="AVB502",
                               fix="restore it from git, or re-score the submission") from None


def _read_parquet(p: Path):
    import pandas as pd

    return pd.read_parquet(io.BytesIO(_read(p, PARQUET_CAP)))


def board_files(d: Path) -> list[str]:
    """Files of a board that ``SHA256SUMS`` covers (relative POSIX paths, sorted)."""
    out = [r for r in RENDERS if (d / r).is_file()]
    if (d / "entries").is_dir():
        out += [f"entries/{p.name}" for p in sorted((d / "entries").iterdir())
                if not p.name.startswith(".")]
    return sorted(out)


def read_sums(d: Path) -> dict[str, str] | None:
    p = d / SUMS
    if not p.exists():
        return None
    out = {}
    for k, line in enumerate(_read(p, ENTRY_CAP).decode("utf-8", errors="replace").split("\n")[:-1], start=1):
        digest, sep, rel = line.partition("  ")
        if not sep or len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            raise LeaderboardError(f"line {k} is not '<sha256>  <path>'", path=p,
                                   fix="restore the file from git; it is written by avbench")
        out[rel] = digest
    return out


def integrity_problems(d: Path) -> list[str]:
    """Differences between a board's files and its ``SHA256SUMS`` (hand edits)."""
    sums = read_sums(d)
    files = board_files(d)
    if sums is None:
        return [f"{SUMS} missing"] if files else []
    probs = []
    for rel in files:
        if rel not in sums:
            probs.append(f"{rel}: not written by avbench (not in {SUMS})")
        elif _sha(_read(d / rel, PARQUET_CAP)) != sums[rel]:
            probs.append(f"{rel}: changed since avbench wrote it")
    probs += [f"{rel}: listed in {SUMS} but missing" for rel in sorted(set(sums) - set(files))]
    return probs


def _refuse_hand_edits(d: Path, adopt: bool) -> None:
    _refuse_foreign(d)
    probs = [] if adopt else integrity_problems(d)
    if probs:
        raise LeaderboardError("the board was edited by hand or is damaged; refusing to overwrite it:\n  "
                               + "\n  ".join(probs[:20]), path=d, code="AVB501",
                               fix="restore it from git (git checkout -- <board>), or review the files and run "
                                   "`avbench leaderboard build --adopt` to accept them")


def add_entry(root: Path, entry: Entry, scores: Path | None = None, replace: bool = False) -> Path:
    """Add an entry (and its per-item ``scores`` parquet, used for paired tests) and
    rebuild that leaderboard: one locked transaction.

    An entry of the same name is replaced when it was scored from the same submission
    content (a re-score), or with ``replace=True``; otherwise the name is refused (AVB504)."""
    from .submission import NAME_RE

    if not NAME_RE.fullmatch(entry.name):
        raise LeaderboardError(f"entry name {ascii(entry.name[:80])} is not [a-z0-9._-]", code="AVB504",
                               fix="rename the submission")
    d = board_dir(root, entry.task, entry.version)
    with _lock(d):
        recover(d)
        _refuse_hand_edits(d, adopt=False)
        old = load_entries(d, entry.task, entry.version)
        same = [e for e in old if e.name == entry.name]
        if same and not replace and same[0].provenance.submission_sha256 != entry.provenance.submission_sha256:
            raise LeaderboardError(f"{entry.task}@{entry.version} already has an entry named {entry.name!r} from "
                                   "other outputs", path=d / "entries" / f"{entry.name}.json", code="AVB504",
                                   fix="rename the submission, or pass --replace to replace that entry")
        _refuse_other_items_or_protocol(entry, [e for e in old if e.name != entry.name], d)
        entries = [e for e in old if e.name != entry.name]
        entry = keep_first_date(d / "entries" / f"{entry.name}.json", entry)
        entries.append(entry)
        entries.sort(key=lambda e: e.name)
        parquet = Path(scores).read_bytes() if scores is not None else None
        writes: dict[str, bytes | None] = {f"entries/{entry.name}.json": dump_json(entry).encode(),
                                           f"entries/{entry.name}.scores.parquet": parquet}
        _write_board(d, entry.task, entry.version, entries, writes)
    return d


def _params_diff(want: dict, got: dict) -> str:
    keys = sorted(set(want) | set(got))
    return ", ".join(f"{k}: {got.get(k, '(none)')!r} not {want.get(k, '(none)')!r}" for k in keys
                     if want.get(k) != got.get(k))[:300]


def _refuse_other_items_or_protocol(entry: Entry, others: list[Entry], d: Path) -> None:
    """One item list per board: the pinned one of the task version, or (unpinned) the
    one the board's entries were scored on (AVB505); and the task version's protocol
    parameters (AVB506)."""
    from .tasks import frozen

    pin = frozen().get(f"{entry.task}@{entry.version}")
    if pin and "metric_params" in pin and pin["metric_params"] != entry.provenance.metric_params:
        raise LeaderboardError(f"{entry.name} was scored under other protocol parameters than {entry.task}@"
                               f"{entry.version} ({_params_diff(pin['metric_params'], entry.provenance.metric_params)})",
                               path=d, code="AVB506", fix="score it again with this avbench")
    want = pin["items_sha256"] if pin else (others[0].provenance.items_sha256 if others else None)
    got = entry.provenance.items_sha256
    if want is not None and got != want:
        raise LeaderboardError(f"{entry.name} was scored on other items (items sha256 {got[:12]}) than "
                               f"{entry.task}@{entry.version} {'pins' if pin else 'holds'} ({want[:12]})",
                               path=d, code="AVB505",
                               fix="score it on the task version's items (for real data: a complete local copy, "
                                   "`avbench data verify` names what is missing)")


def _write_board(d: Path, task: str, version: str, entries: list[Entry], writes: dict[str, bytes | None]) -> None:
    """Render every table from ``entries`` (parquets as after ``writes``), add
    ``SHA256SUMS`` and commit it all as one transaction."""
    def parquet(name: str):
        import pandas as pd

        rel = f"entries/{name}.scores.parquet"
        if rel in writes:
            return None if writes[rel] is None else pd.read_parquet(io.BytesIO(writes[rel]))
        return _read_parquet(d / rel) if (d / rel).exists() else None

    writes = dict(writes)
    writes.update({name: text.encode() for name, text in
                   renders(task, version, entries, d, _significance(parquet, rank(entries))).items()})
    sums = {}
    existing = set(board_files(d))
    for rel in sorted(existing | {r for r, b in writes.items() if b is not None}):
        if rel in writes:
            if writes[rel] is not None:
                sums[rel] = _sha(writes[rel])
        else:
            sums[rel] = _sha(_read(d / rel, PARQUET_CAP))
    writes[SUMS] = "".join(f"{h}  {rel}\n" for rel, h in sorted(sums.items())).encode()
    writes = {r: b for r, b in writes.items() if b is not None or (d / r).exists()}
    commit(d, writes)


def renders(task: str, version: str, entries: list[Entry], d: Path, sig: dict[str, str]) -> dict[str, str]:
    """Every table of a board (file name -> text), from its entries and the ``vs #1`` column."""
    return {"leaderboard.md": render_markdown(task, version, entries, d, sig),
            "leaderboard.csv": render_csv(entries, d, sig),
            "leaderboard.json": render_json(task, version, entries, d, sig),
            "leaderboard.tex": render_latex(task, version, entries, d, sig),
            "leaderboard.html": render_html(task, version, entries, d, sig)}


def _schema_error(ex: Exception) -> str:
    """What is wrong with an entry, never quoting its content (it may be anything)."""
    from pydantic import ValidationError

    if isinstance(ex, ValidationError):
        errs = ex.errors(include_url=False, include_input=False, include_context=False)
        return "; ".join(f"{'.'.join(str(x) for x in e['loc'])[:80] or '(top)'}: {e['type']}" for e in errs[:5])
    return type(ex).__name__


def load_entries(d: Path, task: str, version: str) -> list[Entry]:
    _refuse_foreign(d)
    entries = []
    for p in sorted((d / "entries").glob("*.json")) if (d / "entries").is_dir() else []:
        try:
            e = Entry.model_validate_json(_read(p, ENTRY_CAP))
        except LeaderboardError:
            raise
        except Exception as ex:  # noqa: BLE001 - pydantic or JSON error in a user-edited file
            raise LeaderboardError(f"invalid entry ({_schema_error(ex)})", path=p, code="AVB502",
                                   fix="restore it from git, or re-score the submission with --update-leaderboard") from None
        if e.task != task or e.version != version:
            raise LeaderboardError(f"entry is for {e.task}@{e.version}, not {task}@{version}", path=p,
                                   fix="move it to its own task/version folder; versions are never mixed")
        if p.stem != e.name:
            raise LeaderboardError(f"file name does not match entry name {e.name!r}", path=p, fix=f"rename it to {e.name}.json")
        entries.append(e)
    return entries


#: main scores equal to this many decimals rank as a tie, broken by name
RANK_DECIMALS = 6


def rank(entries: list[Entry]) -> list[tuple[int | None, Entry]]:
    if not entries:
        return []
    main = entries[0].main_score
    hib = METRICS[main].higher_is_better if main in METRICS else True

    def key(e: Entry):
        v = e.main_value
        missing = v is None
        v = round(v or 0.0, RANK_DECIMALS)  # equal to 1e-6 (the published tolerance): a tie, broken by name
        return (missing, -v if hib else v, e.name)

    ranked = sorted([e for e in entries if not e.oracle], key=key)
    oracles = sorted([e for e in entries if e.oracle], key=key)
    out: list[tuple[int | None, Entry]] = []
    r = 0
    for e in ranked:
        r += 1
        out.append((r, e))
    out.extend((None, e) for e in oracles)
    return out


def _columns(family: str) -> list[str]:
    return SEPARATION_COLUMNS if family == "separation" else CLASSIFICATION_COLUMNS


def _significance(parquet, ranked: list[tuple[int | None, Entry]]) -> dict[str, str]:
    """``name -> text`` comparing every ranked row with the top row on the main score
    (:func:`avbench.compare.compare_frames`: signed-rank test on per-work mean
    differences), where both have per-item scores (``parquet(name)`` returns them or
    ``None``); the p-values are Holm-corrected for the number of rows tested.  Rows not
    significantly different from the top are marked ``≈``."""
    from .compare import ALPHA, compare_frames, holm

    rows = [e for r, e in ranked if r is not None]
    if len(rows) < 2:
        return {}
    top = rows[0]
    a = parquet(top.name)
    if a is None:
        return {}
    metric = top.main_score
    from .errors import AvbenchError

    out = {top.name: "top"}
    tested: dict[str, float] = {}
    for e in rows[1:]:
        b = parquet(e.name)
        if b is None:
            continue
        try:
            tested[e.name] = compare_frames(a, b, e.family, metric)["test"]["p_value"]
        except AvbenchError:  # no shared scored values: nothing to say
            continue
    for name, p in zip(tested, holm(list(tested.values()))):
        out[name] = ("≈ " if not p < ALPHA else "") + (f"p={p:.3f}" if p >= 0.001 else "p<0.001")
    return out


def _disk_parquet(d: Path):
    def load(name: str):
        f = d / "entries" / f"{name}.scores.parquet"
        return _read_parquet(f) if f.exists() else None

    return load


def _fmt(v: float | None, metric: str, stat: Stat | None = None) -> str:
    if v is None:
        if stat is not None and stat.n == 0 and (stat.n_posinf or stat.n_neginf):  # protocol 1 only
            k = stat.n_posinf + stat.n_neginf
            return ("+inf" if stat.n_posinf >= stat.n_neginf else "-inf") + f" (all {k})"
        return "–"
    text = f"{v:.3f}" if METRICS.get(metric) and METRICS[metric].unit == "" else f"{v:.2f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text  # never "-0.00"


def table(entries: list[Entry], d: Path | None = None, sig: dict[str, str] | None = None
          ) -> tuple[list[str], list[list[str]], list[dict]]:
    """Header, formatted rows and machine-readable rows of a leaderboard.

    The main score shows its 95% bootstrap interval; with the board's folder ``d``, a
    column compares every ranked row with the top one."""
    if not entries:
        return [], [], []
    fam = entries[0].family
    agg = entries[0].aggregate
    cols = [c for c in _columns(fam) if any(c in e.scores for e in entries)]
    header = ["Rank", "Submission", "Model", "Inputs"]
    for c in cols:
        info = METRICS.get(c)
        unit = f" [{info.unit}]" if info and info.unit else ""
        header.append(f"{LABELS.get(c, c)} {info.arrow if info else ''}{unit}".strip())
    with_ci = {c for c in cols if agg == "mean" and any(e.scores.get(c) is not None and e.scores[c].ci_low is not None
                                                       for e in entries)}
    for k, c in enumerate(cols):
        if c in with_ci:
            header[4 + k] += " (95% CI)"
    silenced = fam == "separation"
    header += (["Silenced"] if silenced else []) + ["vs #1", "Params", "Oracle"]
    ranked = rank(entries)
    if sig is None:
        sig = _significance(_disk_parquet(d), ranked) if d is not None else {}
    rows, machine = [], []
    for r, e in ranked:
        vals = [e.scores[c].get(agg) if c in e.scores else None for c in cols]
        cells = []
        for v, c in zip(vals, cols):
            cell = _fmt(v, c, e.scores.get(c))
            st = e.scores.get(c)
            if c in with_ci and st is not None and st.ci_low is not None:
                cell += f" [{_fmt(st.ci_low, c)}, {_fmt(st.ci_high, c)}]"
                if st.n_groups is not None and st.n_groups < FEW_GROUPS:
                    cell += FEW_MARK
            if st is not None and st.n and (st.n_posinf or st.n_neginf):  # protocol 1: left out of the mean
                cell += f" (+{st.n_posinf + st.n_neginf} inf)"
            cells.append(cell)
        shown = e.name + (f" (flagged {', '.join(sorted(e.warnings))})" if e.warnings else "")
        n_sil = e.counts.get("eps")
        if silenced:
            cells.append(str(n_sil) if n_sil is not None else "–")
        rows.append([str(r) if r is not None else "–", shown, e.model, ", ".join(e.inputs) or "–", *cells,
                     sig.get(e.name, "–") if r is not None else "–",
                     f"{e.n_parameters:,}" if e.n_parameters is not None else "–", "yes" if e.oracle else ""])
        machine.append({"rank": r, "name": e.name, "model": e.model, "oracle": e.oracle, "inputs": e.inputs,
                        "n_parameters": e.n_parameters, "paper_url": e.paper_url, "code_url": e.code_url,
                        "scores": {c: e.scores[c].model_dump() for c in cols if c in e.scores},
                        "vs_top": sig.get(e.name), "warnings": dict(sorted(e.warnings.items())),
                        **({"silenced": n_sil} if silenced else {}),
                        "submission_sha256": e.provenance.submission_sha256,
                        "git_commit": e.provenance.git_commit, "date": e.provenance.date})
    return header, rows, machine


def render_markdown(task: str, version: str, entries: list[Entry], d: Path | None = None, sig: dict[str, str] | None = None) -> str:
    header, rows, _ = table(entries, d, sig)
    lines = [f"# {task} — version {version}", ""]
    if not entries:
        return "\n".join(lines + ["No entries yet.", ""])
    e0 = entries[0]
    lines.append(f"Ranked by {e0.aggregate} {LABELS.get(e0.main_score, e0.main_score)} over "
                 f"{_n_range(entries)} scored sources/items; "
                 "↑ higher is better, ↓ lower is better; oracle rows use the references and are not ranked. "
                 f"{interval_note(entries)} "
                 "vs #1: paired test against the top row on the items both scored (Wilcoxon signed-rank on "
                 "the per-work mean differences, Holm-corrected over the rows); ≈ marks no significant "
                 "difference at 0.05.")
    lines.append(f"Task items sha256 `{e0.provenance.items_sha256[:16]}`, manifest sha256 "
                 f"`{e0.provenance.manifest_sha256[:16]}`.")
    lines.append(protocol_note(e0))
    lines.append("")
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join("---" if i < 4 else "---:" for i in range(len(header))) + "|")
    for r in rows:
        lines.append("| " + " | ".join(_md(x) for x in r) + " |")
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


def render_csv(entries: list[Entry], d: Path | None = None, sig: dict[str, str] | None = None) -> str:
    """One row per entry with numeric columns a spreadsheet or pandas can sort: for every
    metric ``<m>`` (the aggregate), ``<m>_ci_low``, ``<m>_ci_high``, ``<m>_n`` (values) and
    ``<m>_n_groups`` (the works the interval resamples); empty
    where a value does not exist.  Text cells from ``submission.yaml`` are neutralised."""
    _, _, machine = table(entries, d, sig)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if not machine:
        return buf.getvalue()
    agg = entries[0].aggregate
    cols = [c for c in _columns(entries[0].family) if any(c in e.scores for e in entries)]
    sep = entries[0].family == "separation"
    head = ["rank", "submission", "model", "inputs"]
    for c in cols:
        head += [c, f"{c}_ci_low", f"{c}_ci_high", f"{c}_n", f"{c}_n_groups"]
    head += (["silenced"] if sep else []) + ["vs_top", "n_parameters", "oracle", "flags"]
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
        flags = " ".join(f"{k}x{n}" for k, n in m["warnings"].items())
        row += ([str(m.get("silenced", "")) if m.get("silenced") is not None else ""] if sep else []) + [
            m["vs_top"] or "", "" if m["n_parameters"] is None else str(m["n_parameters"]),
            "yes" if m["oracle"] else "no", flags]
        w.writerow(row)
    return buf.getvalue()


def _csv_cell(x: str) -> str:
    """A text cell from submission.yaml, neutralised against spreadsheet formula injection
    (OWASP): a cell starting with ``= + - @``, a tab or a carriage return gets a leading ``'``."""
    return "'" + x if x[:1] in ("=", "+", "-", "@", "\t", "\r") else x


def render_json(task: str, version: str, entries: list[Entry], d: Path | None = None, sig: dict[str, str] | None = None) -> str:
    _, _, machine = table(entries, d, sig)
    proto = entries[0].protocol if entries else None
    return json.dumps({"task": task, "version": version, "protocol": proto, "rows": machine}, indent=2, sort_keys=True,
                      allow_nan=False, ensure_ascii=False) + "\n"


def _build_locked(d: Path, task: str, version: str, adopt: bool = False, report: list | None = None) -> None:
    recover(d)
    if adopt and report is not None:
        report += [f"{d}: {m}" for m in adoption(d)]
    _refuse_hand_edits(d, adopt)
    _write_board(d, task, version, load_entries(d, task, version), {})


def adoption(d: Path) -> list[str]:
    """What ``build --adopt`` does with each hand-made change of a board: an entry (or its
    per-item scores) is accepted and the tables are rendered from it; a table is rendered
    again from the entries, so an edit made in a table itself is replaced."""
    out = []
    for p in integrity_problems(d):
        rel = p.split(":", 1)[0]
        if rel.startswith("entries/"):
            out.append(f"{p}: accepted (the tables are rendered from it)")
        elif rel.startswith("leaderboard.") or rel == SUMS:
            out.append(f"{p}: rendered again from the entries (a table is never edited by hand; edit the entry)")
        else:
            out.append(f"{p}: accepted")
    return out


def drift(committed: Path, fresh: Path, tolerance: float = 1e-6) -> tuple[list[str], int]:
    """Compare freshly scored entries with committed ones, metric by metric.

    Returns the list of differences larger than ``tolerance`` (absolute, in the metric's
    unit) and the number of (entry, metric) pairs compared.  Every entry of ``fresh``
    must exist in ``committed`` under the same task and version.
    """
    problems: list[str] = []
    n = 0
    for f in sorted(Path(fresh).glob("*/*/entries/*.json")):
        rel = f.relative_to(fresh)
        c = Path(committed) / rel
        if not c.exists():
            problems.append(f"{rel}: no committed entry to compare with")
            continue
        a = Entry.model_validate_json(c.read_text())
        b = Entry.model_validate_json(f.read_text())
        if a.provenance.items_sha256 != b.provenance.items_sha256:
            problems.append(f"{rel}: scored on other items ({b.provenance.items_sha256[:12]} vs "
                            f"{a.provenance.items_sha256[:12]})")
            continue
        if a.provenance.metric_params != b.provenance.metric_params:
            problems.append(f"{rel}: scored under other metric parameters "
                            f"({_params_diff(a.provenance.metric_params, b.provenance.metric_params)})")
        if a.counts != b.counts:
            problems.append(f"{rel}: bucket counts moved from {a.counts} to {b.counts}")
        for m in sorted(set(a.scores) | set(b.scores)):
            sa, sb = a.scores.get(m), b.scores.get(m)
            if sa is None or sb is None:
                problems.append(f"{rel}: metric {m} only in one of them")
                continue
            for field in ("mean", "median", "n", "n_posinf", "n_neginf", "ci_low", "ci_high"):
                va, vb = getattr(sa, field), getattr(sb, field)
                n += 1
                if (va is None) != (vb is None) or (va is not None and abs(va - vb) > tolerance):
                    problems.append(f"{rel}: {m}.{field} moved from {va} to {vb}")
    return problems, n


def build(root: Path | None = None, task: str | None = None, adopt: bool = False,
          report: list | None = None) -> list[Path]:
    """Rebuild every leaderboard under ``root`` (or only ``task``) from its entries.

    A board whose files differ from its ``SHA256SUMS`` is refused unless ``adopt``
    (after a review of the hand-made change, e.g. a merge of two pull requests); with
    ``report``, what adopting did with each changed file is appended to it (:func:`adoption`)."""
    root = Path(root) if root is not None else default_root(write=True)
    built = []
    if not root.exists():
        return built
    for tdir in sorted(p for p in root.iterdir() if p.is_dir()):
        if task and tdir.name != task:
            continue
        for vdir in sorted(p for p in tdir.iterdir() if p.is_dir()):
            if not (vdir / "entries").is_dir():
                continue
            with _lock(vdir):
                _build_locked(vdir, tdir.name, vdir.name, adopt, report)
            built.append(vdir)
    return built


_TEX_ESCAPE = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
               "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}


def _tex(s: str) -> str:
    out = "".join(_TEX_ESCAPE.get(ch, ch) for ch in s)
    return (out.replace("↑", r"$\uparrow$").replace("↓", r"$\downarrow$").replace("≈", r"$\approx$")
            .replace("–", "--").replace("+inf", r"$+\infty$").replace("-inf", r"$-\infty$")
            .replace(FEW_MARK, r"$^\ddagger$"))


def render_latex(task: str, version: str, entries: list[Entry], d: Path | None = None, sig: dict[str, str] | None = None) -> str:
    """A booktabs table scaled to the text width (needs ``\\usepackage{booktabs,graphicx}``),
    the Model column wrapped, oracle rows after a rule."""
    header, rows, _ = table(entries, d, sig)
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
                 + _tex(") use the references and are not ranked. " + interval_note(entries)) + "}")
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


_HTML_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#222}
h1{font-size:1.4rem} p.meta{color:#555;max-width:70rem}
table{border-collapse:collapse;font-size:.92rem} th,td{padding:.35rem .6rem;border-bottom:1px solid #ddd}
th{cursor:pointer;background:#f4f4f4;position:sticky;top:0;user-select:none}
th.sorted-asc::after{content:" ▲"} th.sorted-desc::after{content:" ▼"}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap} td{vertical-align:top} tr.oracle td{color:#666;font-style:italic}
span.ci{font-size:.75rem;color:#666} td.model{min-width:13rem;max-width:18rem;font-size:.82rem;line-height:1.25}
div.wrap{overflow-x:auto;max-width:100%} table.lb{font-size:.86rem}
table.lb td:nth-child(2){white-space:nowrap;position:sticky;left:0;background:#fff}
table.lb th:nth-child(2){left:0;z-index:2}
details{font-size:.8rem;color:#444} code{font-size:.8rem}
"""

_HTML_SCRIPT = r"""
document.querySelectorAll('table.lb th').forEach(function(th, col){
  th.addEventListener('click', function(){
    var table = th.closest('table'), body = table.tBodies[0];
    var asc = !th.classList.contains('sorted-asc');
    table.querySelectorAll('th').forEach(function(h){h.classList.remove('sorted-asc','sorted-desc');});
    th.classList.add(asc ? 'sorted-asc' : 'sorted-desc');
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function(a, b){
      var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
      var nx = parseFloat(x), ny = parseFloat(y);
      var mx = (x === ''), my = (y === '');
      if (mx !== my) return mx ? 1 : -1;  // a row without a value goes last, in both directions
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : String(x).localeCompare(String(y));
      if (isNaN(nx) !== isNaN(ny)) c = isNaN(nx) ? 1 : -1;
      return asc ? c : -c;
    });
    rows.forEach(function(r){ body.appendChild(r); });
  });
});
(function(){
  var m = /sort=([^:&]+)(:desc)?/.exec(window.location.hash || '');
  if (!m) return;
  var key = decodeURIComponent(m[1]), ths = document.querySelectorAll('table.lb th');
  var th = /^\d+$/.test(key) ? ths[parseInt(key, 10)] :
    Array.prototype.find.call(ths, function(h){ return h.dataset.key === key; });
  if (!th) return;
  th.click();
  if (m[2]) th.click();
})();
"""


def _column_key(header: str) -> str:
    """The name ``#sort=`` takes for a column: the metric key (``sdr``, ``hit@1``) or the
    header in lower case with dashes (``rank``, ``vs-1``, ``params``)."""
    for k, lab in LABELS.items():
        if header == lab or header.startswith(lab + " "):
            return k
    return re.sub(r"[^a-z0-9@]+", "-", header.lower()).strip("-")


def render_html(task: str, version: str, entries: list[Entry], d: Path | None = None, sig: dict[str, str] | None = None) -> str:
    """A self-contained page (no network): sortable table, intervals, provenance per row."""
    import html

    header, rows, machine = table(entries, d, sig)
    if header:  # the main score, its test and the counts first: the other metrics may scroll
        main_at = next((i for i, h in enumerate(header) if _column_key(h) == entries[0].main_score), 4)
        first = [i for i in range(4)] + [main_at] + [i for i, h in enumerate(header) if h in ("vs #1", "Silenced", "Params")]
        order = first + [i for i in range(len(header)) if i not in first]
        header = [header[i] for i in order]
        rows = [[r[i] for i in order] for r in rows]
    esc = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{esc(task)} — version {esc(version)} — avbench</title>",
           f"<style>{_HTML_STYLE}</style></head><body>",
           f"<h1>{esc(task)} — version {esc(version)}</h1>"]
    if not entries:
        out += ["<p>No entries yet.</p>", "</body></html>", ""]
        return "\n".join(out)
    e0 = entries[0]
    out.append('<p class="meta">' + esc(
        f"Ranked by {e0.aggregate} {LABELS.get(e0.main_score, e0.main_score)}; ↑ higher is better, ↓ lower is "
        f"better. {interval_note(entries)} vs #1: paired test against the top row "
        "(Wilcoxon signed-rank on the per-work mean differences, Holm-corrected over the rows); "
        "≈ = not significantly different at 0.05. "
        "Oracle rows use the references and are not ranked. Click a column to sort.") + "</p>")
    out.append('<p class="meta">' + esc(f"Task items sha256 {e0.provenance.items_sha256}, manifest sha256 "
                                         f"{e0.provenance.manifest_sha256}.") + "</p>")
    out.append('<p class="meta">' + esc(protocol_note(e0)) + "</p>")
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
            key = next((k for k, lab in LABELS.items() if h.startswith(lab + " ")), None)
            if key is not None and key in e.scores:
                v = e.scores[key].get(agg)
                val = "" if v is None else repr(float(v))
                main_, _, ci = c.partition(" [")  # the interval on a second, smaller line
                shown = esc(main_) + (f'<br><span class="ci">[{esc(ci)}</span>' if ci else "")
                cells.append(f'<td class="num" data-v="{esc(val)}">{shown}</td>')
            elif h == "Model":
                cells.append(f'<td class="model" data-v="{esc(c)}" title="{esc(c)}">{esc(c)}</td>')
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
    plots = sorted((d / "report").glob("**/*.svg")) if d is not None and (d / "report").is_dir() else []
    if plots:
        out.append("<h2>Plots</h2>")
        out.append('<p class="meta">Written by <code>avbench report</code> (per-item scores of the entries).</p>')
        from .report import PLOT_ORDER

        rank_of = {m["name"]: k for k, m in enumerate(machine)}
        kind = {n: k for k, n in enumerate(PLOT_ORDER)}
        # the board's own plots first, then each entry's in rank order, the main score's first
        plots.sort(key=lambda p: (p.parent != d / "report", rank_of.get(p.parent.name, len(rank_of)),
                                  p.parent.name, not p.stem.endswith("_per_submission"),
                                  kind.get(p.stem, len(kind)), p.stem))
        for p in plots:
            rel = p.relative_to(d).as_posix()
            cap = p.relative_to(d / "report").with_suffix("").as_posix().replace("/", ": ").replace("_", " ")
            out.append(f'<figure><img src="{esc(rel)}" alt="{esc(cap)}" style="max-width:48rem">'
                       f"<figcaption>{esc(cap)}</figcaption></figure>")
    out += [f"<script>{_HTML_SCRIPT}</script>", "</body></html>", ""]
    return "\n".join(out)


# ----------------------------------------------------------------------------- verification
def _stat_equal(a: Stat, b: Stat, tol: float = 1e-9) -> bool:
    """``a`` (re-derived) equals ``b`` (stored); ``b.n_groups`` is compared when it was recorded
    (entries scored before it existed do not record it)."""
    fields = ("mean", "median", "std", "n", "n_posinf", "n_neginf", "ci_low", "ci_high")
    for f in fields + (("n_groups",) if b.n_groups is not None else ()):
        x, y = getattr(a, f), getattr(b, f)
        if (x is None) != (y is None) or (x is not None and abs(x - y) > tol * max(1.0, abs(x))):
            return False
    return True


def _find_submissions(paths: list[Path]) -> tuple[dict[tuple[str, str], Path], set, list[str]]:
    """``(task@version, name) -> folder`` of the submissions under ``paths`` (a folder,
    or one level below), the keys of those named on their own (not found in a folder of
    drafts), and the problems of those that cannot be read or that give one (task, name)
    twice.  Two submissions of one name on different tasks are two entries."""
    from .submission import load_meta

    out: dict[tuple[str, str], Path] = {}
    explicit_keys: set = set()
    probs: list[str] = []
    for p in paths:
        p = Path(p)
        if not p.is_dir():
            probs.append(f"{p}: no such folder")
            continue
        explicit = (p / "submission.yaml").is_file()
        cands = [p] if explicit else sorted(q for q in p.iterdir() if q.is_dir())
        for c in cands:
            if not (c / "submission.yaml").is_file():
                continue
            _, meta, errs = load_meta(c)
            if meta is None:
                probs.append(f"{c}/submission.yaml: unreadable ({errs[0] if errs else 'unknown'})")
                continue
            for t in meta.tasks:
                k = (t.key, meta.name)
                if k in out:
                    probs.append(f"{c}: a second submission named {meta.name!r} for {t.key} (also {out[k]})")
                else:
                    out[k] = c
                    if explicit:
                        explicit_keys.add(k)
    return out, explicit_keys, probs


def _git_has(commit: str) -> bool | None:
    import subprocess

    r = repo_root()
    if r is None or not (r / ".git").exists():
        return None
    try:
        shallow = subprocess.run(["git", "-C", str(r), "rev-parse", "--is-shallow-repository"], capture_output=True,
                                 text=True, timeout=30).stdout.strip()
        if shallow != "false":  # a shallow clone does not hold the history to check against
            return None
        res = subprocess.run(["git", "-C", str(r), "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True,
                             timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return res.returncode == 0


def verify(root: Path | None = None, submissions: list[Path] | None = None,
           rescore: bool = False) -> tuple[list[str], dict]:
    """Recompute what every leaderboard under ``root`` claims.

    Per board: files against ``SHA256SUMS``; entries valid and in their task/version
    folder; tables equal to a fresh render of the entries; every score of an entry
    equal to the statistic recomputed from its per-item parquet; task items and
    manifest hashes equal to the pinned ones; the scoring commit known to this
    repository; the bucket counts, the silent/identical flags and (classification) the
    F1 scores re-derived from the per-item parquet.  Per entry whose submission folder
    is found under ``submissions`` (matched by task, version and name): the sha256 of
    submission.yaml, of every input file and of the whole content, and the entry's
    metadata equal to that submission.yaml's; with ``rescore``, the submission scored
    again (in a copy) and every per-item score compared with the stored ones.
    Returns ``(problems, figures)``; no problem means verified.
    """
    from .tasks import frozen

    root = Path(root) if root is not None else default_root()
    subs, explicit, probs = _find_submissions(list(submissions or []))
    pins = frozen()
    fig = {"boards": 0, "entries": 0, "scores_recomputed": 0, "files_hashed": 0, "submissions_checked": 0,
           "metadata_checked": 0, "rescored": 0, "entries_without_file_hashes": 0}
    commits: dict[str, bool | None] = {}
    for d in sorted(p.parent for p in root.glob("*/*/entries")):
        task, version = d.parent.name, d.name
        rel_d = d.relative_to(root)
        fig["boards"] += 1
        with _lock(d):
            try:
                probs += _verify_board(d, rel_d, task, version, subs, pins, fig, commits, rescore)
            except Exception as e:  # noqa: BLE001 - any damaged file fails verification, never the run
                probs.append(f"{rel_d}: unreadable ({type(e).__name__}: {str(e)[:200]})")
    unmatched = sorted(set(subs) - fig.pop("_matched", set()))
    fig["submissions_without_entry"] = len(unmatched)  # drafts in a folder of submissions: counted only
    for k in unmatched:
        if k in explicit:  # a submission named on its own must match an entry
            probs.append(f"{subs[k]}: submission {k[1]!r} has no entry for {k[0]} on these leaderboards")
    return probs, fig


def _verify_board(d: Path, rel_d: Path, task: str, version: str, subs: dict, pins: dict, fig: dict,
                  commits: dict, rescore: bool = False) -> list[str]:
    from .submission import submission_hashes

    probs: list[str] = []
    foreign = board_problems(d)
    if foreign:
        return [f"{rel_d}/{p}" for p in foreign]
    for done in recover(d):
        probs.append(f"{rel_d}: {done} (the board was left by a killed update)")
    try:
        probs += [f"{rel_d}/{p}" for p in integrity_problems(d)]
    except LeaderboardError as e:
        probs.append(f"{rel_d}: {e}")
    try:
        entries = load_entries(d, task, version)
    except LeaderboardError as e:
        probs.append(f"{rel_d}: {e}")
        return probs
    try:
        sig = _significance(_disk_parquet(d), rank(entries))
    except Exception as e:  # noqa: BLE001 - a damaged per-item file
        probs.append(f"{rel_d}: per-item scores unreadable ({type(e).__name__})")
        sig = {}
    for name, text in renders(task, version, entries, d, sig).items():
        if not (d / name).is_file() or (d / name).read_text(encoding="utf-8") != text:
            probs.append(f"{rel_d}/{name}: differs from the table its entries give")
    for e in entries:
        fig["entries"] += 1
        where = f"{rel_d}/entries/{e.name}.json"
        pq = d / "entries" / f"{e.name}.scores.parquet"
        df = None
        if pq.exists():
            try:
                df = _read_parquet(pq)
            except Exception as ex:  # noqa: BLE001 - damaged file
                probs.append(f"{where}: per-item scores unreadable ({type(ex).__name__})")
        if df is not None:
            probs += [f"{where}: {p}" for p in _rederive(e, df, fig)]
        pin = pins.get(f"{task}@{version}")
        pv = e.provenance
        if pv.items_sha256 != entries[0].provenance.items_sha256:
            probs.append(f"{where}: scored on other items than {entries[0].name} on the same board")
        if pin and pin["items_sha256"] != pv.items_sha256:
            probs.append(f"{where}: scored on other items than {task}@{version} pins")
        if pin and pin["manifest_sha256"] != pv.manifest_sha256:
            probs.append(f"{where}: reference manifest sha256 differs from the pinned one")
        if pin and "metric_params" in pin and pin["metric_params"] != pv.metric_params:
            probs.append(f"{where}: scored under other protocol parameters ({_params_diff(pin['metric_params'], pv.metric_params)}) "
                         f"than {task}@{version}'s; re-score it (`avbench leaderboard rescore`)")
        if pv.task != task or pv.task_version != version:
            probs.append(f"{where}: provenance names {pv.task}@{pv.task_version}")
        if pv.git_commit:
            if pv.git_commit not in commits:
                commits[pv.git_commit] = _git_has(pv.git_commit)
            if commits[pv.git_commit] is False:
                probs.append(f"{where}: scoring commit {pv.git_commit[:12]} is not in this repository")
        if pv.files is None:
            fig["entries_without_file_hashes"] += 1
        s = subs.get((f"{task}@{version}", e.name))
        if s is None:
            continue
        fig.setdefault("_matched", set()).add((f"{task}@{version}", e.name))
        fig["submissions_checked"] += 1
        probs += [f"{where}: {p}" for p in _metadata_differs(e, s, fig)]
        if rescore:
            probs += [f"{where}: {p}" for p in _rescored_differs(e, s, df, fig)]
        content, now_files = submission_hashes(s)
        if pv.files is not None:
            fig["files_hashed"] += len(now_files)
            for rel in sorted(set(pv.files) | set(now_files)):
                if rel not in now_files:
                    probs.append(f"{where}: input {rel} is missing from {s}")
                elif rel not in pv.files:
                    probs.append(f"{where}: {s}/{rel} was not scored")
                elif pv.files[rel] != now_files[rel]:
                    probs.append(f"{where}: {s}/{rel} changed since it was scored")
            if pv.metadata_sha256 != now_files.get("submission.yaml"):
                probs.append(f"{where}: {s}/submission.yaml changed since it was scored")
        if content != pv.submission_sha256:
            probs.append(f"{where}: content sha256 of {s} differs from the scored one")
    return probs


def _rederive(e: Entry, df, fig: dict) -> list[str]:
    """Everything an entry claims that its per-item parquet determines."""
    probs = []
    g = df["group"].to_numpy() if "group" in df else None
    derived: dict[str, Stat] = {}
    if e.family == "classification" and {"label", "pred", "group"} <= set(df.columns):
        from .scoring import f1_stats
        from .tasks import synth

        classes = list(synth.CLASSES) if e.task in synth.NAMES else None
        if classes is None:
            try:
                from .tasks import get_task

                classes = list(get_task(e.task, e.version).spec.classes)
            except Exception:  # noqa: BLE001 - the task's data is not here: F1 left unchecked
                classes = None
        if classes is not None and set(df["label"]) | set(df["pred"]) <= set(classes):
            derived.update(f1_stats(df, classes))
        elif classes is not None:
            probs.append("per-item labels or predictions outside the task's classes")
    for m, st in e.scores.items():
        if m in derived:
            fresh = derived[m]
        elif m in df and not (e.family == "classification" and m in ("macro_f1", "micro_f1")):
            fresh = Stat.of(df[m].to_numpy(), g, ci=st.ci_low is not None)
        else:
            continue
        fig["scores_recomputed"] += 1
        if not _stat_equal(fresh, st):
            probs.append(f"score {m} is not what its per-item scores give")
    if e.family == "separation" and "bucket" in df:
        counts = {b: int((df["bucket"] == b).sum()) for b in e.counts}
        if counts != e.counts or len(df) != sum(e.counts.values()):
            probs.append("bucket counts are not what its per-item scores give")
    if "flag" in df:
        for code, flag in (("AVB451", "silent"), ("AVB452", "identical")):
            n = int((df["flag"] == flag).sum())
            if e.warnings.get(code, 0) != n:
                probs.append(f"warning {code} counted {e.warnings.get(code, 0)} times; its per-item scores flag {n}")
    return probs


_META_FIELDS = ("name", "model", "authors", "paper_url", "code_url", "oracle", "extra_training_data", "n_parameters")


def _metadata_differs(e: Entry, folder: Path, fig: dict) -> list[str]:
    """Fields of the entry that differ from the submission.yaml it was scored from."""
    from .submission import load_meta

    _, meta, errs = load_meta(folder)
    if meta is None:
        return [f"{folder}/submission.yaml unreadable"]
    fig["metadata_checked"] += 1
    probs = [f"{f} differs from {folder}/submission.yaml" for f in _META_FIELDS if getattr(e, f) != getattr(meta, f)]
    t = meta.task(f"{e.task}@{e.version}")
    if t is not None and list(t.inputs) != list(e.inputs):
        probs.append(f"inputs differ from {folder}/submission.yaml")
    return probs


def _rescored_differs(e: Entry, folder: Path, df, fig: dict) -> list[str]:
    """Score a copy of the submission again and compare every per-item score."""
    import shutil
    import tempfile

    import numpy as np
    import pandas as pd

    from .errors import AvbenchError
    from .scoring import score

    with tempfile.TemporaryDirectory(prefix="avbench-rescore-") as tmp:
        copy = Path(tmp) / "sub"
        shutil.copytree(folder, copy, symlinks=True, ignore=shutil.ignore_patterns("results"))
        try:
            (r,) = score(copy, task=f"{e.task}@{e.version}", workers=1, progress=False)
        except AvbenchError as ex:
            return [f"re-scoring {folder} failed: {ex.message[:300]}"]
        fresh = pd.read_parquet(copy / "results" / f"{e.task}@{e.version}" / "scores.parquet")
    fig["rescored"] += 1
    probs = []
    if df is None:
        return ["no per-item scores to compare the re-scored ones with"]
    key = [c for c in ("item", "slot") if c in fresh]
    a = df.sort_values(key).reset_index(drop=True)
    b = fresh.sort_values(key).reset_index(drop=True)
    if len(a) != len(b) or not (a[key].astype(str).values == b[key].astype(str).values).all():
        return ["the stored per-item scores cover other (item, slot) pairs than a re-score"]
    for m in b.columns:
        if m in key or m not in a:
            continue
        x, y = a[m].to_numpy(), b[m].to_numpy()
        if x.dtype.kind in "fi" and y.dtype.kind in "fi":
            x, y = x.astype(float), y.astype(float)
            with np.errstate(invalid="ignore"):
                same = (np.isnan(x) & np.isnan(y)) | (x == y) | (np.abs(x - y) <= 1e-9 * np.maximum(1.0, np.abs(x)))
            if not same.all():
                probs.append(f"per-item {m} differs from a re-score at {int((~same).sum())} row(s)")
        elif not (a[m].astype(str).values == b[m].astype(str).values).all():
            probs.append(f"per-item {m} differs from a re-score")
    fresh_entry = entry_from(r, _meta_of(folder))
    for m, st in fresh_entry.scores.items():
        if m in e.scores and not _stat_equal(st, e.scores[m]):
            probs.append(f"score {m} differs from a re-score")
    return probs


def _meta_of(folder: Path):
    from .submission import load_meta

    return load_meta(folder)[1]
