"""The submission folder: its walk with ``lstat`` only (:func:`scan`), its hashes, and
:class:`Submission`, whose every later read is checked against the validated bytes."""
from __future__ import annotations

import hashlib
import os
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import Problem, ProblemList, SubmissionError
from ..profile import timed
from ..safeio import AUDIO_EXT, audio_cap, open_under, parse_predictions, read_estimate, read_under
from ..tasks.base import Task
from .meta import _BAD_CHARS, CSV_CAP, FILE_CAP, MAX_DEPTH, SubmissionMeta, TaskEntry, total_cap

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
