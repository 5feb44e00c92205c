"""Submissions of the multimodal classifier (trained on ``synth-ensembles``).

* ``mm-audio-choi`` — Choi et al. CNN, class probabilities averaged over uniformly spaced crops;
* ``mm-audio-han`` — Han et al. CNN, averaged over 1 s windows;
* ``mm-audio-xception`` — the Xception-style audio network, averaged over uniform crops;
* ``mm-video`` — frame CNN, averaged over k frames; ``mm-video-f1``, ``-f5``, ``-f10`` the
  same network trained on 1, 5 or 10 frames per video (Table 4.2's question);
* ``mm-av`` — late fusion of the frozen Choi and frame-CNN features; ``mm-av-xception``
  with the Xception features.

``<name>.s<seed>`` trains and runs another seed (checkpoints in ``s<seed>/``).

``run(task, out)`` trains the models first when their checkpoints are missing (see
:mod:`baselines.multimodal.train`); ``AVBENCH_MM_CONFIG`` selects the config (default
``cpu``).  On a real classification task (``fcvid-classification``, ...) the models are
trained on that dataset's prepared train/val splits with its own classes (prepare them
with ``avbench data prepare``); clips are the central 65535 samples.  Predictions go to
``<task>/predictions.csv`` with the parameter count in ``submission.yaml``.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from avbench.submission import SubmissionWriter
from avbench.tasks import get_task
from .._common import workdir
from ..names import entries_of, entry_config

from . import train as tr
from .model import n_parameters

MODELS = {
    "mm-audio-choi": ("Audio CNN (Choi et al. 2016), uniform crops", ["audio"], ("choi",)),
    "mm-audio-han": ("Audio CNN (Han et al. 2016), 1 s windows", ["audio"], ("han",)),
    "mm-audio-xception": ("Audio Xception (48x3 first filters, separable convolutions), uniform crops", ["audio"],
                          ("xception",)),
    "mm-video": ("Frame CNN (ResNet-18), k frames averaged", ["frames"], ("visual",)),
    **{f"mm-video-f{k}": (f"Frame CNN (ResNet-18) trained on {k} frame{'s' if k > 1 else ''} per video, k frames averaged",
                          ["frames"], (f"visual-f{k}",)) for k in (1, 5, 10)},
    "mm-av": ("Audio-visual late fusion (Choi + frame CNN features)", ["audio", "frames"], ("choi", "visual", "fusion")),
    "mm-av-xception": ("Audio-visual late fusion (Xception + frame CNN features)", ["audio", "frames"],
                       ("xception", "visual", "fusion-xception")),
}
AUDIO = {"mm-audio-choi": "choi", "mm-audio-han": "han", "mm-audio-xception": "xception"}


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
    if name in AUDIO:
        which = AUDIO[name]
        return tr.audio_probs(cfg, which, tr.load_model(cfg, which, paths[which]), d["audio"], n_crops)
    if name.startswith("mm-video"):
        stage = MODELS[name][2][0]
        visual = tr.load_model(cfg, stage, paths[stage])
        return tr.visual_probs(visual, d["frames"], tr.frame_index(cfg.k_max, k or cfg.k_frames))
    audio_stage, _, fusion_stage = MODELS[name][2]
    visual = tr.load_model(cfg, "visual", paths["visual"])
    audio = tr.load_model(cfg, audio_stage, paths[audio_stage])
    fusion = tr.load_model(cfg, fusion_stage, paths[fusion_stage])
    return tr.fusion_probs(fusion, tr.fused_features(cfg, audio, visual, d))


def run(name: str, task: str, out: str | Path, progress: bool = True, config: str | None = None) -> Path:
    """Train (when missing) and run ``name``: a model of :data:`MODELS`, or ``<model>.s<seed>``."""
    name_seed = name
    name, config, seed = entry_config(name, "AVBENCH_MM_CONFIG", config)
    cfg = dataclasses.replace(tr.Config.load(config), seed=seed)
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
            out, name=name_seed, model=f"{MODELS[name][0]} [{cfg.name} config]", authors=["avbench"], code_url=None,
            oracle=False, extra_training_data="none", n_parameters=n_par,
            notes=f"baselines/multimodal, config {cfg.name}, trained on {cfg.data}@{version} train split "
                  f"(best validation epoch), seed {cfg.seed}.") as w:
        w.add_task(t, inputs=MODELS[name][1], omitted_slots="error")
        for item, p in zip(t.items, probs):
            w.write_scores(t, item.id, p)
    return Path(out)


BASELINES = entries_of(MODELS, run)
