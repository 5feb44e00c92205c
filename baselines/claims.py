"""Claim tables: what a paper says, what the committed entries measure.

A claim compares two systems ``a`` and ``b`` on one metric, in one direction:

* ``greater`` — ``a`` scores higher than ``b`` (for PES and EPS, lower is better: write
  the claim in the metric's own direction, e.g. "ratio masks have higher PES");
* ``no-difference`` — the paper found no significant difference.

Each system is a baseline trained with several seeds, committed as one leaderboard
entry per seed (``name``, ``name.s1``, ``name.s2``).  The test respects the data
(protocol 2, :mod:`avbench.compare`) and the seeds: seed ``k`` of ``a`` is paired with seed
``k`` of ``b`` on the (item, slot) pairs both scored, and a hierarchical bootstrap
(:func:`hierarchical_bootstrap`) resamples the seeds and, within them, the works, for the
95% interval of the pooled mean difference and a two-sided p; Holm's adjustment runs over
the claims of one table (:func:`holm_adjust`).  :func:`verdict` gives *holds*, *does not
hold* or *inconclusive* (:data:`TEST_RULE` says the rule in the generated tables), and a
claim on rows outside the task's convergence gate is *not testable*.

Beside it: each seed's mean for each system (the seed spread) and the per-seed
differences (seed ``k`` of ``a`` against seed ``k`` of ``b``).  A claim whose systems are
not all on the board says so, and a verdict from fewer seeds than asked for is marked
provisional, naming the seeds on the board; nothing is dropped.  The paper's own numbers, with table
and row, come from the claim's ``paper`` field.

Claims live in YAML (``configs/claims.yaml`` of each baseline)::

    - claim: log-frequency input beats linear-frequency input
      a: unet
      b: unet-linear
      metric: si_sdr
      direction: greater
      paper: {table: "5.3", rows: "ID 1 vs ID 2", a: -12.5, b: -15.9}
      only: {n_sources: 4}          # optional: restrict to items with this many sources
      contrast: {n_sources: [2, 4]} # optional: compare the two systems' change from 2- to 4-source items

A ``contrast`` claim compares how much each system changes between two item sets whose
works are disjoint (the same bootstrap, the works resampled within each set;
:func:`contrast_frames` gives the seed-mean numbers shown beside it).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from avbench import leaderboard as lb
from avbench.compare import ALPHA, compare_frames
from avbench.leaderboard.seeds import seed_mean_frame
from avbench.metrics.functional.stats import bootstrap_indices
from avbench.tasks import parse_key

from .names import OTHER_CONFIGS, SEEDS, seed_entry

LOWER_IS_BETTER = {"pes", "eps"}
RATES = {"hit@1", "hit@3"}  #: per-item rates (classification): shown in percent
LABELS = {"sdr": "SDR", "sir": "SIR", "sar": "SAR", "si_sdr": "SI-SDR", "sd_sdr": "SD-SDR", "pes": "PES",
          "eps": "EPS", "sdri": "SDRi", "si_sdri": "SI-SDRi", "hit@1": "Hit@1", "hit@3": "Hit@3"}


def seed_names(system: str, seeds=SEEDS) -> list[str]:
    """The entry names of a system's seeds: ``unet``, ``unet.s1``, ``unet.s2``."""
    return [seed_entry(system, k) for k in seeds]


def _board(root: Path, task: str) -> Path:
    name, version = parse_key(task)
    return lb.board_dir(root, name, version) / "entries"


def entries(root: Path, task: str, system: str, seeds=SEEDS) -> list[tuple[str, dict, pd.DataFrame]]:
    """``(name, entry, per-item scores)`` of each seed of ``system`` on the board (missing
    seeds left out)."""
    d = _board(root, task)
    out = []
    for n in seed_names(system, seeds):
        p = d / f"{n}.json"
        if p.exists():
            out.append((n, json.loads(p.read_text()), pd.read_parquet(d / f"{n}.scores.parquet")))
    return out


def config_rows(root: Path, task: str, system: str) -> list[tuple[str, list]]:
    """``(name, entries)`` of ``system`` (its reference rows, possibly none) and of each other
    config of it on the board (``unet.paper``; only when it has entries)."""
    rows = [(system, entries(root, task, system))]
    for c in OTHER_CONFIGS:
        es = entries(root, task, seed_entry(system, 0, c))
        if es:
            rows.append((seed_entry(system, 0, c), es))
    return rows


#: the per-(item, slot) mean of a metric over seeds, on the pairs every seed scored (finite
#: in all): the boards' own rule (:func:`avbench.leaderboard.seeds.seed_mean_frame`)
seed_mean = seed_mean_frame


def _finite_mean(values: pd.Series) -> float:
    v = values.to_numpy(float)
    return float(v[np.isfinite(v)].mean())


#: the equivalence margin of a "no difference" claim, in the metric's unit (dB; points for rates)
MARGIN = {"db": 0.5, "rate": 0.02}
#: of the seeds both systems have, how many must show the effect in the claimed direction
MIN_SEEDS_AGREE = 2

#: How a claim table's verdicts are reached, in the words of the generated tables.
TEST_RULE = ("a hierarchical bootstrap over seeds and works: each of its resamples draws the seeds with replacement "
             "(seed k of a against seed k of b) and the works with replacement, so the seed-to-seed variance enters "
             "the 95% interval and the two-sided bootstrap p. A claim's p is the larger of that p and the rank test's over "
             "the works (Wilcoxon signed-rank on the per-work mean differences of the seed means; Mann-Whitney U for a "
             "change between two item sets of disjoint works), so that a claim on few works is not surer than its "
             "works allow. Holm's step-down adjustment is applied to the p-values "
             f"within each table (raw and adjusted p shown, the verdict uses the adjusted one). A directional "
             f"claim **holds** when the two-sided p < {ALPHA}, the pooled effect is in the claimed direction and so "
             f"is the effect of at least {MIN_SEEDS_AGREE} of 3 seeds (every seed when fewer are on the board); it "
             f"**does not hold** when p < {ALPHA} with the effect the other way; otherwise it is **inconclusive** "
             "(no evidence either way is not evidence for the claim). A no-difference claim holds when the 95% "
             f"interval lies within the equivalence margin (±{MARGIN['db']} dB, ±{100 * MARGIN['rate']:g} points "
             f"for rates), does not hold when p < {ALPHA} and the interval leaves the margin, and is inconclusive "
             "otherwise. An at-least-as-good (non-inferiority) claim holds when the interval's lower end is above "
             "minus the margin and does not hold when the interval lies below it, or when a is significantly "
             "worse by more than the margin. A claim whose rows fail the task's convergence gate (docs/protocol.md) is **not testable: "
             "not converged**; its numbers are shown but no verdict rests on them; so is a claim whose rows were trained with different "
             "configs (the config file at each row's scoring commit): it would measure the recipes. A change between two item sets "
             "of disjoint works: the same bootstrap, the works resampled within each set")


def verdict(direction: str, diff: float, low: float, high: float, p: float, seed_diffs: list[float],
            margin: float) -> str:
    """The verdict of one claim from the pooled difference ``diff`` (a − b, signed so that the
    claim says it is positive), its 95% interval ``[low, high]``, the test's ``p`` and the
    per-seed differences (the rule of :data:`TEST_RULE`)."""
    if direction == "greater":
        need = min(MIN_SEEDS_AGREE, len(seed_diffs))
        if p < ALPHA and diff > 0:
            return "holds" if sum(x > 0 for x in seed_diffs) >= need else "inconclusive"
        if p < ALPHA and diff < 0:
            return "does not hold"
        return "inconclusive"
    if direction == "not-worse":  # non-inferiority: a no worse than b by more than the margin
        if low >= -margin:
            return "holds"
        if high < -margin or (p < ALPHA and high < 0 and diff < -margin):
            return "does not hold"
        return "inconclusive"
    if direction == "no-difference":
        if -margin <= low and high <= margin:
            return "holds"
        if p < ALPHA and (low < -margin or high > margin):
            return "does not hold"
        return "inconclusive"
    raise ValueError(f"unknown direction {direction!r}: use 'greater', 'not-worse' or 'no-difference'")


#: bootstrap resamples of the seed-aware interval and test
N_BOOT = 4000


def seed_work_sums(fa: list[pd.DataFrame], fb: list[pd.DataFrame], metric: str,
                   split: tuple[str, object] | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The paired differences ``a - b`` of seed ``k`` of ``a`` against seed ``k`` of ``b``,
    summed per work: ``S[k, w]`` and their counts ``C[k, w]`` over the (item, slot) pairs
    both scored with finite values (``split = (column, value)``: only the items with that
    value), and the works' names."""
    keys = ["item", "slot"] if "slot" in fa[0].columns else ["item"]
    per = []
    for x, y in zip(fa, fb):
        cols = keys + ["group"] + ([split[0]] if split else [])
        m = x[cols + [metric]].merge(y[keys + [metric]], on=keys, suffixes=("_a", "_b"))
        if split:
            m = m[m[split[0]] == split[1]]
        d = (m[f"{metric}_a"] - m[f"{metric}_b"]).to_numpy(float)
        ok = np.isfinite(d)
        per.append(pd.DataFrame({"group": m["group"].astype(str).to_numpy()[ok], "d": d[ok]}))
    works = sorted(set().union(*(set(p["group"]) for p in per)))
    S, C = np.zeros((len(per), len(works))), np.zeros((len(per), len(works)))
    col = {w: i for i, w in enumerate(works)}
    for k, p in enumerate(per):
        g = p.groupby("group")["d"]
        for w, v in g.sum().items():
            S[k, col[w]] = v
        for w, v in g.size().items():
            C[k, col[w]] = v
    return S, C, works


def hierarchical_bootstrap(parts: list[tuple[np.ndarray, np.ndarray]], signs: list[float], n_boot: int = N_BOOT,
                           seed: int = 0) -> dict:
    """The seed-aware estimate, 95% interval and two-sided p of a difference.

    ``parts``: one ``(S, C)`` of :func:`seed_work_sums` per item set, and the statistic is
    ``sum(sign * mean)`` over the sets, each set's mean pooling its (item, slot)
    differences over seeds and works (one set: the mean difference; two sets of disjoint
    works with signs -1, +1: the change from the first to the second).  Each resample
    draws the seeds with replacement (the same draw for every set: seed ``k`` is one
    training run) and, within each set, the works with replacement, so both the
    seed-to-seed and the work-to-work variance enter the interval.  The p-value is the
    bootstrap's: twice the smaller tail share at zero, ``(count + 1) / (n_boot + 1)``."""
    rng = np.random.default_rng(seed)
    n_s = parts[0][0].shape[0]
    ks = rng.multinomial(n_s, np.full(n_s, 1 / n_s), size=n_boot).astype(float)
    est, stat = 0.0, np.zeros(n_boot)
    for (S, C), sign in zip(parts, signs):
        n_w = S.shape[1]
        kw = rng.multinomial(n_w, np.full(n_w, 1 / n_w), size=n_boot).astype(float)
        num = np.einsum("bs,sw,bw->b", ks, S, kw)
        den = np.einsum("bs,sw,bw->b", ks, C, kw)
        with np.errstate(invalid="ignore", divide="ignore"):
            stat += sign * num / den
        est += sign * S.sum() / C.sum()
    stat = stat[np.isfinite(stat)]
    low, high = np.quantile(stat, [0.025, 0.975])
    tail = min(int((stat <= 0).sum()), int((stat >= 0).sum()))
    p = min(1.0, 2 * (tail + 1) / (stat.size + 1))
    return {"diff": float(est), "low": float(low), "high": float(high), "p_value": p, "n_boot": int(stat.size)}


def gate_failures(task: str, found: list[tuple[str, dict, pd.DataFrame]]) -> list[str]:
    """The seed entries of ``found`` outside the task's convergence gate."""
    from avbench.leaderboard.ranking import gate_of, gate_reason

    gate = gate_of(parse_key(task)[0])
    out = []
    for n, e, _ in found:
        sdri = ((e.get("scores") or {}).get("sdri") or {}).get(e.get("aggregate", "mean"))
        if gate_reason(bool(e.get("oracle")), e.get("counts") or {}, sdri, gate):
            out.append(n)
    return out


def fmt(x, nd=2) -> str:
    return "–" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.{nd}f}"


def training_config(baseline: str):
    """``entry -> the training config it was trained with`` for a baseline whose configs
    live in ``baselines/<baseline>/configs/<name>.yaml`` and whose entries name their config
    as ``[<name> config]`` in ``model``: the config file as it was at the entry's scoring
    commit, parsed (``None`` where the commit or the file cannot be read).  Two rows trained
    with different recipes cannot test what the claim says differs between them."""
    import re
    import subprocess

    import yaml

    from avbench.config import repo_root

    cache: dict = {}

    def of(e: dict):
        m = re.search(r"\[(\w+) config\]", e.get("model", ""))
        commit = (e.get("provenance") or {}).get("git_commit")
        if m is None or not commit:
            return None
        key = (commit, m.group(1))
        if key not in cache:
            r = subprocess.run(["git", "-C", str(repo_root()), "show", f"{commit}:baselines/{baseline}/configs/"
                                f"{m.group(1)}.yaml"], capture_output=True, text=True)
            cache[key] = (json.dumps(yaml.safe_load(r.stdout), sort_keys=True) if r.returncode == 0 else None)
        return cache[key]

    return of


def evaluate(root: Path, task: str, claim: dict, family: str = "separation", seeds=SEEDS, config_of=None) -> dict:
    """One claim's numbers and verdict (``verdict``: holds | does not hold | inconclusive |
    not testable: not converged | not testable: different training recipes | not run;
    :func:`verdict`).  ``config_of`` (:func:`training_config`): rows trained with
    different configs make the claim not testable."""
    metric = claim["metric"]
    ea, eb = entries(root, task, claim["a"], seeds), entries(root, task, claim["b"], seeds)
    out = {"claim": claim, "seeds_a": len(ea), "seeds_b": len(eb)}
    if not ea or not eb:
        out["verdict"] = "not run"
        return out
    fa, fb = [f for _, _, f in ea], [f for _, _, f in eb]
    only = claim.get("only") or {}
    if only:
        sel = lambda f: f[np.logical_and.reduce([f[k] == v for k, v in only.items()])]  # noqa: E731
        fa, fb = [sel(f) for f in fa], [sel(f) for f in fb]
    ma, mb = seed_mean(fa, metric), seed_mean(fb, metric)
    contrast = claim.get("contrast")

    def compare(x: pd.DataFrame, y: pd.DataFrame) -> dict:
        return contrast_frames(x, y, metric, contrast) if contrast else compare_frames(x, y, family, metric)

    r = compare(ma, mb)
    seed_value = (lambda f: _change(f, metric, contrast)) if contrast else (lambda f: _finite_mean(f[metric]))  # noqa: E731
    per_seed_a, per_seed_b = ([seed_value(f) for f in fs] for fs in (fa, fb))
    diffs = []
    for x, y in zip(fa, fb):
        rr = compare(x, y)
        diffs.append(rr["mean_a"] - rr["mean_b"])
    n = min(len(fa), len(fb))  # seed k of a against seed k of b
    if contrast:
        (col, (lo, hi)), = contrast.items()
        parts = [seed_work_sums(fa[:n], fb[:n], metric, (col, v))[:2] for v in (lo, hi)]
        h = hierarchical_bootstrap(parts, [-1.0, 1.0])
    else:
        h = hierarchical_bootstrap([seed_work_sums(fa[:n], fb[:n], metric)[:2]], [1.0])
    # the p of the verdict: the larger of the seed-aware bootstrap's and the rank test's
    # over the works (of the seed means): the bootstrap carries the seed variance, the
    # exact rank test keeps a claim on few works from looking surer than it is
    p = max(h["p_value"], r["test"]["p_value"])
    r["bootstrap"] = {"diff": h["diff"], "low": h["low"], "high": h["high"]}
    r["test"] = {"name": "max(hierarchical bootstrap, rank test over works)", "p_value": p, "n_seeds": n,
                 "bootstrap_p": h["p_value"], "rank_test": r["test"]}
    margin = MARGIN["rate"] if metric in RATES else MARGIN["db"]
    args = (claim["direction"], h["diff"], h["low"], h["high"], p, diffs, margin)
    gated = gate_failures(task, ea + eb) if family == "separation" else []
    recipes = {config_of(e) for _, e, _ in ea + eb} - {None} if config_of is not None else set()
    out.update(r=r, per_seed_a=per_seed_a, per_seed_b=per_seed_b, per_seed_diff=diffs, gated=gated,
               verdict_args=args, verdict="not testable: not converged" if gated else verdict(*args))
    if len(recipes) > 1 and not gated:  # seeds or systems trained with other recipes: nothing to test
        out["gated"] = ["recipes"]
        out["verdict"] = "not testable: rows trained with different recipes"
    return out


def holm_adjust(evaluated: list[dict]) -> None:
    """Holm's step-down adjustment over the tested claims of one table (those with a
    verdict from their numbers: neither not run nor not testable); each gets ``p_holm``
    and its verdict is re-derived with the adjusted p (the intervals are not adjusted)."""
    from avbench.compare import holm

    tested = [e for e in evaluated if "verdict_args" in e and not e.get("gated")]
    for e, p in zip(tested, holm([e["verdict_args"][4] for e in tested])):
        a = list(e["verdict_args"])
        a[4] = p
        e["p_holm"], e["verdict"] = p, verdict(*a)


def contrast_frames(a: pd.DataFrame, b: pd.DataFrame, metric: str, contrast: dict, n_boot: int = 2000) -> dict:
    """How much more ``a`` changes than ``b`` from one set of items to another, e.g.
    ``contrast = {"n_sources": [2, 4]}``: (a's mean on 4-source items − its mean on 2-source
    items) − (the same for b).  ``mean_a`` / ``mean_b`` are each system's change, on the
    (item, slot) pairs both scored.  The two sets must come from disjoint works (each
    work is then one independent unit): the test is Mann-Whitney's U, two-sided, between
    the per-work mean differences ``a - b`` of the two sets, and the interval resamples
    works within each set."""
    import scipy.stats

    (col, (lo, hi)), = contrast.items()
    keys = ["item", "slot"] if "slot" in a.columns else ["item"]
    m = a[keys + ["group", col, metric]].merge(b[keys + [metric]], on=keys, suffixes=("_a", "_b"))
    m = m[np.isfinite(m[f"{metric}_a"]) & np.isfinite(m[f"{metric}_b"])]
    parts = [m[m[col] == v] for v in (lo, hi)]
    if any(p.empty for p in parts):
        raise ValueError(f"no {metric} pairs with {col} = {lo} or {hi}: the contrast needs both")
    shared = set(parts[0]["group"]) & set(parts[1]["group"])
    if shared:
        raise ValueError(f"works {sorted(shared)[:3]} have items with {col} = {lo} and = {hi}: "
                         "a contrast between two item sets needs disjoint works")
    d = [(p[f"{metric}_a"] - p[f"{metric}_b"]).to_numpy(float) for p in parts]
    g = [p["group"].astype(str).to_numpy() for p in parts]
    effect = float(d[1].mean() - d[0].mean())
    boots = np.array([d[1][i1].mean() - d[0][i0].mean() for i0, i1 in
                      zip(bootstrap_indices(d[0].size, n_boot, 0, g[0]), bootstrap_indices(d[1].size, n_boot, 1, g[1]))])
    low, high = np.quantile(boots, [0.025, 0.975])
    works = [pd.Series(x).groupby(y).mean().to_numpy() for x, y in zip(d, g)]
    p = float(scipy.stats.mannwhitneyu(works[1], works[0], alternative="two-sided").pvalue)
    return {"metric": metric, "n": int(sum(x.size for x in d)),
            "mean_a": _change(m, f"{metric}_a", contrast), "mean_b": _change(m, f"{metric}_b", contrast),
            "bootstrap": {"diff": effect, "low": float(low), "high": float(high)},
            "n_works": int(sum(w.size for w in works)), "test": {"name": "mann-whitney-works", "p_value": p}}


def _change(f: pd.DataFrame, column: str, contrast: dict) -> float:
    """The mean of ``column`` (its finite values) on the contrast's second item set minus
    that on its first."""
    (col, (lo, hi)), = contrast.items()
    mean = lambda v: _finite_mean(f.loc[f[col] == v, column])  # noqa: E731
    return mean(hi) - mean(lo)


def _paper(c: dict) -> str:
    p = c.get("paper") or {}
    if "a" in p and "b" in p:
        return f"{fmt(p['a'], 2)} vs {fmt(p['b'], 2)} (Table {p['table']}, {p['rows']})"
    return f"{p.get('text', 'n/a')} ({'Table ' + p['table'] + ', ' if 'table' in p else ''}{p.get('rows', p.get('section', ''))})"


def _ours(e: dict) -> str:
    if e["verdict"] == "not run":
        miss = [s for s, n in (("a", e["seeds_a"]), ("b", e["seeds_b"])) if n == 0]
        return "not on the board: " + ", ".join(f"`{e['claim'][s]}`" for s in miss)
    r = e["r"]
    bs = r["bootstrap"]
    if e["claim"]["metric"] in RATES:  # a rate: percent, differences in points
        k, nd, unit = 100, 1, "pts"
    else:
        k, nd, unit = 1, 2, "dB"
    v = lambda x: fmt(k * x, nd)  # noqa: E731
    d = lambda x: f"{k * x:+.{nd}f}"  # noqa: E731
    spread = lambda xs: "/".join(v(x) for x in xs)  # noqa: E731
    holm_p = f", Holm p = {e['p_holm']:.2g}" if "p_holm" in e else ""
    return (f"{v(r['mean_a'])} vs {v(r['mean_b'])}: {d(bs['diff'])} {unit} [{d(bs['low'])}, {d(bs['high'])}], "
            f"p = {r['test']['p_value']:.2g}{holm_p} over {r['n_works']} works and {r['test']['n_seeds']} seeds "
            f"(n = {r['n']}); "
            f"seeds {spread(e['per_seed_a'])} vs {spread(e['per_seed_b'])}, "
            f"per-seed differences {'/'.join(d(x) for x in e['per_seed_diff'])}")


def _provisional(e: dict, n_seeds: int, unseeded=()) -> str:
    """A verdict from fewer seeds than the claim asks for is marked, with the seeds each
    short system has (the rest are still to train).  ``unseeded``: systems with one entry
    by design (nothing trained, such as InformedNMF)."""
    if e["verdict"] == "not run":
        return ""
    short = [f"`{e['claim'][s]}` {e['seeds_' + s]} of {n_seeds}" for s in ("a", "b")
             if e["seeds_" + s] < n_seeds and e["claim"][s] not in unseeded]
    return f" (provisional: seeds {', '.join(short)})" if short else ""


def table(root: Path, task: str, claims: list[dict], family: str = "separation", seeds=SEEDS, unseeded=(),
          config_of=None) -> str:
    """The markdown claim table: one row per claim, in the given order; ``unseeded`` as
    :func:`_provisional`."""
    rows = ["| claim | systems (a vs b), metric | paper: a vs b | here: a vs b, difference [95% CI over works and seeds], "
            "p (raw, Holm within this table); seed spread | verdict |",
            "|---|---|---|---|---|"]
    evaluated = [evaluate(root, task, c, family, seeds, config_of) for c in claims]
    holm_adjust(evaluated)
    for c, e in zip(claims, evaluated):
        only = c.get("only") or {}
        where = (" on items with " + ", ".join(f"{k} = {v}" for k, v in only.items())) if only else ""
        for k, (lo, hi) in (c.get("contrast") or {}).items():
            where += (f", the change from items with {k} = {lo} to {k} = {hi} (the two sets' works are "
                      "disjoint; works resampled within each set)")
        metric = LABELS.get(c["metric"], c["metric"]) + (" (lower is better)" if c["metric"] in LOWER_IS_BETTER else "")
        rows.append(f"| {c['claim']} | `{c['a']}` vs `{c['b']}`, {metric}{where} | {_paper(c)} | {_ours(e)} | "
                    f"**{e['verdict']}**{_provisional(e, len(tuple(seeds)), unseeded)} |")
    return "\n".join(rows) + "\n"


def seed_table(root: Path, task: str, systems: list[str], metrics: list[str]) -> str:
    """One row per system on the board: its seeds, parameters, and for each metric the
    mean over seeds of the entry's mean with the seeds' range (rates in percent)."""
    head = "| system | seeds | parameters | " + " | ".join(LABELS.get(m, m) for m in metrics) + " |"
    out = [head, "|---|---:|---:|" + "---:|" * len(metrics)]
    for name, es in (r for system in systems for r in config_rows(root, task, system)):
        if not es:
            out.append(f"| `{name}` | 0 | – | " + " | ".join("not run" for _ in metrics) + " |")
            continue
        cells = []
        for m in metrics:
            k = 100 if m in RATES else 1
            means = [k * e["scores"][m]["mean"] for _, e, _ in es]
            cells.append(f"{fmt(float(np.mean(means)), 1 if k == 100 else 2)} "
                         f"[{fmt(min(means), 1 if k == 100 else 2)}, {fmt(max(means), 1 if k == 100 else 2)}]")
        out.append(f"| `{name}` | {len(es)} | {es[0][1]['n_parameters']:,} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def load_claims(path: Path) -> list[dict]:
    import yaml

    return yaml.safe_load(Path(path).read_text())


def readme_block(readme: Path, key: str) -> str | None:
    """The text between ``<!-- generated: KEY -->`` and ``<!-- end generated -->`` in a
    README (``None`` when the markers are missing)."""
    text = Path(readme).read_text()
    start, end = f"<!-- generated: {key} -->\n", "<!-- end generated -->"
    if start not in text:
        return None
    i = text.index(start) + len(start)
    return text[i:text.index(end, i)]


def verdicts(block: str) -> dict[tuple[str, str], str]:
    """The verdicts of the claim tables in a generated block: ``(claim, "`a` vs `b`, metric")
    -> verdict`` (the bold text of a row's last cell)."""
    import re

    out = {}
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and not set(cells[0]) <= {"-", ":"}:
            m = re.match(r"\*\*(.+?)\*\*", cells[-1])
            if m:
                out[(cells[0], ", ".join(cells[1].split(", ")[:2]))] = m.group(1)  # systems, metric
    return out


def verdict_changes(old: str, new: str) -> list[tuple[str, str, str, str]]:
    """``(claim, systems, old verdict, new verdict)`` for every claim of ``new`` whose
    verdict differs from the one in ``old`` (a claim new to the table: old is ``new claim``)."""
    a, b = verdicts(old), verdicts(new)
    return [(k[0], k[1], a.get(k, "new claim"), v) for k, v in b.items() if a.get(k) != v]


def write_readme_block(readme: Path, key: str, block: str) -> None:
    """Replace (or append) the generated block ``key`` of a README, atomically.  Verdicts
    that change against the block it replaces are appended, dated and named, to
    ``results/verdict-changes.md`` beside the README."""
    import datetime

    readme = Path(readme)
    text = readme.read_text()
    start, end = f"<!-- generated: {key} -->\n", "<!-- end generated -->"
    if start in text:
        i = text.index(start) + len(start)
        changes = verdict_changes(text[i:text.index(end, i)], block)
        if changes:
            log = readme.parent / "results" / "verdict-changes.md"
            log.parent.mkdir(parents=True, exist_ok=True)
            head = "" if log.exists() else ("# Verdict changes\n\nEvery regeneration of a claim table that changes "
                                             "a verdict appends the changed claims here.\n")
            day = datetime.date.today().isoformat()
            lines = [f"\n## {key}, {day}: {len(changes)} of {len(verdicts(block))} verdicts changed\n\n",
                     "| claim | systems | before | now |\n|---|---|---|---|\n"]
            lines += [f"| {c} | {sy} | {o} | {n} |\n" for c, sy, o, n in changes]
            with open(log, "a") as f:
                f.write(head + "".join(lines))
        text = text[:i] + block + text[text.index(end, i):]
    else:
        text = text.rstrip("\n") + "\n\n" + start + block + end + "\n"
    tmp = readme.with_suffix(".md.tmp")
    tmp.write_text(text)
    tmp.replace(readme)


def analysis_main(report, readme: Path, description: str, argv=None) -> int:
    """The command line of a baseline's analysis module: print ``report(root, task)``,
    optionally write it to ``--out`` and into the README's generated block (``--readme``)."""
    import argparse

    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--task", default="synth-ensembles-separation@3")
    ap.add_argument("--leaderboards", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--readme", action="store_true", help="rewrite the README's generated block for this task")
    a = ap.parse_args(argv)
    text = report(a.leaderboards or lb.default_root(), a.task)
    print(text, end="")
    if a.readme:
        write_readme_block(readme, a.task, text)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(text)
    return 0
