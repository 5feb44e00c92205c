"""Exp-/CExp-Wave-U-Net submissions on the separation tasks.

``run(task, out)`` trains the model first when its checkpoint is missing
(``AVBENCH_WUN_CONFIG`` selects the config, default ``cpu``), then separates every
item's mixture by tiling output windows.  Every slot the model outputs is written (so
the energy it leaves in absent instruments' slots is scored by PES).
"""
from __future__ import annotations

from pathlib import Path

import torch

from avbench.instruments import CLASSES
from avbench.submission import SubmissionWriter
from avbench.tasks import get_task


from ..names import entries_of, entry_config
from . import train as tr
from .model import separate_long

MODELS = {"exp-wave-u-net": ("exp", "Exp-Wave-U-Net (13 outputs, silent targets for absent instruments)", ["mixture"]),
          "cexp-wave-u-net": ("cexp", "CExp-Wave-U-Net (bottleneck x present-instrument vector)", ["mixture", "labels"])}


def run(name: str, task: str, out: str | Path, progress: bool = True, config: str | None = None) -> Path:
    """Train (when missing) and run ``name``: a model, or ``<model>.s<seed>``."""
    from dataclasses import replace

    from avbench.progress import bar as tqdm

    base, config, seed = entry_config(name, "AVBENCH_WUN_CONFIG", config)
    key, desc, inputs = MODELS[base]
    cfg = replace(tr.Config.load(config), seed=seed)
    t = get_task(task)
    if t.spec.family != "separation" or list(t.spec.slots) != list(CLASSES):
        raise ValueError(f"{name} separates the 13 avbench slots; {t.spec.key} is not such a task")
    version = t.spec.version if t.spec.name.startswith("synth-") else "1"
    model = tr.load(cfg, key, tr.train(cfg, key, version, progress))
    with SubmissionWriter(
            out, name=name, model=f"{desc} [{cfg.name} config]", authors=["avbench"], code_url=None, oracle=False,
            extra_training_data="none", n_parameters=sum(p.numel() for p in model.parameters()),
            notes=f"baselines/wave_unet, config {cfg.name}, trained on synth-ensembles@{version} train ensembles, "
                  f"seed {cfg.seed}.") as w:
        w.add_task(t, inputs=inputs)
        for item in tqdm(t.items, desc=name, disable=not progress):
            mix = torch.from_numpy(t.mixture(item))
            lab = torch.tensor([[float(c in t.labels(item)) for c in CLASSES]]) if key == "cexp" else None
            w.write_estimates(t, item.id, separate_long(model, mix, lab, cfg.n_out).numpy())
    return Path(out)


BASELINES = entries_of(MODELS, run)
