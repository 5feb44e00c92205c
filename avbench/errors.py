"""Errors a user can cause, and the catalogue of submission problem codes.

Every error carries a stable ``code`` (listed in :data:`CODES` and in
``docs/validation.md``), the file it concerns and how to fix it.  The CLI prints them
without a traceback and exits 2; failures while *writing* results or leaderboards
(:class:`WriteError`: disk full, I/O error) exit 3 and leave the old files intact.
Internal bugs exit 1 with a traceback.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

#: code -> (severity, what it means).  Codes are stable: never renumbered or reused.
CODES: dict[str, tuple[str, str]] = {
    # the folder and its metadata
    "AVB401": ("error", "submission folder or submission.yaml missing"),
    "AVB402": ("error", "unsafe YAML: tags, anchors/aliases or Python objects"),
    "AVB403": ("error", "submission.yaml does not match the schema (unknown key, wrong type, bad name)"),
    "AVB404": ("error", "unknown task, or an input the task does not offer"),
    "AVB405": ("error", "task folder or estimates folder missing"),
    "AVB406": ("error", "empty submission: no files besides submission.yaml"),
    "AVB407": ("error", "duplicate key in submission.yaml"),
    "AVB408": ("error", "empty required field in submission.yaml"),
    "AVB409": ("error", "over-long text or control characters in submission.yaml"),
    "AVB415": ("error", "unparseable submission.yaml (syntax, encoding, size)"),
    "AVB416": ("error", "declared task version is not the one this avbench runs"),
    "AVB417": ("error", "declared avbench version is not the running one"),
    # items and slots
    "AVB410": ("error", "missing item"),
    "AVB411": ("error", "unknown item"),
    "AVB412": ("error", "duplicate item, row, slot estimate or task"),
    "AVB413": ("error", "unknown instrument slot or file type"),
    "AVB414": ("error", "missing slot estimate"),
    # audio
    "AVB420": ("error", "not audio: the file is not the WAV/FLAC its name says"),
    "AVB421": ("error", "wrong sample rate"),
    "AVB422": ("error", "wrong length"),
    "AVB423": ("error", "wrong channel count (must be mono)"),
    "AVB424": ("error", "NaN or inf in audio"),
    "AVB425": ("error", "empty audio (no samples)"),
    "AVB426": ("error", "truncated audio: the header declares more samples than the file holds"),
    "AVB427": ("error", "unsupported sample format"),
    "AVB428": ("error", "header declares an impossible length (over the size cap)"),
    "AVB429": ("error", "decoder timed out or exceeded its memory limit"),
    # classification predictions
    "AVB430": ("error", "predictions.csv missing or unreadable"),
    "AVB431": ("error", "wrong header: missing or unknown columns"),
    "AVB432": ("error", "non-numeric, NaN or inf score"),
    "AVB433": ("error", "predictions.csv is not UTF-8"),
    "AVB434": ("error", "duplicated header column"),
    "AVB435": ("error", "empty score cell or item id"),
    "AVB436": ("error", "negative score"),
    "AVB437": ("error", "ragged row: wrong number of cells"),
    "AVB438": ("error", "blank lines in predictions.csv"),
    "AVB439": ("error", "a line of predictions.csv longer than any valid row"),
    # the file tree
    "AVB440": ("error", "path escapes the submission folder"),
    "AVB441": ("error", "symbolic link"),
    "AVB442": ("error", "hard link (file with more than one name)"),
    "AVB443": ("error", "FIFO, socket or device file"),
    "AVB444": ("error", "names that differ only by case or Unicode normalisation"),
    "AVB445": ("error", "file over the size cap"),
    "AVB446": ("error", "submission over the total size cap"),
    "AVB447": ("error", "file name not UTF-8, or with control characters"),
    # trust boundaries: what a submission ships beyond its estimates is never trusted
    "AVB470": ("error", "results/ in the submission is a link, a file or a special file"),
    "AVB471": ("error", "audio amplitude beyond the scoring limit (its energy would overflow the metrics)"),
    "AVB472": ("error", "a file changed between validation, hashing and scoring"),
    "AVB473": ("error", "estimate makes a metric undefined (NaN or -inf)"),
    "AVB474": ("error", "estimate is a copy of its reference (protocol 2 scores no copies)"),
    # NPY estimates
    "AVB460": ("error", "not an NPY file behind the .npy name"),
    "AVB461": ("error", "NPY holds Python objects (pickle)"),
    "AVB462": ("error", "NPY header malformed or over its size cap"),
    "AVB463": ("error", "NPY dtype not supported (float32/float64/int16/int32, little-endian)"),
    "AVB464": ("error", "NPY shape not one-dimensional, or over the size cap"),
    "AVB465": ("error", "NPY payload size does not match the header"),
    # warnings: scored, flagged on the report
    "AVB450": ("warning", "audio far outside [-1, 1]"),
    "AVB451": ("warning", "silent estimate where the source plays (scored by EPS)"),
    "AVB452": ("warning", "estimate identical or nearly identical to the reference (protocol 1: dB scores capped)"),
}


@dataclass(frozen=True)
class Problem:
    """One problem found while validating user input.

    ``path`` is relative to the submission folder; ``line``/``column`` (1-based) locate
    a CSV cell.  Messages never quote reference content.
    """

    code: str
    path: str
    message: str
    fix: str = ""
    line: int | None = None
    column: int | None = None
    #: 1 for a problem; ``n > 1`` for a tally standing for ``n`` unlisted problems of this code
    #: (kept by :class:`ProblemList` instead of the problems themselves)
    repeat: int = 1

    @property
    def severity(self) -> str:
        return CODES.get(self.code, ("error", ""))[0]

    def where(self) -> str:
        s = self.path
        if self.line is not None:
            s += f":{self.line}"
            if self.column is not None:
                s += f":{self.column}"
        return s

    def __str__(self) -> str:
        s = f"[{self.code}] {self.where()}: {self.message}"
        if self.fix:
            s += f" (fix: {self.fix})"
        return s

    def to_json(self) -> dict:
        d = asdict(self)
        d.pop("repeat")
        d["hint"] = d.pop("fix")
        d["severity"] = self.severity
        return d

    @classmethod
    def from_json(cls, d: dict) -> "Problem":
        return cls(d["code"], d["path"], d["message"], d.get("hint", ""), d.get("line"), d.get("column"))


#: at most this many problems of one code are listed; the rest are counted
CAP_PER_CODE = 20


class ProblemList(list):
    """A list of problems that keeps at most :data:`CAP_PER_CODE` of each code and one
    tally (a :class:`Problem` with ``repeat``) for the rest: memory stays bounded
    whatever the input (a CSV header repeating one column a million times)."""

    def __init__(self, items=()):
        super().__init__()
        self._kept: dict[str, int] = {}
        self._tally: dict[str, int] = {}
        self.extend(items)

    def append(self, p: Problem) -> None:
        k = self._kept.get(p.code, 0)
        if p.repeat == 1 and k < CAP_PER_CODE:
            self._kept[p.code] = k + 1
            super().append(p)
            return
        if p.code in self._tally:
            i = self._tally[p.code]
            t = self[i]
            self[i] = Problem(t.code, t.path, t.message, t.fix, repeat=t.repeat + p.repeat)
        else:
            self._tally[p.code] = len(self)
            super().append(Problem(p.code, p.path, p.message, p.fix, repeat=p.repeat))

    def extend(self, items) -> None:
        for p in items:
            self.append(p)

    def __add__(self, other):
        return ProblemList(list(self) + list(other))


def _counts(problems: list[Problem]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for p in problems:
        counts[p.code] = counts.get(p.code, 0) + p.repeat
    return counts


def report(problems: list[Problem], root: str | Path | None = None) -> dict:
    """Machine-readable report: every code counted, at most :data:`CAP_PER_CODE` listed per code."""
    counts = _counts(problems)
    listed: list[dict] = []
    shown: dict[str, int] = {}
    for p in problems:
        if p.repeat == 1 and shown.get(p.code, 0) < CAP_PER_CODE:
            shown[p.code] = shown.get(p.code, 0) + 1
            listed.append(p.to_json())
    n_err = sum(c for code, c in counts.items() if CODES.get(code, ("error", ""))[0] == "error")
    n_all = sum(counts.values())
    return {"submission": str(root) if root is not None else None, "valid": n_err == 0,
            "n_errors": n_err, "n_warnings": n_all - n_err,
            "counts": dict(sorted(counts.items())), "problems": listed,
            "n_unlisted": n_all - len(listed)}


def render_problems(problems: list[Problem]) -> list[str]:
    """Human lines.  Problems of one code that all say the same (the same message and
    fix) become one grouped line, ``[AVB420] 104 files: ... (fix: ...); first: a, b, c``;
    otherwise each is a line, capped per code, with a count of what was left out."""
    by_code: dict[str, list[Problem]] = {}
    for p in problems:
        by_code.setdefault(p.code, []).append(p)
    lines = []
    for code, ps in by_code.items():
        listed = [p for p in ps if p.repeat == 1]
        tally = sum(p.repeat for p in ps if p.repeat > 1)
        total = len(listed) + tally
        if listed and total >= 3 and len({(p.message, p.fix) for p in listed}) == 1:
            p0 = listed[0]
            first = ", ".join(p.where() for p in listed[:3]) + (", ..." if total > 3 else "")
            lines.append(f"[{code}] {total} files: {p0.message}" + (f" (fix: {p0.fix})" if p0.fix else "")
                         + f"; first: {first}")
            continue
        lines += [str(p) for p in listed[:CAP_PER_CODE]]
        if total > min(len(listed), CAP_PER_CODE):
            lines.append(f"[{code}] ... and {total - min(len(listed), CAP_PER_CODE)} more "
                         f"({CODES.get(code, ('', ''))[1]})")
    return lines


class AvbenchError(Exception):
    """Base class for errors caused by user input (exit code 2)."""

    code = "AVB000"
    exit_code = 2

    def __init__(self, message: str, path: str | Path | None = None, fix: str = "", code: str | None = None):
        self.path = str(path) if path is not None else ""
        self.fix = fix
        if code is not None:
            self.code = code
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        s = f"[{self.code}] "
        if self.path:
            s += f"{self.path}: "
        s += self.message
        if self.fix:
            s += f" (fix: {self.fix})"
        return s

    def to_json(self) -> dict:
        return {"code": self.code, "severity": "error", "path": self.path, "message": self.message,
                "hint": self.fix, "line": None, "column": None}


class ConfigError(AvbenchError):
    code = "AVB100"


class DataError(AvbenchError):
    """Dataset missing, incomplete or not matching its manifest."""

    code = "AVB200"


class TaskError(AvbenchError):
    code = "AVB300"


class SubmissionError(AvbenchError):
    """A submission failed validation.  ``problems`` lists every problem found (warnings too)."""

    code = "AVB400"

    def __init__(self, problems: list[Problem], root: str | Path):
        self.problems = list(problems)
        self.root = str(root)
        errors = [p for p in self.problems if p.severity == "error"]
        lines = render_problems(self.problems)
        n_err = sum(p.repeat for p in errors)
        n_warn = sum(p.repeat for p in self.problems) - n_err
        head = (f"submission {root} has {n_err} error(s)"
                + (f" and {n_warn} warning(s)" if n_warn else "")
                + ":\n  " + "\n  ".join(lines))
        super().__init__(head, path=None, code=errors[0].code if errors else "AVB400")

    def __str__(self) -> str:
        return self.message

    def to_json(self) -> dict:
        return report(self.problems, self.root)


class LeaderboardError(AvbenchError):
    code = "AVB500"


class WriteError(AvbenchError):
    """Writing results or a leaderboard failed (disk full, I/O error); the old files are intact (exit 3)."""

    code = "AVB590"
    exit_code = 3
