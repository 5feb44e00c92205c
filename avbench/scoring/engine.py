"""The scoring engine: chunks of items scored in limited children (a local process pool
or a Ray cluster), each finished chunk kept as resume state under ``$AVBENCH_HOME``."""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__
from ..profile import timed
from ..submission import Submission, TaskEntry
from ..tasks import get_task
from ..tasks.base import Task
from .rules import score_separation_item

#: wall-clock limit of one chunk of items (s) and memory of one scoring process (GiB)
SCORE_TIMEOUT = float(os.environ.get("AVBENCH_SCORE_TIMEOUT", "1800"))


SCORE_MEM_GB = float(os.environ.get("AVBENCH_SCORE_MEM_GB", "6"))


CHUNK = 8


# --------------------------------------------------------------------------- workers
def _init_worker():
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)


def _score_chunk(args) -> pd.DataFrame:
    root, meta_json, hashes, entry_json, task_key, ids = args
    from ..errors import SubmissionError

    task = get_task(task_key)
    sub = Submission.from_validated(root, meta_json, hashes)
    entry = TaskEntry.model_validate_json(entry_json)
    rows = []
    for iid in ids:
        item = task.item(iid)
        with timed("io"):
            ref = task.reference(item).astype(np.float64)
        est = sub.read_estimates(entry, task, item)
        try:
            rows.extend(score_separation_item(task, ref, est, item))
        except SubmissionError as e:  # name the file relative to the submission
            raise SubmissionError([dataclasses.replace(p, path=f"{entry.folder}/{p.path}") for p in e.problems],
                                  root) from None
    return pd.DataFrame(rows)


def _score_chunk_to(job) -> tuple[str, dict[str, float]]:
    """Score one chunk in a limited child and write it where the parent expects it;
    returns it with the seconds of its steps (:mod:`avbench.profile`)."""
    from .. import profile

    target, args = job
    profile.take()
    t0 = time.perf_counter()
    _score_chunk(args).to_parquet(target, index=False)
    times = profile.take()
    times["other"] = max(0.0, time.perf_counter() - t0 - sum(times.values()))
    return target, times


def _limited(fn, jobs: list, on_fail, workers: int = 1) -> list:
    """``fn`` over ``jobs`` in scoring children: memory cap and per-job wall clock."""
    from ..sandbox import map_limited

    return map_limited(fn, jobs, on_fail, workers=workers, timeout_s=SCORE_TIMEOUT,
                       mem_bytes=int(SCORE_MEM_GB * (1 << 30)), init=_init_worker)


def _failed(root, where: str, reason: str):
    from ..errors import Problem, SubmissionError

    raise SubmissionError([Problem("AVB429", where, f"scoring failed: {reason}",
                                   "check these estimates; raise AVBENCH_SCORE_TIMEOUT / AVBENCH_SCORE_MEM_GB "
                                   "for very long items or very large files")], root)


def _chunk_failed(job, reason: str):
    _, (root, _, _, _, _, ids) = job
    _failed(root, f"items {ids[0]} .. {ids[-1]}", reason)


def _classification_failed(job, reason: str):
    sub, entry, _ = job
    _failed(sub.root, f"{entry.folder}/predictions.csv", reason)


def _ray_chunk(args) -> pd.DataFrame:
    _init_worker()  # one thread per task, as in the process pool
    return _score_chunk(args)


def _ray_map(args: list, address: str | None, workers: int):
    """Yield ``(position, frame)`` as chunks finish on a Ray cluster."""
    try:
        import ray
    except ImportError as e:
        from ..errors import ConfigError

        raise ConfigError("Ray is not installed", fix="pip install 'ray>=2.9' (or use --engine process)") from e
    from ..config import home

    if not ray.is_initialized():
        env = {"AVBENCH_HOME": str(home()), "OMP_NUM_THREADS": "1"}
        kw = {"address": address} if address else {"num_cpus": workers, "include_dashboard": False}
        ray.init(runtime_env={"env_vars": env}, log_to_driver=False, **kw)
    remote = ray.remote(num_cpus=1)(_ray_chunk)
    pending = {remote.remote(a): k for k, a in enumerate(args)}
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        for ref in done:
            yield pending.pop(ref), ray.get(ref)


def _secret() -> bytes:
    """This installation's scoring secret (``$AVBENCH_HOME/scoring/.secret``, mode 0600)."""
    from ..config import home
    from ..safeio import read_regular

    base = home() / "scoring"
    base.mkdir(parents=True, exist_ok=True)
    p = base / ".secret"
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
            f.flush()
            os.fsync(f.fileno())
    for _ in range(50):  # another scorer may be writing it right now
        data = read_regular(p, 1024)
        if len(data) == 32:
            return data
        time.sleep(0.1)
    raise RuntimeError(f"{p} is not a 32-byte secret; remove it")


def _state_dir(task: Task, content_sha: str) -> Path:
    """Where scoring keeps its resume state for this submission content and task:
    under ``$AVBENCH_HOME``, named by an HMAC with the installation's secret, so no
    submitter can plant or predict it.  Also keyed by avbench's version and the task's
    metric parameters: chunks scored by other code are never reused."""
    from ..config import home

    msg = json.dumps([task.spec.key, content_sha, __version__, task.spec.metric_params], sort_keys=True)
    tag = hmac.new(_secret(), msg.encode(), hashlib.sha256).hexdigest()[:40]
    d = home() / "scoring" / task.spec.key / tag
    d.mkdir(parents=True, exist_ok=True)
    return d


@dataclasses.dataclass
class Profile:
    """Where one :func:`~avbench.scoring.score` call spends its time: the seconds the
    scoring children report by category, and the wall time of their pools (local to the
    call, so calls never mix their numbers)."""

    times: dict[str, float] = dataclasses.field(default_factory=dict)
    pool_s: float = 0.0

    def add(self, times: dict[str, float]) -> None:
        from .. import profile

        profile.add(self.times, times)


def score_chunks(sub: Submission, entry: TaskEntry, task: Task, hashes: tuple[str, dict[str, str]], state: Path,
                 workers: int | None, progress: bool, engine: str = "process", address: str | None = None,
                 prof: Profile | None = None) -> pd.DataFrame:
    """The per-item frame of a separation task: every chunk of ``CHUNK`` items not yet in
    ``state/chunks`` scored (local limited children, or Ray), then all chunks read back."""
    from ..progress import bar as tqdm

    spec = task.spec
    prof = prof if prof is not None else Profile()
    partial = state / "chunks"
    partial.mkdir(parents=True, exist_ok=True)
    ids = [i.id for i in task.items]
    chunks = [ids[s:s + CHUNK] for s in range(0, len(ids), CHUNK)]
    pending = [(k, c) for k, c in enumerate(chunks) if not (partial / f"chunk-{k:05d}.parquet").exists()]
    workers = workers or os.cpu_count() or 1
    args = [(str(sub.root), sub.meta.model_dump_json(), hashes, entry.model_dump_json(), spec.key, c)
            for _, c in pending]
    bar = tqdm(total=len(chunks), initial=len(chunks) - len(pending), desc=f"score {spec.key}", unit="chunk",
               disable=not progress)
    if engine == "ray" and pending:
        for pos, frame in _ray_map(args, address, workers):
            frame.to_parquet(partial / f"chunk-{pending[pos][0]:05d}.parquet", index=False)
            bar.update(1)
    elif pending:
        # limited children (memory cap, per-chunk wall clock); a chunk file appears when it is done
        jobs = [(str(partial / f"chunk-{k:05d}.parquet"), a) for (k, _), a in zip(pending, args)]
        w = max(1, workers)
        for lo in range(0, len(jobs), w * 16):
            # interleaved, so that each child's contiguous share mixes cheap and costly items
            batch = [j for k in range(w) for j in jobs[lo:lo + w * 16][k::w]]
            t_pool = time.perf_counter()
            for _, times in _limited(_score_chunk_to, batch, _chunk_failed, workers):
                prof.add(times)
            prof.pool_s += time.perf_counter() - t_pool
            bar.update(len(batch))
    bar.close()
    return pd.concat([pd.read_parquet(partial / f"chunk-{k:05d}.parquet") for k in range(len(chunks))],
                     ignore_index=True)
