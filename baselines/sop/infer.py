"""Sound-of-Pixels and Object-Prior submissions on the two-source tasks
(``synth-ensembles-mix2``, ``music-mix2`` once prepared).

Each source of an item is separated with its own player's frames (3 frames spaced over
the clip); the estimates are named by instrument.  ``AVBENCH_SOP_CONFIG`` selects the
config (default ``cpu``); the model is trained first when its checkpoint is missing.
"""
from __future__ import annotations

import os
from pathlib import Path

from avbench.submission import SubmissionWriter
from avbench.tasks import get_task

from ..multimodal import train as mm

from . import train as st

MODELS = {"sound-of-pixels": ("sop", "Sound-of-Pixels (K-channel U-Net x visual vector, binary masks)"),
          "object-prior": ("object-prior", "Object-Prior (frozen instrument classifier, softmax-weighted channels)")}


def run(name: str, task: str, out: str | Path, progress: bool = True, config: str | None = None) -> Path:
    from avbench.progress import bar as tqdm

    kind, desc = MODELS[name]
    cfg = st.Config.load(config or os.environ.get("AVBENCH_SOP_CONFIG", "cpu"))
    size = mm.Config.load(cfg.mm_config).size
    t = get_task(task)
    if t.spec.family != "separation":
        raise ValueError(f"{name} separates; {t.spec.key} is a {t.spec.family} task")
    version = t.spec.version if t.spec.name.startswith("synth-") else "1"
    model = st.load(cfg, kind, st.train(cfg, kind, version, progress))
    with SubmissionWriter(
            out, name=name, model=f"{desc} [{cfg.name} config]", authors=["avbench"], code_url=None, oracle=False,
            extra_training_data="none", n_parameters=sum(p.numel() for p in model.parameters()),
            notes=f"baselines/sop, config {cfg.name}, mix-and-separate on synth-ensembles@{version} train solos, "
                  f"seed {cfg.seed}.") as w:
        w.add_task(t, inputs=["mixture", "frames"])
        for item in tqdm(t.items, desc=name, disable=not progress):
            fr = t.frames(item, 8.0, size)
            insts = list(fr)
            est = st.separate(model, t.mixture(item), [st.frames_tensor(fr[i][None], cfg.n_frames)[0] for i in insts])
            w.write_estimates(t, item.id, dict(zip(insts, est)))
    return Path(out)


BASELINES = {n: (lambda task, out, progress=True, _n=n: run(_n, task, out, progress)) for n in MODELS}
