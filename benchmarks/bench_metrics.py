"""asv suites for the metric kernels: time, peak memory and tracked values."""
import numpy as np

from avbench.metrics import bss_eval_sources, hit_at_k, si_sdr

from .items import music_item


class BSSEvalSources:
    params = ([2, 4], [65535])
    param_names = ["n_src", "n_samples"]
    timeout = 300

    def setup(self, n_src, n_samples):
        self.ref, self.est = music_item(0, n_src, n_samples)

    def time_bss_eval_sources(self, n_src, n_samples):
        bss_eval_sources(self.ref, self.est)

    def time_bss_eval_sources_permutation(self, n_src, n_samples):
        bss_eval_sources(self.ref, self.est, compute_permutation=True)

    def peakmem_bss_eval_sources(self, n_src, n_samples):
        bss_eval_sources(self.ref, self.est)

    def track_sdr_mean(self, n_src, n_samples):
        return float(np.mean(bss_eval_sources(self.ref, self.est).sdr))

    track_sdr_mean.unit = "dB"


class BSSEvalLong:
    """4 sources x 3 minutes at 11025 Hz: memory must stay bounded."""

    timeout = 600

    def setup(self):
        self.ref, self.est = music_item(1, 4, 3 * 60 * 11025)

    def time_bss_eval_sources_3min(self):
        bss_eval_sources(self.ref, self.est)

    def peakmem_bss_eval_sources_3min(self):
        bss_eval_sources(self.ref, self.est)


class ScaleInvariant:
    def setup(self):
        self.ref, self.est = music_item(2, 64, 65535)

    def time_si_sdr_batch(self):
        si_sdr(self.ref, self.est)

    def track_si_sdr_mean(self):
        return float(np.mean(si_sdr(self.ref, self.est)))

    track_si_sdr_mean.unit = "dB"


class Classification:
    def setup(self):
        rng = np.random.default_rng(0)
        self.scores = rng.random((100_000, 13))
        self.labels = rng.integers(0, 13, 100_000)

    def time_hit_at_3(self):
        hit_at_k(self.scores, self.labels, 3)

    def track_hit_at_3(self):
        return hit_at_k(self.scores, self.labels, 3)
