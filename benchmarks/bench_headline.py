"""asv: the headline numbers of the built-in benchmark, tracked across commits.

Generates ``synth-ensembles`` mini in a temporary ``AVBENCH_HOME``, runs the oracle
baselines and scores them; the tracked values are the leaderboard means.  A change to a
metric, the generator or a baseline that moves them shows up in asv's history.
"""
import os
import tempfile


class Headline:
    timeout = 900

    def setup_cache(self):
        home = tempfile.mkdtemp(prefix="avbench_asv_")
        os.environ["AVBENCH_HOME"] = home
        import baselines
        from avbench.data import synth as se
        from avbench.scoring import score

        se.generate("mini", progress=False)
        reg = baselines.registry()
        out = {}
        for task, names, metric in (("synth-ensembles-separation@1-mini", ("oracle-ibm", "oracle-mixture"), "sdr"),
                                    ("synth-ensembles-mix2@1-mini", ("oracle-ibm",), "sdr"),
                                    ("synth-ensembles-classification@1-mini", ("oracle-prior",), "hit@1")):
            for n in names:
                path = os.path.join(home, "subs", task, n)
                reg[n](task, path, progress=False)
                r = score(path, progress=False, workers=1)[0]
                out[f"{task.split('@')[0]}:{n}"] = r.scores[metric].mean
        return out

    def track_separation_ibm_sdr(self, cache):
        return cache["synth-ensembles-separation:oracle-ibm"]

    def track_separation_mixture_sdr(self, cache):
        return cache["synth-ensembles-separation:oracle-mixture"]

    def track_mix2_ibm_sdr(self, cache):
        return cache["synth-ensembles-mix2:oracle-ibm"]

    def track_classification_prior_hit1(self, cache):
        return cache["synth-ensembles-classification:oracle-prior"]

    track_separation_ibm_sdr.unit = "dB"
    track_separation_mixture_sdr.unit = "dB"
    track_mix2_ibm_sdr.unit = "dB"
