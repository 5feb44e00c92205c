"""The ``baseline`` commands and ``demo``."""
from __future__ import annotations

import shutil
import time

from ..errors import ConfigError
from . import _print


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
    from ..tasks import did_you_mean

    reg = _baselines()
    if args.name not in reg:
        raise ConfigError(f"unknown baseline {args.name!r}{did_you_mean(args.name, reg)}", fix=f"`avbench baseline list` lists the {len(reg)} names")
    out = reg[args.name](args.task, args.out, progress=not args.quiet)
    _print(args, f"wrote submission {out}")
    return 0


def cmd_demo(args) -> int:
    from .. import leaderboard as lb
    from ..config import home
    from ..data import synth as se
    from ..scoring import score, scores_path
    from ..submission import validate

    from ..tasks.synth import current

    t0 = time.time()
    cfg = se.config_for(args.config)
    version = current(args.config)  # the task version of the current protocol on this data
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
    from ..leaderboard.render import render_terminal

    for task, _ in plan:
        print(render_terminal(lb.board_of(lb.board_dir(lbroot, task, version), task, version),
                              f"every metric: avbench leaderboard show {task}@{version} --wide"))
    _print(args, f"demo finished in {time.time() - t0:.0f} s")
    first = plan[0][0]
    _print(args, f"next: the pages, sortable: {lb.board_dir(lbroot, first, version) / 'leaderboard.html'}\n"
                 f"      a model of your own: README.md, \"Your first submission\" (SubmissionWriter, then "
                 f"`avbench validate` and `avbench score --update-leaderboard`)")
    return 0
