"""Submission format, loading and validation.

A submission is a folder::

    submission.yaml
    <task-name>/                       (or the folder named by ``path:``)
        estimates/<item-id>/<instrument>.wav     separation: one mono file per slot
        predictions.csv                          classification: item_id + one column per class

``submission.yaml`` (safe YAML, no tags)::

    name: my-model                      # [a-z0-9._-], unique on a leaderboard
    model: My model (short description)
    authors: [A. Author]
    paper_url: https://...              # optional
    code_url: https://...               # optional
    oracle: false                       # uses the references: shown, never ranked
    extra_training_data: none
    n_parameters: 1234567               # optional
    notes: free text
    tasks:
      - name: synth-ensembles-separation
        version: "1"
        inputs: [mixture, labels]       # what the model used, among the task's inputs
        omitted_slots: error            # or "silence": a missing slot file is silence

Validation reports every problem at once, each with a stable code, the file, and the
fix (see :data:`CODES`).  Nothing is ever unpickled; YAML is parsed with
``yaml.safe_load``; symlinks and paths outside the folder are refused.
"""
from __future__ import annotations

import csv
import hashlib
import math
import os
import re
from pathlib import Path
from typing import Literal

import numpy as np
import soundfile as sf
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import Problem, SubmissionError
from .tasks import get_task
from .tasks.base import Task

CODES = {
    "AVB401": "submission.yaml missing or unreadable",
    "AVB402": "unsafe YAML (tags or objects)",
    "AVB403": "submission.yaml does not match the schema",
    "AVB404": "unknown task or version, or an input the task does not offer",
    "AVB405": "task folder missing",
    "AVB410": "missing item",
    "AVB411": "extra or unknown item",
    "AVB412": "duplicate item or slot",
    "AVB413": "unknown instrument slot",
    "AVB414": "missing slot estimate",
    "AVB420": "unreadable audio file",
    "AVB421": "wrong sample rate",
    "AVB422": "wrong length",
    "AVB423": "wrong channel count (must be mono)",
    "AVB424": "NaN or inf in audio",
    "AVB430": "predictions.csv missing or unreadable",
    "AVB431": "missing or unknown class columns",
    "AVB432": "non-numeric, NaN or inf score",
    "AVB440": "path escapes the submission folder",
    "AVB441": "symbolic link",
}

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
AUDIO_EXT = (".wav", ".flac")


class TaskEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    version: str = "1"
    path: str | None = None
    inputs: list[str] = Field(default_factory=list)
    omitted_slots: Literal["error", "silence"] = "error"

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def folder(self) -> str:
        return self.path or self.name


class SubmissionMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    model: str
    authors: list[str] = Field(default_factory=list)
    paper_url: str | None = None
    code_url: str | None = None
    oracle: bool = False
    extra_training_data: str = "none"
    n_parameters: int | None = None
    notes: str = ""
    tasks: list[TaskEntry]

    def task(self, key: str) -> TaskEntry | None:
        for t in self.tasks:
            if t.key == key or (t.name == key and "@" not in key):
                return t
        return None


class Submission:
    def __init__(self, root: Path, meta: SubmissionMeta):
        self.root = root
        self.meta = meta

    @property
    def name(self) -> str:
        return self.meta.name

    def task_dir(self, entry: TaskEntry) -> Path:
        return self.root / entry.folder

    def estimate_path(self, entry: TaskEntry, item_id: str, slot: str) -> Path | None:
        d = self.task_dir(entry) / "estimates" / item_id
        for ext in AUDIO_EXT:
            p = d / f"{slot}{ext}"
            if p.exists():
                return p
        return None

    def read_estimates(self, entry: TaskEntry, task: Task, item) -> np.ndarray:
        """Estimates of every slot, zeros where omitted.  Shape: ``(n_slots, n_samples)``."""
        slots = task.spec.slots
        n = item.clips[0].end - item.clips[0].start
        out = np.zeros((len(slots), n), dtype=np.float64)
        for k, s in enumerate(slots):
            p = self.estimate_path(entry, item.id, s)
            if p is not None:
                x, _ = sf.read(str(p), dtype="float64")
                out[k] = x
        return out

    def read_predictions(self, entry: TaskEntry, task: Task) -> dict[str, np.ndarray]:
        rows, _ = _read_csv(self.task_dir(entry) / "predictions.csv")
        classes = task.spec.classes
        return {r["item_id"]: np.array([float(r[c]) for c in classes]) for r in rows}


def content_sha256(root: Path) -> str:
    """sha256 over the sorted relative paths and contents of the submission's files
    (the ``results/`` folder excluded)."""
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if rel.startswith("results/") or rel == "results" or not p.is_file():
            continue
        h.update(rel.encode() + b"\0")
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")
    return h.hexdigest()


def _read_csv(path: Path) -> tuple[list[dict], list[str]]:
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        return rows, list(reader.fieldnames or [])


def load_meta(root: str | Path) -> tuple[Path, SubmissionMeta | None, list[Problem]]:
    root = Path(root)
    y = root / "submission.yaml"
    problems: list[Problem] = []
    if not root.is_dir():
        return root, None, [Problem("AVB401", str(root), "submission folder not found",
                                    "pass the folder that holds submission.yaml")]
    if y.is_symlink():
        return root, None, [Problem("AVB441", str(y), "submission.yaml is a symbolic link", "replace it by a regular file")]
    if not y.exists():
        return root, None, [Problem("AVB401", str(y), "submission.yaml is missing",
                                    "add submission.yaml (see the README's submission format)")]
    try:
        text = y.read_text()
        data = yaml.safe_load(text)
    except yaml.constructor.ConstructorError as e:
        return root, None, [Problem("AVB402", str(y), f"unsafe YAML: {e.problem}",
                                    "remove YAML tags (!!python/..., !tag); plain mappings, lists and scalars only")]
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as e:
        return root, None, [Problem("AVB401", str(y), f"unreadable YAML: {e}", "fix the YAML syntax")]
    if not isinstance(data, dict):
        return root, None, [Problem("AVB403", str(y), "top level must be a mapping", "see the README's submission format")]
    try:
        meta = SubmissionMeta.model_validate(data)
    except ValidationError as e:
        for err in e.errors():
            loc = ".".join(str(x) for x in err["loc"])
            problems.append(Problem("AVB403", str(y), f"{loc}: {err['msg']}", "see the README's submission format"))
        return root, None, problems
    if not NAME_RE.match(meta.name):
        problems.append(Problem("AVB403", str(y), f"name {meta.name!r} is not [a-z0-9._-] (max 64)", "rename the submission"))
    seen = set()
    for t in meta.tasks:
        if t.key in seen:
            problems.append(Problem("AVB412", str(y), f"task {t.key} listed twice", "list each task once"))
        seen.add(t.key)
        target = (root / t.folder).resolve()
        if Path(t.folder).is_absolute() or not str(target).startswith(str(root.resolve()) + os.sep):
            problems.append(Problem("AVB440", str(y), f"task path {t.folder!r} escapes the submission folder",
                                    "use a folder inside the submission"))
    return root, meta, problems


def _symlinks(root: Path) -> list[Problem]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            if p.is_symlink():
                out.append(Problem("AVB441", str(p), "symbolic links are not allowed in a submission",
                                   "copy the file into the submission instead of linking it"))
    return out


def _check_audio(p: Path, sr: int, n: int) -> list[Problem]:
    try:
        info = sf.info(str(p))
    except Exception as e:  # noqa: BLE001 - any decoder failure is the user's file
        return [Problem("AVB420", str(p), f"cannot read audio ({type(e).__name__})", "write a valid WAV or FLAC file")]
    probs = []
    if info.samplerate != sr:
        probs.append(Problem("AVB421", str(p), f"sample rate {info.samplerate} Hz, expected {sr} Hz", f"resample to {sr} Hz"))
    if info.channels != 1:
        probs.append(Problem("AVB423", str(p), f"{info.channels} channels, expected 1", "write mono audio"))
    if info.frames != n:
        probs.append(Problem("AVB422", str(p), f"{info.frames} samples, expected {n}", f"write exactly {n} samples"))
    if not probs:
        try:
            x, _ = sf.read(str(p), dtype="float64")
        except Exception as e:  # noqa: BLE001
            return [Problem("AVB420", str(p), f"cannot decode audio ({type(e).__name__})", "write a valid WAV or FLAC file")]
        if not np.isfinite(x).all():
            probs.append(Problem("AVB424", str(p), "contains NaN or inf", "replace non-finite samples"))
    return probs


def _validate_separation(sub: Submission, entry: TaskEntry, task: Task) -> list[Problem]:
    probs: list[Problem] = []
    est_dir = sub.task_dir(entry) / "estimates"
    if not est_dir.is_dir():
        return [Problem("AVB405", str(est_dir), "estimates folder missing", f"write estimates/<item-id>/<instrument>.wav for {task.spec.key}")]
    ids = {i.id for i in task.items}
    slots = set(task.spec.slots)
    sr = task.spec.sample_rate
    # walk the folder: every leaf directory holding audio is an item
    found: dict[str, list[Path]] = {}
    for p in sorted(est_dir.rglob("*")):
        if p.is_file():
            rel = p.parent.relative_to(est_dir).as_posix()
            found.setdefault(rel, []).append(p)
    for rel in sorted(found):
        if rel not in ids:
            probs.append(Problem("AVB411", str(est_dir / rel), f"unknown item {rel!r}", f"remove it; {task.spec.key} has {len(ids)} items"))
    for item in task.items:
        d = est_dir / item.id
        files = found.get(item.id, [])
        if not files and entry.omitted_slots == "error":
            probs.append(Problem("AVB410", str(d), f"missing item {item.id}", "write one file per instrument slot"))
            continue
        by_slot: dict[str, list[Path]] = {}
        for p in files:
            stem, ext = p.stem, p.suffix.lower()
            if ext not in AUDIO_EXT:
                probs.append(Problem("AVB413", str(p), "not a .wav or .flac file", "remove it"))
                continue
            if stem not in slots:
                probs.append(Problem("AVB413", str(p), f"unknown slot {stem!r}", f"name files after the slots: {', '.join(task.spec.slots)}"))
                continue
            by_slot.setdefault(stem, []).append(p)
        for s, ps in by_slot.items():
            if len(ps) > 1:
                probs.append(Problem("AVB412", str(d), f"slot {s} has {len(ps)} files", "keep one file per slot"))
        if entry.omitted_slots == "error":
            for s in task.spec.slots:
                if s not in by_slot:
                    probs.append(Problem("AVB414", str(d / f"{s}.wav"), f"missing estimate for slot {s}",
                                         "write silence for absent instruments, or set omitted_slots: silence"))
        n = item.clips[0].end - item.clips[0].start
        for s, ps in by_slot.items():
            probs.extend(_check_audio(ps[0], sr, n))
    return probs


def _validate_classification(sub: Submission, entry: TaskEntry, task: Task) -> list[Problem]:
    p = sub.task_dir(entry) / "predictions.csv"
    if not p.is_file():
        return [Problem("AVB430", str(p), "predictions.csv missing", "write item_id plus one score column per class")]
    try:
        rows, cols = _read_csv(p)
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        return [Problem("AVB430", str(p), f"unreadable CSV ({e})", "write a UTF-8 CSV with a header row")]
    probs = []
    classes = task.spec.classes
    if "item_id" not in cols:
        probs.append(Problem("AVB431", str(p), "no item_id column", "add an item_id column"))
    missing = [c for c in classes if c not in cols]
    extra = [c for c in cols if c not in classes and c != "item_id"]
    if missing:
        probs.append(Problem("AVB431", str(p), f"missing class columns: {', '.join(missing)}", "add one score column per class"))
    if extra:
        probs.append(Problem("AVB431", str(p), f"unknown columns: {', '.join(extra)}", "remove them"))
    if "item_id" not in cols:
        return probs
    ids = {i.id for i in task.items}
    seen: set[str] = set()
    for k, r in enumerate(rows, start=2):
        iid = r.get("item_id", "")
        if iid in seen:
            probs.append(Problem("AVB412", f"{p}:{k}", f"duplicate item {iid!r}", "keep one row per item"))
        seen.add(iid)
        if iid not in ids:
            probs.append(Problem("AVB411", f"{p}:{k}", f"unknown item {iid!r}", "remove the row"))
        for c in classes:
            if c not in r:
                continue
            try:
                v = float(r[c])
            except (TypeError, ValueError):
                probs.append(Problem("AVB432", f"{p}:{k}", f"score {c}={r[c]!r} is not a number", "write a finite number"))
                continue
            if not math.isfinite(v):
                probs.append(Problem("AVB432", f"{p}:{k}", f"score {c} is {v}", "write a finite number"))
    for iid in sorted(ids - seen):
        probs.append(Problem("AVB410", str(p), f"missing item {iid!r}", "add a row for every item"))
    return probs


def validate(root: str | Path, task: str | None = None, raise_on_error: bool = True) -> Submission:
    """Check a submission (every declared task, or only ``task``); raise
    :class:`SubmissionError` listing every problem."""
    root, meta, problems = load_meta(root)
    problems.extend(_symlinks(root) if root.is_dir() else [])
    if meta is None:
        raise SubmissionError(problems, root)
    sub = Submission(root, meta)
    entries = meta.tasks
    if task is not None:
        e = meta.task(task)
        if e is None:
            problems.append(Problem("AVB404", str(root / "submission.yaml"), f"task {task} is not declared",
                                    "add it under tasks:"))
            entries = []
        else:
            entries = [e]
    if not any(p.code in ("AVB440", "AVB441") for p in problems):
        for e in entries:
            try:
                t = get_task(e.name, e.version)
            except Exception as ex:  # TaskError or DataError
                from .errors import AvbenchError

                if isinstance(ex, AvbenchError) and ex.code.startswith("AVB3"):
                    problems.append(Problem("AVB404", str(root / "submission.yaml"), str(ex.message), ex.fix))
                    continue
                raise
            bad_inputs = [i for i in e.inputs if i not in t.spec.inputs]
            if bad_inputs:
                problems.append(Problem("AVB404", str(root / "submission.yaml"),
                                        f"{e.key}: inputs {bad_inputs} are not offered (offered: {t.spec.inputs})",
                                        "declare only inputs the task offers"))
            if not sub.task_dir(e).is_dir():
                problems.append(Problem("AVB405", str(sub.task_dir(e)), f"folder for {e.key} missing",
                                        "create it, or set path: in submission.yaml"))
                continue
            if t.spec.family == "separation":
                problems.extend(_validate_separation(sub, e, t))
            else:
                problems.extend(_validate_classification(sub, e, t))
    if problems and raise_on_error:
        raise SubmissionError(problems, root)
    return sub


def write_meta(root: str | Path, meta: SubmissionMeta) -> None:
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    data = meta.model_dump(exclude_none=True)
    (root / "submission.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
