"""Pure, batched metric kernels (numpy arrays or torch tensors in, same out)."""
from .bss import bss_eval_sources, bss_eval_sources_framewise
from .bss_images import bss_eval_images, bss_eval_images_framewise, bss_eval_v4
from .classification import confusion_matrix, f1, hit_at_k, precision, precision_recall_f1, recall, topk
from .scale_invariant import sd_sdr, si_sdr, snr
from .silence import buckets, eps, pes
from .stats import bootstrap_ci, mcnemar, paired_bootstrap, wilcoxon

__all__ = [
    "bss_eval_sources", "bss_eval_sources_framewise", "bss_eval_images", "bss_eval_images_framewise",
    "bss_eval_v4", "si_sdr", "sd_sdr", "snr", "pes", "eps",
    "buckets", "hit_at_k", "topk", "f1", "precision", "recall", "precision_recall_f1",
    "confusion_matrix", "bootstrap_ci", "paired_bootstrap", "wilcoxon", "mcnemar",
]
