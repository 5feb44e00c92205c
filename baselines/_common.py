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


def step_generators(seed: int, step: int) -> np.random.Generator:
    """The randomness of training step ``step``: a numpy generator for the batch and torch's
    global generator (dropout, any ``torch.rand`` of the model) reseeded, both from
    ``(seed, step)`` alone, so that a resumed run draws exactly what an uninterrupted one
    draws, whichever step it resumes at."""
    g = np.random.default_rng((seed, step))
    torch.manual_seed(int(np.random.default_rng((seed, step, 1)).integers(2 ** 62)))
    return g


def _fmt_eta(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def run_steps(model: torch.nn.Module, opt: torch.optim.Optimizer, part: Path, *, steps: int, eval_every: int, seed: int,
              batch_loss: Callable[[np.random.Generator], torch.Tensor], val_loss: Callable[[], torch.Tensor],
              desc: str, progress: bool = True, stop_after: int | None = None,
              train_mode: Callable[[], object] | None = None, state: dict | None = None,
              after_eval: Callable[[dict], None] | None = None,
              lr_at: Callable[[int], float] | None = None,
              lr_factor_at: Callable[[int], float] | None = None,
              quality: Callable[[], dict] | None = None,
              max_seconds: float | None = None, select: str = "loss") -> dict | None:
    """Train for ``steps`` steps, resuming from the partial checkpoint ``part`` when it exists.

    Step ``s`` draws its batch and its dropout from ``(seed, s)`` (:func:`step_generators`);
    every ``eval_every`` steps (and at the end) the validation loss is computed in eval
    mode, ``quality()`` (when given: a dict such as ``{"sdri": .., "silenced": ..}``, on the
    validation mixtures) is recorded beside it, the best weights are kept and ``part`` is
    rewritten with the weights, the optimiser and the state.  A run stopped anywhere and
    resumed therefore ends with the same weights as an uninterrupted one (tested).
    ``select``: which weights are kept, ``loss`` (lowest validation loss) or ``sdri``
    (highest validation SDRi of ``quality``).  ``after_eval(state)`` is called with the
    live state once before the first step (after a resume) and after every evaluation;
    keys it adds are checkpointed (a curriculum, a learning-rate schedule).  ``lr_at(step)``,
    when given, sets every parameter group's learning rate before step ``step`` (a schedule
    that is a function of the step resumes exactly); ``lr_factor_at(step)`` instead scales each
    group's own initial learning rate (groups with different rates, one schedule; ``None``
    leaves the rates alone).

    The budget is ``steps``; ``max_seconds`` (wall time of this call) and ``stop_after``
    (steps of this call) end a call early at the next evaluation or at once, after which
    the run resumes from ``part``.  With ``progress``, every evaluation prints one line:
    step, training and validation loss, the quality figures and the ETA.  Returns the final
    state (the model holding its kept weights), or ``None`` when the call ended early.
    """
    import sys

    state = {"step": 0, "best": float("inf"), "best_state": None, "history": [], "seconds": 0.0, **(state or {})}
    if part.exists():
        s = torch.load(part, map_location="cpu", weights_only=False)
        model.load_state_dict(s["model"])
        opt.load_state_dict(s["opt"])
        state = s["state"]
    first = state["step"]
    if after_eval is not None:
        after_eval(state)
    t_call = t0 = time.time()
    for step in range(first, steps):
        if stop_after is not None and step - first >= stop_after:
            return None
        g = step_generators(seed, step)
        (train_mode or model.train)()
        if lr_at is not None:
            for grp in opt.param_groups:
                grp["lr"] = lr_at(step)
        f = lr_factor_at(step) if lr_factor_at is not None else None
        if f is not None:  # None: leave the rates as they are (a plateau rule owns them)
            for grp in opt.param_groups:
                grp["lr"] = grp.setdefault("initial_lr", grp["lr"]) * f
        loss = batch_loss(g)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % eval_every == 0 or step + 1 == steps:
            model.eval()
            with torch.no_grad():
                vl = float(val_loss())
                q = quality() if quality is not None else {}
            rec = {"step": step + 1, "train_loss": float(loss.detach()), "val_loss": vl, **q}
            state["history"].append(rec)
            score = -q["sdri"] if select == "sdri" and "sdri" in q else vl
            if score < state["best"]:
                state["best"] = score
                state["best_state"] = {k: v.detach().clone() for k, v in model.state_dict().items()}
            state["step"] = step + 1
            if after_eval is not None:
                after_eval(state)
            state["seconds"] += time.time() - t0
            t0 = time.time()
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state}, part)
            if progress:
                done = state["step"] - first
                eta = (time.time() - t_call) / max(done, 1) * (steps - state["step"])
                extra = "".join(f", val SDRi {v:+.2f} dB" if k == "sdri" else
                                (f", silenced {100 * v:.1f}%" if k == "silenced" else f", {k} {v:.4g}")
                                for k, v in q.items())
                print(f"[{desc}] step {state['step']}/{steps}: loss {rec['train_loss']:.4f}, val loss {vl:.4f}"
                      f"{extra}, ETA {_fmt_eta(eta)}", file=sys.stderr, flush=True)
            if max_seconds is not None and time.time() - t_call >= max_seconds and state["step"] < steps:
                return None
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
