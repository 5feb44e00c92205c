"""Mix-and-separate training of Sound-of-Pixels and Object-Prior on ``synth-ensembles``.

Training pairs: two random 65535-sample solo clips of different instruments from the
train split (the clips and frames of :func:`baselines.multimodal.train.load_split`),
mixed by exact sum; input the warped log magnitude of the mixture; target the binary
mask ``|S_i| >= |S_j|`` on the warped magnitudes; loss the binary cross-entropy weighted
by ``log(1 + |mixture|)`` (clamped to [1e-3, 10]), as in the paper.  3 frames per clip.
SGD with momentum 0.9 and the paper's two learning rates (audio + synthesizer, visual).

Object-Prior first trains its visual network as a 13-class instrument classifier on
single frames, then freezes it (visual learning rate 0) and trains the audio network.

    python -m baselines.sop.train --model object-prior --config cpu --version 1
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from avbench.instruments import CLASSES
from .. import frontend as fe
from .._common import load_config, run_steps, save_final
from .._common import workdir as _workdir
from ..multimodal import train as mm

from .model import Separator, freeze

CONFIGS = Path(__file__).parent / "configs"


@dataclass
class Config:
    name: str = "cpu"
    seed: int = 0
    k: int = 32                 #: audio / visual channels of Sound-of-Pixels (Object-Prior: 13)
    ngf: int = 8
    n_down: int = 7
    visual_width: int = 8
    n_frames: int = 3
    steps: int = 1500
    batch: int = 8              #: mixtures per step
    lr_audio: float = 1e-3
    lr_visual: float = 1e-4
    momentum: float = 0.9
    cls_steps: int = 300        #: Object-Prior classifier pre-training
    cls_lr: float = 1e-3
    eval_every: int = 250
    mask: str = "binary"
    mm_config: str = "cpu"      #: the multimodal config whose cached clips/frames are used
    weights: str | None = None

    @classmethod
    def load(cls, name_or_path: str) -> "Config":
        return load_config(cls, CONFIGS, name_or_path)


def workdir(cfg: Config, version: str) -> Path:
    return _workdir("sop", f"{cfg.name}@{version}")


def build(cfg: Config, kind: str) -> Separator:
    k = cfg.k if kind == "sop" else len(CLASSES)
    return Separator(kind, k, cfg.ngf, cfg.n_down, cfg.visual_width, cfg.weights)


def spec_input(mix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B, n)`` -> complex STFT ``(B, 512, 256)`` and warped log magnitude ``(B, 1, 256, 256)``."""
    X = fe.stft(mix)
    return X, fe.log_mag(fe.warp(X.abs()), "log", fe.LOG_FLOOR["sop"]).unsqueeze(1)


def frames_tensor(frames: np.ndarray, n: int) -> torch.Tensor:
    """uint8 ``(B, k_max, H, W, 3)`` -> ``n`` uniformly spaced frames ``(B, n, 3, H, W)``."""
    idx = mm.frame_index(frames.shape[1], n)
    return mm.frame_tensor(frames[:, idx])


def pair_batch(d: dict, g: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(n, 2)`` of clip pairs of different instruments."""
    a = g.integers(0, len(d["labels"]), n)
    b = g.integers(0, len(d["labels"]), n)
    for i in range(n):
        while d["labels"][b[i]] == d["labels"][a[i]]:
            b[i] = g.integers(0, len(d["labels"]))
    return a, b


def mix_loss(model: Separator, d: dict, a: np.ndarray, b: np.ndarray, cfg: Config) -> torch.Tensor:
    xa, xb = torch.from_numpy(d["audio"][a]), torch.from_numpy(d["audio"][b])
    X, spec = spec_input(xa + xb)
    with torch.no_grad():
        ma, mb = fe.warp(fe.stft(xa).abs()), fe.warp(fe.stft(xb).abs())
        target = torch.stack([(ma >= mb).float(), (mb > ma).float()], 1)  # (B, 2, F, T)
        weight = torch.log1p(fe.warp(X.abs())).clamp(1e-3, 10).unsqueeze(1).expand_as(target)
    fr = torch.stack([frames_tensor(d["frames"][a], cfg.n_frames), frames_tensor(d["frames"][b], cfg.n_frames)], 1)
    logits = model.mask_logits(spec.repeat_interleave(2, 0), fr.flatten(0, 1)).view(target.shape)
    return F.binary_cross_entropy_with_logits(logits, target, weight=weight)


def pretrain_classifier(cfg: Config, model: Separator, tr: dict, va: dict, progress: bool = False) -> float:
    """Object-Prior: the visual network as a 13-class classifier on single frames; returns
    the validation accuracy (k frames, max-pooled logits)."""
    from avbench.progress import bar as tqdm

    opt = torch.optim.Adam(model.visual.parameters(), lr=cfg.cls_lr)
    y = torch.from_numpy(tr["labels"]).long()
    g = np.random.default_rng(cfg.seed + 7)
    model.visual.train()
    for _ in tqdm(range(cfg.cls_steps), desc="object-prior classifier", disable=not progress):
        i = g.integers(0, len(y), 32)
        j = g.integers(0, tr["frames"].shape[1], 32)
        loss = F.cross_entropy(model.visual.frame_vectors(mm.frame_tensor(tr["frames"][i, j])), y[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return classifier_accuracy(cfg, model, va)


@torch.no_grad()
def classifier_accuracy(cfg: Config, model: Separator, d: dict) -> float:
    model.visual.eval()
    pred = torch.cat([model.visual(frames_tensor(d["frames"][i:i + 64], cfg.n_frames)).argmax(1)
                      for i in range(0, len(d["labels"]), 64)]).numpy()
    return float((pred == d["labels"]).mean())


def train(cfg: Config, kind: str, version: str, progress: bool = True, ckpt: Path | None = None,
          stop_after: int | None = None, data: tuple[dict, dict] | None = None) -> Path | None:
    ckpt = ckpt or workdir(cfg, version) / f"{kind}.pt"
    if ckpt.exists():
        return ckpt
    mcfg = mm.Config.load(cfg.mm_config)
    tr, va = data or (mm.load_split(mcfg, version, "train", progress), mm.load_split(mcfg, version, "val", progress))
    torch.manual_seed(cfg.seed)
    model = build(cfg, kind)
    part = ckpt.with_suffix(".partial.pt")
    state = {"cls_acc": None}
    if kind == "object-prior" and not part.exists():
        state["cls_acc"] = pretrain_classifier(cfg, model, tr, va, progress)
    if kind == "object-prior":
        freeze(model.visual)  # the visual learning rate is 0 in the paper's schedule
    groups = [{"params": list(model.audio.parameters()) + list(model.synth.parameters()), "lr": cfg.lr_audio}]
    if kind == "sop":
        groups.append({"params": model.visual.parameters(), "lr": cfg.lr_visual})
    opt = torch.optim.SGD(groups, momentum=cfg.momentum)
    gv = np.random.default_rng(4321)
    val_pairs = pair_batch(va, gv, 32)

    def train_mode():
        model.audio.train()
        if kind == "sop":
            model.visual.train()

    state = run_steps(model, opt, part, steps=cfg.steps, eval_every=cfg.eval_every, seed=cfg.seed,
                      batch_loss=lambda g: mix_loss(model, tr, *pair_batch(tr, g, cfg.batch), cfg),
                      val_loss=lambda: mix_loss(model, va, *val_pairs, cfg), desc=kind, progress=progress,
                      stop_after=stop_after, train_mode=train_mode, state=state)
    if state is None:
        return None
    return save_final(ckpt, part, model, cfg, state, cls_acc=state["cls_acc"])


def load(cfg: Config, kind: str, path: Path) -> Separator:
    m = build(cfg, kind)
    m.load_state_dict(torch.load(path, map_location="cpu", weights_only=False)["model"])
    return m.eval()


@torch.no_grad()
def separate(model: Separator, mix: np.ndarray, frames: list[torch.Tensor]) -> np.ndarray:
    """Estimates of the sources shown by ``frames`` (one ``(n, 3, H, W)`` tensor per source).
    Binary masks (logit > 0) unwarped to linear frequency.  Shape: ``(n_src, n_samples)``."""
    model.eval()
    X, spec = spec_input(torch.from_numpy(mix[None].astype(np.float32)))
    n = len(frames)
    logits = model.mask_logits(spec.expand(n, -1, -1, -1), torch.stack(frames))
    masks = fe.unwarp((logits > 0).float()).clamp(0, 1)  # (n, 512, T)
    return fe.apply_masks(X, masks.unsqueeze(0), len(mix))[0].numpy()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="train Sound-of-Pixels / Object-Prior on synth-ensembles")
    ap.add_argument("--model", choices=["sop", "object-prior"], required=True)
    ap.add_argument("--config", default="cpu")
    ap.add_argument("--version", default="1")
    a = ap.parse_args(argv)
    cfg = Config.load(a.config)
    p = train(cfg, a.model, a.version)
    ck = torch.load(p, map_location="cpu", weights_only=False)
    extra = f", classifier val acc {ck['cls_acc']:.3f}" if ck.get("cls_acc") is not None else ""
    print(f"{a.model}: best validation loss {ck['best_val_loss']:.4f}, {ck['seconds']:.0f} s{extra}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

