"""Pure, batched metric kernels (numpy arrays or torch tensors in, same out).

Every public module of this package is imported here, so each registers its metrics
(:mod:`avbench.metrics.registry`) without being listed anywhere: a new metric is a new
kernel file with its registration, and its tests.
"""
import importlib as _importlib
import pkgutil as _pkgutil

from .bss import bss_eval_sources, bss_eval_sources_framewise
from .bss_images import bss_eval_images, bss_eval_images_framewise, bss_eval_v4
from .classification import (confusion, confusion_matrix, f1, f1_score, hit_at_k, precision, precision_recall_f1,
                             precision_recall_f1_score, precision_score, recall, recall_score, topk)
from .scale_invariant import sd_sdr, si_sdr, snr
from .silence import buckets, eps, pes
from .stats import bootstrap_ci, mcnemar, paired_bootstrap, wilcoxon

__all__ = [
    "bss_eval_sources", "bss_eval_sources_framewise", "bss_eval_images", "bss_eval_images_framewise",
    "bss_eval_v4", "si_sdr", "sd_sdr", "snr", "pes", "eps",
    "buckets", "hit_at_k", "topk", "f1_score", "precision_score", "recall_score", "precision_recall_f1_score",
    "confusion", "bootstrap_ci", "paired_bootstrap", "wilcoxon", "mcnemar",
    # deprecated (labels first)
    "f1", "precision", "recall", "precision_recall_f1", "confusion_matrix",
]

for _m in _pkgutil.iter_modules(__path__):
    if not _m.name.startswith("_"):
        _importlib.import_module(f"{__name__}.{_m.name}")
