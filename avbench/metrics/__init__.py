"""avbench metrics: kernels in :mod:`avbench.metrics.functional`, each registering its
metrics' metadata next to it in :mod:`avbench.metrics.registry`.

Scoring, leaderboards and reports read :data:`METRICS` for kernels, buckets, parameters,
arrows, units, labels and column order.
"""
from __future__ import annotations

from . import registry as _registry
from .functional import (  # noqa: F401
    bootstrap_ci, bss_eval_images, bss_eval_images_framewise, bss_eval_sources, bss_eval_sources_framewise,
    bss_eval_v4, buckets, confusion, confusion_matrix, eps, f1, f1_score,
    hit_at_k, mcnemar, paired_bootstrap, pes, precision, precision_recall_f1, precision_recall_f1_score,
    precision_score, recall, recall_score, sd_sdr, si_sdr, snr, topk, wilcoxon,
)
from .registry import Metric, columns, register  # noqa: F401


#: every registered metric by name (:mod:`avbench.metrics.registry`; each kernel module
#: registers its own)
METRICS = _registry.METRICS
