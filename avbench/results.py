"""Result schema: per-item scores (parquet) and a summary with provenance (JSON).

JSON is written with ``allow_nan=False``: a statistic over no values is ``null`` with
``n = 0``, and infinite values are counted in ``n_posinf``/``n_neginf`` and left out of
the mean and median, never written as bare tokens.
"""
from __future__ import annotations

import datetime as _dt
import importlib.metadata as md
import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from .config import repo_root


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


#: bootstrap settings of every interval on a leaderboard
CI_LEVEL = 0.95
CI_BOOT = 1000
CI_SEED = 0


class Stat(Strict):
    mean: float | None = None
    median: float | None = None
    std: float | None = None
    n: int = 0
    n_posinf: int = 0
    n_neginf: int = 0
    #: 95% percentile bootstrap interval of the mean (groups resampled), when computed
    ci_low: float | None = None
    ci_high: float | None = None
    #: number of groups (works) the interval resamples; an interval over few is rough
    n_groups: int | None = None

    @classmethod
    def of(cls, values: Any, groups: Any = None, ci: bool = False) -> "Stat":
        v = np.asarray(values, dtype=np.float64)
        g = None if groups is None else np.asarray(groups)
        keep = ~np.isnan(v)
        v = v[keep]
        g = None if g is None else g[keep]
        fin_mask = np.isfinite(v)
        fin = v[fin_mask]
        if fin.size == 0:
            return cls(n=0, n_posinf=int(np.isposinf(v).sum()), n_neginf=int(np.isneginf(v).sum()))
        lo = hi = n_groups = None
        if ci:
            from .metrics.functional.stats import bootstrap_ci

            _, lo, hi = bootstrap_ci(fin, "mean", CI_BOOT, CI_SEED, CI_LEVEL, None if g is None else g[fin_mask])
            n_groups = int(fin.size if g is None else len(np.unique(g[fin_mask])))
        return cls(mean=float(fin.mean()), median=float(np.median(fin)), std=float(fin.std()), n=int(fin.size),
                   n_posinf=int(np.isposinf(v).sum()), n_neginf=int(np.isneginf(v).sum()), ci_low=lo, ci_high=hi,
                   n_groups=n_groups)

    def get(self, aggregate: str) -> float | None:
        return self.mean if aggregate == "mean" else self.median


class Provenance(Strict):
    avbench_version: str
    git_commit: str | None
    git_dirty: bool | None
    task: str
    task_version: str
    manifest_sha256: str
    items_sha256: str
    submission_sha256: str
    metric_params: dict[str, Any]
    libraries: dict[str, str]
    date: str
    #: sha256 of submission.yaml and of every input file (relative path -> digest);
    #: ``None`` in entries scored before avbench recorded them
    metadata_sha256: str | None = None
    files: dict[str, str] | None = None


class Scored(Strict):
    """What scoring found on one task version: shared by a :class:`Result` and a
    leaderboard entry (:class:`avbench.leaderboard.Entry`)."""
    task: str
    version: str
    family: str
    main_score: str
    aggregate: str
    scores: dict[str, Stat]
    breakdown: dict[str, dict[str, dict[str, Stat]]] = Field(default_factory=dict)
    counts: dict[str, int] = Field(default_factory=dict)
    provenance: Provenance

    @property
    def main_value(self) -> float | None:
        """The main score's aggregate; ``None`` where there is none (no finite value)."""
        s = self.scores.get(self.main_score)
        v = s.get(self.aggregate) if s else None
        return None if v is None or v != v else v

    @property
    def protocol(self) -> int:
        """The scoring protocol the scores follow."""
        from .tasks.base import protocol_number

        return protocol_number(self.provenance.metric_params)


class Result(Scored):
    schema_version: int = 1
    submission: str
    n_items: int
    per_class: dict[str, dict[str, float]] = Field(default_factory=dict)
    confusion_matrix: list[list[int]] | None = None
    #: warnings of the run (at most 20 per code listed) and their counts by code
    warnings: list[dict] = Field(default_factory=list)
    warning_counts: dict[str, int] = Field(default_factory=dict)
    #: where the scoring call spent its time (:func:`avbench.profile.split`); not serialised
    _profile: dict | None = PrivateAttr(default=None)

    @property
    def profile(self) -> dict | None:
        """Where the :func:`~avbench.scoring.score` call that made this result spent its
        time (seconds by category, wall time, workers); ``None`` for a result read back."""
        return self._profile

    def __str__(self) -> str:
        """A short summary table (``print(result)``): each score's aggregate with its 95%
        interval and n, the main score first, then the bucket counts and the warnings."""
        from .metrics import METRICS

        order = [self.main_score] + [m for m in self.scores if m != self.main_score]
        lines = [f"{self.submission} on {self.task}@{self.version} ({self.n_items} items, {self.aggregate}):"]
        for m in order:
            st = self.scores[m]
            v = st.get(self.aggregate)
            if v is None:
                continue
            ci = f" [{st.ci_low:.3f}, {st.ci_high:.3f}]" if st.ci_low is not None else ""
            arrow = "" if m not in METRICS else (" ↑" if METRICS[m].higher_is_better else " ↓")
            lines.append(f"  {m + arrow:<12} {v:9.3f}{ci}  n = {st.n}" + ("  (main)" if m == self.main_score else ""))
        if self.counts:
            lines.append("  buckets: " + ", ".join(f"{k} {v}" for k, v in self.counts.items()))
        if self.warning_counts:
            lines.append("  warnings: " + ", ".join(f"{k} x{v}" for k, v in sorted(self.warning_counts.items())))
        return "\n".join(lines)


def git_info() -> tuple[str | None, bool | None]:
    root = repo_root()
    if root is None:
        return None, None
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10).stdout.strip() or None
        # outputs (leaderboards, submissions) do not make the code dirty
        dirty = bool(subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--",
                                     ".", ":(exclude)leaderboards", ":(exclude)submissions"],
                                    capture_output=True, text=True, timeout=10).stdout.strip())
        return commit, dirty
    except (OSError, subprocess.SubprocessError):
        return None, None


def library_versions() -> dict[str, str]:
    out = {}
    for pkg in ("numpy", "scipy", "torch", "soundfile", "pandas", "pyarrow", "datasets", "pydantic"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "missing"
    return out


def now() -> str:
    """UTC time of scoring, or ``SOURCE_DATE_EPOCH`` when set (reproducible runs)."""
    import os

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None and epoch.strip().isdigit():
        return _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc).isoformat()
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def dump_json(obj: Any) -> str:
    if isinstance(obj, BaseModel):
        obj = obj.model_dump(mode="json")
    return json.dumps(obj, indent=2, sort_keys=True, allow_nan=False, ensure_ascii=False) + "\n"


def keep_first_date(old: Path, new: BaseModel) -> BaseModel:
    """``new``, dated like the record stored at ``old`` when it is otherwise identical:
    re-scoring unchanged outputs then rewrites no byte.  Works for any model with a
    ``provenance`` (results, leaderboard entries); an unreadable old record is ignored."""
    if not old.exists():
        return new
    try:
        prev = type(new).model_validate_json(old.read_text())
    except Exception:  # noqa: BLE001 - an old or damaged record is simply replaced (or refused elsewhere)
        return new
    same = new.model_copy(update={"provenance": new.provenance.model_copy(update={"date": prev.provenance.date})})
    return same if same == prev else new


def load_result(path: str | Path) -> Result:
    return Result.model_validate_json(Path(path).read_text())
