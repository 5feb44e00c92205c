"""Storage of boards: where they live, reading them safely, and every update as one
locked transaction with ``SHA256SUMS``.

``<leaderboards>/<task>/<version>/entries/<name>.json`` (and ``<name>.scores.parquet``)
are the board; its tables are rendered from them.  A board holding anything avbench
does not write, or files that differ from its ``SHA256SUMS``, is refused, never read
or overwritten."""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock

from ..config import home, repo_root
from ..errors import LeaderboardError
from ..files import commit, recover
from ..results import Stat, dump_json, keep_first_date
from .entry import Entry
from .ranking import Ranked, ranked
from .render import RENDERS, renders

if TYPE_CHECKING:
    import pandas as pd

SUMS = "SHA256SUMS"


#: seconds a scorer waits for another one's update of the same board
LOCK_TIMEOUT = float(os.environ.get("AVBENCH_LOCK_TIMEOUT", "900"))


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


def refuse_links(d: Path) -> None:
    """Refuse a board ``d`` (``<root>/<task>/<version>``) whose task or version folder, lock,
    ``entries/`` or ``report/`` is a symbolic link (or its lock is not a plain file): git
    stores links, so a change to a committed board could otherwise send every entry, table,
    checksum and the lock wherever the link points, and a ``verify`` would read them there."""
    for p, what in ((d.parent, "task folder"), (d, "version folder"), (d / ".lock", "lock"),
                    (d / "entries", "entries folder"), (d / "report", "report folder")):
        if p.is_symlink():
            raise LeaderboardError(f"the board's {what} is a symbolic link; a board is never read or written "
                                   "through a link", path=p, code="AVB503",
                                   fix="replace the link with a real folder (or remove it) and rebuild the board")
    lk = d / ".lock"
    if lk.exists() and not lk.is_file():
        raise LeaderboardError("the board's lock is not a plain file", path=lk, code="AVB503",
                               fix="remove it; the next command makes a new one")


def lock(d: Path) -> FileLock:
    """The lock every reader that must see one state and every writer of board ``d`` holds
    (after :func:`refuse_links`)."""
    refuse_links(d)
    d.mkdir(parents=True, exist_ok=True)
    return FileLock(str(d / ".lock"), timeout=LOCK_TIMEOUT)

def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: the most bytes an entry JSON or a per-item parquet of a board may take
ENTRY_CAP = 16 << 20


PARQUET_CAP = 512 << 20


#: the board file naming the rows a maintainer reviewed: ranked even when they exceed the
#: oracle bounds (``{"reviewed": [name, ...]}``; written by :func:`review`)
REVIEWED = "reviewed.json"
REVIEWED_CAP = 1 << 20

_BOARD_TOP = set(RENDERS) | {SUMS, ".lock", ".journal.json", "entries", "report", REVIEWED}


def reviewed_of(d: Path, data: bytes | None = None) -> frozenset:
    """The names ``reviewed.json`` of board ``d`` lists (``data``: its bytes as about to be
    written); empty when there is none."""
    import json

    from ..submission import NAME_RE

    p = Path(d) / REVIEWED
    if data is None:
        if not p.is_file():
            return frozenset()
        data = _read(p, REVIEWED_CAP)
    try:
        names = json.loads(data)["reviewed"]
        if not isinstance(names, list) or not all(isinstance(n, str) and NAME_RE.fullmatch(n) for n in names):
            raise ValueError("not a list of entry names")
    except (ValueError, KeyError, TypeError):
        raise LeaderboardError("not a list of reviewed entry names ({\"reviewed\": [name, ...]})", path=p,
                               code="AVB502", fix="restore it from git (avbench leaderboard review writes it)") from None
    return frozenset(names)


def review(root: Path, task: str, version: str, name: str, remove: bool = False) -> Path:
    """Mark row ``name`` (an entry, or a model whose seed entries the board folds) of a
    board as reviewed, so that it is ranked although it exceeds the oracle bounds
    (``remove``: take the mark back); one locked transaction with the tables."""
    import json

    from ..tasks import did_you_mean
    from .seeds import seed_of

    d = board_dir(root, task, version)
    with lock(d):
        recover(d)
        _refuse_hand_edits(d, adopt=False)
        entries = load_entries(d, task, version)
        names = {e.name for e in entries} | {seed_of(e.name)[0] for e in entries}
        if name not in names:
            raise LeaderboardError(f"no row {name[:80]!r} on the {task}@{version} board{did_you_mean(name, sorted(names))}",
                                   path=d, fix="name an entry of `avbench leaderboard show --seeds`")
        have = set(reviewed_of(d))
        have = have - {name} if remove else have | {name}
        data = (json.dumps({"reviewed": sorted(have)}, indent=2) + "\n").encode()
        _write_board(d, task, version, entries, {REVIEWED: data})
    return d


def board_problems(d: Path) -> list[str]:
    """What a board folder holds beyond what avbench writes: any link (git stores them,
    so a pull request can add one), special file, or name in ``entries/`` that is not
    ``<name>.json`` / ``<name>.scores.parquet`` with ``name`` in ``[a-z0-9._-]``.
    Such a board is refused, never read."""
    import stat as st_

    from ..files import _TMP_SUFFIXES
    from ..submission import NAME_RE

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
    from ..safeio import read_regular

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
    out = [r for r in RENDERS if (d / r).is_file()] + ([REVIEWED] if (d / REVIEWED).is_file() else [])
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


class Reproduced(LeaderboardError):
    """An entry whose name is on the board already, from other output files, with every
    score equal: a reproduction of the published row (the board is left as it is)."""


def _stat_equal(a: Stat, b: Stat, tol: float = 1e-9) -> bool:
    """``a`` (re-derived) equals ``b`` (stored); ``b.n_groups`` is compared when it was recorded
    (entries scored before it existed do not record it)."""
    fields = ("mean", "median", "std", "n", "n_posinf", "n_neginf", "ci_low", "ci_high")
    for f in fields + (("n_groups",) if b.n_groups is not None else ()):
        x, y = getattr(a, f), getattr(b, f)
        if (x is None) != (y is None) or (x is not None and abs(x - y) > tol * max(1.0, abs(x))):
            return False
    return True


def _scores_agree(a: Entry, b: Entry) -> int:
    """How many scores ``a`` and ``b`` share, when every one agrees within 1e-9 (0 otherwise)."""
    shared = sorted(set(a.scores) & set(b.scores))
    ok = shared and set(a.scores) == set(b.scores) and all(_stat_equal(b.scores[m], a.scores[m]) for m in shared)
    return len(shared) if ok else 0


def add_entry(root: Path, entry: Entry, scores: Path | None = None, replace: bool = False) -> Path:
    """Add an entry (and its per-item ``scores`` parquet, used for paired tests) and
    rebuild that leaderboard: one locked transaction.

    An entry of the same name is replaced when it was scored from the same submission
    content (a re-score), or with ``replace=True``; otherwise the name is refused (AVB504)."""
    from ..submission import NAME_RE

    if not NAME_RE.fullmatch(entry.name):
        raise LeaderboardError(f"entry name {ascii(entry.name[:80])} is not [a-z0-9._-]", code="AVB504",
                               fix="rename the submission")
    d = board_dir(root, entry.task, entry.version)
    with lock(d):
        recover(d)
        _refuse_hand_edits(d, adopt=False)
        old = load_entries(d, entry.task, entry.version)
        same = [e for e in old if e.name == entry.name]
        if same and not replace and same[0].provenance.submission_sha256 != entry.provenance.submission_sha256:
            agree = _scores_agree(same[0], entry)
            if agree:  # other bytes, the same numbers: a reproduction of the published row
                raise Reproduced(
                    f"{entry.name!r} reproduces the published entry of that name on {entry.task}@{entry.version}: "
                    f"all {agree} scores agree within 1e-9 (from other output files); the board is unchanged",
                    path=d / "entries" / f"{entry.name}.json", code="AVB507",
                    fix="nothing to do; to add it as a row of its own, rename the submission")
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
    from ..tasks import frozen

    pin = frozen().get(f"{entry.task}@{entry.version}")
    if pin and "metric_params" in pin and pin["metric_params"] != entry.provenance.metric_params:
        raise LeaderboardError(f"{entry.name} was scored under other protocol parameters than {entry.task}@"
                               f"{entry.version} ({_params_diff(pin['metric_params'], entry.provenance.metric_params)})",
                               path=d, code="AVB506", fix="score it again with this avbench")
    if pin and "metrics" in pin and (set(entry.scores) != set(pin["metrics"]) or entry.main_score != pin["main_score"]):
        raise LeaderboardError(f"{entry.name} scores {', '.join(entry.scores)} (main {entry.main_score}); "
                               f"{entry.task}@{entry.version} pins {', '.join(pin['metrics'])} "
                               f"(main {pin['main_score']})", path=d, code="AVB506",
                               fix="score it again with this avbench, against the pinned declaration")
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
    board = ranked(task, version, entries, parquet, plots(d),
                   reviewed=reviewed_of(d, writes[REVIEWED]) if writes.get(REVIEWED) else reviewed_of(d))
    writes.update({name: text.encode() for name, text in renders(board).items()})
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

def plots(d: Path) -> tuple[str, ...]:
    """The report plots of board ``d`` (``report/**/*.svg``, relative POSIX paths)."""
    r = Path(d) / "report"
    return tuple(p.relative_to(d).as_posix() for p in sorted(r.glob("**/*.svg"))) if r.is_dir() else ()


def disk_parquet(d: Path):
    """``name -> per-item scores`` of board ``d`` (``None`` where an entry has none)."""
    def load(name: str):
        f = d / "entries" / f"{name}.scores.parquet"
        return _read_parquet(f) if f.exists() else None

    return load


def board_of(d: Path, task: str, version: str, fold: bool = True) -> Ranked:
    """Board ``d`` read and ranked, with its ``vs #1`` column and plots: what its tables show
    (``fold=False``: one row per seed entry)."""
    return ranked(task, version, load_entries(d, task, version), disk_parquet(d), plots(d), fold=fold,
                  reviewed=reviewed_of(d))


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
        except ValueError as ex:  # pydantic's ValidationError (or JSON) in a user-edited file
            raise LeaderboardError(f"invalid entry ({_schema_error(ex)})", path=p, code="AVB502",
                                   fix="restore it from git, or re-score the submission with --update-leaderboard") from None
        if e.task != task or e.version != version:
            raise LeaderboardError(f"entry is for {e.task}@{e.version}, not {task}@{version}", path=p,
                                   fix="move it to its own task/version folder; versions are never mixed")
        if p.stem != e.name:
            raise LeaderboardError(f"file name does not match entry name {e.name!r}", path=p, fix=f"rename it to {e.name}.json")
        entries.append(e)
    return entries


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
            with lock(vdir):
                _build_locked(vdir, tdir.name, vdir.name, adopt, report)
            built.append(vdir)
    return built


def load_scores(ref: str, task_key: str, leaderboards: Path | None) -> tuple[str, "pd.DataFrame"]:
    """Per-item scores of ``ref``: a scored submission folder (its results) or the name of
    an entry on the board that :func:`reading_board` finds for ``task_key``."""
    import pandas as pd

    from ..errors import LeaderboardError
    from ..scoring import scores_path
    from ..tasks import resolve

    p = Path(ref)
    name, version = resolve(task_key)
    if p.is_dir():
        f = scores_path(p, f"{name}@{version}")
        if not f.exists():
            raise LeaderboardError(f"{p} has no scores for {name}@{version}", path=f,
                                   fix=f"run `avbench score {p} --task {name}@{version}`")
        return p.name, pd.read_parquet(f)
    d = reading_board(leaderboards, name, version) / "entries"
    f = d / f"{ref}.scores.parquet"
    if not f.exists():
        from ..tasks import did_you_mean

        have = sorted(q.name[: -len(".scores.parquet")] for q in d.glob("*.scores.parquet")) if d.is_dir() else []
        listed = ", ".join(have[:12]) + (f" and {len(have) - 12} more" if len(have) > 12 else "")
        raise LeaderboardError(f"no entry {ref[:80]!r} with per-item scores on the {name}@{version} board"
                               f"{did_you_mean(ref, have)}", path=d,
                               fix=(f"use one of its entries ({listed}), " if have else "")
                               + "or pass a scored submission folder")
    return ref, pd.read_parquet(f)
