"""The seed-aware claim statistics on hand-made data: verdicts, the hierarchical bootstrap
against closed forms, Holm against hand-computed values, and the per-work differences."""
import json
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from avbench.compare import compare_frames, work_differences
from baselines import claims as cl

TASK = "synth-ensembles-separation@3"


def _frames(diff_per_seed, n_works=20, per_work=3, base=0.0, noise=0.3, seed=0):
    """``a`` and ``b`` frames per seed: a - b is ``diff_per_seed[k]`` plus small noise."""
    rng = np.random.default_rng(seed)
    fa, fb = [], []
    for k, d in enumerate(diff_per_seed):
        rows_a, rows_b = [], []
        for w in range(n_works):
            for i in range(per_work):
                item = f"w{w}-i{i}"
                b = base + rng.normal()
                rows_b.append((item, "violin", f"w{w}", 2, b))
                rows_a.append((item, "violin", f"w{w}", 2, b + d + noise * rng.normal()))
        cols = ["item", "slot", "group", "n_sources", "sdr"]
        fa.append(pd.DataFrame(rows_a, columns=cols))
        fb.append(pd.DataFrame(rows_b, columns=cols))
    return fa, fb


def _board(tmp_path, fa, fb):
    d = tmp_path / "synth-ensembles-separation" / "3" / "entries"
    d.mkdir(parents=True)
    for sys_, frames in (("a", fa), ("b", fb)):
        for k, f in enumerate(frames):
            name = sys_ if k == 0 else f"{sys_}.s{k}"
            # oracle: true keeps these hand-made rows outside the convergence gate
            (d / f"{name}.json").write_text(json.dumps({"n_parameters": 1, "inputs": ["mixture"], "oracle": True,
                                                        "scores": {"sdr": {"mean": float(f["sdr"].mean())}}}))
            f.to_parquet(d / f"{name}.scores.parquet")
    return tmp_path


CLAIM = {"claim": "a beats b", "a": "a", "b": "b", "metric": "sdr", "direction": "greater",
         "paper": {"table": "5.4", "rows": "x", "a": 1, "b": 0}}


def test_a_claim_that_holds_pooled_but_reverses_in_two_of_three_seeds_is_not_holds(tmp_path):
    fa, fb = _frames([+10.0, -1.0, -1.0])
    pooled = np.mean([(x["sdr"] - y["sdr"]).mean() for x, y in zip(fa, fb)])
    assert pooled > 2  # the seed-averaged effect is large and positive
    # averaging the seeds first and testing by work alone would call it significant
    avg_a = fa[0].assign(sdr=np.mean([f["sdr"] for f in fa], 0))
    avg_b = fb[0].assign(sdr=np.mean([f["sdr"] for f in fb], 0))
    assert compare_frames(avg_a, avg_b, "separation", "sdr")["test"]["p_value"] < 1e-3
    e = cl.evaluate(_board(tmp_path, fa, fb), TASK, CLAIM)
    assert e["verdict"] != "holds"
    assert e["r"]["bootstrap"]["low"] < 0 < e["r"]["bootstrap"]["high"]  # the seeds' variance widens it
    assert e["verdict"] == "inconclusive"


def test_a_claim_that_holds_in_every_seed_holds(tmp_path):
    fa, fb = _frames([+2.0, +2.5, +1.5])
    e = cl.evaluate(_board(tmp_path, fa, fb), TASK, CLAIM)
    assert e["verdict"] == "holds" and e["r"]["bootstrap"]["low"] > 0


def test_verdict_rules_on_hand_made_numbers():
    # an interval that straddles zero is inconclusive, whatever the sign of the estimate
    assert cl.verdict("greater", 0.8, -0.4, 2.0, 0.2, [1, 1, 1], 0.5) == "inconclusive"
    assert cl.verdict("greater", -0.8, -2.0, 0.4, 0.2, [-1, -1, -1], 0.5) == "inconclusive"
    # the thesis' "visual at least as good as labels": 3.02 dB worse, [-6.01, -0.06]
    assert cl.verdict("not-worse", -3.02, -6.01, -0.06, 0.04, [-3, -3, -3], 0.5) == "does not hold"
    assert cl.verdict("not-worse", -3.02, -6.01, -0.06, 0.20, [-3, -3, -3], 0.5) == "inconclusive"
    assert cl.verdict("not-worse", -0.1, -0.4, 0.3, 0.6, [0, 0, 0], 0.5) == "holds"
    # significant, right direction, but one seed of three agrees: not holds
    assert cl.verdict("greater", 2.0, 0.5, 3.5, 0.001, [8, -1, -1], 0.5) == "inconclusive"


def test_hierarchical_bootstrap_seed_variance_matches_the_closed_form():
    # every work of seed k has the same difference o_k: only the seed draw varies, and the
    # mean of 3 seeds drawn with replacement has variance var_pop(o) / 3
    o = np.array([3.0, -1.0, 0.5])
    S = np.repeat(o[:, None], 50, 1) * 2  # two items per work
    C = np.full((3, 50), 2.0)
    h = cl.hierarchical_bootstrap([(S, C)], [1.0], n_boot=20000)
    assert h["diff"] == pytest.approx(o.mean())
    boots_sd = (h["high"] - h["low"]) / (2 * 1.96)
    assert boots_sd == pytest.approx(np.sqrt(o.var() / 3), rel=0.15)


def test_hierarchical_bootstrap_work_variance_matches_the_closed_form():
    # one seed, one item per work: the bootstrap sd of the mean is sd_pop(d) / sqrt(n)
    d = np.random.default_rng(3).normal(1.0, 2.0, 400)
    h = cl.hierarchical_bootstrap([(d[None], np.ones((1, d.size)))], [1.0], n_boot=20000)
    assert h["diff"] == pytest.approx(d.mean())
    assert (h["high"] - h["low"]) / (2 * 1.96) == pytest.approx(d.std() / np.sqrt(d.size), rel=0.1)
    # a two-sided p from the normal approximation of the same mean
    z = d.mean() / (d.std() / np.sqrt(d.size))
    assert h["p_value"] <= max(2 * scipy.stats.norm.sf(abs(z)), 1e-3)


def test_holm_within_a_table_by_hand():
    # raw 0.01, 0.04, 0.03 -> sorted 0.01 * 3 = 0.03, 0.03 * 2 = 0.06, then max(0.06, 0.04 * 1)
    evaluated = [{"verdict_args": ("greater", 1.0, 0.5, 1.5, p, [1, 1, 1], 0.5), "gated": []}
                 for p in (0.01, 0.04, 0.03)]
    evaluated.append({"verdict": "not testable: not converged", "gated": ["x"],
                      "verdict_args": ("greater", 1.0, 0.5, 1.5, 0.001, [1, 1, 1], 0.5)})  # not counted
    cl.holm_adjust(evaluated)
    assert [e["p_holm"] for e in evaluated[:3]] == pytest.approx([0.03, 0.06, 0.06])
    assert [e["verdict"] for e in evaluated[:3]] == ["holds", "inconclusive", "inconclusive"]
    assert "p_holm" not in evaluated[3] and evaluated[3]["verdict"] == "not testable: not converged"


def test_work_differences_are_exact_where_the_two_means_round_apart():
    # work w0: a and b hold the same values in another order; their float means differ by
    # one ulp (0.1 + 0.2 + 0.3 != 0.3 + 0.2 + 0.1), their exact means are equal
    va = np.array([0.1, 0.2, 0.3, 0.7, 0.4, 0.9, 0.2])
    vb = np.array([0.3, 0.2, 0.1, 0.5, 0.1, 0.6, 0.6])
    g = np.array(["w0", "w0", "w0", "w1", "w2", "w3", "w4"])
    assert np.mean(va[:3]) != np.mean(vb[:3])
    exact = []
    for w in sorted(set(g)):
        m = g == w
        exact.append(float(sum(Fraction(x) - Fraction(y) for x, y in zip(va[m], vb[m])) / int(m.sum())))
    d = work_differences(va, vb, g)
    assert d[0] == 0.0 and d == pytest.approx(exact)
    # the rank test on the exact differences (w0 a tie, dropped) is the one compare reports
    ref = scipy.stats.wilcoxon(np.array(exact)).pvalue
    f = lambda v: pd.DataFrame({"item": [f"i{i}" for i in range(7)], "group": g, "hit@1": v})  # noqa: E731
    assert compare_frames(f(va), f(vb), "classification", "hit@1")["test"]["p_value"] == pytest.approx(ref)


def test_changed_verdicts_are_named_when_a_table_is_regenerated(tmp_path):
    row = "| {c} | `a` vs `b`, SDR | 1 vs 0 | ... | **{v}** |\n"
    old = "| claim | systems | paper | here | verdict |\n|---|---|---|---|---|\n" + row.format(c="x", v="holds") \
        + row.format(c="y", v="does not hold")
    new = old.replace("**holds**", "**inconclusive**")
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n<!-- generated: t@3 -->\n{old}<!-- end generated -->\n")
    cl.write_readme_block(readme, "t@3", new)
    assert cl.readme_block(readme, "t@3") == new
    log = (tmp_path / "results" / "verdict-changes.md").read_text()
    assert "t@3" in log and "1 of 2 verdicts changed" in log and "| x | `a` vs `b`, SDR | holds | inconclusive |" in log
    cl.write_readme_block(readme, "t@3", new)  # unchanged: nothing appended
    assert (tmp_path / "results" / "verdict-changes.md").read_text() == log


def test_rows_trained_with_different_recipes_are_not_testable(tmp_path):
    fa, fb = _frames([+2.0, +2.5, +1.5])
    root = _board(tmp_path, fa, fb)
    same = cl.evaluate(root, TASK, CLAIM, config_of=lambda e: "one recipe")
    assert same["verdict"] == "holds"
    # the two systems trained with other recipes (told apart here by their parameter count)
    d = root / "synth-ensembles-separation" / "3" / "entries"
    for p in d.glob("b*.json"):
        p.write_text(p.read_text().replace('"n_parameters": 1', '"n_parameters": 2'))
    e = cl.evaluate(root, TASK, CLAIM, config_of=lambda e: e["n_parameters"])
    assert e["verdict"] == "not testable: rows trained with different recipes"


def test_the_training_config_is_read_at_the_entry_s_scoring_commit():
    import subprocess

    from avbench.config import repo_root

    log = subprocess.run(["git", "-C", str(repo_root()), "log", "--format=%H", "--",
                          "baselines/cunet/configs/cpu.yaml"], capture_output=True, text=True).stdout.split()
    if len(log) < 2:
        pytest.skip("the history of baselines/cunet/configs/cpu.yaml is not in this clone")
    of = cl.training_config("cunet")
    new, old = ({"model": "U-Net [cpu config]", "provenance": {"git_commit": c}} for c in log[:2])
    assert of(new) is not None and of(old) is not None and of(new) != of(old)
    assert of({"model": "no config named", "provenance": {"git_commit": log[0]}}) is None
