"""Analyses of the trained multimodal classifier on ``synth-ensembles-classification``:

* frames per video for the visual model (k = 1, 3, 5, 10, 20);
* uniformly spaced crops ("UC") against the central crop ("CC") for the audio models;
* missing modalities: the fused model with the frames blanked (black) or the audio
  silenced, beside the unimodal models;
* per-class F1 of every model.

    python -m baselines.multimodal.analysis --config cpu --version 1 [--out DIR]

Writes ``analysis.md`` and ``analysis.json`` (default: ``baselines/multimodal/results/``).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from avbench.instruments import CLASSES
from avbench.metrics.functional import classification as C
from avbench.tasks import get_task

from . import train as tr
from .infer import predict, task_arrays

RESULTS = Path(__file__).parent / "results"


def _scores(p: np.ndarray, y: np.ndarray) -> dict:
    pred = p.argmax(1)
    return {"hit@1": float(C.hit_at_k(p, y, 1)), "hit@3": float(C.hit_at_k(p, y, 3)),
            "macro_f1": float(C.f1_score(pred, y, len(CLASSES)))}


def run(config: str = "cpu", version: str = "1") -> dict:
    cfg = tr.Config.load(config)
    task = get_task("synth-ensembles-classification", version)
    paths = tr.train_all(cfg, version, progress=False)
    d = task_arrays(task, cfg)
    y = np.array([CLASSES.index(i.label) for i in task.items])
    out: dict = {"task": task.spec.key, "config": cfg.name, "n_items": len(y)}
    models = ("mm-audio-choi", "mm-audio-han", "mm-video", "mm-av")
    probs = {m: predict(m, cfg, paths, d) for m in models}
    out["models"] = {m: _scores(p, y) for m, p in probs.items()}
    out["per_class_f1"] = {m: dict(zip(CLASSES, map(float, C.f1_score(p.argmax(1), y, len(CLASSES), average=None))))
                           for m, p in probs.items()}
    out["frames"] = {k: _scores(predict("mm-video", cfg, paths, d, k=k), y)
                     for k in sorted({1, 3, 5, 10, cfg.k_max}) if k <= cfg.k_max}
    out["crops"] = {}
    for m in ("mm-audio-choi", "mm-audio-han"):
        n_uc = cfg.n_crops if m == "mm-audio-choi" else 2 * cfg.n_crops
        out["crops"][m] = {"UC": _scores(predict(m, cfg, paths, d, n_crops=n_uc), y),
                           "CC": _scores(predict(m, cfg, paths, d, n_crops=1), y)}
    blank = {"audio": d["audio"], "frames": np.zeros_like(d["frames"])}
    silent = {"audio": np.zeros_like(d["audio"]), "frames": d["frames"]}
    out["missing"] = {"audio-visual": out["models"]["mm-av"],
                      "audio-visual, frames blanked": _scores(predict("mm-av", cfg, paths, blank), y),
                      "audio-visual, audio silenced": _scores(predict("mm-av", cfg, paths, silent), y),
                      "audio only (Choi)": out["models"]["mm-audio-choi"],
                      "video only": out["models"]["mm-video"]}
    return out


def markdown(r: dict) -> str:
    def row(name, s):
        return f"| {name} | {100 * s['hit@1']:.1f} | {100 * s['hit@3']:.1f} | {100 * s['macro_f1']:.1f} |"

    head = "| | Hit@1 (%) | Hit@3 (%) | macro-F1 (%) |\n|---|---|---|---|"
    lines = [f"# Multimodal classifier analyses ({r['task']}, {r['n_items']} items, config `{r['config']}`)", "",
             "Written by `python -m baselines.multimodal.analysis`.", "", "## Models", "", head]
    lines += [row(m, s) for m, s in r["models"].items()]
    lines += ["", "## Frames per video (visual model)", "", head]
    lines += [row(f"k = {k}", s) for k, s in r["frames"].items()]
    lines += ["", "## Crops (audio models)", "", head]
    lines += [row(f"{m} {c}", s) for m, cs in r["crops"].items() for c, s in cs.items()]
    lines += ["", "## Missing modalities", "", head]
    lines += [row(n, s) for n, s in r["missing"].items()]
    lines += ["", "## Per-class F1 (%)", "", "| class | " + " | ".join(r["per_class_f1"]) + " |",
              "|---|" + "---|" * len(r["per_class_f1"])]
    for c in CLASSES:
        lines.append(f"| {c} | " + " | ".join(f"{100 * r['per_class_f1'][m][c]:.1f}" for m in r["per_class_f1"]) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="cpu")
    ap.add_argument("--version", default="1")
    ap.add_argument("--out", default=str(RESULTS))
    a = ap.parse_args(argv)
    r = run(a.config, a.version)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "analysis.json").write_text(json.dumps(r, indent=1, sort_keys=True) + "\n")
    (out / "analysis.md").write_text(markdown(r))
    print(markdown(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
