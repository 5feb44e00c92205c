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

The package, one job per module: :mod:`.rules` (the protocol on one item),
:mod:`.mixture` (the input mixture's cached scores), :mod:`.engine` (chunks in limited
children, resume state), :mod:`.summaries`, :mod:`.memory` (:func:`evaluate`) and
:mod:`.score` (:func:`score`, :func:`rescore`).
"""
from .engine import CHUNK, SCORE_MEM_GB, SCORE_TIMEOUT, Profile
from .memory import evaluate
from .mixture import input_mixture_metrics, mixture_metrics
from .rules import (BUCKET_NAMES, IDENTICAL_CAP_DB, NEAR_COPY_DB, PROTOCOL2_KEYS, PROTOCOL_PARAMS,
                    check_metric_params, metric_params, score_separation_item, sep_metrics)
from .score import rescore, results_dir, score, scores_path
from .summaries import set_stats, summarize_separation

__all__ = ["BUCKET_NAMES", "CHUNK", "IDENTICAL_CAP_DB", "NEAR_COPY_DB", "PROTOCOL2_KEYS",
           "PROTOCOL_PARAMS", "SCORE_MEM_GB", "SCORE_TIMEOUT", "Profile", "check_metric_params", "evaluate",
           "input_mixture_metrics", "metric_params", "mixture_metrics", "rescore", "results_dir", "score",
           "score_separation_item", "scores_path", "sep_metrics", "set_stats", "summarize_separation"]
