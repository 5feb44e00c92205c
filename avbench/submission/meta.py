"""What a submission says of itself: the ``submission.yaml`` schema, its caps and its
strict parser, the check of the declared task folders (:func:`load_meta`) and its writer."""
from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from .. import __version__
from ..errors import Problem, ProblemList
from ..safeio import read_regular

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
    from ..tasks import version_choices

    try:
        name = obj["tasks"][loc[1]]["name"]
        return f"add version: \"...\" (a quoted string); {name} has {version_choices(str(name))}"
    except Exception:  # noqa: BLE001 - a malformed entry: the general fix
        return "add version: \"...\" (a quoted string, e.g. \"2\"); avbench tasks lists them"


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


def write_meta(root: str | Path, meta: SubmissionMeta) -> None:
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    data = meta.model_dump(exclude_none=True)
    (root / "submission.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
