"""asv suite for scoring one separation item: time and peak memory (the kernels, buckets,
the protocol's rules and the row, as a scoring process runs them)."""
import numpy as np


class ScoreItem:
    timeout = 300

    def setup_cache(self):
        from avbench.data import synth as se

        se.generate("mini", progress=False)  # once; reused when it exists

    def setup(self):
        from avbench.scoring import input_mixture_metrics
        from avbench.tasks import get_task

        self.task = get_task("synth-ensembles-separation@2-mini")
        self.item = max(self.task.items, key=lambda i: (len(i.sources), i.id))  # the most sources
        self.ref = self.task.reference(self.item).astype(np.float64)
        rng = np.random.default_rng(0)
        sounding = self.ref.any(axis=1, keepdims=True)
        noise = 0.1 * rng.standard_normal(self.ref.shape) * np.abs(self.ref).max()
        self.est = np.where(sounding, self.ref + noise, 0.0)
        present = [k for k in range(self.ref.shape[0]) if self.ref[k].any()]
        input_mixture_metrics(self.task, self.item, self.ref, present)  # cached, as after a first run

    def time_score_separation_item(self):
        from avbench.scoring import score_separation_item

        score_separation_item(self.task, self.ref, self.est, self.item)

    def peakmem_score_separation_item(self):
        from avbench.scoring import score_separation_item

        score_separation_item(self.task, self.ref, self.est, self.item)
