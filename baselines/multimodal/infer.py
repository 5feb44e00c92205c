"""Submissions of the multimodal classifier (trained on ``synth-ensembles``).

* ``mm-audio-choi`` — Choi et al. CNN, class probabilities averaged over uniformly spaced crops;
* ``mm-audio-han`` — Han et al. CNN, averaged over 1 s windows;
* ``mm-video`` — frame CNN, averaged over k frames;
* ``mm-av`` — late fusion of the frozen Choi and frame-CNN features.

``run(task, out)`` trains the models first when their checkpoints are missing (see
:mod:`baselines.multimodal.train`); ``AVBENCH_MM_CONFIG`` selects the config (default
``cpu``).  On a real classification task (``fcvid-classification``, ...) the models are
trained on that dataset's prepared train/val splits with its own classes (prepare them
with ``avbench data prepare``); clips are the central 65535 samples.  Predictions go to
``<task>/predictions.csv`` with the parameter count in ``submission.yaml``.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from avbench.submission import SubmissionWriter
from avbench.tasks import get_task
from .._common import workdir

from . import train as tr
from .model import n_parameters

MODELS = {
    "mm-audio-choi": ("Audio CNN (Choi et al. 2016), uniform crops", ["audio"], ("choi",)),
    "mm-audio-han": ("Audio CNN (Han et al. 2016), 1 s windows", ["audio"], ("han",)),
    "mm-video": ("Frame CNN (ResNet-18), k frames averaged", ["frames"], ("visual",)),
    "mm-av": ("Audio-visual late fusion (Choi + frame CNN features)", ["audio", "frames"], ("choi", "visual", "fusion")),
}


def task_arrays(task, cfg: tr.Config) -> dict[str, np.ndarray]:
    """Audio and k_max uniformly spaced frames of every item of a classification task
    (cached by the task's items sha256)."""
    cache = workdir("multimodal", "inputs") / (
        f"{task.spec.key}-{task.spec.items_sha256[:16]}-{cfg.k_max}x{cfg.size}.npz")
    if cache.exists():
        with np.load(cache) as z:
            return {k: z[k] for k in z.files}
    audio = np.stack([tr.center(task.mixture(i)) for i in task.items]).astype(np.float32)
    frames = np.zeros((len(task.items), cfg.k_max, cfg.size, cfg.size, 3), np.uint8)
    for n, item in enumerate(task.items):
        fr = task.frames(item, 8.0, cfg.size)  # protocol 2: a list by position; protocol 1: a dict
        fr = next(iter(fr.values() if isinstance(fr, dict) else fr), np.zeros((0,), np.uint8))
        frames[n] = tr.uniform_frames(fr, cfg.k_max, cfg.size)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache.with_suffix(".tmp.npz"), audio=audio, frames=frames)
    cache.with_suffix(".tmp.npz").replace(cache)
    return {"audio": audio, "frames": frames}


def predict(name: str, cfg: tr.Config, paths: dict[str, Path], d: dict[str, np.ndarray], k: int | None = None,
            n_crops: int | None = None) -> np.ndarray:
    """Class probabilities ``(n_items, n_classes)`` of one model on arrays ``d``."""
    if name in ("mm-audio-choi", "mm-audio-han"):
        which = "choi" if name == "mm-audio-choi" else "han"
        return tr.audio_probs(cfg, which, tr.load_model(cfg, which, paths[which]), d["audio"], n_crops)
    visual = tr.load_model(cfg, "visual", paths["visual"])
    if name == "mm-video":
        return tr.visual_probs(visual, d["frames"], tr.frame_index(cfg.k_max, k or cfg.k_frames))
    choi = tr.load_model(cfg, "choi", paths["choi"])
    fusion = tr.load_model(cfg, "fusion", paths["fusion"])
    return tr.fusion_probs(fusion, tr.fused_features(cfg, choi, visual, d))


def run(name: str, task: str, out: str | Path, progress: bool = True, config: str | None = None) -> Path:
    cfg = tr.Config.load(config or os.environ.get("AVBENCH_MM_CONFIG", "cpu"))
    t = get_task(task)
    if t.spec.family != "classification":
        raise ValueError(f"{name} classifies; {t.spec.key} is a {t.spec.family} task")
    if t.spec.name.startswith("synth-"):
        version = t.spec.version
    else:  # a real dataset: train on its own prepared train/val splits and classes
        cfg = dataclasses.replace(cfg, data=t.spec.dataset, n_classes=len(t.spec.classes))
        version = t.spec.version
    paths = tr.train_all(cfg, version, progress, stages=MODELS[name][2])
    probs = predict(name, cfg, paths, task_arrays(t, cfg))
    n_par = n_parameters(*(tr.load_model(cfg, s, paths[s]) for s in MODELS[name][2]))
    with SubmissionWriter(
            out, name=name, model=f"{MODELS[name][0]} [{cfg.name} config]", authors=["avbench"], code_url=None,
            oracle=False, extra_training_data="none", n_parameters=n_par,
            notes=f"baselines/multimodal, config {cfg.name}, trained on {cfg.data}@{version} train split "
                  f"(best validation epoch), seed {cfg.seed}.") as w:
        w.add_task(t, inputs=MODELS[name][1], omitted_slots="error")
        for item, p in zip(t.items, probs):
            w.write_scores(t, item.id, p)
    return Path(out)


BASELINES = {n: (lambda task, out, progress=True, _n=n: run(_n, task, out, progress)) for n in MODELS}
