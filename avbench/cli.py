"""``avbench`` command line.  Every subcommand is a thin wrapper over a library function.

Exit codes: 0 success; 2 the input is wrong (bad submission, missing data, wrong
option, a hand-edited leaderboard): every problem is printed with its code, file and
fix, without a traceback, and as a JSON report with ``--json``; 3 writing results or
a leaderboard failed (disk full, I/O error) and the old files are intact; 1 an
internal error (a bug: the traceback is printed).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

from .errors import AvbenchError, ConfigError, DataError, LeaderboardError


#: the data configurations of synth-ensembles: version 2 (mini2, full2) and version 1 (mini, full)
CONFIG_NAMES = ["mini2", "full2", "mini", "full"]

def _print(args, text: str) -> None:
    if not getattr(args, "quiet", False):
        print(text)


# ----------------------------------------------------------------------------- data
def cmd_data_generate(args) -> int:
    from .data import synth_ensembles as se

    if args.name != se.NAME:
        raise ConfigError(f"{args.name} cannot be generated", fix=f"only {se.NAME} is generated; real datasets are read from a local copy")
    t0 = time.time()
    root = se.generate(args.config, workers=args.workers, force=args.force, progress=not args.quiet,
                       sample_rate=args.sample_rate)
    _print(args, f"{se.NAME} {root.name} at {root} ({time.time() - t0:.1f} s)")
    return 0


def cmd_data_list(args) -> int:
    from .config import data_dir
    from .data import real
    from .data import synth_ensembles as se

    rows = []
    for name, cfg in se.CONFIGS.items():
        root = data_dir(se.NAME, cfg.version)
        if (root / "dataset.json").exists():
            meta = json.loads((root / "dataset.json").read_text())
            counts = {s: c["ensemble"] + c["solo"] for s, c in meta["counts"].items()}
            state = "generated"
        else:
            counts, state = {}, "not generated"
        rows.append({"dataset": se.NAME, "version": cfg.version, "state": state, "unit": "recordings", "splits": counts})
        # other sample rates (`data generate --sample-rate`): data for your own use, not a task
        for other in sorted(root.parent.glob(f"{cfg.version}-*")):
            if (other / "dataset.json").exists() and other.name.split("-")[-1].isdigit():
                meta = json.loads((other / "dataset.json").read_text())
                counts = {s: c["ensemble"] + c["solo"] for s, c in meta["counts"].items()}
                rows.append({"dataset": se.NAME, "version": other.name, "unit": "recordings", "splits": counts,
                             "state": f"generated at {other.name.split('-')[-1]} Hz (no task reads it)"})
    for name in real.DATASETS:
        for version in real.mf.versions(name) + ([] if name != "audioset" else ["recon-1"]):
            try:
                ix = real.mf.index(name, version, real.manifest_root(name, version))
                counts = {s: x["n_items"] for s, x in ix["splits"].items()}
            except AvbenchError:
                counts = {}
            prepared = (real.prepared_dir(name, version) / "prepared.json").exists()
            state = "prepared" if prepared else ("derive first" if name == "audioset" and not counts else "manifest")
            if not any(r["dataset"] == name and r["version"] == version for r in rows):
                rows.append({"dataset": name, "version": version, "state": state, "unit": "items", "splits": counts})
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            c = ", ".join(f"{k} {v}" for k, v in sorted(r["splits"].items())) or "-"
            print(f"{r['dataset']:<16} {r['version']:<13} {r['state']:<14} {r['unit']}: {c}")
    return 0


def cmd_data_video(args) -> int:
    from .data import synth_ensembles as se
    from .video import player_frames, tile, write_mp4

    root = se.locate(args.config)
    rows = {r["id"]: r for r in se.read_manifest(root)}
    if args.recording not in rows:
        raise DataError(f"no recording {args.recording!r}", path=root / "manifest.jsonl",
                           fix="pick an id from manifest.jsonl (e.g. one starting with ens-)")
    row = rows[args.recording]
    notes = se.load_notes(root, row)
    n_frames = int(row["n_samples"] / row["sample_rate"] * args.fps)
    if "styles" in row:  # data version 2: each player's recorded style
        from .scenes import styled_frames

        frames = [styled_frames(notes[i], i, st, 0.0, n_frames, args.fps, args.size)
                  for i, st in zip(row["instruments"], row["styles"])]
    else:
        frames = [player_frames(notes[i], i, 0.0, n_frames, args.fps, args.size) for i in row["instruments"]]
    write_mp4(args.out, tile(frames), args.fps)
    _print(args, f"wrote {args.out} ({n_frames} frames, {len(frames)} players)")
    return 0


def cmd_data_verify(args) -> int:
    from .data import real
    from .data import synth_ensembles as se

    if args.name == se.NAME:
        root = se.locate(args.config) if args.root is None else Path(args.root)
        problems = se.verify(root)
        for p in problems:
            print(p)
        if problems:
            raise DataError(f"{len(problems)} missing or corrupt file(s)", path=root, fix="regenerate with --force")
        _print(args, f"{root}: every file matches the manifest")
        return 0
    if args.root is None:
        raise ConfigError(f"{args.name} is read from your local copy", fix=f"pass --root, e.g. avbench data verify {args.name} --root /data/{args.name}")
    version = args.version or real.info(args.name).default_version
    from .tasks.real import verify_copy

    problems = verify_copy(args.name, args.root, version, args.split)
    if args.json:
        print(json.dumps([{"path": p.path, "problem": p.problem, "items": p.items} for p in problems], indent=2))
    else:
        for p in problems:
            print(p)
    if problems:
        n_items = len({i for p in problems for i in p.items})
        raise DataError(f"{len(problems)} missing or corrupt file(s) affecting {n_items} item(s) of {args.name}@{version}",
                           path=args.root, fix="restore the files listed above (paths are relative to --root)")
    _print(args, f"{args.root}: every file of {args.name}@{version} is present and readable")
    return 0


def cmd_data_prepare(args) -> int:
    from .data import real

    t0 = time.time()
    out = real.prepare(args.name, args.root, args.version, args.split, out=args.out, sample_rate=args.sample_rate,
                       fps=args.fps, size=args.size, workers=args.workers or 1, progress=not args.quiet)
    _print(args, f"{args.name}@{args.version or real.info(args.name).default_version} prepared at {out} ({time.time() - t0:.1f} s)")
    return 0


def cmd_data_derive(args) -> int:
    from .data import audioset

    if args.name != "audioset":
        raise ConfigError(f"{args.name} ships its manifests", fix="only audioset is derived from your own segment CSVs")
    ix = audioset.derive(args.eval, args.train, val_fraction=args.val_fraction)
    counts = ", ".join(f"{s} {x['n_items']}" for s, x in ix["splits"].items())
    _print(args, f"audioset@{audioset.VERSION}: {counts}; manifest sha256 {ix['manifest_sha256']}")
    return 0


def cmd_data_push(args) -> int:
    from .data import real

    real.push(args.name, args.repo_id, args.version, private=args.private)
    _print(args, f"pushed the {args.name} manifests and labels (no media) to {args.repo_id}")
    return 0


# ----------------------------------------------------------------------------- tasks
def cmd_tasks(args) -> int:
    from .tasks import available, get_task

    from .tasks import frozen

    pins = frozen()
    out = []
    for name, version in available():
        pin = pins.get(f"{name}@{version}", {})
        row = {"task": name, "version": version, "protocol": pin.get("protocol"), "n_items": pin.get("n_items"),
               "main_score": None, "inputs": None, "items_sha256": pin.get("items_sha256"), "data": "missing"}
        try:
            t = get_task(name, version)
            row.update(n_items=t.spec.n_items, main_score=t.spec.main_score, inputs=list(t.spec.inputs),
                       items_sha256=t.spec.items_sha256, protocol=t.spec.protocol_number, data="ready")
        except AvbenchError:
            pass
        out.append(row)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for r in out:
            state = "" if r["data"] == "ready" else (
                " (data not generated)" if r["task"].startswith("synth-") else " (data not prepared)")
            n = r["n_items"] if r["n_items"] is not None else "?"
            sha = f"  items sha256 {r['items_sha256'][:16]}" if r["items_sha256"] else ""
            inputs = f"  inputs: {', '.join(r['inputs'])}" if r["inputs"] else ""
            proto = f"  protocol {r['protocol']}" if r["protocol"] else ""
            print(f"{r['task'] + '@' + r['version']:<42} items: {n}{proto}{sha}{inputs}{state}")
    return 0


# ----------------------------------------------------------------------------- submissions
def cmd_validate(args) -> int:
    from .errors import render_problems, report
    from .submission import validate

    sub = validate(args.path, args.task, workers=args.workers)
    if args.json:
        print(json.dumps(report(sub.warnings, sub.root), indent=2, ensure_ascii=True))
        return 0
    for line in render_problems(sub.warnings):
        print(f"warning: {line}", file=sys.stderr)
    _print(args, f"{sub.root}: valid ({', '.join(t.key for t in sub.meta.tasks)})"
           + (f", {len(sub.warnings)} warning(s)" if sub.warnings else ""))
    return 0


def cmd_score(args) -> int:
    from . import leaderboard as lb
    from .errors import Problem, render_problems
    from .scoring import score
    from .submission import validate

    sub = validate(args.path, args.task, workers=args.workers)
    results = score(sub, args.task, workers=args.workers, progress=not args.quiet and not args.json,
                    engine=args.engine, address=args.address)
    if not args.json:
        for w in render_problems(sub.warnings):
            print(f"warning: {w}", file=sys.stderr)
    out = []
    for r in results:
        if not args.json:  # the scoring flags (validation's warnings were printed above)
            flags = [Problem.from_json(w) for w in r.warnings if w["code"] in ("AVB451", "AVB452")]
            for w in render_problems(flags):
                print(f"warning: {w}", file=sys.stderr)
        if args.update_leaderboard:
            pub = lb.publish(r, sub, args.leaderboards, replace=args.replace)
            if pub.seeded and not args.json:
                _print(args, f"started {pub.board} from the published board ({pub.seeded} entries)")
            if pub.status == "reproduced":  # the same numbers as the published row of that name: say so
                if not args.json:
                    print(pub.message, file=sys.stderr)
            elif not args.json:
                _print(args, f"leaderboard {'unchanged (the same scores again)' if pub.status == 'unchanged' else 'updated'}: "
                             f"{pub.markdown}" + _rank_text(pub.board, r.submission))
        out.append(r.model_dump(mode="json"))
        if not args.json:  # a result line, with --quiet too (it prints results and errors)
            main = r.main_value
            print(f"{r.submission} on {r.task}@{r.version}: {r.aggregate} {r.main_score} = "
                  f"{main:.3f}{_score_detail(r)}" if main is not None else f"{r.submission}: no score")
    if getattr(args, "profile", False):
        from .profile import format_split
        from .scoring import LAST_PROFILE

        if args.json:
            for o in out:
                o["profile"] = dict(LAST_PROFILE)
        else:
            print(format_split(LAST_PROFILE))
    if args.json:
        print(json.dumps(out, indent=2, allow_nan=False))
    return 0


# ----------------------------------------------------------------------------- leaderboards
def cmd_lb_build(args) -> int:
    from . import leaderboard as lb

    report: list[str] = []
    for d in lb.build(Path(args.leaderboards) if args.leaderboards else None, args.task, adopt=args.adopt,
                      report=report):
        _print(args, f"built {d}")
    for line in report:  # what --adopt did with each hand-made change (printed with --quiet too)
        print(f"adopted: {line}", file=sys.stderr)
    return 0


def cmd_lb_verify(args) -> int:
    from . import leaderboard as lb

    root = Path(args.leaderboards) if args.leaderboards else lb.default_root()
    problems, fig = lb.verify(root, [Path(p) for p in args.submissions], rescore=args.rescore)
    if args.json:
        print(json.dumps({"verified": not problems, "problems": problems, **fig}, indent=2, ensure_ascii=True))
    else:
        for p in problems:
            print(f"error: {p}", file=sys.stderr)
        _print(args, f"{fig['boards']} boards, {fig['entries']} entries: {fig['scores_recomputed']} scores "
                     f"recomputed from per-item scores, {fig['submissions_checked']} submission folder(s) and "
                     f"{fig['files_hashed']} input files re-hashed, {fig['metadata_checked']} metadata and "
                     f"{fig['rescored']} re-scored; {fig.get('entries_checked_against_the_task', 0)} entries' items, "
                     f"works, labels and slots checked against their task"
                     + (f" ({fig['entries_not_checked_against_the_task']} not: their task's data is not here)"
                        if fig.get("entries_not_checked_against_the_task") else "")

                     + (f"; {fig['entries_without_file_hashes']} entries predate per-file hashes"
                        if fig["entries_without_file_hashes"] else "")
                     + (f" -- {len(problems)} problem(s)" if problems else " -- verified"))
    return 2 if problems else 0


def cmd_lb_rescore(args) -> int:
    from . import leaderboard as lb
    from .scoring import rescore, scores_path
    from .submission import load_meta

    root = Path(args.leaderboards) if args.leaderboards else lb.default_root(write=True)
    for path in args.submissions:
        r = rescore(path, args.task, args.from_version, args.to_version, workers=args.workers,
                    progress=not args.quiet)
        _, meta, _ = load_meta(path)
        d = lb.add_entry(root, lb.entry_from(r, meta),
                         scores=scores_path(path, f"{r.task}@{r.version}"))
        _print(args, f"{meta.name}: {r.task}@{r.version} {r.main_score} = {r.main_value:.3f} -> {d / 'leaderboard.md'}")
    return 0


def _score_detail(r) -> str:
    """After the main score: its label and unit, and its 95% interval over works."""
    from .metrics import METRICS

    st = r.scores[r.main_score]
    m = METRICS.get(r.main_score)
    unit = f" {m.unit}" if m is not None and m.unit else ""
    ci = (f" [95% CI {st.ci_low:.3f}, {st.ci_high:.3f} over {st.n_groups} works]"
          if st.ci_low is not None and st.n_groups else "")
    return f"{unit} ({m.label if m is not None else r.main_score}){ci}"


def _rank_text(board: Path, name: str) -> str:
    """`` (rank 18 of 76; HTML: ...)`` for the row ``name`` of a board."""
    try:
        rows = json.loads((board / "leaderboard.json").read_text())["rows"]
    except (OSError, ValueError, KeyError):
        return ""
    ranked = [x for x in rows if x.get("rank") is not None]
    me = next((x for x in rows if x.get("name") == name or name in (x.get("seeds") or ())), None)
    where = f"HTML: {board / 'leaderboard.html'}"
    if me is None or me.get("rank") is None:
        return f" ({where})"
    return f" (rank {me['rank']} of {len(ranked)}; {where})"


def cmd_lb_check(args) -> int:
    from . import leaderboard as lb

    root = Path(args.leaderboards) if args.leaderboards else lb.default_root()
    problems, n = lb.drift(root, Path(args.against), args.tolerance)
    for p in problems:
        print(p, file=sys.stderr)
    if problems or n == 0:
        print(f"error: {len(problems)} published number(s) moved by more than {args.tolerance} "
              f"({n} compared)" if n else "error: nothing to compare", file=sys.stderr)
        return 1
    _print(args, f"{n} published numbers reproduced within {args.tolerance}")
    return 0


def cmd_lb_show(args) -> int:
    from . import leaderboard as lb
    from .tasks import resolve

    name, version = resolve(args.task)
    d = lb.reading_board(Path(args.leaderboards) if args.leaderboards else None, name, version)
    p = d / ("leaderboard.json" if args.json else "leaderboard.md")
    if not p.exists():
        from .errors import LeaderboardError

        raise LeaderboardError(f"no leaderboard for {name}@{version} yet", path=p,
                               fix=f"score a submission with `avbench score SUBMISSION --task {name}@{version} "
                                   "--update-leaderboard`")
    if args.json and not args.seeds:
        print(p.read_text(), end="")
        return 0
    if args.wide and not args.seeds:
        print(p.read_text())
        return 0
    from .leaderboard.render import render_json, render_markdown, render_terminal

    board = lb.board_of(d, name, version, fold=not args.seeds)  # --seeds: every seed entry a row
    if args.json:
        print(render_json(board), end="")
    else:
        more = (f"every metric and the header notes: avbench leaderboard show {name}@{version} --wide"
                f"{' --seeds' if args.seeds else ''}, or {d / 'leaderboard.html'}")
        print(render_markdown(board) if args.wide else render_terminal(board, more))
    return 0


def cmd_lb_review(args) -> int:
    from . import leaderboard as lb
    from .tasks import resolve

    name, version = resolve(args.task)
    root = Path(args.leaderboards) if args.leaderboards else lb.default_root(write=True)
    d = lb.review(root, name, version, args.name, remove=args.remove)
    _print(args, f"{args.name}: {'no longer marked' if args.remove else 'marked'} reviewed on {name}@{version}; "
                 f"tables rebuilt in {d}")
    return 0


def cmd_lb_path(args) -> int:
    """The board that show, compare and report read for a task version, and its HTML page."""
    from . import leaderboard as lb
    from .tasks import resolve

    name, version = resolve(args.task)
    d = lb.reading_board(Path(args.leaderboards) if args.leaderboards else None, name, version)
    pub = lb.published_root()
    which = ("the published board of this checkout" if pub is not None and d.is_relative_to(pub)
             else "your board" if (d / "entries").is_dir() else "your board (none yet: score with --update-leaderboard)")
    if args.json:
        print(json.dumps({"task": f"{name}@{version}", "board": str(d), "html": str(d / "leaderboard.html"),
                          "which": which}))
    else:
        print(f"{name}@{version}: {which}\n  {d}\n  HTML: {d / 'leaderboard.html'}")
    return 0


def _spec(name: str, version: str, lbroot: Path | None):
    """The task's spec; without local data, what comparisons and plots need is read from
    the leaderboard's entries (family, main score)."""
    from . import leaderboard as lb
    from .tasks import get_task

    try:
        return get_task(name, version).spec
    except AvbenchError:
        from types import SimpleNamespace

        from .instruments import CLASSES

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
    from .compare import compare_frames, format_report
    from .leaderboard import load_scores
    from .tasks import resolve

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
    from .errors import ConfigError
    from .leaderboard import label

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
    from .files import plain_dirs

    if out:
        o = Path(out)
        o.parent.mkdir(parents=True, exist_ok=True)
        return plain_dirs(o.parent, o.name,
                          lambda where, what: ConfigError(f"{what}, not a folder", path=where, fix="pass a folder to --out"))
    return plain_dirs(root, rel, refuse)


def _only_scored_task(target: str) -> str:
    """The one task a scored submission folder has results for (``report`` without
    ``--task``); otherwise an error naming the choices."""
    from .tasks import available

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
    from . import leaderboard as lb
    from . import report
    from .leaderboard import load_scores
    from .tasks import resolve

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
        from .leaderboard.seeds import groups, seed_of

        rows = {}
        for g in groups([e for n, e in entries.items() if n in frames]):
            rows[seed_of(g[0].name)[0] if len(g) > 1 else g[0].name] = [e.name for e in g]
        oracles = {r for r, ms in rows.items() if entries[ms[0]].oracle}
        written = report.task_report(frames, spec.main_score, out, spec.key, cond, rows, oracles, _floor(spec))
    else:
        label, df = load_scores(args.target, spec.key, lbroot)
        from .errors import Problem, SubmissionError

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


# ----------------------------------------------------------------------------- baselines
def _baselines() -> dict:
    """Every installed baseline: the ``avbench.baselines`` entry points, each a callable
    returning ``{name: run}`` (avbench never imports a baselines package by name)."""
    from importlib.metadata import entry_points

    out: dict = {}
    for ep in sorted(entry_points(group="avbench.baselines"), key=lambda e: e.name):
        out.update(ep.load()())
    if not out:
        raise ConfigError("no baselines are installed (entry point group avbench.baselines)",
                           fix="install avbench with scripts/install.sh, or a package that registers baselines")
    return out


def cmd_baseline_list(args) -> int:
    for name in sorted(_baselines()):
        print(name)
    return 0


def cmd_baseline_run(args) -> int:
    from .tasks import did_you_mean

    reg = _baselines()
    if args.name not in reg:
        raise ConfigError(f"unknown baseline {args.name!r}{did_you_mean(args.name, reg)}", fix=f"`avbench baseline list` lists the {len(reg)} names")
    out = reg[args.name](args.task, args.out, progress=not args.quiet)
    _print(args, f"wrote submission {out}")
    return 0


# ----------------------------------------------------------------------------- demo
def cmd_demo(args) -> int:
    from . import leaderboard as lb
    from .config import home
    from .data import synth_ensembles as se
    from .scoring import score, scores_path
    from .submission import validate

    from .tasks.synth import CURRENT

    t0 = time.time()
    cfg = se.config_for(args.config)
    version = CURRENT[args.config]  # the task version of the current protocol on this data
    _print(args, f"[1/4] generating {se.NAME} data version {cfg.version} (tasks @{version}) in {home()}")
    se.generate(args.config, progress=not args.quiet)
    demo = home() / "demo" / version
    lbroot = demo / "leaderboards"
    shutil.rmtree(lbroot, ignore_errors=True)  # the demo's boards are rebuilt from scratch every run
    reg = _baselines()
    plan = [
        ("synth-ensembles-separation", ["oracle-ibm", "oracle-irm", "oracle-mixture"]),
        ("synth-ensembles-mix2", ["oracle-ibm", "oracle-irm", "oracle-mixture"]),
        ("synth-ensembles-classification", ["oracle-label", "oracle-prior"]),
    ]
    _print(args, "[2/4] running the oracle baselines")
    for task, names in plan:
        for n in names:
            reg[n](f"{task}@{version}", demo / "submissions" / task / n, progress=False)
    _print(args, "[3/4] scoring")
    for task, names in plan:
        for n in names:
            path = demo / "submissions" / task / n
            sub = validate(path)
            for r in score(sub, workers=args.workers, progress=False):
                lb.add_entry(lbroot, lb.entry_from(r, sub.meta),
                             scores=scores_path(path, f"{r.task}@{r.version}"))
    _print(args, f"[4/4] leaderboards in {lbroot}\n")
    from .leaderboard.render import render_terminal

    for task, _ in plan:
        print(render_terminal(lb.board_of(lb.board_dir(lbroot, task, version), task, version),
                              f"every metric: avbench leaderboard show {task}@{version} --wide"))
    _print(args, f"demo finished in {time.time() - t0:.0f} s")
    first = plan[0][0]
    _print(args, f"next: the pages, sortable: {lb.board_dir(lbroot, first, version) / 'leaderboard.html'}\n"
                 f"      a model of your own: README.md, \"Your first submission\" (SubmissionWriter, then "
                 f"`avbench validate` and `avbench score --update-leaderboard`)")
    return 0


# ----------------------------------------------------------------------------- main
#: one usage example per command, shown at the end of its --help
EXAMPLES = {
    "demo": "avbench demo",
    "data generate": "avbench data generate synth-ensembles --config mini2",
    "data list": "avbench data list",
    "data video": "avbench data video ens-bach-bwv310 --out bwv310.mp4",
    "data verify": "avbench data verify urmp --root /data/URMP",
    "data prepare": "avbench data prepare urmp --root /data/URMP",
    "data derive": "avbench data derive audioset --eval eval_segments.csv --train balanced_train_segments.csv",
    "data push": "avbench data push urmp --repo-id me/urmp-manifests",
    "tasks": "avbench tasks",
    "validate": "avbench validate submissions/my-model",
    "score": "avbench score submissions/my-model --update-leaderboard",
    "compare": "avbench compare submissions/my-model oracle-irm --task synth-ensembles-separation@3-mini",
    "report": "avbench report submissions/my-model --task synth-ensembles-separation@3-mini",
    "leaderboard build": "avbench leaderboard build --leaderboards leaderboards",
    "leaderboard rescore": "avbench leaderboard rescore submissions/my-model --task synth-ensembles-separation --from 2 --to 3",
    "leaderboard check": "avbench leaderboard check --against fresh-leaderboards",
    "leaderboard show": "avbench leaderboard show synth-ensembles-separation@3-mini",
    "leaderboard review": "avbench leaderboard review synth-ensembles-separation@3 my-model --leaderboards leaderboards",
    "leaderboard path": "avbench leaderboard path synth-ensembles-separation@3-mini",
    "leaderboard verify": "avbench leaderboard verify --leaderboards leaderboards",
    "baseline list": "avbench baseline list",
    "baseline run": "avbench baseline run oracle-irm --task synth-ensembles-separation@3-mini --out submissions/irm",
}


class _Defaults(argparse.HelpFormatter):
    """Shows an option's default where it has one worth saying (not None or False, and not
    already in its help)."""

    def _get_help_string(self, action):
        h = action.help or ""
        d = action.default
        if d in (None, False, argparse.SUPPRESS) or "default" in h or isinstance(d, list) and not d:
            return h
        return (h + " (default: %(default)s)") if h else "default: %(default)s"


def _with_examples(sub) -> None:
    """Every parser made by ``sub`` (and by the sub-parsers made from it) shows its
    defaults and, where :data:`EXAMPLES` has one, a usage example."""
    make = sub.add_parser
    prefix = getattr(sub, "_prog_prefix", "avbench").removeprefix("avbench").strip()

    def add_parser(name, **kw):
        kw.setdefault("formatter_class", _Defaults)
        key = f"{prefix} {name}".strip()
        if key in EXAMPLES:
            kw.setdefault("epilog", f"example: {EXAMPLES[key]}")
        q = make(name, **kw)
        add_argument = q.add_argument

        def add_argument_with_default(*a, **k):  # an option without help still shows its default
            if "help" not in k and k.get("default") not in (None, False, []) and k.get("action") is None:
                k["help"] = "default: %(default)s"
            return add_argument(*a, **k)

        q.add_argument = add_argument_with_default
        make_sub = q.add_subparsers

        def add_subparsers(**k):
            s2 = make_sub(**k)
            _with_examples(s2)
            return s2

        q.add_subparsers = add_subparsers
        return q

    sub.add_parser = add_parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="avbench", description="Audio-visual music analysis benchmark and leaderboards.")
    p.add_argument("--version", action="version", version=f"avbench {__import__('avbench').__version__}")
    sp = p.add_subparsers(dest="cmd", required=True)
    _with_examples(sp)

    def common(q):
        q.add_argument("--quiet", action="store_true", help="print only results and errors")
        q.add_argument("--json", action="store_true", help="machine-readable output")
        return q

    d = common(sp.add_parser("demo", help="generate the mini benchmark, run and score the oracles, print leaderboards"))
    d.add_argument("--config", default="mini2", choices=CONFIG_NAMES,
                   help="data: mini2/full2 (version 2, the default), mini/full (version 1)")
    d.add_argument("--workers", type=int, default=None)
    d.set_defaults(func=cmd_demo)

    data = sp.add_parser("data", help="datasets").add_subparsers(dest="sub", required=True)
    g = common(data.add_parser("generate", help="generate the built-in benchmark"))
    g.add_argument("name", help="the built-in benchmark: synth-ensembles")
    g.add_argument("--config", default="mini2", choices=CONFIG_NAMES)
    g.add_argument("--workers", type=int, default=None)
    g.add_argument("--force", action="store_true")
    g.add_argument("--sample-rate", type=int, default=None, help="store audio at this rate (e.g. 44100) as version <version>-<rate>")
    g.set_defaults(func=cmd_data_generate)
    ls = common(data.add_parser("list", help="datasets, versions and item counts"))
    ls.set_defaults(func=cmd_data_list)
    vid = common(data.add_parser("video", help="export the ensemble view of a recording to mp4"))
    vid.add_argument("recording", help="a recording id of the generated data (its manifest.jsonl)")
    vid.add_argument("--config", default="mini2", choices=CONFIG_NAMES)
    vid.add_argument("--out", required=True)
    vid.add_argument("--fps", type=float, default=8.0)
    vid.add_argument("--size", type=int, default=224)
    vid.set_defaults(func=cmd_data_video)
    v = common(data.add_parser("verify", help="check a local copy (or the generated data) against the manifest"))
    v.add_argument("name", help="a dataset: synth-ensembles, urmp, solos, music, audioset, fcvid, yt8m")
    v.add_argument("--config", default="mini2", choices=CONFIG_NAMES, help="synth-ensembles only")
    v.add_argument("--root", default=None, help="the dataset's top folder, in its native layout")
    v.add_argument("--version", default=None)
    v.add_argument("--split", action="append", default=None, help="only these splits (repeatable)")
    v.set_defaults(func=cmd_data_verify)
    pr = common(data.add_parser("prepare", help="cache a local copy of a real dataset in the form tasks read"))
    pr.add_argument("name", help="a real dataset: urmp, solos, music, audioset, fcvid, yt8m")
    pr.add_argument("--root", required=True)
    pr.add_argument("--version", default=None)
    pr.add_argument("--split", action="append", default=None, help="only these splits (repeatable)")
    pr.add_argument("--out", default=None, help="default: AVBENCH_HOME/data/NAME/VERSION")
    pr.add_argument("--sample-rate", type=int, default=11025)
    pr.add_argument("--fps", type=float, default=8.0)
    pr.add_argument("--size", type=int, default=224)
    pr.add_argument("--workers", type=int, default=None)
    pr.set_defaults(func=cmd_data_prepare)
    dv = common(data.add_parser("derive", help="derive the AudioSet reconstruction from the official segment CSVs"))
    dv.add_argument("name", help="audioset")
    dv.add_argument("--eval", required=True, help="eval_segments.csv")
    dv.add_argument("--train", nargs="+", required=True, help="balanced_train_segments.csv [unbalanced_train_segments.csv]")
    dv.add_argument("--val-fraction", type=float, default=0.1)
    dv.set_defaults(func=cmd_data_derive)
    pu = common(data.add_parser("push", help="upload manifests and labels (never media) to the Hugging Face Hub"))
    pu.add_argument("name", help="a dataset whose manifests are uploaded")
    pu.add_argument("--repo-id", required=True)
    pu.add_argument("--version", default=None)
    pu.add_argument("--private", action="store_true")
    pu.set_defaults(func=cmd_data_push)

    t = common(sp.add_parser("tasks", help="list tasks and versions"))
    t.set_defaults(func=cmd_tasks)

    val = common(sp.add_parser("validate", help="check a submission"))
    val.add_argument("path", help="the submission folder (with its submission.yaml)")
    val.add_argument("--task", default=None, help="NAME or NAME@VERSION")
    val.add_argument("--workers", type=int, default=None, help="decoding processes (default: up to 2)")
    val.set_defaults(func=cmd_validate)

    s = common(sp.add_parser("score", help="validate and score a submission"))
    s.add_argument("path", help="the submission folder (with its submission.yaml)")
    s.add_argument("--task", default=None, help="NAME or NAME@VERSION (default: every declared task)")
    s.add_argument("--workers", type=int, default=None, help="processes (default: one per core)")
    s.add_argument("--engine", default="process", choices=["process", "ray"],
                   help="local process pool, or a Ray cluster (--address; a local instance without it)")
    s.add_argument("--address", default=None, help="Ray cluster address, e.g. ray://head:10001")
    s.add_argument("--profile", action="store_true",
                   help="print where the time went: kernel, io, decode, checks (validation), other; with --json, "
                        "a 'profile' object in each result")
    s.add_argument("--update-leaderboard", action="store_true",
                   help="add the scored entry to its board (your board under $AVBENCH_HOME, started from the "
                        "published rows) and rebuild the tables")
    s.add_argument("--replace", action="store_true",
                   help="replace an entry of the same name scored from other outputs (refused otherwise)")
    s.add_argument("--leaderboards", default=None, help="where entries are written (default: $AVBENCH_HOME/leaderboards; name the checkout's leaderboards to change the committed boards)")
    s.set_defaults(func=cmd_score)

    cmp_ = common(sp.add_parser("compare", help="paired tests of two submissions on the items both scored"))
    cmp_.add_argument("a", help="a scored submission folder, or an entry name on the leaderboard")
    cmp_.add_argument("b", help="the other one, in the same forms as a")
    cmp_.add_argument("--task", required=True, help="NAME or NAME@VERSION")
    cmp_.add_argument("--metric", default=None, help="default: the task's main score")
    cmp_.add_argument("--leaderboards", default=None, help=READ_HELP)
    cmp_.set_defaults(func=cmd_compare)

    rep = common(sp.add_parser("report", help="breakdowns and plots of a submission (or of a task's entries)"))
    rep.add_argument("target", help="a scored submission folder, an entry name, or the task name for every entry")
    rep.add_argument("--task", default=None, help="NAME@VERSION (default: the one task a submission folder has "
                     "scores for)")
    rep.add_argument("--out", default=None, help="output folder (default: next to the scores)")
    rep.add_argument("--leaderboards", default=None, help=READ_HELP)
    rep.set_defaults(func=cmd_report)

    lbp = sp.add_parser("leaderboard", help="leaderboards").add_subparsers(dest="sub", required=True)
    b = common(lbp.add_parser("build", help="rebuild tables from the entries"))
    b.add_argument("--leaderboards", default=None, help="where entries are written (default: $AVBENCH_HOME/leaderboards; name the checkout's leaderboards to change the committed boards)")
    b.add_argument("--task", default=None)
    b.add_argument("--adopt", action="store_true",
                   help="accept files that differ from SHA256SUMS (after reviewing a hand-made change)")
    b.set_defaults(func=cmd_lb_build)
    vf = common(lbp.add_parser("verify", help="recompute every hash and score an entry claims; fail on a difference"))
    vf.add_argument("--leaderboards", default=None, help="leaderboards root to read (default: the checkout's committed leaderboards, else $AVBENCH_HOME/leaderboards)")
    vf.add_argument("--submissions", nargs="*", default=[],
                    help="folders holding scored submissions (or one submission): their files are re-hashed "
                         "and their submission.yaml compared with the entry")
    vf.add_argument("--rescore", action="store_true",
                    help="also score every matched submission again (in a copy) and compare each per-item score")
    vf.set_defaults(func=cmd_lb_verify)
    rs = common(lbp.add_parser("rescore", help="re-score stored submissions under a new task version"))
    rs.add_argument("submissions", nargs="+", help="submission folders scored under --from")
    rs.add_argument("--task", required=True, help="task NAME")
    rs.add_argument("--from", dest="from_version", required=True)
    rs.add_argument("--to", dest="to_version", required=True)
    rs.add_argument("--workers", type=int, default=None)
    rs.add_argument("--leaderboards", default=None, help="where entries are written (default: $AVBENCH_HOME/leaderboards; name the checkout's leaderboards to change the committed boards)")
    rs.set_defaults(func=cmd_lb_rescore)
    ck = common(lbp.add_parser("check", help="fail when freshly scored entries differ from the committed ones"))
    ck.add_argument("--against", required=True, help="leaderboards root holding the fresh entries")
    ck.add_argument("--leaderboards", default=None, help="the committed root (default: ./leaderboards)")
    ck.add_argument("--tolerance", type=float, default=1e-6)
    ck.set_defaults(func=cmd_lb_check)
    pth = common(lbp.add_parser("path", help="name the board that show, compare and report read, and its HTML"))
    pth.add_argument("task", help="NAME@VERSION")
    pth.add_argument("--leaderboards", default=None, help=READ_HELP)
    pth.set_defaults(func=cmd_lb_path)
    rv = common(lbp.add_parser("review", help="rank a row that exceeds the oracle bounds, after reviewing the "
                                              "submission (its code and outputs)"))
    rv.add_argument("task", help="NAME@VERSION")
    rv.add_argument("name", help="the row: an entry, or a model whose seed entries the board folds")
    rv.add_argument("--remove", action="store_true", help="take the mark back (the row is held back again)")
    rv.add_argument("--leaderboards", default=None, help="the boards' root folder (default: yours)")
    rv.set_defaults(func=cmd_lb_review)
    sh = common(lbp.add_parser("show", help="print a leaderboard"))
    sh.add_argument("task", help="NAME or NAME@VERSION")
    sh.add_argument("--leaderboards", default=None, help=READ_HELP)
    sh.add_argument("--seeds", action="store_true",
                    help="one row per seed entry (the board folds a model's seeds into one row)")
    sh.add_argument("--wide", action="store_true",
                    help="the whole Markdown table, every metric with its interval (default: a compact view)")
    sh.set_defaults(func=cmd_lb_show)

    bl = sp.add_parser("baseline", help="reference baselines").add_subparsers(dest="sub", required=True)
    bll = common(bl.add_parser("list"))
    bll.set_defaults(func=cmd_baseline_list)
    br = common(bl.add_parser("run", help="write a baseline's submission"))
    br.add_argument("name", help="a baseline (avbench baseline list)")
    br.add_argument("--task", required=True, help="NAME or NAME@VERSION")
    br.add_argument("--out", required=True)
    br.set_defaults(func=cmd_baseline_run)
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # the reader went away (`avbench ... | head`): stop quietly
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OSError:
            pass
        return 141


def _main(argv: list[str] | None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except AvbenchError as e:
        if getattr(args, "json", False):  # machine-readable: the report only, on stdout
            print(json.dumps({"error": e.to_json(), "exit_code": e.exit_code}, indent=2, ensure_ascii=True))
        else:
            print(f"error: {_printable(str(e))}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:  # pragma: no cover
        print("interrupted", file=sys.stderr)
        return 130


def _printable(s: str) -> str:
    """Text any terminal encoding can print (names from a submission may not be)."""
    enc = getattr(sys.stderr, "encoding", None) or "utf-8"
    return s.encode(enc, "backslashreplace").decode(enc, "replace")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
