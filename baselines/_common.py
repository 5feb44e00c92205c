"""Helpers shared by the baselines: configs from YAML, working folders, a fresh
submission folder for a task, and the resumable step loop of the step-trained models."""
from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np
import torch


def load_config(cls, configs: Path, name_or_path: str):
    """A config dataclass from a YAML file: a path, or the name of one in ``configs``."""
    import yaml

    p = Path(name_or_path)
    if not p.exists():
        p = configs / f"{name_or_path}.yaml"
    return cls(**yaml.safe_load(p.read_text()))


def workdir(baseline: str, tag: str) -> Path:
    """``AVBENCH_HOME/baselines/<baseline>/<tag>``, created: checkpoints and caches."""
    from avbench.config import home

    d = home() / "baselines" / baseline / tag
    d.mkdir(parents=True, exist_ok=True)
    return d


def run_steps(model: torch.nn.Module, opt: torch.optim.Optimizer, part: Path, *, steps: int, eval_every: int, seed: int,
              batch_loss: Callable[[np.random.Generator], torch.Tensor], val_loss: Callable[[], torch.Tensor],
              desc: str, progress: bool = True, stop_after: int | None = None,
              train_mode: Callable[[], object] | None = None, state: dict | None = None,
              after_eval: Callable[[dict], None] | None = None,
              lr_at: Callable[[int], float] | None = None,
              lr_factor_at: Callable[[int], float] | None = None) -> dict | None:
    """Train for ``steps`` steps, resuming from the partial checkpoint ``part`` when it exists.

    Step ``s`` draws its batch with ``numpy.random.default_rng((seed, s))``; every
    ``eval_every`` steps (and at the end) the validation loss is computed in eval mode, the
    best weights kept and ``part`` rewritten.  ``after_eval(state)`` is called with the
    live state once before the first step (after a resume) and after every evaluation;
    keys it adds are checkpointed (a curriculum, a learning-rate schedule).  ``lr_at(step)``,
    when given, sets every parameter group's learning rate before step ``step`` (a schedule
    that is a function of the step resumes exactly); ``lr_factor_at(step)`` instead scales each
    group's own initial learning rate (groups with different rates, one schedule).  Returns the final state (the model holding
    its best weights), or ``None`` when ``stop_after`` steps of this call ended it early.
    """
    from avbench.progress import bar as tqdm

    state = {"step": 0, "best": float("inf"), "best_state": None, "history": [], "seconds": 0.0, **(state or {})}
    if part.exists():
        s = torch.load(part, map_location="cpu", weights_only=False)
        model.load_state_dict(s["model"])
        opt.load_state_dict(s["opt"])
        state = s["state"]
    first = state["step"]
    if after_eval is not None:
        after_eval(state)
    bar = tqdm(total=steps, initial=first, desc=desc, disable=not progress)
    t0 = time.time()
    for step in range(first, steps):
        if stop_after is not None and step - first >= stop_after:
            bar.close()
            return None
        g = np.random.default_rng((seed, step))
        (train_mode or model.train)()
        if lr_at is not None:
            for grp in opt.param_groups:
                grp["lr"] = lr_at(step)
        if lr_factor_at is not None:
            for grp in opt.param_groups:
                grp["lr"] = grp.setdefault("initial_lr", grp["lr"]) * lr_factor_at(step)
        loss = batch_loss(g)
        opt.zero_grad()
        loss.backward()
        opt.step()
        bar.update()
        if (step + 1) % eval_every == 0 or step + 1 == steps:
            model.eval()
            with torch.no_grad():
                vl = float(val_loss())
            state["history"].append({"step": step + 1, "train_loss": float(loss.detach()), "val_loss": vl})
            if vl < state["best"]:
                state["best"] = vl
                state["best_state"] = {k: v.detach().clone() for k, v in model.state_dict().items()}
            state["step"] = step + 1
            if after_eval is not None:
                after_eval(state)
            state["seconds"] += time.time() - t0
            t0 = time.time()
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state}, part)
    bar.close()
    model.load_state_dict(state["best_state"])
    return state


def save_final(ckpt: Path, part: Path, model: torch.nn.Module, cfg, state: dict, **extra) -> Path:
    """Write the finished checkpoint of a :func:`run_steps` run (weights, config, history,
    best validation loss, training seconds and ``extra``) and remove the partial one."""
    torch.save({"model": model.state_dict(), "config": asdict(cfg), "history": state["history"],
                "best_val_loss": state["best"], "seconds": state["seconds"], **extra}, ckpt)
    part.unlink(missing_ok=True)
    return ckpt


def confusion_svg(cm: np.ndarray, classes, title: str, path: Path) -> None:
    """A confusion matrix (rows true, columns predicted) as an SVG without a date (the
    file's bytes depend on the counts alone)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 5))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=90, fontsize=7)
    ax.set_yticks(range(len(classes)), classes, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)
