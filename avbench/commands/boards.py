"""The ``validate``, ``score`` and ``leaderboard`` commands."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from . import _print


def cmd_validate(args) -> int:
    from ..errors import render_problems, report
    from ..submission import validate

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
    from .. import leaderboard as lb
    from ..errors import Problem, render_problems
    from ..scoring import score
    from ..submission import validate

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
        from ..profile import format_split

        prof = results[0].profile if results else None
        if prof is not None and args.json:
            for o in out:
                o["profile"] = dict(prof)
        elif prof is not None:
            print(format_split(prof))
    if args.json:
        print(json.dumps(out, indent=2, allow_nan=False))
    return 0


def cmd_lb_build(args) -> int:
    from .. import leaderboard as lb

    report: list[str] = []
    for d in lb.build(Path(args.leaderboards) if args.leaderboards else None, args.task, adopt=args.adopt,
                      report=report):
        _print(args, f"built {d}")
    for line in report:  # what --adopt did with each hand-made change (printed with --quiet too)
        print(f"adopted: {line}", file=sys.stderr)
    return 0


def cmd_lb_verify(args) -> int:
    from .. import leaderboard as lb

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
    from .. import leaderboard as lb
    from ..scoring import rescore, scores_path
    from ..submission import load_meta

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
    from ..metrics import METRICS

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
    from .. import leaderboard as lb

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
    from .. import leaderboard as lb
    from ..tasks import resolve

    name, version = resolve(args.task)
    d = lb.reading_board(Path(args.leaderboards) if args.leaderboards else None, name, version)
    p = d / ("leaderboard.json" if args.json else "leaderboard.md")
    if not p.exists():
        from ..errors import LeaderboardError

        raise LeaderboardError(f"no leaderboard for {name}@{version} yet", path=p,
                               fix=f"score a submission with `avbench score SUBMISSION --task {name}@{version} "
                                   "--update-leaderboard`")
    if args.json and not args.seeds:
        print(p.read_text(), end="")
        return 0
    if args.wide and not args.seeds:
        print(p.read_text())
        return 0
    from ..leaderboard.render import render_json, render_markdown, render_terminal

    board = lb.board_of(d, name, version, fold=not args.seeds)  # --seeds: every seed entry a row
    if args.json:
        print(render_json(board), end="")
    else:
        more = (f"every metric and the header notes: avbench leaderboard show {name}@{version} --wide"
                f"{' --seeds' if args.seeds else ''}, or {d / 'leaderboard.html'}")
        print(render_markdown(board) if args.wide else render_terminal(board, more))
    return 0


def cmd_lb_review(args) -> int:
    from .. import leaderboard as lb
    from ..tasks import resolve

    name, version = resolve(args.task)
    root = Path(args.leaderboards) if args.leaderboards else lb.default_root(write=True)
    d = lb.review(root, name, version, args.name, remove=args.remove)
    _print(args, f"{args.name}: {'no longer marked' if args.remove else 'marked'} reviewed on {name}@{version}; "
                 f"tables rebuilt in {d}")
    return 0


def cmd_lb_path(args) -> int:
    """The board that show, compare and report read for a task version, and its HTML page."""
    from .. import leaderboard as lb
    from ..tasks import resolve

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
