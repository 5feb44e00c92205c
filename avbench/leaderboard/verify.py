"""Verification: everything a board claims, recomputed.

:func:`verify` checks every board under a root (hashes, tables, statistics from the
per-item scores, pins, commits, and the submissions when given); :func:`drift` compares
freshly scored entries with committed ones."""
from __future__ import annotations

import os

from pathlib import Path

from ..config import repo_root
from ..errors import AvbenchError, LeaderboardError
from ..files import recover
from ..metrics.registry import METRICS
from ..results import Stat
from ..submission import SubmissionInfo
from .entry import Entry, entry_from
from .ranking import ranked
from .render import renders
from .store import (_params_diff, _read_parquet, _stat_equal, board_problems, default_root, disk_parquet, integrity_problems,
                    load_entries, lock, plots, reviewed_of)

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


# ----------------------------------------------------------------------------- verification
def _find_submissions(paths: list[Path]) -> tuple[dict[tuple[str, str], Path], set, list[str]]:
    """``(task@version, name) -> folder`` of the submissions under ``paths`` (a folder,
    or one level below), the keys of those named on their own (not found in a folder of
    drafts), and the problems of those that cannot be read or that give one (task, name)
    twice.  Two submissions of one name on different tasks are two entries."""
    from ..submission import load_meta

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
    from ..tasks import frozen

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
        with lock(d):
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
    from ..submission import submission_hashes

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
        rev = reviewed_of(d)
    except LeaderboardError as e:
        probs.append(f"{rel_d}: {e}")
        rev = frozenset()
    try:
        board = ranked(task, version, entries, disk_parquet(d), plots(d), reviewed=rev)
    except (LeaderboardError, OSError, ValueError) as e:  # a damaged per-item file
        probs.append(f"{rel_d}: per-item scores unreadable ({type(e).__name__})")
        board = ranked(task, version, entries, None, plots(d), reviewed=rev)
    for name, text in renders(board).items():
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
            except (LeaderboardError, OSError, ValueError) as ex:  # a damaged file (pyarrow's errors are these)
                probs.append(f"{where}: per-item scores unreadable ({type(ex).__name__})")
        if df is not None:
            probs += [f"{where}: {p}" for p in _rederive(e, df, fig)]
            probs += [f"{where}: {p}" for p in _against_task(e, df, fig)]
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
        if pin and "metrics" in pin and (set(e.scores) != set(pin["metrics"]) or e.main_score != pin["main_score"]):
            probs.append(f"{where}: its scores ({', '.join(e.scores)}; main {e.main_score}) are not the metrics "
                         f"{task}@{version} pins ({', '.join(pin['metrics'])}; main {pin['main_score']})")
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
        from ..scoring import set_stats
        from ..tasks import synth

        classes = list(synth.CLASSES) if synth.is_synth(e.task) else None
        if classes is None:
            try:
                from ..tasks import get_task

                classes = list(get_task(e.task, e.version).spec.classes)
            except AvbenchError:  # the task's data is not here: F1 left unchecked
                classes = None
        if classes is not None and set(df["label"]) | set(df["pred"]) <= set(classes):
            derived.update(set_stats(df, classes))
        elif classes is not None:
            probs.append("per-item labels or predictions outside the task's classes")
    for m, st in e.scores.items():
        if m in derived:
            fresh = derived[m]
        elif m in df and not (m in METRICS and METRICS[m].set_level is not None):
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


_SOUNDING: dict[tuple, dict[str, set[str]]] = {}


def _sounding_slots(t) -> dict[str, set[str]]:
    """Per item of a separation task, the slots whose reference has a nonzero sample (what
    scoring calls sounding), read once per task version and items list."""
    key = (t.spec.key, t.spec.items_sha256)
    if key not in _SOUNDING:
        _SOUNDING[key] = {i.id: {t.spec.slots[k] for k, r in enumerate(t.reference(i)) if r.any()} for i in t.items}
    return _SOUNDING[key]


def _against_task(e: Entry, df, fig: dict) -> list[str]:
    """What an entry's per-item scores say of the task, checked against the task itself
    where its data is here: the items (none dropped, none added), each item's work
    (``group``, which the intervals resample), each classification item's label, the
    rows of each separation item (every slot under protocol 2; every slot whose reference sounds under protocol 1); and the entry's ``breakdown``, re-derived.
    Without the data (a full version not generated) these checks are counted as skipped."""
    from ..tasks import get_task

    try:
        t = get_task(e.task, e.version)
    except AvbenchError:
        fig["entries_not_checked_against_the_task"] = fig.get("entries_not_checked_against_the_task", 0) + 1
        return []
    fig["entries_checked_against_the_task"] = fig.get("entries_checked_against_the_task", 0) + 1
    probs = []
    items = {i.id: i for i in t.items}
    have = set(df["item"].astype(str))
    if have != set(items):
        miss, extra = len(set(items) - have), len(have - set(items))
        probs.append(f"per-item scores cover other items than {t.spec.key}: {miss} of its {len(items)} missing, "
                     f"{extra} not its own")
    if "group" in df:
        wrong = sum(str(g) != items[i].group for i, g in zip(df["item"].astype(str), df["group"]) if i in items)
        if wrong:
            probs.append(f"{wrong} per-item row(s) name another work (group) than {t.spec.key} gives their item")
    if e.family == "classification" and "label" in df:
        wrong = sum(str(lab) != str(items[i].label) for i, lab in zip(df["item"].astype(str), df["label"]) if i in items)
        if wrong:
            probs.append(f"{wrong} per-item label(s) differ from {t.spec.key}'s")
    if e.family == "separation" and "slot" in df:
        task_slots = set(t.spec.slots)
        keys = list(zip(df["item"].astype(str), df["slot"].astype(str)))
        if not {s for _, s in keys} <= task_slots:
            probs.append(f"per-item rows name slots {t.spec.key} does not have")
        if len(set(keys)) != len(keys):
            probs.append(f"{len(keys) - len(set(keys))} (item, slot) pair(s) have more than one per-item row")
        slots = df.groupby(df["item"].astype(str))["slot"].agg(lambda s: set(map(str, s)))
        if t.spec.protocol_number >= 2:
            # protocol 2 scores every (item, slot): the present sources and the absent slots
            short = sum(not task_slots <= slots.get(i, set()) for i in items if i in have)
            if short:
                probs.append(f"{short} item(s) lack per-item rows of slots {t.spec.key} scores on every item "
                             "(protocol 2 scores every (item, slot))")
        else:
            # protocol 1 scored every slot with a reference or an estimate: a slot whose reference
            # sounds in the segment has a row whatever the estimate (the references read here)
            sounding = _sounding_slots(t)
            short = sum(not sounding[i] <= slots.get(i, set()) for i in items if i in have)
            if short:
                probs.append(f"{short} item(s) lack per-item rows of slots whose reference sounds in "
                             f"{t.spec.key} (protocol 1 scores every slot with a reference or an estimate)")
        from ..scoring import summarize_separation

        _, breakdown, _ = summarize_separation(df, [m for m in t.spec.metrics if m in df])
        for by, groups in e.breakdown.items():
            for k, stats in groups.items():
                for m, st in stats.items():
                    fresh = breakdown.get(by, {}).get(k, {}).get(m)
                    if fresh is None or not _stat_equal(fresh, st):
                        probs.append(f"breakdown {by} = {k}, {m} is not what its per-item scores give")
    return probs


_META_FIELDS = tuple(SubmissionInfo.model_fields)


def _metadata_differs(e: Entry, folder: Path, fig: dict) -> list[str]:
    """Fields of the entry that differ from the submission.yaml it was scored from."""
    from ..submission import load_meta

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
    import tempfile

    import numpy as np
    import pandas as pd

    from ..scoring import score

    from ..submission import validate

    key_ = f"{e.task}@{e.version}"
    try:  # validate the folder where it is first: nothing is copied that validation did not accept
        sub = validate(folder, key_)
    except AvbenchError as ex:
        return [f"re-scoring {folder} failed: {str(ex)[:300]}"]
    with tempfile.TemporaryDirectory(prefix="avbench-rescore-") as tmp:
        copy = Path(tmp) / "sub"
        try:
            _copy_validated(sub, copy, sub.meta.task(key_).folder)
            (r,) = score(copy, task=key_, workers=1, progress=False)
        except AvbenchError as ex:
            return [f"re-scoring {folder} failed: {str(ex)[:300]}"]
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


def _copy_validated(sub, dst: Path, folder: str) -> None:
    """Copy ``submission.yaml`` and the task folder's files that validation accepted and
    hashed, each read without following links, within its validated size and checked
    against its hash; nothing else (``results/``, links, other tasks' files) is copied."""
    for rel in sorted(r for r in sub.hashes[1] if r == "submission.yaml" or r.startswith(folder + "/")):
        data = sub.read_file(rel, sub.tree.files.get(rel, 0) + 1)  # its validated size; the hash is checked
        out = dst / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)


def _meta_of(folder: Path):
    from ..submission import load_meta

    return load_meta(folder)[1]
