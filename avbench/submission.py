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

Estimates may also be ``.npy`` (a 1-D float32/float64 array; never unpickled).
The optional ``avbench_version:`` pins the avbench release the outputs were made for.

Validation reports every problem at once, each with a stable code (see
:data:`avbench.errors.CODES` and ``docs/validation.md``), the file relative to the
submission, and the fix.  The tree is walked with ``lstat`` only: links, FIFOs and
devices are reported, never followed or opened; sizes are capped before anything is
read; YAML is parsed without tags, anchors or duplicate keys; audio and NPY files are
decoded by bounded readers (:mod:`avbench.safeio`) in limited child processes
(:mod:`avbench.sandbox`).  Validation never reads the task's references.
"""
from __future__ import annotations

import hashlib
import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from . import __version__
from .profile import timed
from .errors import CODES, AvbenchError, Problem, ProblemList, SubmissionError  # noqa: F401 - CODES is re-exported here
from .safeio import AUDIO_EXT, audio_cap, open_under, parse_predictions, read_estimate, read_regular, read_under
from .tasks import get_task
from .tasks.base import Task

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
#: caps, in bytes (``AVBENCH_MAX_TOTAL_BYTES`` overrides the total)
META_CAP = 64 << 10
CSV_CAP = 64 << 20
FILE_CAP = 1 << 30
MAX_DEPTH = 16
#: text limits of submission.yaml
TEXT_LIMITS = {"model": 200, "notes": 4000, "extra_training_data": 500, "author": 200, "url": 500}
MAX_AUTHORS = 100
#: the largest parameter count a submission may declare (10 trillion)
MAX_PARAMETERS = 10 ** 13
_BAD_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def total_cap() -> int:
    return int(os.environ.get("AVBENCH_MAX_TOTAL_BYTES", str(64 << 30)))


class TaskEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str
    version: str                #: required: the task version the estimates are for
    path: str | None = None
    inputs: list[str]           #: required: what the model read, among the task's inputs ([] for none)
    omitted_slots: Literal["error", "silence"] = "error"

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def folder(self) -> str:
        """The task's folder, relative to the submission: ``path`` with empty and ``.``
        parts dropped (``my-run/``, ``./my-run`` and ``my-run`` are one folder), else the
        task name.  Absolute paths and ``..`` are refused by validation, on the raw path."""
        if self.path is None:
            return self.name
        return "/".join(p for p in self.path.split("/") if p not in ("", ".")) or "."


class SubmissionInfo(BaseModel):
    """What a submission says of itself and a leaderboard shows (the fields an entry
    carries from ``submission.yaml``)."""
    name: str
    model: str
    authors: list[str] = Field(default_factory=list)
    paper_url: str | None = None
    code_url: str | None = None
    oracle: bool = False
    extra_training_data: str = "none"
    n_parameters: int | None = None


class SubmissionMeta(SubmissionInfo):
    model_config = ConfigDict(extra="forbid", strict=True)
    notes: str = ""
    avbench_version: str | None = None
    tasks: list[TaskEntry]
    #: sha256 of the submission.yaml bytes this was parsed from (not part of the schema)
    _sha256: str | None = PrivateAttr(default=None)

    def task(self, key: str) -> TaskEntry | None:
        for t in self.tasks:
            if t.key == key or (t.name == key and "@" not in key):
                return t
        return None


# ----------------------------------------------------------------------------- the tree
@dataclass
class Tree:
    """Regular files of a submission (relative POSIX path -> size), found with ``lstat`` only."""

    root: Path
    files: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=ProblemList)

    def under(self, prefix: str) -> dict[str, int]:
        pre = prefix.rstrip("/") + "/"
        return {r: n for r, n in self.files.items() if r.startswith(pre)}


def _name_ok(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return _BAD_CHARS.search(name) is None and "\n" not in name and "\t" not in name


def _shown(rel: str) -> str:
    return rel.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")


def scan(root: str | Path) -> Tree:
    """Walk ``root`` without following anything; report links, special files, name
    collisions and size caps.  ``results/`` (written by avbench) is skipped."""
    root = Path(root)
    tree = Tree(root)
    total = 0
    stack = [("", 0)]
    while stack:
        rel_dir, depth = stack.pop()
        try:
            with os.scandir(root / rel_dir if rel_dir else root) as it:
                ents = sorted(it, key=lambda e: e.name)
        except OSError as e:
            tree.problems.append(Problem("AVB401", rel_dir or ".", f"cannot list the folder ({e.strerror})",
                                         "make it readable"))
            continue
        folded: dict[str, str] = {}
        for e in ents:
            rel = f"{rel_dir}/{e.name}" if rel_dir else e.name
            if not _name_ok(e.name):
                shown = e.name.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")
                tree.problems.append(Problem("AVB447", f"{_shown(rel_dir)}/{shown}".lstrip("/"),
                                             "name not UTF-8 or with control characters", "rename it"))
                continue
            key = unicodedata.normalize("NFC", e.name).casefold()
            if key in folded:
                tree.problems.append(Problem("AVB444", rel, f"differs from {folded[key]!r} only by case or Unicode "
                                             "normalisation", "rename one of them; names must differ on every "
                                             "file system"))
            folded.setdefault(key, e.name)
            try:
                st = e.stat(follow_symlinks=False)
            except OSError as ex:
                tree.problems.append(Problem("AVB401", rel, f"cannot stat ({ex.strerror})", "make it readable"))
                continue
            m = st.st_mode
            if rel == "results":  # avbench's own output: never read, and it must be a plain folder
                if not stat.S_ISDIR(m):
                    what = ("a symbolic link" if stat.S_ISLNK(m) else "a file" if stat.S_ISREG(m)
                            else "a special file")
                    tree.problems.append(Problem("AVB470", rel, f"{what}, not the folder avbench writes results to",
                                                 "remove it; avbench creates results/ itself"))
                continue
            if stat.S_ISLNK(m):
                tree.problems.append(Problem("AVB441", rel, "symbolic link (never followed)",
                                             "copy the file into the submission instead of linking it"))
            elif stat.S_ISDIR(m):
                if depth + 1 > MAX_DEPTH:
                    tree.problems.append(Problem("AVB440", rel, f"nested deeper than {MAX_DEPTH} folders",
                                                 "flatten the folder"))
                else:
                    stack.append((rel, depth + 1))
            elif stat.S_ISREG(m):
                if st.st_nlink > 1:
                    tree.problems.append(Problem("AVB442", rel, f"hard link ({st.st_nlink} names for one file)",
                                                 "copy the file instead of hard-linking it (cp, not cp -l)"))
                    continue
                if st.st_size > FILE_CAP:
                    tree.problems.append(Problem("AVB445", rel, f"{st.st_size} bytes, over the cap of {FILE_CAP}",
                                                 "remove it; no submission file needs that much"))
                    continue
                total += st.st_size
                tree.files[rel] = st.st_size
            else:
                what = ("FIFO" if stat.S_ISFIFO(m) else "socket" if stat.S_ISSOCK(m)
                        else "device" if stat.S_ISCHR(m) or stat.S_ISBLK(m) else "special file")
                tree.problems.append(Problem("AVB443", rel, f"{what} (never opened)", "remove it"))
    if total > total_cap():
        tree.problems.append(Problem("AVB446", ".", f"{total} bytes in all, over the cap of {total_cap()}",
                                     "remove what the tasks do not need"))
    tree.files = dict(sorted(tree.files.items()))
    return tree


# ----------------------------------------------------------------------------- metadata
class _Refused(Exception):
    def __init__(self, code: str, msg: str, line: int | None):
        self.code, self.msg, self.line = code, msg, line


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML without explicit tags, anchors/aliases or duplicate keys."""

    def compose_node(self, parent, index):
        ev = self.peek_event()
        line = ev.start_mark.line + 1 if ev.start_mark else None
        if isinstance(ev, yaml.AliasEvent) or getattr(ev, "anchor", None) is not None:
            raise _Refused("AVB402", "unsafe YAML: anchors and aliases are not allowed", line)
        if getattr(ev, "tag", None) not in (None, "!"):
            raise _Refused("AVB402", f"unsafe YAML: explicit tag {str(ev.tag)[:60]!r} is not allowed", line)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for k, _ in node.value:
            key = self.construct_object(k, deep=True)
            try:
                hash(key)
            except TypeError:
                raise _Refused("AVB403", "mapping keys must be plain strings", k.start_mark.line + 1) from None
            if key in seen:
                raise _Refused("AVB407", f"key {str(key)[:60]!r} appears twice", k.start_mark.line + 1)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _text_problems(meta: SubmissionMeta, rel: str) -> list[Problem]:
    probs = []

    def check(where: str, s: str | None, limit: int, multiline: bool = False):
        if s is None:
            return
        try:
            s.encode("utf-8")
        except UnicodeEncodeError as e:
            probs.append(Problem("AVB409", rel, f"{where}: unpaired surrogate U+{ord(s[e.start]):04X} (not text)",
                                 "remove it; write plain UTF-8 text"))
            return
        if len(s) > limit:
            probs.append(Problem("AVB409", rel, f"{where}: {len(s)} characters, at most {limit}", "shorten it"))
        bad = _BAD_CHARS.search(s.replace("\n", " ").replace("\t", " ") if multiline else s)
        if bad is None and not multiline:
            bad = re.search("[\n\t]", s)
        if bad:
            probs.append(Problem("AVB409", rel, f"{where}: control or direction character U+{ord(bad.group()):04X}",
                                 "remove it"))

    check("model", meta.model, TEXT_LIMITS["model"])
    check("notes", meta.notes, TEXT_LIMITS["notes"], multiline=True)
    check("extra_training_data", meta.extra_training_data, TEXT_LIMITS["extra_training_data"], multiline=True)
    if len(meta.authors) > MAX_AUTHORS:
        probs.append(Problem("AVB409", rel, f"authors: {len(meta.authors)} names, at most {MAX_AUTHORS}", "shorten it"))
    for k, a in enumerate(meta.authors[:MAX_AUTHORS]):
        check(f"authors[{k}]", a, TEXT_LIMITS["author"])
        if not a.strip():
            probs.append(Problem("AVB408", rel, f"authors[{k}] is empty", "remove it or write the name"))
    for key in ("paper_url", "code_url"):
        u = getattr(meta, key)
        check(key, u, TEXT_LIMITS["url"])
        if u is not None and not re.match(r"^https?://[^\s<>\"']+$", u):
            probs.append(Problem("AVB403", rel, f"{key} is not an http(s) URL", "write https://..."))
    for key in ("name", "model"):
        if not getattr(meta, key).strip():
            probs.append(Problem("AVB408", rel, f"{key} is empty", f"write the submission's {key}"))
    if meta.name.strip() and not NAME_RE.fullmatch(meta.name):
        probs.append(Problem("AVB403", rel, f"name {ascii(meta.name[:80])} is not [a-z0-9._-] (max 64)",
                             "rename the submission"))
    if not meta.tasks:
        probs.append(Problem("AVB408", rel, "tasks is empty", "list the tasks this submission answers"))
    if n := meta.n_parameters:
        if n < 0:
            probs.append(Problem("AVB403", rel, "n_parameters is negative", "write the parameter count"))
        elif n > MAX_PARAMETERS:
            probs.append(Problem("AVB403", rel, f"n_parameters {n:.3g} is over {MAX_PARAMETERS:.0e}",
                                 "write the model's real parameter count"))
    for k, t in enumerate(meta.tasks):
        for where, v in ((f"tasks[{k}].name", t.name), (f"tasks[{k}].version", t.version),
                         (f"tasks[{k}].path", t.path)):
            check(where, v, 200)
        for j, i in enumerate(t.inputs[:100]):
            check(f"tasks[{k}].inputs[{j}]", i, 200)
    return probs


def parse_meta(data: bytes, rel: str = "submission.yaml") -> tuple[SubmissionMeta | None, list[Problem]]:
    """Parse and check ``submission.yaml``; never raises on bad input."""
    if len(data) > META_CAP:
        return None, [Problem("AVB445", rel, f"{len(data)} bytes, over the cap of {META_CAP}", "shorten it")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return None, [Problem("AVB415", rel, f"not UTF-8 (byte {e.start})", "save it as UTF-8")]
    try:
        obj = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except _Refused as r:
        return None, [Problem(r.code, rel, r.msg, "plain mappings, lists and scalars only, each key once", r.line)]
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        col = mark.column + 1 if mark is not None else None
        what = str(getattr(e, "problem", None) or type(e).__name__)[:120]
        code = "AVB402" if isinstance(e, yaml.constructor.ConstructorError) else "AVB415"
        return None, [Problem(code, rel, f"YAML: {what}", "fix the YAML syntax", line, col)]
    except (RecursionError, MemoryError, ValueError, TypeError, OverflowError) as e:
        return None, [Problem("AVB415", rel, f"YAML: {type(e).__name__}", "fix the YAML syntax")]
    if not isinstance(obj, dict):
        return None, [Problem("AVB403", rel, "the top level must be a mapping", "see the README's submission format")]
    try:
        meta = SubmissionMeta.model_validate(obj)
    except ValidationError as e:
        probs = []
        for err in e.errors():
            loc = ".".join(str(x) for x in err["loc"])[:80]
            code = "AVB408" if err["type"] == "missing" else "AVB403"
            fix = ("quote it: version: \"2\"" if loc.endswith("version") and "string" in err["msg"]
                   else "see the README's submission format")
            if err["type"] == "missing" and loc.endswith(".version"):
                fix = _version_fix(obj, err["loc"])
            elif err["type"] == "missing" and loc.endswith(".inputs"):
                fix = ("list what the model read, among the task's inputs (avbench tasks), e.g. "
                       "inputs: [mixture, labels]; inputs: [] for none")
            probs.append(Problem(code, rel, f"{loc}: {err['msg']}", fix))
        return None, probs
    except (RecursionError, ValueError, TypeError) as e:
        return None, [Problem("AVB403", rel, f"schema: {type(e).__name__}", "see the README's submission format")]
    return meta, _text_problems(meta, rel)


def _version_fix(obj: dict, loc: tuple) -> str:
    """Which versions the task named at ``loc`` has (a missing version is never guessed)."""
    from .tasks import version_choices

    try:
        name = obj["tasks"][loc[1]]["name"]
        return f"add version: \"...\" (a quoted string); {name} has {version_choices(str(name))}"
    except Exception:  # noqa: BLE001 - a malformed entry: the general fix
        return "add version: \"...\" (a quoted string, e.g. \"2\"); avbench tasks lists them"


# ----------------------------------------------------------------------------- submissions
class Submission:
    """A submission folder as validated.

    ``hashes`` is ``(content sha256, {relative path: file sha256})`` of the files that were
    validated; every later read of a file (scoring) checks its bytes against it, so what is
    scored is what was validated and hashed, or the run stops with AVB472.
    """

    def __init__(self, root: Path, meta: SubmissionMeta, tree: Tree | None = None,
                 warnings: list[Problem] | None = None, hashes: tuple[str, dict[str, str]] | None = None):
        self.root = root
        self.meta = meta
        self.tree = tree if tree is not None else scan(root)
        self.warnings = list(warnings or [])
        self.hashes = hashes

    @classmethod
    def from_validated(cls, root: str | Path, meta_json: str, hashes: tuple[str, dict[str, str]]) -> "Submission":
        """The validated submission again (in a scoring child): the file list and metadata
        come from validation, never from a new scan of a folder that may have changed."""
        meta = SubmissionMeta.model_validate_json(meta_json)
        return cls(Path(root), meta, Tree(Path(root), files={r: 0 for r in hashes[1]}), hashes=hashes)

    def read_file(self, rel: str, cap: int) -> bytes:
        """The bytes of ``rel``, opened without following any link and checked against
        the hash taken at validation (AVB472 when they differ)."""
        try:
            data = read_under(self.root, rel, cap)
        except ValueError as e:
            raise SubmissionError([_changed(rel, str(e))], self.root) from None
        if self.hashes is not None and hashlib.sha256(data).hexdigest() != self.hashes[1].get(rel):
            raise SubmissionError([_changed(rel, "its bytes differ from the ones validated and hashed")], self.root)
        return data

    @property
    def name(self) -> str:
        return self.meta.name

    def estimate_rel(self, entry: TaskEntry, item_id: str, slot: str) -> str | None:
        base = f"{entry.folder}/estimates/{item_id}/{slot}"
        for ext in AUDIO_EXT:
            if base + ext in self.tree.files:
                return base + ext
        return None

    def read_estimates(self, entry: TaskEntry, task: Task, item) -> np.ndarray:
        """Estimates of every slot, zeros where omitted.  Shape: ``(n_slots, n_samples)``."""
        slots = task.spec.slots
        n = item.clips[0].end - item.clips[0].start
        out = np.zeros((len(slots), n), dtype=np.float64)
        for k, s in enumerate(slots):
            rel = self.estimate_rel(entry, item.id, s)
            if rel is not None:
                with timed("io"):
                    data = self.read_file(rel, audio_cap(n))
                with timed("decode"):
                    x, probs = read_estimate(data, rel, task.spec.sample_rate, n)
                if x is None:
                    raise SubmissionError([p for p in probs if p.severity == "error"], self.root)
                out[k] = x
        return out

    def read_predictions(self, entry: TaskEntry, task: Task) -> dict[str, np.ndarray]:
        rel = f"{entry.folder}/predictions.csv"
        preds, probs = parse_predictions(self.read_file(rel, CSV_CAP), rel, list(task.spec.classes),
                                         [i.id for i in task.items])
        if preds is None:
            raise SubmissionError(probs, self.root)
        return preds


def _changed(rel: str, why: str) -> Problem:
    return Problem("AVB472", rel, f"changed while it was being validated, hashed or scored ({why})",
                   "do not modify the submission while avbench reads it; run the command again")


def submission_hashes(root: str | Path, files: dict[str, int] | None = None) -> tuple[str, dict[str, str]]:
    """``(content sha256, {relative path: file sha256})`` of the submission's regular files
    (``files``, from :func:`scan` when not given; ``results/`` excluded), reading every
    file once, no link followed on any path component.  A file that cannot be opened
    as a regular file any more raises :class:`SubmissionError` (AVB472).

    The content hash runs over the relative paths and contents in path order (folder by
    folder), as every published entry records it.
    """
    root = Path(root)
    content = hashlib.sha256()
    out = {}
    for rel in sorted(scan(root).files if files is None else files, key=lambda r: r.split("/")):
        content.update(rel.encode("utf-8", "surrogateescape") + b"\0")
        h = hashlib.sha256()
        try:
            fd = open_under(root, rel)
        except ValueError as e:
            raise SubmissionError([_changed(rel, str(e))], root) from None
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise SubmissionError([_changed(rel, "not a regular file any more")], root)
            for chunk in iter(lambda: f.read(1 << 20), b""):
                content.update(chunk)
                h.update(chunk)
        content.update(b"\0")
        out[rel] = h.hexdigest()
    return content.hexdigest(), dict(sorted(out.items()))


def content_sha256(root: str | Path) -> str:
    """The content sha256 of :func:`submission_hashes`."""
    return submission_hashes(root)[0]


def load_meta(root: str | Path) -> tuple[Path, SubmissionMeta | None, list[Problem]]:
    """Read and check ``submission.yaml`` and the declared task folders' paths."""
    root = Path(root)
    if not root.is_dir():
        archive = root.is_file() and root.name.lower().endswith((".zip", ".tar", ".tar.gz", ".tgz", ".7z"))
        if archive:
            return root, None, [Problem("AVB401", str(root), "an archive, not a submission folder",
                                        "unzip (or untar) it first and pass the folder that holds submission.yaml; "
                                        "avbench never extracts archives itself")]
        return root, None, [Problem("AVB401", str(root), "submission folder not found" if not root.exists()
                                    else "not a folder", "pass the folder that holds submission.yaml")]
    y = root / "submission.yaml"
    try:
        st = os.lstat(y)
    except FileNotFoundError:
        return root, None, [Problem("AVB401", "submission.yaml", "submission.yaml is missing",
                                    "add submission.yaml (see the README's submission format)")]
    if stat.S_ISLNK(st.st_mode):
        return root, None, [Problem("AVB441", "submission.yaml", "symbolic link (never followed)",
                                    "replace it by a regular file")]
    if not stat.S_ISREG(st.st_mode):
        return root, None, [Problem("AVB443", "submission.yaml", "not a regular file", "write a regular file")]
    try:
        data = read_regular(y, META_CAP)
    except ValueError as e:
        code = "AVB445" if "cap" in str(e) else "AVB401"
        return root, None, [Problem(code, "submission.yaml", str(e), "write a regular file under 64 KiB")]
    meta, problems = parse_meta(data)
    problems = ProblemList(problems)
    if meta is None:
        return root, None, problems
    meta._sha256 = hashlib.sha256(data).hexdigest()  # what was parsed, checked against the hashing pass
    seen = set()
    for t in meta.tasks:
        if t.key in seen:
            problems.append(Problem("AVB412", "submission.yaml", f"task {t.key} listed twice", "list each task once"))
        seen.add(t.key)
        raw = t.path if t.path is not None else t.name
        parts = Path(t.folder).parts
        if raw.startswith("/") or ".." in raw.split("/") or not parts or t.folder in (".", "results") \
                or "\\" in raw or "\0" in raw:
            problems.append(Problem("AVB440", "submission.yaml", f"task path {t.folder[:80]!r} escapes the "
                                    "submission folder", "use a folder name inside the submission"))
    if meta.avbench_version is not None and meta.avbench_version != __version__:
        problems.append(Problem("AVB417", "submission.yaml", f"made for avbench {meta.avbench_version[:40]!r}, "
                                f"this is avbench {__version__}",
                                f"score with avbench {meta.avbench_version[:40]}, or regenerate the outputs and "
                                f"set avbench_version: \"{__version__}\""))
    return root, meta, problems


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
    from .errors import AvbenchError
    from .tasks import available

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
    # one pass hashes every file; everything read from here on is checked against it
    hashes = submission_hashes(root, tree.files)
    if meta._sha256 != hashes[1].get("submission.yaml"):
        problems.append(_changed("submission.yaml", "its bytes differ from the ones parsed"))
    sub = Submission(root, meta, tree, hashes=hashes)
    entries = meta.tasks
    if task is not None:
        e = meta.task(task)
        if e is None:
            from .tasks import resolve

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
        from .sandbox import map_limited

        for probs in map_limited(check_file, jobs, _decode_failed, workers=workers or min(2, os.cpu_count() or 1)):
            problems.extend(probs)
    sub.warnings = [p for p in problems if p.severity == "warning"]
    if raise_on_error and any(p.severity == "error" for p in problems):
        raise SubmissionError(problems, root)
    sub.validation_s = time.perf_counter() - t0  # for `score --profile`
    return sub


def write_meta(root: str | Path, meta: SubmissionMeta) -> None:
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    data = meta.model_dump(exclude_none=True)
    (root / "submission.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


class SubmissionWriter:
    """Write a submission folder in the layout avbench reads (what every baseline uses).

    ::

        with SubmissionWriter("submissions/my-model", name="my-model", model="U-Net") as w:
            w.add_task(task, inputs=["mixture"])
            for item in task.items:
                w.write_estimates(task, item.id, {"violin": x, "cello": y})   # separation
                # or w.write_scores(task, item.id, scores)                     # classification

    Estimates are written as float32 WAV at the task's rate.  :meth:`add_task` declares
    the task with ``omitted_slots: silence`` (pass ``omitted_slots="error"`` to require
    every slot's file): an all-zero estimate of an instrument that does not play in the
    item is left out and scored as silence; every other slot given is written, and a
    sounding instrument's missing file, or a missing item, is an error of ``validate``
    and ``score`` alike.  Scores are kept in memory
    and written as ``predictions.csv`` by :meth:`close`, which also writes
    ``submission.yaml``.  Adding a task empties its folder and its old results.
    """

    def __init__(self, root: str | Path, name: str, model: str, **meta):
        self.root = Path(root)
        self._meta = dict(name=name, model=model, **meta)
        self._tasks: dict[str, TaskEntry] = {}
        self._scores: dict[str, dict[str, np.ndarray]] = {}
        self._specs: dict = {}

    def add_task(self, task: Task, inputs: list[str], omitted_slots: str = "silence") -> Path:
        import shutil

        spec = task.spec
        shutil.rmtree(self.root / spec.name, ignore_errors=True)
        shutil.rmtree(self.root / "results" / spec.key, ignore_errors=True)
        self._tasks[spec.key] = TaskEntry(name=spec.name, version=spec.version, inputs=list(inputs),
                                          omitted_slots=omitted_slots)
        self._specs[spec.key] = spec
        (self.root / spec.name).mkdir(parents=True, exist_ok=True)
        return self.root / spec.name

    def _entry(self, task: Task) -> TaskEntry:
        if task.spec.key not in self._tasks:
            raise ValueError(f"call add_task({task.spec.key}) first")
        return self._tasks[task.spec.key]

    def write_estimates(self, task: Task, item_id: str, estimates) -> None:
        """``estimates``: ``{slot: array}``, or an array ``(n_slots, n_samples)`` in slot order."""
        from .audio import write_wav

        self._entry(task)
        spec = task.spec
        if not hasattr(estimates, "items"):
            estimates = dict(zip(spec.slots, np.asarray(estimates)))
        d = self.root / spec.name / "estimates" / item_id
        item = next((i for i in task.items if i.id == item_id), None)
        if item is None:
            raise ValueError(f"{item_id!r} is not an item of {spec.key}")
        playing = set(item.sources)
        for slot, x in estimates.items():
            if slot not in spec.slots:
                raise ValueError(f"{slot!r} is not a slot of {spec.key}")
            x = np.asarray(x)
            if x.any() or slot in playing:  # an all-zero estimate of a sounding instrument is written
                write_wav(d / f"{slot}.wav", x, spec.sample_rate)

    def write_scores(self, task: Task, item_id: str, scores) -> None:
        """One score per class, in ``task.spec.classes`` order."""
        self._entry(task)
        x = np.asarray(scores, dtype=np.float64)
        if x.shape != (len(task.spec.classes),):
            raise ValueError(f"{len(task.spec.classes)} scores expected, got shape {x.shape}")
        self._scores.setdefault(task.spec.key, {})[item_id] = x

    def close(self) -> Path:
        import csv

        for key, rows in self._scores.items():
            spec = self._specs[key]
            with open(self.root / spec.name / "predictions.csv", "w", newline="") as f:
                w = csv.writer(f, lineterminator="\n")
                w.writerow(["item_id", *spec.classes])
                for iid, x in rows.items():
                    w.writerow([iid, *[f"{v:.6f}" for v in x]])
        write_meta(self.root, SubmissionMeta(**self._meta, tasks=list(self._tasks.values())))
        return self.root

    def __enter__(self) -> "SubmissionWriter":
        return self

    def __exit__(self, exc_type, *_) -> None:
        if exc_type is None:
            self.close()
