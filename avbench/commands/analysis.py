"""The ``compare`` and ``report`` commands."""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import AvbenchError, ConfigError, LeaderboardError
from . import _print


def _spec(name: str, version: str, lbroot: Path | None):
    """The task's spec; without local data, what comparisons and plots need is read from
    the leaderboard's entries (family, main score)."""
    from .. import leaderboard as lb
    from ..tasks import get_task

    try:
        return get_task(name, version).spec
    except AvbenchError:
        from types import SimpleNamespace

        from ..instruments import CLASSES

        d = lb.reading_board(lbroot, name, version)
        entries = lb.load_entries(d, name, version) if (d / "entries").is_dir() else []
        if not entries:
            raise
        return SimpleNamespace(key=f"{name}@{version}", family=entries[0].family, main_score=entries[0].main_score,
                               classes=list(CLASSES),
                               metrics=[c for c in lb.columns(entries[0].family) if c in entries[0].scores])


READ_HELP = ("leaderboards root to read (default, per board: yours under $AVBENCH_HOME/leaderboards once you "
             "have added an entry to it, else the checkout's published one)")


def cmd_compare(args) -> int:
    from ..compare import compare_frames, format_report
    from ..leaderboard import load_scores
    from ..tasks import resolve

    name, version = resolve(args.task)
    lbroot = Path(args.leaderboards) if args.leaderboards else None
    spec = _spec(name, version, lbroot)
    na, a = load_scores(args.a, f"{name}@{version}", lbroot)
    nb, b = load_scores(args.b, f"{name}@{version}", lbroot)
    metric = _metric_arg(args.metric or spec.main_score, spec, a, b)
    r = compare_frames(a, b, spec.family, metric)
    if args.json:
        print(json.dumps({"a": na, "b": nb, "task": spec.key, **r}, indent=2, allow_nan=False))
    else:
        print(format_report(na, nb, spec.key, r))
    return 0


def _metric_arg(metric: str, spec, a, b) -> str:
    """A metric both per-item frames hold, named as the tables name it (``SDR``, ``SI-SDR``,
    ``si_sdr``, ``Hit@1`` ...); anything else is a one-line error listing the valid names."""
    from ..errors import ConfigError
    from ..leaderboard import label

    per_item = [m for m in spec.metrics if m in a.columns and m in b.columns]
    by_label = {label(m).lower(): m for m in per_item} | {m.lower(): m for m in per_item}
    key = metric.strip().lower()
    if key in by_label:
        return by_label[key]
    why = ("is a corpus-level score with no per-item values" if metric.lower() in {m.lower() for m in spec.metrics}
           else f"is not a metric of {spec.key}")
    raise ConfigError(f"--metric {metric!r} {why}", fix=f"use one of: {', '.join(per_item)}")


def _report_dir(out: str | None, root: Path, rel: str, refuse) -> Path:
    """The folder a report is written to, made or checked by :func:`avbench.files.plain_dirs`:
    ``--out`` (its last component checked: the rest is the user's own path), else ``rel``
    under ``root``, each component a real folder, so that a shipped link (``report/`` or
    ``results/<task>/`` pointing elsewhere) never sends the plots and CSVs outside."""
    from ..files import plain_dirs

    if out:
        o = Path(out)
        o.parent.mkdir(parents=True, exist_ok=True)
        return plain_dirs(o.parent, o.name,
                          lambda where, what: ConfigError(f"{what}, not a folder", path=where, fix="pass a folder to --out"))
    return plain_dirs(root, rel, refuse)


def _only_scored_task(target: str) -> str:
    """The one task a scored submission folder has results for (``report`` without
    ``--task``); otherwise an error naming the choices."""
    from ..tasks import available

    t = Path(target)
    keys = sorted(f"{n}@{v}" for n, v in available() if (t / "results" / f"{n}@{v}" / "scores.parquet").is_file()) \
        if t.is_dir() else []
    if len(keys) == 1:
        return keys[0]
    raise ConfigError("which task? " + (f"{target} has scores for {', '.join(keys)}" if keys
                                         else f"{target} is no scored submission folder"),
                      fix="pass --task NAME@VERSION" + (f", e.g. --task {keys[0]}" if keys else ""))


def _floor(spec) -> float | None:
    """The dB floor of a separation task's SDR family (protocol 2), for the plots' notes."""
    v = (getattr(spec, "metric_params", None) or {}).get("db_floor")
    return None if v is None else float(v)


def cmd_report(args) -> int:
    from .. import leaderboard as lb
    from .. import report
    from ..leaderboard import load_scores
    from ..tasks import resolve

    name, version = resolve(args.task or _only_scored_task(args.target))
    lbroot = Path(args.leaderboards) if args.leaderboards else None
    spec = _spec(name, version, lbroot)
    board = lb.reading_board(lbroot, name, version)
    if args.target in (name, spec.key):  # the whole task: every entry with per-item scores
        d = board / "entries"
        frames = {p.name[: -len(".scores.parquet")]: __import__("pandas").read_parquet(p)
                  for p in sorted(d.glob("*.scores.parquet"))}
        if not frames:
            raise LeaderboardError("no per-item scores on this leaderboard", path=d,
                               fix="add entries with `avbench score ... --update-leaderboard`")
        out = _report_dir(args.out, board, "report",
                          lambda where, what: LeaderboardError(f"{what}, not a folder of the board", path=where,
                                                               fix="remove it; avbench writes report/ itself",
                                                               code="AVB503"))
        entries = {e.name: e for e in lb.load_entries(board, name, version)}
        cond = {n: ("oracle" if e.oracle else (", ".join(e.inputs) or "none")) for n, e in entries.items()}
        from ..leaderboard.seeds import fold_all

        folds = fold_all([e for n, e in entries.items() if n in frames])  # the boards' rows
        rows = {f.row.name: list(f.seeds) for f in folds}
        oracles = {f.row.name for f in folds if f.row.oracle}
        written = report.task_report(frames, spec.main_score, out, spec.key, cond, rows, oracles, _floor(spec))
    else:
        label, df = load_scores(args.target, spec.key, lbroot)
        from ..errors import Problem, SubmissionError

        def shipped(where, what):
            rel = Path(where).relative_to(args.target).as_posix() if Path(args.target).is_dir() else where
            return SubmissionError([Problem("AVB470", rel, f"{what}, not a folder avbench made for the report",
                                            "remove results/; avbench writes it itself")], args.target)

        if Path(args.target).is_dir():
            out = _report_dir(args.out, Path(args.target), f"results/{spec.key}/report", shipped)
        else:
            out = _report_dir(args.out, Path("."), f"report/{label}/{spec.key}", shipped)
        if spec.family == "separation":
            written = report.separation_report(df, out, f"{label} on {spec.key}", _floor(spec))
        else:
            written = report.classification_report(df, spec.classes, out, f"{label} on {spec.key}")
    for p in written:
        _print(args, f"wrote {p}")
    return 0
