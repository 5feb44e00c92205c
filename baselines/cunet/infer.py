"""Conditioned U-Net submissions on the 13-slot separation tasks
(``synth-ensembles-separation``, ``urmp-separation`` once prepared).

``run(variant, task, out)`` trains the variant first when its checkpoint is missing
(``AVBENCH_CUNET_CONFIG`` selects the size config, default ``cpu``), then separates every
item's mixture with the item's labels or its players' frames as context.  Every slot with
a non-silent estimate is written, so energy left in absent instruments' slots is scored
by PES.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from avbench.instruments import CLASSES
from avbench.submission import SubmissionWriter
from avbench.tasks import get_task

from ..multimodal import train as mm

from ..names import entries_of, entry_config
from . import train as tr
from .model import MAX_PLAYERS


def item_context(cfg: tr.Config, t, item, trunk=None) -> tuple[torch.Tensor | None, np.ndarray | None]:
    """The item's visual context with a batch dimension of 1, as in training, and its
    player mask ``(K',)``: one central frame per player (trunk features, or the frame
    itself when fine-tuned) or ``motion_frames`` frames' features spread over the clip,
    the players in the order the task serves them (protocol 2: position order), so the
    context is built from the frames alone.  ``(None, None)`` for the other contexts."""
    if cfg.context not in ("visual", "visual-finetune", "motion"):
        return None, None
    size = mm.Config.load(cfg.mm_config).size
    fr = t.frames(item, 8.0, size)
    fr = list(fr.values()) if isinstance(fr, dict) else list(fr)
    if len(fr) > MAX_PLAYERS:
        raise ValueError(f"{item.id} has {len(fr)} players; the visual contexts take at most {MAX_PLAYERS}")
    if cfg.context == "motion":
        out = torch.zeros(1, MAX_PLAYERS, cfg.motion_frames, trunk.n_features)
    elif cfg.context == "visual":
        out = torch.zeros(1, MAX_PLAYERS, trunk.n_features)
    else:
        out = torch.zeros(1, MAX_PLAYERS, 3, size, size)
    players = np.zeros(MAX_PLAYERS, np.float32)
    for j, f in enumerate(fr):
        players[j] = 1.0
        if cfg.context == "motion":
            idx = mm.frame_index(len(f), cfg.motion_frames)
            out[0, j] = torch.from_numpy(tr.frame_features(trunk, f[idx][None])[0])
        elif cfg.context == "visual":
            out[0, j] = torch.from_numpy(tr.frame_features(trunk, f[len(f) // 2][None, None])[0, 0])
        else:
            out[0, j] = mm.frame_tensor(f[len(f) // 2])
    return out, players


def run(name: str, task: str, out: str | Path, progress: bool = True, config: str | None = None) -> Path:
    """Train (when missing) and run ``name``: a variant, or ``<variant>.s<seed>``."""
    from dataclasses import replace

    from avbench.progress import bar as tqdm

    variant, config, seed = entry_config(name, "AVBENCH_CUNET_CONFIG", config)
    spec = tr.variants()[variant]
    cfg = replace(tr.Config.load(config, variant), seed=seed)
    t = get_task(task)
    if t.spec.family != "separation" or list(t.spec.slots) != list(CLASSES):
        raise ValueError(f"{name} separates the 13 avbench slots; {t.spec.key} is not such a task")
    version = t.spec.version if t.spec.name.startswith("synth-") else "1"
    model = tr.load(cfg, tr.train(cfg, version, progress))
    trunk = tr.trunk(cfg, version) if cfg.context in ("visual", "motion") else None
    with SubmissionWriter(
            out, name=name, model=f"{spec['description']} [{cfg.name} config]", authors=["avbench"], code_url=None,
            oracle=False, extra_training_data="none", n_parameters=sum(p.numel() for p in model.parameters()),
            notes=(f"baselines/cunet, config {cfg.name}, mix-and-separate on synth-ensembles@{version} train solos, "
                   f"seed {cfg.seed}.")) as w:
        w.add_task(t, inputs=spec["inputs"])
        for item in tqdm(t.items, desc=name, disable=not progress):
            ctx, players = item_context(cfg, t, item, trunk)
            if players is None:  # the present-instrument vector, read only by the label-conditioned
                present = (np.array([float(c in t.labels(item)) for c in CLASSES]) if "labels" in spec["inputs"]
                           else np.ones(len(CLASSES)))
            est = tr.separate(model, cfg, t.mixture(item), present if players is None else players, ctx)
            w.write_estimates(t, item.id, est)
    return Path(out)


BASELINES = entries_of(tr.variants(), run)
