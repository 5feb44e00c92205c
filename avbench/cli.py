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
import sys

from .errors import AvbenchError

from .commands import CONFIG_NAMES
from .commands.analysis import READ_HELP, cmd_compare, cmd_report
from .commands.boards import (cmd_lb_build, cmd_lb_check, cmd_lb_path, cmd_lb_rescore, cmd_lb_review, cmd_lb_show,
                              cmd_lb_verify, cmd_score, cmd_validate)
from .commands.data import (cmd_data_derive, cmd_data_generate, cmd_data_list, cmd_data_prepare, cmd_data_push,
                            cmd_data_verify, cmd_data_video, cmd_tasks)
from .commands.demo import _baselines, cmd_baseline_list, cmd_baseline_run, cmd_demo  # noqa: F401 (_baselines: API)


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
