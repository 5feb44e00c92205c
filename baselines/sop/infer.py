"""Sound-of-Pixels and Object-Prior submissions on the two-source tasks
(``synth-ensembles-mix2``, ``music-mix2`` once prepared).

Each source of an item is separated with its own player's frames (3 frames spaced over
the clip).  Protocol 1 names the players' instruments; under protocol 2 frames come by
position with the instruments present (``labels``), and the model names each player
itself (:func:`baselines.sop.train.name_players`).  ``AVBENCH_SOP_CONFIG`` selects the
config (default ``cpu``); ``<name>.s<seed>`` the training seed.  The model is trained
first when its checkpoint is missing.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from avbench.submission import SubmissionWriter
from avbench.tasks import get_task

from ..names import entries_of, entry_config
from ..multimodal import train as mm

from . import train as st

MODELS = {"sound-of-pixels": ("sop", "Sound-of-Pixels (K-channel U-Net x visual vector, binary masks)"),
          "object-prior": ("object-prior", "Object-Prior (frozen instrument classifier, softmax-weighted channels)")}


def player_estimates(t, item, model, cfg: st.Config, size: int, frames=None) -> dict:
    """``{slot: estimate}`` of one item: each player separated with its own frames and
    named (protocol 1: by the task; protocol 2: by the model among the item's labels).
    ``frames`` replaces the task's frames (the asynchronized-frames analysis)."""
    fr = t.frames(item, 8.0, size) if frames is None else frames
    players = list(fr.values()) if isinstance(fr, dict) else list(fr)
    clips = [st.frames_tensor(f[None], cfg.n_frames)[0] for f in players]
    est = st.separate(model, t.mixture(item), clips)
    names = list(fr) if isinstance(fr, dict) else st.name_players(model, clips, t.labels(item))
    return dict(zip(names, est))


def run(name: str, task: str, out: str | Path, progress: bool = True, config: str | None = None) -> Path:
    from avbench.progress import bar as tqdm

    base, config, seed = entry_config(name, "AVBENCH_SOP_CONFIG", config)
    kind, desc = MODELS[base]
    cfg = dataclasses.replace(st.Config.load(config), seed=seed)
    size = mm.Config.load(cfg.mm_config).size
    t = get_task(task)
    if t.spec.family != "separation":
        raise ValueError(f"{name} separates; {t.spec.key} is a {t.spec.family} task")
    version = t.spec.version if t.spec.name.startswith("synth-") else "1"
    model = st.load(cfg, kind, st.train(cfg, kind, version, progress))
    inputs = ["mixture", "frames"] + (["labels"] if t.spec.protocol_number >= 2 else [])
    with SubmissionWriter(
            out, name=name, model=f"{desc} [{cfg.name} config]", authors=["avbench"], code_url=None, oracle=False,
            extra_training_data="none", n_parameters=sum(p.numel() for p in model.parameters()),
            notes=f"baselines/sop, config {cfg.name}, mix-and-separate on synth-ensembles@{version} train solos, "
                  f"seed {cfg.seed}.") as w:
        w.add_task(t, inputs=inputs)
        for item in tqdm(t.items, desc=name, disable=not progress):
            w.write_estimates(t, item.id, player_estimates(t, item, model, cfg, size))
    return Path(out)


BASELINES = entries_of(MODELS, run)
