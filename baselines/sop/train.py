"""Mix-and-separate training of Sound-of-Pixels and Object-Prior on ``synth-ensembles``,
as the reference code (``hangzhaomit/Sound-of-Pixels``) trains:

* pairs of random 65535-sample solo clips of different instruments from the train split
  (the clips and frames of :func:`baselines.multimodal.train.load_split`), each clip's
  volume scaled by U(0.5, 1.5) and clipped to [-1, 1], then divided by N = 2 and summed;
* input ``log(|X| + 1e-10)`` of the mixture on the base-21 log-frequency grid; target the
  binary mask ``|S_n| > 0.5 |X|`` on the warped magnitudes; binary cross-entropy weighted
  by ``log(1 + |X|)`` clamped to [1e-3, 10];
* 3 frames per clip; training frames resized by 1.1, randomly cropped back and flipped
  (one draw per clip), evaluation frames as they are;
* SGD, momentum 0.9, weight decay 1e-4; learning rates 1e-3 for the audio network, the
  synthesizer and the visual head, 1e-4 for the visual trunk (the ``cpu`` config scales
  them to its short run); every rate x0.1 at 40% and 80% of the steps (epochs 40 and 80
  of 100 in the reference script).

Object-Prior first trains its visual network as a 13-class instrument classifier on
single frames, then freezes it (visual learning rate 0) and trains the audio network.
Seeds fix initialisation, batches and augmentation; checkpoints are ``<model>.pt`` (seed
0) and ``<model>.s<seed>.pt``.

    python -m baselines.sop.train --model object-prior --config cpu --version 3 --seed 1
"""
from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from avbench.instruments import CLASSES
from .. import frontend as fe
from .._common import load_config, run_steps, save_final
from .._common import workdir as _workdir
from ..names import seed_entry
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
    weight_decay: float = 1e-4
    lr_drops: tuple = (0.4, 0.8)  #: fractions of the steps where every learning rate is x0.1
    volume: tuple | None = (0.5, 1.5)  #: training clips' random gain range (None: off)
    frame_aug: bool = True      #: resize x1.1, random crop, random flip of training frames

    @classmethod
    def load(cls, name_or_path: str) -> "Config":
        return load_config(cls, CONFIGS, name_or_path)


def workdir(cfg: Config, version: str) -> Path:
    return _workdir("sop", f"{cfg.name}@{version}")


def checkpoint(cfg: Config, kind: str, version: str) -> Path:
    """``<model>.pt`` for seed 0, ``<model>.s<seed>.pt`` otherwise."""
    return workdir(cfg, version) / f"{seed_entry(kind, cfg.seed)}.pt"


def lr_factor(cfg: Config, step: int) -> float:
    """0.1 to the number of drops (``cfg.lr_drops``, fractions of the run) before ``step``."""
    return 0.1 ** sum(step >= round(f * cfg.steps) for f in cfg.lr_drops)


def build(cfg: Config, kind: str) -> Separator:
    k = cfg.k if kind == "sop" else len(CLASSES)
    return Separator(kind, k, cfg.ngf, cfg.n_down, cfg.visual_width, cfg.weights)


def spec_input(mix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B, n)`` -> complex STFT ``(B, 512, 256)`` and warped log magnitude ``(B, 1, 256, 256)``."""
    X = fe.stft(mix)
    return X, fe.log_mag(fe.warp(X.abs()), "log", fe.LOG_FLOOR["sop"]).unsqueeze(1)


def frames_tensor(frames: np.ndarray, n: int, g: np.random.Generator | None = None, aug: bool = True) -> torch.Tensor:
    """uint8 ``(B, k_max, H, W, 3)`` -> ``n`` uniformly spaced frames ``(B, n, 3, H, W)``;
    with a generator ``g`` (training) and ``aug``, augmented as the reference's training
    transform (:func:`baselines.multimodal.train.augment`)."""
    idx = mm.frame_index(frames.shape[1], n)
    t = mm.frame_tensor(frames[:, idx])
    return mm.augment(t, g) if g is not None and aug else t


def pair_batch(d: dict, g: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(n, 2)`` of clip pairs of different instruments."""
    a = g.integers(0, len(d["labels"]), n)
    b = g.integers(0, len(d["labels"]), n)
    for i in range(n):
        while d["labels"][b[i]] == d["labels"][a[i]]:
            b[i] = g.integers(0, len(d["labels"]))
    return a, b


def clip_audio(d: dict, idx: np.ndarray, g: np.random.Generator | None, cfg: Config) -> torch.Tensor:
    """The clips' audio ``(B, n)``; training (``g``): times a gain drawn from ``cfg.volume``,
    clipped to [-1, 1] (the reference loader's augmentation)."""
    x = torch.from_numpy(d["audio"][idx]).float()
    if g is not None and cfg.volume is not None:
        lo, hi = cfg.volume
        x = (x * torch.from_numpy(g.uniform(lo, hi, (len(idx), 1))).float()).clamp(-1, 1)
    return x


def targets(sources: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The reference's training example from clips ``sources`` (each ``(B, n)``): each
    divided by N and summed.  Returns the mixture's complex STFT, the binary targets
    ``|S_n| > 0.5 |X|`` on the warped magnitudes ``(B, N, 256, T)`` and the loss weight
    ``clamp(log(1 + |X|), 1e-3, 10)`` (warped, ``|X| + 1e-10``)."""
    n = len(sources)
    xs = [x / n for x in sources]
    X = fe.stft(sum(xs))
    mag_mix = fe.warp(X.abs() + fe.LOG_FLOOR["sop"])
    target = torch.stack([(fe.warp(fe.stft(x).abs()) > 0.5 * mag_mix).float() for x in xs], 1)
    weight = torch.log1p(mag_mix).clamp(1e-3, 10).unsqueeze(1).expand_as(target)
    return X, target, weight


def mix_loss(model: Separator, d: dict, a: np.ndarray, b: np.ndarray, cfg: Config,
             g: np.random.Generator | None = None) -> torch.Tensor:
    """The weighted BCE of one batch of pairs; ``g`` (training) draws the augmentation."""
    xa, xb = clip_audio(d, a, g, cfg), clip_audio(d, b, g, cfg)
    _, spec = spec_input((xa + xb) / 2)
    with torch.no_grad():
        _, target, weight = targets([xa, xb])
    fr = torch.stack([frames_tensor(d["frames"][a], cfg.n_frames, g, cfg.frame_aug),
                      frames_tensor(d["frames"][b], cfg.n_frames, g, cfg.frame_aug)], 1)
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
        x = mm.frame_tensor(tr["frames"][i, j])
        loss = F.cross_entropy(model.visual.frame_vectors(mm.augment(x, g) if cfg.frame_aug else x), y[i])
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


def optimizer(cfg: Config, model: Separator, kind: str) -> torch.optim.SGD:
    """The reference's SGD: audio network, synthesizer and visual head at the audio rate,
    the visual trunk at the visual rate (Object-Prior: no visual group, its rate is 0);
    momentum and weight decay from the config."""
    fast = list(model.audio.parameters()) + list(model.synth.parameters())
    groups = [{"params": fast + (list(model.visual.head.parameters()) if kind == "sop" else []), "lr": cfg.lr_audio}]
    if kind == "sop":
        groups.append({"params": list(model.visual.trunk.parameters()), "lr": cfg.lr_visual})
    return torch.optim.SGD(groups, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


def train(cfg: Config, kind: str, version: str, progress: bool = True, ckpt: Path | None = None,
          stop_after: int | None = None, data: tuple[dict, dict] | None = None) -> Path | None:
    ckpt = ckpt or checkpoint(cfg, kind, version)
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
    opt = optimizer(cfg, model, kind)
    gv = np.random.default_rng(4321)
    val_pairs = pair_batch(va, gv, 32)

    def train_mode():
        model.audio.train()
        if kind == "sop":
            model.visual.train()

    state = run_steps(model, opt, part, steps=cfg.steps, eval_every=cfg.eval_every, seed=cfg.seed,
                      batch_loss=lambda g: mix_loss(model, tr, *pair_batch(tr, g, cfg.batch), cfg, g),
                      val_loss=lambda: mix_loss(model, va, *val_pairs, cfg), desc=kind, progress=progress,
                      stop_after=stop_after, train_mode=train_mode, state=state,
                      lr_factor_at=lambda step: lr_factor(cfg, step))
    if state is None:
        return None
    names = channel_names(model, tr, cfg.n_frames) if kind == "sop" else np.arange(len(CLASSES))
    return save_final(ckpt, part, model, cfg, state, cls_acc=state["cls_acc"], channel_names=names.tolist())


@torch.no_grad()
def visual_vectors(model: Separator, frames: np.ndarray, n_frames: int) -> np.ndarray:
    """The visual network's ``K``-vector (before its activation) of every clip: ``(n, K)``."""
    model.eval()
    return torch.cat([model.visual(frames_tensor(frames[i:i + 32], n_frames))
                      for i in range(0, len(frames), 32)]).numpy()


def strongest(act: np.ndarray) -> np.ndarray:
    """The strongest channel of every sample: the argmax over the last axis of ``(n, K)``."""
    return np.asarray(act).argmax(-1)


def majority_names(winners: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Name each of ``k`` channels by the label most frequent among the samples it wins
    (ties: the lower class index); ``-1`` for a channel that wins none."""
    out = np.full(k, -1)
    for c in range(k):
        lab = labels[winners == c]
        if lab.size:
            out[c] = np.bincount(lab).argmax()
    return out


def channel_names(model: Separator, d: dict, n_frames: int) -> np.ndarray:
    """Sound-of-Pixels: the class each visual channel names, from the training clips (the
    class of the clips on which it is the strongest most often).  How the model tells the
    task which slot a player's estimate belongs to."""
    return majority_names(strongest(visual_vectors(model, d["frames"], n_frames)), d["labels"], model.visual.head.out_channels)


def load(cfg: Config, kind: str, path: Path) -> Separator:
    ck = torch.load(path, map_location="cpu", weights_only=False)
    m = build(cfg, kind)
    m.load_state_dict(ck["model"])
    m.channel_names = np.asarray(ck.get("channel_names", np.arange(len(CLASSES))))
    return m.eval()


@torch.no_grad()
def separate(model: Separator, mix: np.ndarray, frames: list[torch.Tensor]) -> np.ndarray:
    """Estimates of the sources shown by ``frames`` (one ``(n, 3, H, W)`` tensor per source).
    The input is the mixture divided by N (as in training); binary masks (logit > 0)
    unwarped to linear frequency and applied to the mixture.  Shape: ``(n_src, n_samples)``."""
    model.eval()
    n = len(frames)
    x = torch.from_numpy(mix[None].astype(np.float32))
    X = fe.stft(x)
    _, spec = spec_input(x / n)
    logits = model.mask_logits(spec.expand(n, -1, -1, -1), torch.stack(frames))
    masks = fe.unwarp((logits > 0).float()).clamp(0, 1)  # (n, 512, T)
    return fe.apply_masks(X, masks.unsqueeze(0), len(mix))[0].numpy()


@torch.no_grad()
def name_players(model: Separator, frames: list[torch.Tensor], labels: list[str]) -> list[str]:
    """Which of the given instruments each player holds (protocol 2 serves frames by
    position and the instruments present, not who plays what): the one-to-one assignment
    maximising the summed synthesizer weight of the channels named by each instrument
    (Object-Prior: its class posterior; Sound-of-Pixels: the channels named on the
    training clips, :func:`channel_names`).  Ties keep position order."""
    import itertools

    w = model.synth.weights(model.visual(torch.stack(frames))).numpy()  # (n_players, K)
    names = np.asarray(model.channel_names)
    score = np.array([[w[p][names == CLASSES.index(c)].max(initial=0.0) for c in labels] for p in range(len(frames))])
    best = max(itertools.permutations(range(len(labels)), len(frames)),
               key=lambda perm: sum(score[p, c] for p, c in enumerate(perm)))
    return [labels[c] for c in best]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="train Sound-of-Pixels / Object-Prior on synth-ensembles")
    ap.add_argument("--model", choices=["sop", "object-prior"], required=True)
    ap.add_argument("--config", default="cpu")
    ap.add_argument("--version", default="3")
    ap.add_argument("--seed", type=int, default=None, help="overrides the config's seed")
    a = ap.parse_args(argv)
    cfg = Config.load(a.config)
    if a.seed is not None:
        cfg = dataclasses.replace(cfg, seed=a.seed)
    p = train(cfg, a.model, a.version)
    ck = torch.load(p, map_location="cpu", weights_only=False)
    extra = f", classifier val acc {ck['cls_acc']:.3f}" if ck.get("cls_acc") is not None else ""
    print(f"{a.model}: best validation loss {ck['best_val_loss']:.4f}, {ck['seconds']:.0f} s{extra}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

