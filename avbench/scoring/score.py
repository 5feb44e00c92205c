"""Scoring a submission folder: validation, the engine, the summaries, and the results
written as one transaction into the submission's ``results/``."""
from __future__ import annotations

import io
import os
import shutil
import stat
import time
from pathlib import Path

import pandas as pd

from .. import __version__
from ..files import atomic_write, commit, recover
from ..results import Provenance, Result, dump_json, git_info, keep_first_date, library_versions, now
from ..submission import Submission, TaskEntry, submission_hashes, validate
from ..tasks import get_task
from ..tasks.base import Task
from .engine import Profile, _classification_failed, _limited, _state_dir, score_chunks
from .rules import check_metric_params
from .summaries import _classification_frame, _flag_problems, summarize_separation


def _provenance(task: Task, sub: Submission, hashes: tuple[str, dict[str, str]]) -> Provenance:
    commit, dirty = git_info()
    sha, files = hashes
    return Provenance(avbench_version=__version__, git_commit=commit, git_dirty=dirty, task=task.spec.name,
                      task_version=task.spec.version, manifest_sha256=task.spec.manifest_sha256,
                      items_sha256=task.spec.items_sha256, submission_sha256=sha,
                      metric_params=task.spec.metric_params, libraries=library_versions(), date=now(),
                      metadata_sha256=files.get("submission.yaml"), files=files)


def results_dir(sub: Submission, task: Task) -> Path:
    return sub.root / "results" / task.spec.key


def scores_path(submission_root: str | Path, task_key: str) -> Path:
    """Where :func:`score` writes the per-item scores of a submission on ``task_key``."""
    return Path(submission_root) / "results" / task_key / "scores.parquet"


def score(path: str | Path | Submission, task: str | None = None, workers: int | None = None, progress: bool = True,
          validate_first: bool = True, engine: str = "process", address: str | None = None) -> list[Result]:
    """Validate and score a submission on every declared task (or only ``task``).

    ``path`` may be a :class:`Submission` that :func:`validate` returned: it is not
    validated again, and its warnings go into the results.

    ``engine="process"`` maps chunks of items over a local pool (one process per core);
    ``engine="ray"`` maps them over a Ray cluster (``address`` of a running cluster, or a
    local instance when ``None``); every node needs avbench and the data at the same
    ``AVBENCH_HOME`` path.

    Each result's :attr:`~avbench.results.Result.profile` says where the call spent its
    time (:func:`avbench.profile.split`; the same for every task of one call).  Nothing
    is kept between calls, so calls may run side by side.
    """
    if engine not in ("process", "ray"):
        from ..errors import ConfigError

        raise ConfigError(f"unknown engine {engine!r}", fix="use --engine process or --engine ray")
    from .. import profile

    t0 = time.perf_counter()
    prof = Profile()
    given = isinstance(path, Submission)
    if given:
        sub = path
    elif validate_first:
        sub = validate(path, task, workers=workers)
    else:
        from ..submission import load_meta

        root, meta, _ = load_meta(path)
        sub = Submission(root, meta)
    t_checks = getattr(sub, "validation_s", 0.0) if given else time.perf_counter() - t0
    entries = [sub.meta.task(task)] if task else sub.meta.tasks
    hashes = sub.hashes if sub.hashes is not None else submission_hashes(sub.root, sub.tree.files)
    sub.hashes = hashes
    out = []
    for e in entries:
        t = get_task(e.name, e.version)
        out.append(_score_task(sub, e, t, hashes, workers, progress, engine, address, prof))
    wall = time.perf_counter() - t0
    times = dict(prof.times)
    times["checks"] = times.get("checks", 0.0) + t_checks  # validation, in this process
    times["other"] = times.get("other", 0.0) + max(0.0, wall - (0.0 if given else t_checks)
                                                   - prof.pool_s)  # summaries, writes
    if given:
        wall += t_checks  # validated before this call
    split = profile.split(times, wall, workers or os.cpu_count() or 1)
    for r in out:
        r._profile = split
    return out


def rescore(path: str | Path, name: str, from_version: str, to_version: str, workers: int | None = None,
            progress: bool = True) -> Result:
    """Score a stored submission for ``name@from_version`` under ``name@to_version``.

    Allowed when both versions have the same evaluation items (a bump of metric
    parameters, say); when the items differ, the model must produce new estimates.
    """
    from ..errors import TaskError

    sub = validate(path, f"{name}@{from_version}")
    old, new = get_task(name, from_version), get_task(name, to_version)
    if old.spec.items_sha256 != new.spec.items_sha256:
        raise TaskError(f"{name}@{to_version} evaluates other items than {name}@{from_version}", path=sub.root,
                        fix=f"run the model again on {name}@{to_version}; only same-item versions can be re-scored")
    entry = sub.meta.task(f"{name}@{from_version}").model_copy(update={"version": to_version})
    return _score_task(sub, entry, new, sub.hashes, workers, progress)


def _score_task(sub: Submission, entry: TaskEntry, task: Task, hashes: tuple[str, dict[str, str]], workers: int | None,
                progress: bool, engine: str = "process", address: str | None = None,
                prof: Profile | None = None) -> Result:
    spec = task.spec
    check_metric_params(spec)
    state = _state_dir(task, hashes[0])
    if spec.family == "classification":
        ((df, extra),) = _limited(lambda job: _score_classification(*job), [(sub, entry, task)],
                                  _classification_failed)
    else:
        df = score_chunks(sub, entry, task, hashes, state, workers, progress, engine, address, prof)
        scores, breakdown, counts = summarize_separation(df, spec.metrics)
        extra = {"scores": scores, "breakdown": breakdown, "counts": counts}
    warns = _warnings(sub, entry, df)
    from ..errors import report

    rep = report(warns)
    result = Result(submission=sub.name, task=spec.name, version=spec.version, family=spec.family,
                    main_score=spec.main_score, aggregate=spec.aggregate, n_items=spec.n_items,
                    warnings=rep["problems"], warning_counts=rep["counts"],
                    provenance=_provenance(task, sub, hashes), **extra)
    result = keep_first_date(state / "summary.json", result)  # never the submitted results/
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    rdir = _results_dir(sub, task)
    commit(rdir, {"scores.parquet": buf.getvalue(), "summary.json": dump_json(result).encode()})
    atomic_write(state / "summary.json", dump_json(result))
    shutil.rmtree(state / "chunks", ignore_errors=True)
    return result


def _results_dir(sub: Submission, task: Task) -> Path:
    """``results/<task>`` in the submission, made or checked: every component a real
    folder (never a link, which would send the writes elsewhere) and the files a commit
    replaces absent or regular.  Refused with AVB470 otherwise."""
    from ..errors import Problem, SubmissionError
    from ..files import JOURNAL

    rdir = results_dir(sub, task)
    for d in (rdir.parent, rdir):
        rel = d.relative_to(sub.root).as_posix()
        try:
            st = os.lstat(d)
        except FileNotFoundError:
            os.mkdir(d)
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise SubmissionError([Problem("AVB470", rel, "not a plain folder (a link, file or special file)",
                                           "remove it; avbench creates results/ itself")], sub.root)
    for name in ("scores.parquet", "summary.json", JOURNAL):
        try:
            st = os.lstat(rdir / name)
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(st.st_mode):
            raise SubmissionError([Problem("AVB470", f"{rdir.relative_to(sub.root).as_posix()}/{name}",
                                           "not a regular file avbench wrote (a link or special file)",
                                           "remove results/; avbench writes it itself")], sub.root)
    recover(rdir)  # what a killed run left (a journal is only obeyed inside this folder)
    return rdir


def _warnings(sub: Submission, entry: TaskEntry, df: pd.DataFrame) -> list:
    """Validation warnings of this task's files, then the scoring flags (silent, identical)."""
    pre = entry.folder + "/"
    return [w for w in sub.warnings if w.path.startswith(pre)] + _flag_problems(entry.folder, df, sub.tree.files)


def _score_classification(sub: Submission, entry: TaskEntry, task: Task) -> tuple[pd.DataFrame, dict]:
    return _classification_frame(task, sub.read_predictions(entry, task))
