"""Errors a user can cause.

Every error carries a stable ``code`` (documented in the README), the file it
concerns and how to fix it.  The CLI prints them without a traceback and exits 2.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One problem found while validating user input."""

    code: str
    path: str
    message: str
    fix: str = ""

    def __str__(self) -> str:
        s = f"[{self.code}] {self.path}: {self.message}"
        if self.fix:
            s += f" (fix: {self.fix})"
        return s


class AvbenchError(Exception):
    """Base class for errors caused by user input (exit code 2)."""

    code = "AVB000"

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


class ConfigError(AvbenchError):
    code = "AVB100"


class DataError(AvbenchError):
    """Dataset missing, incomplete or not matching its manifest."""

    code = "AVB200"


class TaskError(AvbenchError):
    code = "AVB300"


class SubmissionError(AvbenchError):
    """A submission failed validation.  ``problems`` lists every problem found."""

    code = "AVB400"

    def __init__(self, problems: list[Problem], root: str | Path):
        self.problems = list(problems)
        lines = [str(p) for p in self.problems]
        head = f"submission {root} has {len(lines)} problem(s):\n  " + "\n  ".join(lines)
        super().__init__(head, path=None, code=self.problems[0].code if self.problems else "AVB400")

    def __str__(self) -> str:
        return self.message


class LeaderboardError(AvbenchError):
    code = "AVB500"
