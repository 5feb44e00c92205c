"""A leaderboard entry: what a submission's ``submission.yaml`` says of it
(:class:`~avbench.submission.SubmissionInfo`) and what scoring found
(:class:`~avbench.results.Scored`), plus the inputs it read and its warnings."""
from __future__ import annotations

from pydantic import ConfigDict, Field

from ..results import Result, Scored
from ..submission import SubmissionInfo, SubmissionMeta


class Entry(SubmissionInfo, Scored):
    model_config = ConfigDict(extra="forbid")
    schema_version: int = 2
    inputs: list[str] = Field(default_factory=list)
    #: warnings of the scoring run, counted by code (e.g. AVB452: estimate identical to the reference)
    warnings: dict[str, int] = Field(default_factory=dict)


def entry_from(result: Result, meta: SubmissionMeta) -> Entry:
    """The entry of ``result``, scored from the submission described by ``meta``."""
    t = meta.task(f"{result.task}@{result.version}") or meta.task(result.task)  # re-scored: inputs of any version
    return Entry(**{f: getattr(meta, f) for f in SubmissionInfo.model_fields},
                 **{f: getattr(result, f) for f in Scored.model_fields},
                 inputs=t.inputs if t else [], warnings=dict(result.warning_counts))
