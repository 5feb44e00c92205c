"""avbench metrics: kernels in :mod:`avbench.metrics.functional`, metadata here.

Leaderboards read :data:`METRICS` for arrows, units and sort order.
"""
from __future__ import annotations

from dataclasses import dataclass

from .functional import (  # noqa: F401
    bootstrap_ci, bss_eval_images, bss_eval_images_framewise, bss_eval_sources, bss_eval_sources_framewise,
    bss_eval_v4, buckets, confusion, confusion_matrix, eps, f1, f1_score,
    hit_at_k, mcnemar, paired_bootstrap, pes, precision, precision_recall_f1, precision_recall_f1_score,
    precision_score, recall, recall_score, sd_sdr, si_sdr, snr, topk, wilcoxon,
)


@dataclass(frozen=True)
class MetricInfo:
    name: str
    higher_is_better: bool
    unit: str
    floor: float | None = None
    ceiling: float | None = None
    description: str = ""

    @property
    def arrow(self) -> str:
        return "↑" if self.higher_is_better else "↓"


METRICS: dict[str, MetricInfo] = {m.name: m for m in (
    MetricInfo("sdr", True, "dB", description="BSS Eval v3 signal-to-distortion ratio (512 taps)"),
    MetricInfo("sir", True, "dB", description="BSS Eval v3 signal-to-interference ratio"),
    MetricInfo("sar", True, "dB", description="BSS Eval v3 signal-to-artefact ratio"),
    MetricInfo("isr", True, "dB", description="BSS Eval image-to-spatial distortion ratio"),
    MetricInfo("sdr_v4", True, "dB", description="BSS Eval v4 (museval) framewise SDR, whole-signal filters"),
    MetricInfo("si_sdr", True, "dB", description="scale-invariant SDR (Le Roux et al. 2019)"),
    MetricInfo("sd_sdr", True, "dB", description="scale-dependent SDR (Le Roux et al. 2019)"),
    MetricInfo("sdri", True, "dB", description="SDR improvement over the input mixture"),
    MetricInfo("si_sdri", True, "dB", description="SI-SDR improvement over the input mixture"),
    MetricInfo("pes", False, "dB", floor=-80.0, description="predicted energy at silence (eps 1e-8)"),
    MetricInfo("eps", False, "dB", floor=-80.0, description="energy at predicted silence (eps 1e-8)"),
    MetricInfo("hit@1", True, "", 0.0, 1.0, "top-1 accuracy"),
    MetricInfo("hit@3", True, "", 0.0, 1.0, "a true label among the 3 best classes"),
    MetricInfo("macro_f1", True, "", 0.0, 1.0, "unweighted mean of per-class F1"),
    MetricInfo("micro_f1", True, "", 0.0, 1.0, "F1 over all decisions"),
)}
