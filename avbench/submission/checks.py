"""Validation: every problem of a submission at once, each with its code, file and fix;
the estimates decoded by the bounded readers in limited children."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..errors import AvbenchError, Problem, ProblemList, SubmissionError
from ..safeio import AUDIO_EXT, audio_cap, parse_predictions, read_estimate, read_under
from ..tasks import get_task
from ..tasks.base import Task
from .meta import CSV_CAP, TaskEntry, load_meta
from .tree import Submission, Tree, _changed, scan, submission_hashes

def _validate_separation(sub: Submission, entry: TaskEntry, task: Task, jobs: list) -> list[Problem]:
    probs: list[Problem] = ProblemList()
    est = f"{entry.folder}/estimates"
    files = sub.tree.under(est)
    if not files:
        return [Problem("AVB405", est, "estimates folder missing or empty",
                        f"write estimates/<item-id>/<instrument>.wav for {task.spec.key}")]
    ids = {i.id for i in task.items}
    slots = set(task.spec.slots)
    found: dict[str, list[str]] = {}
    for rel in files:
        found.setdefault(rel[len(est) + 1:].rpartition("/")[0], []).append(rel)
    for rel in found.pop("", []):  # a file right in estimates/ (.DS_Store, a stray wav)
        probs.append(Problem("AVB413", rel, "a file directly in estimates/, outside any item folder",
                             "remove it; estimates go in estimates/<item-id>/<slot>.wav"))
    for d in sorted(found):
        if d not in ids:
            probs.append(Problem("AVB411", f"{est}/{d}", f"unknown item {d[:80]!r}",
                                 f"remove it; {task.spec.key} has {len(ids)} items"))
    missing_absent: list[str] = []  # omitted_slots: error: one line for all of them
    for item in task.items:
        d = f"{est}/{item.id}"
        rels = found.get(item.id, [])
        if not rels:  # a whole item missing is never silence (a model that stopped mid-run)
            probs.append(Problem("AVB410", d, f"missing item {item.id}: its folder is absent or empty",
                                 f"write {d}/<slot>.wav for the instruments the model separates"))
            continue
        by_slot: dict[str, list[str]] = {}
        for rel in rels:
            stem, ext = os.path.splitext(rel.rpartition("/")[2])
            if ext.lower() not in AUDIO_EXT or ext != ext.lower():
                probs.append(Problem("AVB413", rel, "not a .wav, .flac or .npy file", "remove it"))
            elif stem not in slots:
                probs.append(Problem("AVB413", rel, f"unknown slot {stem[:40]!r}",
                                     f"name files after the slots: {', '.join(task.spec.slots)}"))
            else:
                by_slot.setdefault(stem, []).append(rel)
        for s, ps in sorted(by_slot.items()):
            if len(ps) > 1:
                probs.append(Problem("AVB412", d, f"slot {s} has {len(ps)} estimates ({', '.join(p.rpartition('/')[2] for p in ps)})",
                                     "keep one file per slot"))
        # ``omitted_slots: silence`` covers the absent instruments only: a sounding
        # instrument's missing file is an error either way (the scores name the sounding
        # sources of every item, so saying which file is missing tells nothing new)
        playing = set(item.sources)
        for s in task.spec.slots:
            if s not in by_slot and (entry.omitted_slots == "error" or s in playing):
                if s not in playing:
                    missing_absent.append(f"{d}/{s}.wav")
                    continue
                probs.append(Problem(
                    "AVB414", f"{d}/{s}.wav", f"missing estimate for slot {s}, an instrument that plays in "
                    f"{item.id}", "write its estimate (an all-zero file if the model gives none: it is scored "
                    "as silence, by EPS)"))
        n = item.clips[0].end - item.clips[0].start
        for s, ps in sorted(by_slot.items()):
            if len(ps) == 1:
                if sub.tree.files[ps[0]] > audio_cap(n):
                    probs.append(Problem("AVB445", ps[0], f"{sub.tree.files[ps[0]]} bytes, over the cap of "
                                         f"{audio_cap(n)} for {n} samples", f"write {n} mono samples"))
                else:
                    jobs.append((str(sub.root), ps[0], task.spec.sample_rate, n, sub.hashes[1].get(ps[0])))
    if missing_absent:
        more = f" and {len(missing_absent) - 1} more" if len(missing_absent) > 1 else ""
        probs.append(Problem("AVB414", missing_absent[0],
                             f"{len(missing_absent)} estimates missing for instruments that do not play in their "
                             f"item ({missing_absent[0]}{more})", "set omitted_slots: silence in submission.yaml "
                             "(they are then silence), or write an all-zero file for each"))
    return probs


def check_file(job: tuple) -> list[Problem]:
    """Decode one estimate with the bounded readers (run in a limited child)."""
    root, rel, sr, n, sha = job
    try:
        data = read_under(root, rel, audio_cap(n))
    except ValueError as e:
        return [_changed(rel, str(e))]
    if sha is not None and hashlib.sha256(data).hexdigest() != sha:
        return [_changed(rel, "its bytes differ from the ones hashed")]
    _, probs = read_estimate(data, rel, sr, n)
    return probs


def _decode_failed(job: tuple, reason: str) -> list[Problem]:
    return [Problem("AVB429", job[1], f"decoding failed: {reason}", "write a standard WAV, FLAC or NPY file")]


def _validate_classification(sub: Submission, entry: TaskEntry, task: Task) -> list[Problem]:
    rel = f"{entry.folder}/predictions.csv"
    if rel not in sub.tree.files:
        return [Problem("AVB430", rel, "predictions.csv missing", "write item_id plus one score column per class")]
    try:
        data = read_under(sub.root, rel, CSV_CAP)
    except ValueError as e:
        return [Problem("AVB445" if "cap" in str(e) else "AVB430", rel, str(e), "write a CSV under 64 MiB")]
    if sub.hashes is not None and hashlib.sha256(data).hexdigest() != sub.hashes[1].get(rel):
        return [_changed(rel, "its bytes differ from the ones hashed")]
    _, probs = parse_predictions(data, rel, list(task.spec.classes), [i.id for i in task.items])
    return probs


def _resolve_task(e: TaskEntry) -> tuple[Task | None, Problem | None]:
    
    from ..tasks import available

    known = available()
    if not any(n == e.name for n, _ in known):
        return None, Problem("AVB404", "submission.yaml", f"unknown task {e.name[:80]!r}",
                             f"use one of: {', '.join(sorted({n for n, _ in known}))}")
    if (e.name, e.version) not in known:
        offered = sorted(v for n, v in known if n == e.name)
        return None, Problem("AVB416", "submission.yaml", f"{e.name} version {e.version[:40]!r} is not the one "
                             f"this avbench runs (offered: {', '.join(offered)})",
                             "produce outputs for an offered version, or use the avbench release that has it")
    try:
        return get_task(e.name, e.version), None
    except AvbenchError as ex:
        if ex.code.startswith("AVB3"):
            return None, Problem("AVB404", "submission.yaml", ex.message, ex.fix)
        raise


def _over_their_size(tree: Tree, entries: list[TaskEntry]) -> set[str]:
    """The files of the declared tasks' folders that are larger than their role allows: an
    estimate more than :func:`~avbench.safeio.audio_cap` of its item's length (the longest
    item's for a file outside a known item), a ``predictions.csv`` over ``CSV_CAP``.  They
    are reported as AVB445 (or by the problem of their name) and never read or hashed, so
    a sparse file just under the global cap costs nothing."""
    over = set()
    for e in entries:
        t, prob = _resolve_task(e)
        if prob is not None:
            continue
        if t.spec.family == "classification":
            rel = f"{e.folder}/predictions.csv"
            if tree.files.get(rel, 0) > CSV_CAP:
                over.add(rel)
            continue
        lengths = {i.id: i.clips[0].end - i.clips[0].start for i in t.items}
        longest = max(lengths.values(), default=0)
        est = f"{e.folder}/estimates/"
        for rel, size in tree.under(est).items():
            if size > audio_cap(lengths.get(rel[len(est):].rpartition("/")[0], longest)):
                over.add(rel)
    return over


def validate(root: str | Path, task: str | None = None, raise_on_error: bool = True,
             workers: int | None = None) -> Submission:
    """Check a submission (every declared task, or only ``task``).

    Raises :class:`SubmissionError` listing every problem when any is an error; the
    returned :class:`Submission` carries the warnings.
    """
    import time

    t0 = time.perf_counter()
    root, meta, problems = load_meta(root)
    if not root.is_dir():
        raise SubmissionError(problems, root)
    tree = scan(root)
    if not tree.files and not tree.problems:
        raise SubmissionError([Problem("AVB406", ".", "empty folder", "write submission.yaml and the outputs of "
                                       "the declared tasks (see the README's submission format)")], root)
    problems = ProblemList(list(tree.problems) + list(problems))
    empty = not any(r != "submission.yaml" for r in tree.files) and not tree.problems and meta is not None
    if empty:
        problems.append(Problem("AVB406", ".", "no files besides submission.yaml",
                                "add the estimates or predictions of the declared tasks"))
    if meta is None:
        raise SubmissionError(problems, root)
    entries = meta.tasks
    if task is not None:
        e = meta.task(task)
        if e is None:
            from ..tasks import resolve

            declared = ", ".join(t.key for t in meta.tasks)[:200] or "none"
            try:  # a typo in the task or its version is named as such, with a did-you-mean
                resolve(task)
            except AvbenchError as err:
                problems.append(Problem("AVB404", "--task", err.message, err.fix + f"; submission.yaml declares {declared}"))
            else:
                problems.append(Problem("AVB404", "submission.yaml", f"task {task[:80]} is not declared "
                                        f"(declared: {declared})",
                                        "score a declared task, or declare this one under tasks: with its own "
                                        "estimates"))
            entries = []
        else:
            entries = [e]
    # one pass hashes every file; everything read from here on is checked against it.  A file
    # over the size its role in a declared task implies is never read (it is an error below)
    over = _over_their_size(tree, entries)
    hashes = submission_hashes(root, {r: n for r, n in tree.files.items() if r not in over})
    if meta._sha256 != hashes[1].get("submission.yaml"):
        problems.append(_changed("submission.yaml", "its bytes differ from the ones parsed"))
    sub = Submission(root, meta, tree, hashes=hashes)
    jobs: list = []
    if not empty and not any(p.code == "AVB440" for p in problems):
        for e in entries:
            t, prob = _resolve_task(e)
            if prob is not None:
                problems.append(prob)
                continue
            bad_inputs = [i for i in e.inputs if i not in t.spec.inputs]
            if bad_inputs:
                problems.append(Problem("AVB404", "submission.yaml",
                                        f"{e.key}: inputs {bad_inputs} are not offered (offered: {t.spec.inputs})",
                                        "declare only inputs the task offers"))
            if not tree.under(e.folder):
                problems.append(Problem("AVB405", e.folder, f"folder for {e.key} missing or empty",
                                        f"create {e.folder}/ next to submission.yaml (or name another folder "
                                        "with path: under the task)"))
                continue
            if t.spec.family == "separation":
                problems.extend(_validate_separation(sub, e, t, jobs))
            else:
                problems.extend(_validate_classification(sub, e, t))
    if jobs:
        from ..sandbox import map_limited

        for probs in map_limited(check_file, jobs, _decode_failed, workers=workers or min(2, os.cpu_count() or 1)):
            problems.extend(probs)
    for rel in sorted(over):  # never hashed: never accepted, whatever else names it
        if not any(p.severity == "error" and (rel + "/").startswith(p.path.rstrip("/") + "/") for p in problems):
            problems.append(Problem("AVB445", rel, f"{tree.files[rel]} bytes, over what its task allows",
                                    "write the estimate at the item's length and the task's rate"))
    sub.warnings = [p for p in problems if p.severity == "warning"]
    if raise_on_error and any(p.severity == "error" for p in problems):
        raise SubmissionError(problems, root)
    sub.validation_s = time.perf_counter() - t0  # for `score --profile`
    return sub
