"""Training of Exp- and CExp-Wave-U-Net on the ensembles of ``synth-ensembles`` (resumable).

Batches are random windows of training ensembles: the mixture window with its input
context (zero-padded at the recording's ends) and the 13 slot targets of the output
window, silent for absent instruments (so the model learns to output silence).  Loss:
the sum over slots of the mean squared error.  Adam with vimss' exponential learning-rate
decay (``lr * rate ** (step / decay_steps)``, set per step, so resuming is exact); the step with the lowest validation
loss (fixed validation windows) is kept; checkpoints every ``eval_every`` steps.

    python -m baselines.wave_unet.train --model cexp --config cpu --version 1
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from avbench.instruments import CLASSES
from avbench.tasks import get_task

from .._common import load_config, run_steps, save_final
from .._common import workdir as _workdir

from .model import WaveUNet

CONFIGS = Path(__file__).parent / "configs"


@dataclass
class Config:
    name: str = "cpu"
    seed: int = 0
    n_levels: int = 6
    n_filters: int = 12
    k_down: int = 15
    k_up: int = 5
    upsampling: str = "linear"
    n_out: int = 4096
    batch: int = 8
    steps: int = 3000
    lr: float = 5e-4
    lr_decay_rate: float = 1.0      #: exponential decay: lr * rate ** (step / lr_decay_steps) (vimss: 0.96 per 2000 steps)
    lr_decay_steps: int = 1000
    output_type: str = "direct"     #: direct (13 tanh outputs) | difference (vimss' URMP config: the last slot is the mixture minus the others)
    eval_every: int = 250
    n_val: int = 64

    @classmethod
    def load(cls, name_or_path: str) -> "Config":
        return load_config(cls, CONFIGS, name_or_path)


def build(cfg: Config, model: str) -> WaveUNet:
    return WaveUNet(len(CLASSES), cfg.n_levels, cfg.n_filters, cfg.k_down, cfg.k_up, cfg.upsampling,
                    conditioned=(model == "cexp"), output_type=cfg.output_type)


def workdir(cfg: Config, version: str) -> Path:
    return _workdir("wave_unet", f"{cfg.name}@{version}")


class Windows:
    """Random (or fixed) training windows of a split's ensembles."""

    def __init__(self, task, split: str, n_in: int, n_out: int):
        self.recs = task.recordings(split, "ensemble")
        self.mix, self.ref, self.lab = [], [], []
        for r in self.recs:
            ref = np.zeros((len(CLASSES), r["n_samples"]), np.float32)
            for inst in r["instruments"]:
                ref[CLASSES.index(inst)] = task.stem(r["id"], inst)
            self.ref.append(ref)
            self.mix.append(ref.sum(0))
            self.lab.append(np.array([c in r["instruments"] for c in CLASSES], np.float32))
        self.n_in, self.n_out = n_in, n_out
        self.ctx = (n_in - n_out) // 2

    def get(self, rec: int, start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Input window, target window and labels for an output starting at ``start``."""
        mix = np.pad(self.mix[rec], (self.ctx, self.n_in))
        x = mix[start: start + self.n_in]
        y = np.pad(self.ref[rec], ((0, 0), (0, self.n_out)))[:, start: start + self.n_out]
        return x, y, self.lab[rec]

    def batch(self, g: np.random.Generator, n: int):
        recs = g.integers(0, len(self.recs), n)
        starts = [int(g.integers(0, max(1, self.ref[r].shape[1] - self.n_out))) for r in recs]
        xs, ys, ls = zip(*(self.get(r, s) for r, s in zip(recs, starts)))
        return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys)), torch.from_numpy(np.stack(ls))


def loss_fn(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Sum over slots of the mean squared error."""
    return ((pred - target) ** 2).mean(dim=(0, 2)).sum()


def train(cfg: Config, model_name: str, version: str, progress: bool = True, ckpt: Path | None = None,
          stop_after: int | None = None) -> Path | None:
    """Train (or resume); returns the checkpoint path, or ``None`` when ``stop_after`` steps
    of this call ended it early (the partial checkpoint stays)."""
    ckpt = ckpt or workdir(cfg, version) / f"{model_name}.s{cfg.seed}.pt"
    if ckpt.exists():
        return ckpt
    torch.manual_seed(cfg.seed)
    model = build(cfg, model_name)
    n_in, n_out = model.io(cfg.n_out)
    task = get_task("synth-ensembles-separation", version)
    tr, va = Windows(task, "train", n_in, n_out), Windows(task, "val", n_in, n_out)
    gv = np.random.default_rng(12345)
    val = va.batch(gv, cfg.n_val)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    part = ckpt.with_suffix(".partial.pt")

    def batch_loss(g):
        x, y, lab = tr.batch(g, cfg.batch)
        return loss_fn(model(x, lab), y)

    def val_loss():
        return sum(loss_fn(model(val[0][i:i + 16], val[2][i:i + 16]), val[1][i:i + 16]) * len(val[0][i:i + 16])
                   for i in range(0, cfg.n_val, 16)) / cfg.n_val

    state = run_steps(model, opt, part, steps=cfg.steps, eval_every=cfg.eval_every, seed=cfg.seed,
                      batch_loss=batch_loss, val_loss=val_loss, desc=f"{model_name}-wave-u-net", progress=progress,
                      stop_after=stop_after, lr_at=lambda step: cfg.lr * cfg.lr_decay_rate ** (step / cfg.lr_decay_steps))
    if state is None:
        return None
    return save_final(ckpt, part, model, cfg, state, n_in=n_in, n_out=n_out)


def load(cfg: Config, model_name: str, path: Path) -> WaveUNet:
    m = build(cfg, model_name)
    m.load_state_dict(torch.load(path, map_location="cpu", weights_only=False)["model"])
    return m.eval()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="train Exp-/CExp-Wave-U-Net on synth-ensembles")
    ap.add_argument("--model", choices=["exp", "cexp"], required=True)
    ap.add_argument("--config", default="cpu")
    ap.add_argument("--version", default="3")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    cfg = replace(Config.load(a.config), seed=a.seed)
    p = train(cfg, a.model, a.version)
    ck = torch.load(p, map_location="cpu", weights_only=False)
    print(f"{a.model}: best validation loss {ck['best_val_loss']:.5f}, {ck['seconds']:.0f} s, "
          f"input {ck['n_in']} -> output {ck['n_out']} samples")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
