"""Analyses of the trained multimodal classifier on ``synth-ensembles-classification``, per
seed, and the thesis' chapter-4 claims beside its numbers (Tables 4.2-4.4):

* every model's scores and the seed spread; per-class F1; the frame-only model's
  confusion matrix;
* paired tests on the same clips: McNemar's exact test on each seed's correct/incorrect
  pairs (Choi against Han; Choi's uniformly spaced crops "UC" against the central crop
  "CC"), and the Wilcoxon signed-rank test on the per-work mean of the seed-averaged
  correctness (segments of one work are not independent);
* frames per video at test time for the visual model (k = 1, 3, 5, 10, 20), beside the
  models *trained* on 1, 5 and 10 frames per video (``mm-video-f<k>``, Table 4.2's question);
* missing modalities: the fused model with the frames blanked (black) or the audio
  silenced, beside the unimodal models;
* ``claims``: the claim table from the committed leaderboard entries
  (``configs/claims.yaml``) and this analysis' paired tests, written into the README.

    python -m baselines.multimodal.analysis [--config cpu] [--version 3] [--seeds 0,1,2] [--claims]

Writes ``analysis.md``, ``analysis.json`` and ``confusion_mm-video.svg`` (default:
``baselines/multimodal/results/<version>/``).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd

from avbench import leaderboard as lb
from avbench.compare import ALPHA, compare_frames
from avbench.instruments import CLASSES
from avbench.metrics.functional import classification as C
from avbench.tasks import get_task
from .. import claims as cl
from .._common import confusion_svg
from ..names import SEEDS

from . import train as tr
from .infer import MODELS, predict, task_arrays

RESULTS = Path(__file__).parent / "results"
README = Path(__file__).parent / "README.md"
CONFIGS = Path(__file__).parent / "configs"


def mcnemar(a_correct: np.ndarray, b_correct: np.ndarray) -> dict:
    """McNemar's exact test on paired correct/incorrect outcomes: ``b`` = clips only ``a``
    gets right, ``c`` = clips only ``b`` gets right; two-sided binomial p-value of
    ``min(b, c)`` in ``b + c`` fair draws (1 when there is no discordant pair)."""
    from scipy.stats import binom

    a, b_ = np.asarray(a_correct, bool), np.asarray(b_correct, bool)
    only_a, only_b = int((a & ~b_).sum()), int((~a & b_).sum())
    n = only_a + only_b
    p = 1.0 if n == 0 else float(min(1.0, 2 * binom.cdf(min(only_a, only_b), n, 0.5)))
    return {"only_a": only_a, "only_b": only_b, "p_value": p}


def _scores(p: np.ndarray, y: np.ndarray) -> dict:
    pred = p.argmax(1)
    return {"hit@1": float(C.hit_at_k(p, y, 1)), "hit@3": float(C.hit_at_k(p, y, 3)),
            "macro_f1": float(C.f1_score(pred, y, len(CLASSES)))}


def _spread(vals: list[dict]) -> dict:
    return {k: {"mean": float(np.mean([v[k] for v in vals])), "min": float(min(v[k] for v in vals)),
                "max": float(max(v[k] for v in vals)), "per_seed": [v[k] for v in vals]} for k in vals[0]}


def _paired(name_a: str, name_b: str, hits_a: list[np.ndarray], hits_b: list[np.ndarray], ids, groups) -> dict:
    """McNemar per seed and the by-work test on the seed-mean correctness."""
    fa = pd.DataFrame({"item": ids, "group": groups, "hit": np.mean(hits_a, 0)})
    fb = pd.DataFrame({"item": ids, "group": groups, "hit": np.mean(hits_b, 0)})
    r = compare_frames(fa, fb, "classification", "hit")
    return {"a": name_a, "b": name_b, "mcnemar": [mcnemar(x, z) for x, z in zip(hits_a, hits_b)],
            "mean_a": r["mean_a"], "mean_b": r["mean_b"], "diff": r["bootstrap"]["diff"], "low": r["bootstrap"]["low"],
            "high": r["bootstrap"]["high"], "p": r["test"]["p_value"], "n": r["n"], "n_works": r["n_works"]}


def _confusion_svg(cm: np.ndarray, title: str, path: Path) -> None:
    confusion_svg(cm, CLASSES, title, path)


def run(config: str = "cpu", version: str = "3", seeds=SEEDS, out_dir: Path | None = None) -> dict:
    base = tr.Config.load(config)
    task = get_task("synth-ensembles-classification", version)
    d = task_arrays(task, base)
    y = np.array([CLASSES.index(i.label) for i in task.items])
    ids = np.array([i.id for i in task.items])
    groups = np.array([i.group for i in task.items])
    out: dict = {"task": task.spec.key, "config": base.name, "n_items": len(y), "seeds": list(seeds)}
    per_seed: dict[str, list] = {m: [] for m in MODELS}
    hits: dict[str, list] = {m: [] for m in MODELS}
    cc_hits, frames, crops, missing, f1s = [], [], [], [], []
    for s in seeds:
        cfg = dataclasses.replace(base, seed=s)
        paths = tr.train_all(cfg, version, progress=False)
        probs = {m: predict(m, cfg, paths, d) for m in MODELS}
        for m, p in probs.items():
            per_seed[m].append(_scores(p, y))
            hits[m].append((p.argmax(1) == y).astype(float))
        f1s.append({m: C.f1_score(p.argmax(1), y, len(CLASSES), average=None) for m, p in probs.items()})
        frames.append({str(k): _scores(predict("mm-video", cfg, paths, d, k=k), y)
                       for k in sorted({1, 3, 5, 10, cfg.k_max}) if k <= cfg.k_max})
        cc = {m: predict(m, cfg, paths, d, n_crops=1) for m in ("mm-audio-choi", "mm-audio-han")}
        cc_hits.append((cc["mm-audio-choi"].argmax(1) == y).astype(float))
        crops.append({f"{m} {c}": _scores(p, y) for m in cc for c, p in (("UC", probs[m]), ("CC", cc[m]))})
        blank = {"audio": d["audio"], "frames": np.zeros_like(d["frames"])}
        silent = {"audio": np.zeros_like(d["audio"]), "frames": d["frames"]}
        missing.append({"audio-visual": per_seed["mm-av"][-1],
                        "audio-visual, frames blanked": _scores(predict("mm-av", cfg, paths, blank), y),
                        "audio-visual, audio silenced": _scores(predict("mm-av", cfg, paths, silent), y),
                        "audio only (Choi)": per_seed["mm-audio-choi"][-1], "video only": per_seed["mm-video"][-1]})
        if s == seeds[0]:
            cm = C.confusion(probs["mm-video"].argmax(1), y, len(CLASSES))
            out["confusion_mm_video_seed0"] = np.asarray(cm).tolist()
            if out_dir is not None:
                _confusion_svg(np.asarray(cm), f"mm-video (seed {s}) on {task.spec.key}", out_dir / "confusion_mm-video.svg")
    out["models"] = {m: _spread(v) for m, v in per_seed.items()}
    out["per_class_f1"] = {m: dict(zip(CLASSES, map(float, np.mean([f[m] for f in f1s], 0)))) for m in MODELS}
    out["frames"] = {k: _spread([f[k] for f in frames]) for k in frames[0]}
    out["crops"] = {k: _spread([c[k] for c in crops]) for k in crops[0]}
    out["missing"] = {k: _spread([c[k] for c in missing]) for k in missing[0]}
    out["paired"] = {"choi_vs_han": _paired("mm-audio-choi", "mm-audio-han", hits["mm-audio-choi"], hits["mm-audio-han"],
                                            ids, groups),
                     "uc_vs_cc": _paired("mm-audio-choi UC", "mm-audio-choi CC", hits["mm-audio-choi"], cc_hits, ids, groups)}
    return out


def _pct(s: dict) -> str:
    return f"{100 * s['mean']:.1f} [{100 * s['min']:.1f}, {100 * s['max']:.1f}]"


def markdown(r: dict) -> str:
    def row(name, s):
        return f"| {name} | {_pct(s['hit@1'])} | {_pct(s['hit@3'])} | {_pct(s['macro_f1'])} |"

    head = "| | Hit@1 (%) | Hit@3 (%) | macro-F1 (%) |\n|---|---|---|---|"
    lines = [f"# Multimodal classifier analyses ({r['task']}, {r['n_items']} items, config `{r['config']}`, "
             f"seeds {r['seeds']})", "", "Written by `python -m baselines.multimodal.analysis`; mean over seeds "
             "[seed range].", "", "## Models", "", head]
    lines += [row(m, s) for m, s in r["models"].items()]
    lines += ["", "## Paired tests on the same clips", "",
              "| a vs b | Hit@1 a vs b | difference [95% CI], Wilcoxon by work | McNemar per seed (only a / only b, p) |",
              "|---|---|---|---|"]
    for t in r["paired"].values():
        mc = "; ".join(f"{m['only_a']}/{m['only_b']}, p = {m['p_value']:.2g}" for m in t["mcnemar"])
        lines.append(f"| {t['a']} vs {t['b']} | {100 * t['mean_a']:.1f} vs {100 * t['mean_b']:.1f} | "
                     f"{100 * t['diff']:+.1f} pts [{100 * t['low']:+.1f}, {100 * t['high']:+.1f}], p = {t['p']:.2g} "
                     f"({t['n_works']} works) | {mc} |")
    lines += ["", "## Frames per video at test time (`mm-video`, trained on 20)", "", head]
    lines += [row(f"k = {k}", s) for k, s in r["frames"].items()]
    lines += ["", "## Crops (audio models)", "", head]
    lines += [row(k, s) for k, s in r["crops"].items()]
    lines += ["", "## Missing modalities", "", head]
    lines += [row(n, s) for n, s in r["missing"].items()]
    lines += ["", "## Confusion matrix of `mm-video` (seed 0; rows true, columns predicted)", "",
              "| | " + " | ".join(c[:5] for c in CLASSES) + " |", "|---|" + "---:|" * len(CLASSES)]
    for c, row_ in zip(CLASSES, r["confusion_mm_video_seed0"]):
        lines.append(f"| {c} | " + " | ".join(str(v) for v in row_) + " |")
    lines += ["", "## Per-class F1 (%, mean over seeds)", "", "| class | " + " | ".join(r["per_class_f1"]) + " |",
              "|---|" + "---|" * len(r["per_class_f1"])]
    for c in CLASSES:
        lines.append(f"| {c} | " + " | ".join(f"{100 * r['per_class_f1'][m][c]:.1f}" for m in r["per_class_f1"]) + " |")
    return "\n".join(lines) + "\n"


def claims_report(root: Path, version: str, results: Path) -> str:
    task = f"synth-ensembles-classification@{version}"
    text = (f"Results on `{task}`: the mean over seeds of each entry's score (%), the seeds' range in brackets.\n\n"
            + cl.seed_table(root, task, list(MODELS), ["hit@1", "hit@3"]) + "\n")
    text += (f"Claims of the thesis (chapter 4) on `{task}`: the thesis' numbers are FCVID test Hit@1 (%); ours pool "
            "each model's seeds per clip, pair the two on the same clips and test by work (" + cl.TEST_RULE + "); the "
            "analysis rows add McNemar's exact test per seed.\n\n")
    text += cl.table(root, task, cl.load_claims(CONFIGS / "claims.yaml"), family="classification")
    p = results / "analysis.json"
    if p.exists():
        r = json.loads(p.read_text())
        for key, claim, paper in (("uc_vs_cc", "uniformly spaced crops beat the central crop (Choi)",
                                   "79.81 vs 77.73 (Table 4.3, Choi + UC vs Choi + CC)"),):
            t = r["paired"][key]
            mc = "/".join(f"{m['p_value']:.2g}" for m in t["mcnemar"])
            ok = cl.verdict("greater", t["diff"], t["low"], t["high"], t["p"], [], cl.MARGIN["rate"])
            text += (f"| {claim} | `{t['a']}` vs `{t['b']}`, Hit@1 | {paper} | {100 * t['mean_a']:.1f} vs "
                     f"{100 * t['mean_b']:.1f}: {100 * t['diff']:+.1f} pts [{100 * t['low']:+.1f}, {100 * t['high']:+.1f}], "
                     f"p = {t['p']:.2g} over {t['n_works']} works (n = {t['n']}); McNemar p per seed {mc} | "
                     f"**{ok}** (not re-derivable: a summary in `results/analysis.json`, no per-item data "
                     "committed) |\n")
        t = r["paired"]["choi_vs_han"]
        text += ("\nMcNemar's exact test of Choi against Han on the same clips, per seed (only Choi right / only "
                 "Han right, p): " + "; ".join(f"{m['only_a']}/{m['only_b']}, p = {m['p_value']:.2g}"
                                                for m in t["mcnemar"]) + ".\n")
        text += "\nMissing modalities (the fused model with one input removed; Hit@1 %, mean [seed range]):\n\n"
        text += "| input | Hit@1 |\n|---|---:|\n" + "".join(f"| {k} | {_pct(v['hit@1'])} |\n"
                                                        for k, v in r["missing"].items())
        text += ("\nConfusion matrix of the frame-only model `mm-video` (seed 0; rows true, columns predicted):\n\n"
                 "| | " + " | ".join(c[:5] for c in CLASSES) + " |\n|---|" + "---:|" * len(CLASSES) + "\n")
        text += "".join(f"| {c} | " + " | ".join(str(v) for v in row) + " |\n"
                        for c, row in zip(CLASSES, r["confusion_mm_video_seed0"]))
    return text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="cpu")
    ap.add_argument("--version", default="3")
    ap.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    ap.add_argument("--out", default=None, help="default: baselines/multimodal/results/<version>")
    ap.add_argument("--leaderboards", type=Path, default=None)
    ap.add_argument("--claims", action="store_true", help="only rewrite the README's claim table")
    a = ap.parse_args(argv)
    out = Path(a.out) if a.out else RESULTS / a.version
    out.mkdir(parents=True, exist_ok=True)
    if not a.claims:
        r = run(a.config, a.version, tuple(int(s) for s in a.seeds.split(",")), out)
        (out / "analysis.json").write_text(json.dumps(r, indent=1, sort_keys=True) + "\n")
        (out / "analysis.md").write_text(markdown(r))
        print(markdown(r))
    text = claims_report(a.leaderboards or lb.default_root(), a.version, out)
    cl.write_readme_block(README, f"synth-ensembles-classification@{a.version}", text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
