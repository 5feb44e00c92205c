"""Scoring: ``score(submission, task) -> Result``.

Per-item scores go to ``<submission>/results/<task>@<version>/scores.parquet`` and the
summary with provenance to ``summary.json`` next to it, as one transaction
(:func:`avbench.files.commit`).  Items are scored in chunks by child processes (one
per core, single-threaded BLAS each) with a memory cap and a wall-clock limit per chunk
(:mod:`avbench.sandbox`); finished chunks are kept, so an interrupted run resumes where
it stopped as long as the submission's content is unchanged.

Trust: nothing under a submitted ``results/`` is ever read.  Resume state (finished
chunks, the first scoring date) lives under ``$AVBENCH_HOME/scoring/``, keyed by an
HMAC of the content hash with a secret of this installation, where a submitter cannot
plant it.  The children read exactly the files validation hashed (AVB472 otherwise),
through descriptors that follow no link.  An estimate whose SDR, SI-SDR or SD-SDR
reaches :data:`NEAR_COPY_DB` is a (near-)copy of its reference: flagged (AVB452) and its
dB scores capped at :data:`IDENTICAL_CAP_DB`; a silent estimate where the source plays is
scored by EPS and flagged (AVB451); an estimate that makes a metric NaN or -inf is
refused (AVB473), never left out of a mean.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import io
import json
import os
import secrets
import shutil
import stat
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .metrics import functional as F
from .metrics import registry as M
from .metrics.functional.silence import BUCKETS
from .files import atomic_write, commit, recover
from .profile import timed
from .results import (CI_BOOT, CI_LEVEL, CI_SEED, Provenance, Result, Stat, dump_json, git_info,
                      keep_first_date, library_versions, now)
from .submission import Submission, TaskEntry, submission_hashes, validate
from .tasks import get_task
from .tasks.base import Task, mixture_of, protocol_number

#: the input mixture's scores a row carries for its improvements (SDRi, SI-SDRi)
MIXTURE_METRICS = ("sdr_in", "si_sdr_in")
#: a (near-)copy of its reference scores at most this (dB); flagged AVB452
IDENTICAL_CAP_DB = 100.0
#: an SDR, SI-SDR or SD-SDR at or above this (dB) marks a (near-)copy of the reference: no
#: separation model comes close (the ideal masks of the built-in task stay below 40 dB),
#: while a reference plus noise at -60 dB, or one ulp away, reaches it
NEAR_COPY_DB = 60.0
_NEAR_COPY = ("sdr", "si_sdr", "sd_sdr")


def _sep(pred) -> tuple[str, ...]:
    return tuple(m.name for m in M.of_family("separation") if pred(m))


def sep_metrics() -> tuple[str, ...]:
    """The columns of a separation row: every registered metric that scores a bucket (those
    a kernel computes, then PES/EPS), the mixture's scores, then the improvements over it."""
    return (_sep(lambda m: m.bucket == "sdr" and m.compute is not None) + _sep(lambda m: m.bucket in ("pes", "eps"))
            + MIXTURE_METRICS + _sep(lambda m: m.bucket == "sdr" and m.compute is None))


def _capped() -> tuple[str, ...]:
    """The SDR family: capped on a copy, clipped and floored under protocol 2."""
    return _sep(lambda m: m.sdr_family)


def _applicable(p2: bool) -> dict[str, tuple[str, ...]]:
    """The metrics each bucket's rows must carry, finite (a NaN or -inf among them is refused;
    protocol 1 allows +inf).  Protocol 2 scores a silenced source on the SDR family too."""
    sdr = _sep(lambda m: m.bucket == "sdr")
    if not p2:
        return {"sdr": sdr, "pes": ("pes",), "eps": ("eps",), "both_silent": ()}
    # a silenced source: the SDR family at the floor and the improvements from it
    silenced = _sep(lambda m: m.bucket == "sdr" and (m.sdr_family or m.compute is None))
    return {"sdr": sdr, "eps": silenced + ("eps",), "pes": ("pes",), "both_silent": ("pes", "eps")}
#: wall-clock limit of one chunk of items (s) and memory of one scoring process (GiB)
SCORE_TIMEOUT = float(os.environ.get("AVBENCH_SCORE_TIMEOUT", "1800"))
SCORE_MEM_GB = float(os.environ.get("AVBENCH_SCORE_MEM_GB", "6"))
BUCKET_NAMES = {v: k for k, v in BUCKETS.items()}
CHUNK = 8


#: the parameters of the scoring protocol itself (``docs/protocol.md``), beside those the
#: kernels declare in the registry: ``None`` for any value, else the one value followed
PROTOCOL_PARAMS: dict[str, dict[str, object]] = {
    "separation": {"protocol": None, "db_floor": None, "db_cap": None, "near_copy_db": None,
                   # read by the item builder (which clips are items), recorded with the protocol
                   "min_active_fraction": None, "min_sources": None, "active_frame": None, "active_db": None},
    "classification": {"protocol": None, "min_active_fraction": None, "active_frame": None, "active_db": None},
}


def metric_params(family: str) -> dict[str, object]:
    """Every metric parameter a task of ``family`` may record: the protocol's and those its
    metrics' kernels declare (:func:`avbench.metrics.registry.params`).  A recorded key
    outside this table, or another value for a fixed one, is an error: what a result
    records is what scoring did."""
    return {**M.params(family), **PROTOCOL_PARAMS[family]}


#: what every protocol-2 separation task records (and scoring reads)
PROTOCOL2_KEYS = ("protocol", "include_both_silent", "db_floor", "db_cap", "near_copy_db", "pes_eps",
                  "filter_length", "si_sdr_eps", "min_sources", "min_active_fraction", "active_frame", "active_db")


def check_metric_params(spec) -> None:
    """Refuse a task spec whose recorded metric parameters scoring would not follow."""
    from .errors import TaskError

    unknown = [m for m in spec.metrics if m not in M.METRICS or M.METRICS[m].family != spec.family]
    if unknown:
        raise TaskError(f"{spec.key}: metric(s) {', '.join(unknown)} are not registered {spec.family} metrics",
                        fix="register each metric next to its kernel (avbench/metrics/registry.py)")
    known = metric_params(spec.family)
    for k, v in spec.metric_params.items():
        if k not in known:
            raise TaskError(f"{spec.key}: metric parameter {k!r} is recorded but scoring does not read it",
                            fix=f"remove it, or declare it with the kernel that reads it (read: {', '.join(known)})")
        if known[k] is not None and v != known[k]:
            raise TaskError(f"{spec.key}: metric parameter {k}={v!r} is not what scoring does ({known[k]!r})",
                            fix="record the value scoring follows, or implement the other one")
    if spec.family == "separation" and protocol_number(spec.metric_params) >= 2:
        need = [k for k in PROTOCOL2_KEYS if k not in spec.metric_params]
        if need:
            raise TaskError(f"{spec.key}: a protocol-2 task must record {', '.join(need)}",
                            fix="record every protocol-2 parameter (docs/protocol.md)")


def score_separation_item(task: Task, ref: np.ndarray, est: np.ndarray, item) -> list[dict]:
    """Rows for one item: one per slot with a reference or an estimate (protocol 1), or
    one per slot of the task (protocol 2: every (item, slot) is scored; see
    ``docs/protocol.md``).

    Shape: ``ref``, ``est`` are ``(n_slots, n_samples)``.
    """
    p = task.spec.metric_params
    p2 = protocol_number(p) >= 2
    with timed("kernel"):
        codes = F.buckets(ref, est)
    if p2:
        active = list(range(ref.shape[0]))
    else:
        active = [k for k in range(ref.shape[0]) if codes[k] != BUCKETS["both_silent"]]
    present = [k for k in range(ref.shape[0]) if ref[k].any()]
    rows = []
    vals: dict[int, dict[str, float]] = {k: {m: np.nan for m in sep_metrics()} for k in active}
    sdr_slots = [k for k in active if codes[k] == BUCKETS["sdr"]]
    silenced = [k for k in active if codes[k] == BUCKETS["eps"]]
    if sdr_slots:  # every registered kernel of the family, once each (registry order)
        for compute, _ in M.kernels("separation"):
            with timed("kernel"):
                got = compute(ref, est, present, sdr_slots, p)
            for m, values in got.items():
                for pos, k in enumerate(sdr_slots):
                    vals[k][m] = float(values[pos])
    # the input mixture scored as the estimate of every present source: improvements
    need_in = sdr_slots + (silenced if p2 else [])
    if need_in:
        with timed("kernel"):
            mixture = input_mixture_metrics(task, item, ref, present)
        for k in present:
            if k in need_in:
                vals[k].update(zip(("sdr_in", "si_sdr_in"), mixture[task.spec.slots[k]]))
    both = bool(p.get("include_both_silent", False))
    # the estimates passed validation's checks (finite, in range): no kernel checks again
    with timed("kernel"):
        pe = F.pes(ref, est, eps=p.get("pes_eps", 1e-8), include_both_silent=both, check=False)
        ep = F.eps(ref, est, eps=p.get("pes_eps", 1e-8), include_both_silent=both, check=False)
    for k in active:
        flag = ""
        v = vals[k]
        code = int(codes[k])
        if code in (BUCKETS["pes"], BUCKETS["both_silent"]) and not np.isnan(pe[k]):
            v["pes"] = float(pe[k])
        if code in (BUCKETS["eps"], BUCKETS["both_silent"]) and not np.isnan(ep[k]):
            v["eps"] = float(ep[k])
        if code == BUCKETS["eps"]:
            flag = "silent"
        if p2:
            _protocol2_values(task, item, k, code, v, p)
        elif code == BUCKETS["sdr"]:
            if np.array_equal(ref[k], est[k]) or any(not v[m] < NEAR_COPY_DB for m in _NEAR_COPY):
                flag = "identical"
                for m in _capped():
                    if not v[m] < IDENTICAL_CAP_DB:  # also +inf and NaN of an exact match
                        v[m] = IDENTICAL_CAP_DB
            for m in MIXTURE_METRICS:  # the mixture is the reference where only this source sounds
                if not v[m] < IDENTICAL_CAP_DB:
                    v[m] = IDENTICAL_CAP_DB
            v.update(sdri=v["sdr"] - v["sdr_in"], si_sdri=v["si_sdr"] - v["si_sdr_in"])
        applicable = _applicable(p2)[BUCKET_NAMES[code]]
        bad = [m for m in applicable if not np.isfinite(v[m]) and not (not p2 and v[m] == np.inf)]
        if bad:
            _refuse(task, item, k, "AVB473", f"{', '.join(bad)} undefined (NaN or infinite) for this estimate",
                    "check the estimate (scale, denormal values); every sounding source must get a score")
        rows.append({"item": item.id, "slot": task.spec.slots[k], "group": item.group, "n_sources": item.n_sources,
                     "bucket": BUCKET_NAMES[code], **v, "flag": flag})
    return rows


@functools.lru_cache(maxsize=1)
def _kernel_source_sha() -> str:
    src = hashlib.sha256()
    for mod in ("bss.py", "_toeplitz.py", "_levinson_jit.py", "scale_invariant.py", "_backend.py"):
        src.update((Path(F.__file__).parent / mod).read_bytes())
    return src.hexdigest()


def _kernel_key(task: Task) -> str:
    """What the input mixture's scores depend on: the task version and its items, the
    metric parameters, and the source of the kernels that compute them."""
    msg = json.dumps([task.spec.key, task.spec.items_sha256, task.spec.metric_params, _kernel_source_sha()],
                     sort_keys=True)
    return hashlib.sha256(msg.encode()).hexdigest()[:32]


def input_mixture_metrics(task: Task, item, ref: np.ndarray, present: list[int]) -> dict[str, tuple[float, float]]:
    """SDR and SI-SDR of the task's input mixture as the estimate of each present source
    (``{slot: (sdr_in, si_sdr_in)}``, for SDRi and SI-SDRi).  They depend on the task
    alone, so they are computed once per item and kept under
    ``$AVBENCH_HOME/scoring/mixture/`` keyed by the task version, its items, the metric
    parameters and the kernels' source (:func:`_kernel_key`); a damaged or foreign
    record is computed again, never trusted."""
    from .config import home
    from .safeio import read_regular

    slots = [task.spec.slots[k] for k in present]
    name = hashlib.sha256(item.id.encode()).hexdigest()[:32] + ".json"
    path = home() / "scoring" / "mixture" / task.spec.key / _kernel_key(task) / name
    try:
        rec = json.loads(read_regular(path, 1 << 16))
        if rec["item"] == item.id and sorted(rec["values"]) == sorted(slots):
            return {k: (float(a), float(b)) for k, (a, b) in rec["values"].items()}
    except (OSError, ValueError, KeyError, TypeError):
        pass  # not there yet, or not what this task gives
    p = task.spec.metric_params
    mix = mixture_of(ref, present).astype(np.float64)  # the task's input, bit for bit
    mix_est = np.broadcast_to(mix, (len(present), mix.shape[0]))
    bss_in = F.bss_eval_sources(ref[present], mix_est, p.get("filter_length", 512), check=False)
    si_in = F.si_sdr(ref[present], mix_est, eps=p.get("si_sdr_eps", 0.0), check=False)
    values = {s: (float(bss_in.sdr[pos]), float(si_in[pos])) for pos, s in enumerate(slots)}
    try:  # repr of a float round-trips exactly; Infinity where the mixture is the reference
        atomic_write(path, json.dumps({"item": item.id, "values": values}))
    except OSError:
        pass  # a read-only home: computed every time
    return values


def _refuse(task: Task, item, k: int, code: str, what: str, fix: str):
    from .errors import Problem, SubmissionError

    raise SubmissionError([Problem(code, f"estimates/{item.id}/{task.spec.slots[k]}", what, fix)], ".")


def _protocol2_values(task: Task, item, k: int, code: int, v: dict, p: dict) -> None:
    """Protocol 2 on one slot's values, in place.  A silent estimate of a sounding source
    takes ``db_floor`` in every SDR-family metric; every SDR-family value is clipped to
    ``[db_floor, db_cap]`` (so silencing a source never raises a mean); an estimate at
    ``near_copy_db`` or more in SDR, SI-SDR or SD-SDR is a copy of its reference and is
    refused (AVB474), never capped into a mean."""
    lo, hi = float(p["db_floor"]), float(p["db_cap"])
    if code == BUCKETS["eps"]:
        v.update({m: lo for m in _capped()})
    if code in (BUCKETS["sdr"], BUCKETS["eps"]):
        if code == BUCKETS["sdr"] and any(v[m] >= p["near_copy_db"] for m in _NEAR_COPY):
            _refuse(task, item, k, "AVB474",
                    f"a copy of its reference (SDR, SI-SDR or SD-SDR at {p['near_copy_db']:g} dB or more); "
                    "protocol 2 scores no copies", "submit the model's own estimates")
        for m in _capped() + MIXTURE_METRICS:
            if not np.isnan(v[m]):
                v[m] = float(min(max(v[m], lo), hi))
        v.update(sdri=v["sdr"] - v["sdr_in"], si_sdri=v["si_sdr"] - v["si_sdr_in"])


# --------------------------------------------------------------------------- workers
def _init_worker():
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)


def _score_chunk(args) -> pd.DataFrame:
    root, meta_json, hashes, entry_json, task_key, ids = args
    from .errors import SubmissionError

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
    from . import profile

    target, args = job
    profile.take()
    t0 = time.perf_counter()
    _score_chunk(args).to_parquet(target, index=False)
    times = profile.take()
    times["other"] = max(0.0, time.perf_counter() - t0 - sum(times.values()))
    return target, times


def _limited(fn, jobs: list, on_fail, workers: int = 1) -> list:
    """``fn`` over ``jobs`` in scoring children: memory cap and per-job wall clock."""
    from .sandbox import map_limited

    return map_limited(fn, jobs, on_fail, workers=workers, timeout_s=SCORE_TIMEOUT,
                       mem_bytes=int(SCORE_MEM_GB * (1 << 30)), init=_init_worker)


def _failed(root, where: str, reason: str):
    from .errors import Problem, SubmissionError

    raise SubmissionError([Problem("AVB429", where, f"scoring failed: {reason}",
                                   "check these estimates; raise AVBENCH_SCORE_TIMEOUT / AVBENCH_SCORE_MEM_GB "
                                   "for very long items or very large files")], root)


def _chunk_failed(job, reason: str):
    _, (root, _, _, _, _, ids) = job
    _failed(root, f"items {ids[0]} .. {ids[-1]}", reason)


def _classification_failed(job, reason: str):
    sub, entry, _ = job
    _failed(sub.root, f"{entry.folder}/predictions.csv", reason)


# --------------------------------------------------------------------------- summaries
def summarize_separation(df: pd.DataFrame, metrics: list[str]) -> tuple[dict, dict, dict]:
    # intervals resample works (pieces): segments of one piece are correlated
    scores = {m: Stat.of(df[m].to_numpy(), df["group"].to_numpy(), ci=True) for m in metrics if m in df}
    breakdown: dict[str, dict[str, dict[str, Stat]]] = {"instrument": {}, "n_sources": {}}
    for inst, g in df.groupby("slot", sort=True):
        breakdown["instrument"][str(inst)] = {m: Stat.of(g[m].to_numpy()) for m in metrics if m in g}
    for k, g in df.groupby("n_sources", sort=True):
        breakdown["n_sources"][str(k)] = {m: Stat.of(g[m].to_numpy()) for m in metrics if m in g}
    counts = {b: int((df["bucket"] == b).sum()) for b in BUCKETS}
    return scores, breakdown, counts


def _provenance(task: Task, sub: Submission, hashes: tuple[str, dict[str, str]]) -> Provenance:
    commit, dirty = git_info()
    sha, files = hashes
    return Provenance(avbench_version=__version__, git_commit=commit, git_dirty=dirty, task=task.spec.name,
                      task_version=task.spec.version, manifest_sha256=task.spec.manifest_sha256,
                      items_sha256=task.spec.items_sha256, submission_sha256=sha,
                      metric_params=task.spec.metric_params, libraries=library_versions(), date=now(),
                      metadata_sha256=files.get("submission.yaml"), files=files)


def results_dir(sub: Submission, task: Task) -> Path:
    return sub.root / "results" / task.spec.key


def scores_path(submission_root: str | Path, task_key: str) -> Path:
    """Where :func:`score` writes the per-item scores of a submission on ``task_key``."""
    return Path(submission_root) / "results" / task_key / "scores.parquet"


#: where the last :func:`score` spent its time (:func:`avbench.profile.split`), for ``--profile``
LAST_PROFILE: dict = {}
_TIMES: dict[str, float] = {}
_POOL_S = [0.0]


def _profile_add(times: dict[str, float]) -> None:
    from . import profile

    profile.add(_TIMES, times)


def score(path: str | Path | Submission, task: str | None = None, workers: int | None = None, progress: bool = True,
          validate_first: bool = True, engine: str = "process", address: str | None = None) -> list[Result]:
    """Validate and score a submission on every declared task (or only ``task``).

    ``path`` may be a :class:`Submission` that :func:`validate` returned: it is not
    validated again, and its warnings go into the results.

    ``engine="process"`` maps chunks of items over a local pool (one process per core);
    ``engine="ray"`` maps them over a Ray cluster (``address`` of a running cluster, or a
    local instance when ``None``); every node needs avbench and the data at the same
    ``AVBENCH_HOME`` path.
    """
    if engine not in ("process", "ray"):
        from .errors import ConfigError

        raise ConfigError(f"unknown engine {engine!r}", fix="use --engine process or --engine ray")
    from . import profile

    t0 = time.perf_counter()
    _TIMES.clear()
    _POOL_S[0] = 0.0
    if isinstance(path, Submission):
        sub = path
    elif validate_first:
        sub = validate(path, task, workers=workers)
    else:
        from .submission import load_meta

        root, meta, _ = load_meta(path)
        sub = Submission(root, meta)
    t_checks = time.perf_counter() - t0 if not isinstance(path, Submission) else 0.0
    t_checks += getattr(sub, "validation_s", 0.0) if isinstance(path, Submission) else 0.0
    entries = [sub.meta.task(task)] if task else sub.meta.tasks
    hashes = sub.hashes if sub.hashes is not None else submission_hashes(sub.root, sub.tree.files)
    sub.hashes = hashes
    out = []
    for e in entries:
        t = get_task(e.name, e.version)
        out.append(_score_task(sub, e, t, hashes, workers, progress, engine, address))
    wall = time.perf_counter() - t0
    times = dict(_TIMES)
    times["checks"] = times.get("checks", 0.0) + t_checks  # validation, in this process
    times["other"] = times.get("other", 0.0) + max(0.0, wall - (t_checks if not isinstance(path, Submission) else 0.0)
                                                   - _POOL_S[0])  # summaries, writes
    if isinstance(path, Submission):
        wall += t_checks  # validated before this call
    LAST_PROFILE.clear()
    LAST_PROFILE.update(profile.split(times, wall, workers or os.cpu_count() or 1))
    return out


def rescore(path: str | Path, name: str, from_version: str, to_version: str, workers: int | None = None,
            progress: bool = True) -> Result:
    """Score a stored submission for ``name@from_version`` under ``name@to_version``.

    Allowed when both versions have the same evaluation items (a bump of metric
    parameters, say); when the items differ, the model must produce new estimates.
    """
    from .errors import TaskError

    sub = validate(path, f"{name}@{from_version}")
    old, new = get_task(name, from_version), get_task(name, to_version)
    if old.spec.items_sha256 != new.spec.items_sha256:
        raise TaskError(f"{name}@{to_version} evaluates other items than {name}@{from_version}", path=sub.root,
                        fix=f"run the model again on {name}@{to_version}; only same-item versions can be re-scored")
    entry = sub.meta.task(f"{name}@{from_version}").model_copy(update={"version": to_version})
    return _score_task(sub, entry, new, sub.hashes, workers, progress)


def _ray_chunk(args) -> pd.DataFrame:
    _init_worker()  # one thread per task, as in the process pool
    return _score_chunk(args)


def _ray_map(args: list, address: str | None, workers: int):
    """Yield ``(position, frame)`` as chunks finish on a Ray cluster."""
    try:
        import ray
    except ImportError as e:
        from .errors import ConfigError

        raise ConfigError("Ray is not installed", fix="pip install 'ray>=2.9' (or use --engine process)") from e
    from .config import home

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


def _score_task(sub: Submission, entry: TaskEntry, task: Task, hashes: tuple[str, dict[str, str]], workers: int | None, progress: bool,
                engine: str = "process", address: str | None = None) -> Result:
    from .progress import bar as tqdm

    spec = task.spec
    check_metric_params(spec)
    state = _state_dir(task, hashes[0])
    if spec.family == "classification":
        ((df, extra),) = _limited(lambda job: _score_classification(*job), [(sub, entry, task)],
                                  _classification_failed)
    else:
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
                    _profile_add(times)
                _POOL_S[0] += time.perf_counter() - t_pool
                bar.update(len(batch))
        bar.close()
        df = pd.concat([pd.read_parquet(partial / f"chunk-{k:05d}.parquet") for k in range(len(chunks))],
                       ignore_index=True)
        scores, breakdown, counts = summarize_separation(df, spec.metrics)
        extra = {"scores": scores, "breakdown": breakdown, "counts": counts}
    warns = _warnings(sub, entry, df)
    from .errors import report

    rep = report(warns)
    result = Result(submission=sub.name, task=spec.name, version=spec.version, family=spec.family,
                    main_score=spec.main_score, aggregate=spec.aggregate, n_items=spec.n_items,
                    warnings=rep["problems"], warning_counts=rep["counts"],
                    provenance=_provenance(task, sub, hashes), **extra)
    result = keep_first_date(state / "summary.json", result)  # never the submitted results/
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    rdir = _results_dir(sub, task)
    commit(rdir, {"scores.parquet": buf.getvalue(), "summary.json": dump_json(result).encode()})
    atomic_write(state / "summary.json", dump_json(result))
    shutil.rmtree(state / "chunks", ignore_errors=True)
    return result


def _secret() -> bytes:
    """This installation's scoring secret (``$AVBENCH_HOME/scoring/.secret``, mode 0600)."""
    from .config import home
    from .safeio import read_regular

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
    from .config import home

    msg = json.dumps([task.spec.key, content_sha, __version__, task.spec.metric_params], sort_keys=True)
    tag = hmac.new(_secret(), msg.encode(), hashlib.sha256).hexdigest()[:40]
    d = home() / "scoring" / task.spec.key / tag
    d.mkdir(parents=True, exist_ok=True)
    return d


def _results_dir(sub: Submission, task: Task) -> Path:
    """``results/<task>`` in the submission, made or checked: every component a real
    folder (never a link, which would send the writes elsewhere) and the files a commit
    replaces absent or regular.  Refused with AVB470 otherwise."""
    from .errors import Problem, SubmissionError
    from .files import JOURNAL

    rdir = results_dir(sub, task)
    for d in (rdir.parent, rdir):
        rel = d.relative_to(sub.root).as_posix()
        try:
            st = os.lstat(d)
        except FileNotFoundError:
            os.mkdir(d)
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise SubmissionError([Problem("AVB470", rel, "not a plain folder (a link, file or special file)",
                                           "remove it; avbench creates results/ itself")], sub.root)
    for name in ("scores.parquet", "summary.json", JOURNAL):
        try:
            st = os.lstat(rdir / name)
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(st.st_mode):
            raise SubmissionError([Problem("AVB470", f"{rdir.relative_to(sub.root).as_posix()}/{name}",
                                           "not a regular file avbench wrote (a link or special file)",
                                           "remove results/; avbench writes it itself")], sub.root)
    recover(rdir)  # what a killed run left (a journal is only obeyed inside this folder)
    return rdir


def _warnings(sub: Submission, entry: TaskEntry, df: pd.DataFrame) -> list:
    """Validation warnings of this task's files, then the scoring flags (silent, identical)."""
    pre = entry.folder + "/"
    return [w for w in sub.warnings if w.path.startswith(pre)] + _flag_problems(entry.folder, df, sub.tree.files)


def _flag_problems(folder: str, df: pd.DataFrame, files=None) -> list:
    """The scoring flags of a per-item frame (silent, identical) as warnings, each naming
    the file it is about (``files``: the submission's relative paths, to find the file's
    extension)."""
    from .errors import Problem
    from .safeio import AUDIO_EXT

    out = []
    if "flag" in df:
        for r in df[df["flag"] != ""].itertuples():
            rel = f"{folder}/estimates/{r.item}/{r.slot}"
            if files is not None:
                rel = next((rel + x for x in AUDIO_EXT if rel + x in files), rel)
            if r.flag == "silent":
                out.append(Problem("AVB451", rel, "silent where the source plays; scored by EPS (protocol 2: every "
                                   "SDR-family metric takes the floor; protocol 1: no SDR)",
                                   "check the model's output for this item"))
            else:
                out.append(Problem("AVB452", rel, f"identical or nearly identical to the reference (SDR, SI-SDR "
                                   f"or SD-SDR at {NEAR_COPY_DB:g} dB or more); dB scores capped at "
                                   f"{IDENTICAL_CAP_DB:g}", "submit the model's own estimates"))
    return out


def _f1_resampled(y: np.ndarray, pred: np.ndarray, n_classes: int, average: str) -> float:
    """F1 of a bootstrap resample.  Macro-F1 averages over the classes the resample holds:
    a class that resampling happened to leave out has F1 0/0, which must not count as 0."""
    if average != "macro":
        return F.f1_score(pred, y, n_classes, average)
    per = F.f1_score(pred, y, n_classes, None)
    return float(per[np.bincount(y, minlength=n_classes) > 0].mean())


def f1_stats(df: pd.DataFrame, classes: list[str]) -> dict[str, Stat]:
    """Macro- and micro-F1 of the top-1 predictions in a per-item frame (columns
    ``label``, ``pred``, ``group``), each with its bootstrap interval over groups.
    Scoring and ``leaderboard verify`` both derive them from this frame."""
    idx = {c: k for k, c in enumerate(classes)}
    labels = np.array([idx[c] for c in df["label"]])
    pred = np.array([idx[c] for c in df["pred"]])
    groups = df["group"].to_numpy()
    out = {}
    for name, avg in (("macro_f1", "macro"), ("micro_f1", "micro")):
        value = float(F.f1_score(pred, labels, len(classes), avg))
        boots = [_f1_resampled(labels[ix], pred[ix], len(classes), avg) for ix in
                 F.stats.bootstrap_indices(len(df), CI_BOOT, CI_SEED, groups)]
        lo, hi = np.quantile(boots, [(1 - CI_LEVEL) / 2, 1 - (1 - CI_LEVEL) / 2])
        out[name] = Stat(mean=value, median=value, n=len(df), ci_low=float(lo), ci_high=float(hi),
                         n_groups=len(set(groups)))
    return out


def _score_classification(sub: Submission, entry: TaskEntry, task: Task) -> tuple[pd.DataFrame, dict]:
    return _classification_frame(task, sub.read_predictions(entry, task))


def _classification_frame(task: Task, preds: dict[str, np.ndarray]) -> tuple[pd.DataFrame, dict]:
    """Per-item frame and summaries of checked predictions (``{item id: scores in class order}``)."""
    spec = task.spec
    classes = spec.classes
    scores = np.stack([preds[i.id] for i in task.items])
    labels = np.array([classes.index(i.label) for i in task.items])
    ev = F.classification.evaluate(scores, labels, ks=(1, 3))
    top = F.topk(scores, 3)
    per_item: dict[str, np.ndarray] = {}
    for compute, _ in M.kernels("classification"):  # every registered per-item metric
        per_item.update(compute(scores, labels, spec.metric_params))
    df = pd.DataFrame({
        "item": [i.id for i in task.items], "group": [i.group for i in task.items],
        "label": [i.label for i in task.items], "pred": [classes[k] for k in top[:, 0]], **per_item,
    })
    groups = df["group"].to_numpy()
    stats = {m: Stat.of(df[m], groups, ci=True) for m in spec.metrics if m in per_item}
    if {"macro_f1", "micro_f1"} & set(spec.metrics):  # over the set of decisions, not per item
        stats.update({m: st for m, st in f1_stats(df, classes).items() if m in spec.metrics})
    p, r, f = F.precision_recall_f1_score(top[:, 0], labels, len(classes), None)
    per_class = {c: {"precision": float(p[k]), "recall": float(r[k]), "f1": float(f[k]),
                     "support": float((labels == k).sum())} for k, c in enumerate(classes)}
    return df, {"scores": stats, "per_class": per_class, "confusion_matrix": ev["confusion_matrix"].tolist(),
                "counts": {"items": len(df)}}


# --------------------------------------------------------------------------- in memory
def evaluate(task: str | Task, estimates, name: str = "in-memory", progress: bool = False) -> Result:
    """Score estimates held in memory: the numbers ``avbench score`` gives for the same
    samples, without a submission folder and without writing anything.

    ``task``: a task or its ``NAME@VERSION``.  ``estimates``:

    * separation: ``{item_id: {slot: array}}`` (or ``{item_id: array}`` of shape
      ``(n_slots, n_samples)`` in the task's slot order); a slot left out is silence.
      Shape: every array ``(n_samples,)`` of the item's length, at the task's rate.
    * classification: ``{item_id: scores}`` with one non-negative score per class in
      ``task.spec.classes`` order, or a ``pandas.DataFrame`` indexed by item id with one
      column per class.

    Every item of the task must be there.  The same checks as validation apply (finite,
    the amplitude range, lengths, non-negative scores); problems raise
    :class:`~avbench.errors.SubmissionError` listing all of them, each named
    ``estimates[<item>][<slot>]``.  The result's provenance records a sha256 of the
    estimates' float64 bytes as ``submission_sha256``.
    """
    import torch

    t = get_task(task) if isinstance(task, str) else task
    h = hashlib.sha256()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the scoring children's layout: the same sums, bit for bit
    try:
        return _evaluate(t, estimates, name, progress, h)
    finally:
        torch.set_num_threads(threads)


def _evaluate(t: Task, estimates, name: str, progress: bool, h) -> Result:
    from .progress import bar as tqdm

    from .errors import SubmissionError

    spec = t.spec
    check_metric_params(spec)
    if spec.family == "classification":
        preds, probs = _memory_predictions(t, estimates, h)
        if probs:
            raise SubmissionError(probs, "<memory>")
        df, extra = _classification_frame(t, preds)
    else:
        rows, probs = [], []
        arrays = _memory_estimates(t, estimates, probs)
        if probs:
            raise SubmissionError(probs, "<memory>")
        for item in tqdm(t.items, desc=f"evaluate {spec.key}", disable=not progress):
            est = arrays[item.id]
            h.update(item.id.encode() + b"\0" + est.tobytes())
            rows.extend(score_separation_item(t, t.reference(item).astype(np.float64), est, item))
        df = pd.DataFrame(rows)
        scores, breakdown, counts = summarize_separation(df, spec.metrics)
        extra = {"scores": scores, "breakdown": breakdown, "counts": counts}
    from .errors import report

    rep = report(_flag_problems(spec.name, df))
    commit_, dirty = git_info()
    prov = Provenance(avbench_version=__version__, git_commit=commit_, git_dirty=dirty, task=spec.name,
                      task_version=spec.version, manifest_sha256=spec.manifest_sha256,
                      items_sha256=spec.items_sha256, submission_sha256=h.hexdigest(),
                      metric_params=spec.metric_params, libraries=library_versions(), date=now())
    return Result(submission=name, task=spec.name, version=spec.version, family=spec.family,
                  main_score=spec.main_score, aggregate=spec.aggregate, n_items=spec.n_items,
                  warnings=rep["problems"], warning_counts=rep["counts"], provenance=prov, **extra)


def _memory_estimates(t: Task, estimates, probs: list) -> dict[str, np.ndarray]:
    from .errors import Problem
    from .safeio import check_samples

    spec = t.spec
    known = {i.id for i in t.items}
    for iid in sorted(set(estimates) - known):
        probs.append(Problem("AVB411", f"estimates[{str(iid)[:80]!r}]", "unknown item",
                             f"use the ids of task.items ({len(known)} items)"))
    out = {}
    for item in t.items:
        n = item.clips[0].end - item.clips[0].start
        where = f"estimates[{item.id!r}]"
        if item.id not in estimates:
            probs.append(Problem("AVB410", where, f"missing item {item.id}", "give an estimate for every item"))
            continue
        e = estimates[item.id]
        if not hasattr(e, "items"):
            a = np.asarray(e)
            if a.ndim != 2 or a.shape[0] != len(spec.slots):
                probs.append(Problem("AVB423", where, f"shape {a.shape}, expected ({len(spec.slots)}, {n})",
                                     "give {slot: array} or an array in the task's slot order"))
                continue
            e = dict(zip(spec.slots, a))
        arr = np.zeros((len(spec.slots), n), dtype=np.float64)
        for slot, x in e.items():
            w = f"{where}[{str(slot)[:40]!r}]"
            if slot not in spec.slots:
                probs.append(Problem("AVB413", w, f"unknown slot {str(slot)[:40]!r}",
                                     f"use the slots: {', '.join(spec.slots)}"))
                continue
            x = np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x)
            if x.ndim != 1 or x.shape[0] != n:
                probs.append(Problem("AVB422", w, f"shape {x.shape}, expected ({n},)", f"give {n} mono samples"))
                continue
            x, p = check_samples(x.astype(np.float64), w)
            probs.extend(q for q in p if q.severity == "error")
            if x is not None:
                arr[spec.slots.index(slot)] = x
        out[item.id] = arr
    return out


def _memory_predictions(t: Task, estimates, h) -> tuple[dict[str, np.ndarray], list]:
    from .errors import Problem

    classes = list(t.spec.classes)
    if isinstance(estimates, pd.DataFrame):
        missing = [c for c in classes if c not in estimates.columns]
        if missing:
            return {}, [Problem("AVB431", "estimates", f"missing class column(s): {', '.join(missing)}",
                                "one column per class of the task")]
        estimates = {str(i): r[classes].to_numpy(dtype=np.float64) for i, r in estimates.iterrows()}
    probs, out = [], {}
    known = {i.id for i in t.items}
    for iid in sorted(set(estimates) - known):
        probs.append(Problem("AVB411", f"estimates[{str(iid)[:80]!r}]", "unknown item", "use the ids of task.items"))
    for item in t.items:
        where = f"estimates[{item.id!r}]"
        if item.id not in estimates:
            probs.append(Problem("AVB410", where, f"missing item {item.id}", "give scores for every item"))
            continue
        x = np.asarray(estimates[item.id], dtype=np.float64)
        if x.shape != (len(classes),):
            probs.append(Problem("AVB431", where, f"shape {x.shape}, expected ({len(classes)},)",
                                 "one score per class, in task.spec.classes order"))
        elif not np.isfinite(x).all():
            probs.append(Problem("AVB432", where, "NaN or inf score", "give finite scores"))
        elif (x < 0).any():
            probs.append(Problem("AVB436", where, "negative score", "give non-negative scores (e.g. softmax)"))
        else:
            out[item.id] = x
            h.update(item.id.encode() + b"\0" + x.tobytes())
    return out, probs
