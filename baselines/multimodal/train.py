"""Training of the multimodal classifier on the built-in benchmark (staged, resumable).

Stages, each checkpointed under ``AVBENCH_HOME/baselines/multimodal/<config>@<version>/``:

1. ``data``   — the train/val/test clips of ``synth-ensembles`` (65535 samples at
   11025 Hz, ``k_max`` frames spaced uniformly over the clip at ``size`` pixels), cached
   as ``.npz``;
2. ``choi``, ``han`` — the audio CNNs on random crops of the log-mel spectrogram;
3. ``visual`` — the frame CNN on random single frames;
4. ``fusion`` — the late-fusion network on the frozen penultimate features of the best
   Choi model and the visual model.

Every stage keeps the epoch with the best validation accuracy; a stage that finished is
not re-run; an interrupted one resumes from its last epoch.  Seeds fix data order,
crops and initialisation.

    python -m baselines.multimodal.train --config cpu --version 1
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from avbench.instruments import CLASSES
from avbench.tasks import get_task
from .._common import load_config
from .._common import workdir as _workdir

from .model import ChoiCNN, FrameCNN, Fusion, HanCNN, LogMel, XceptionCNN, crop_average, windows

CONFIGS = Path(__file__).parent / "configs"


@dataclass
class Config:
    name: str = "cpu"
    seed: int = 0
    size: int = 64                 #: frame size (pixels)
    k_max: int = 20                #: frames kept per clip
    k_frames: int = 5              #: frames per video for the visual and fused models
    choi_mels: int = 96
    choi_frames: int = 128         #: crop length (frames of hop 256 at 11025 Hz: 2.97 s)
    choi_widths: list = field(default_factory=lambda: [32, 64, 64, 64])
    choi_pools: list = field(default_factory=lambda: [[2, 2], [3, 2], [4, 4], [4, 4]])
    han_mels: int = 128
    han_frames: int = 43           #: 1 s windows
    han_widths: list = field(default_factory=lambda: [16, 32, 64, 128])
    xception_first: list = field(default_factory=lambda: [48, 3])  #: the first layer's rectangular filters
    xception_widths: list = field(default_factory=lambda: [16, 32, 64])
    xception_middle: int = 1
    xception_sep: int = 128        #: channels of the last separable convolution (paper: 768)
    fc: int = 1024
    n_crops: int = 4               #: uniformly spaced crops at test time ("UC"); 1 = central ("CC")
    visual_width: int = 16
    fusion_hidden: int = 1024
    epochs: dict = field(default_factory=lambda: {"choi": 12, "han": 12, "xception": 12, "visual": 6, "fusion": 30})
    batch: int = 32
    lr: float = 1e-3               #: Adam, the audio and fusion models
    train_frames: int = 20         #: frames per training video of the visual model (Table 4.2's FMs), <= k_max
    frame_counts: list = field(default_factory=lambda: [1, 5, 10])  #: the mm-video-f<k> variants
    visual_lr: float = 1e-4        #: SGD of the visual model (section 4.2.4)
    visual_momentum: float = 0.9
    visual_halve_every: float = 5  #: epochs between halvings of the visual learning rate
    visual_batch: int = 64
    visual_zoom: float = 256 / 224  #: frames resized by this, centre-cropped back (the thesis' 256 -> 224)
    weights: str | None = None     #: optional local ImageNet weights of the frame CNN
    data: str = "synth-ensembles"  #: the dataset trained on (a real one: its prepared train/val splits)
    n_classes: int = 13            #: set from the task's classes at run time

    @classmethod
    def load(cls, name_or_path: str) -> "Config":
        return load_config(cls, CONFIGS, name_or_path)


def workdir(cfg: Config, version: str) -> Path:
    """The config's folder (data caches; the checkpoints of seed 0)."""
    tag = version if cfg.data == "synth-ensembles" else f"{cfg.data}-{version}"
    return _workdir("multimodal", f"{cfg.name}@{tag}")


def seed_dir(cfg: Config, version: str) -> Path:
    """The checkpoints of ``cfg.seed``: the config's folder for seed 0, ``s<seed>/`` in it otherwise."""
    d = workdir(cfg, version)
    if cfg.seed:
        d = d / f"s{cfg.seed}"
        d.mkdir(exist_ok=True)
    return d


def all_stages(cfg: Config) -> tuple[str, ...]:
    """Every training stage: the audio models, the visual model trained on ``train_frames``
    frames per video and one per ``frame_counts``, the two fusions."""
    return ("choi", "han", "xception", "visual", *(f"visual-f{k}" for k in cfg.frame_counts), "fusion",
            "fusion-xception")


def seed_all(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)


# ----------------------------------------------------------------------------- data
def clip_arrays(task, clips, k_max: int, size: int, progress: bool = False) -> dict[str, np.ndarray]:
    from avbench.progress import bar as tqdm

    audio = np.zeros((len(clips), 65535), np.float32)
    frames = np.zeros((len(clips), k_max, size, size, 3), np.uint8)
    for i, c in enumerate(tqdm(clips, desc="clips", disable=not progress)):
        audio[i] = task.clip_audio(c)
        fr = task.clip_frames(c, 8.0, size)
        idx = np.linspace(0, len(fr) - 1, k_max).round().astype(int)
        frames[i] = fr[idx]
    labels = np.array([CLASSES.index(c.instrument) for c in clips])
    return {"audio": audio, "frames": frames, "labels": labels}


def center(x: np.ndarray, n: int = 65535) -> np.ndarray:
    """The central ``n`` samples (zero-padded when shorter)."""
    if len(x) < n:
        return np.pad(x, (0, n - len(x)))
    s = (len(x) - n) // 2
    return x[s:s + n]


def uniform_frames(fr: np.ndarray, k: int, size: int) -> np.ndarray:
    if len(fr) == 0:
        return np.zeros((k, size, size, 3), np.uint8)
    return fr[np.linspace(0, len(fr) - 1, k).round().astype(int)]


def real_arrays(cfg: Config, version: str, split: str, progress: bool = False) -> dict[str, np.ndarray]:
    """Training arrays from a real dataset's prepared split (``avbench data prepare``),
    through the task's training interface: the central 65535 samples of each item's audio
    and ``k_max`` uniformly spaced frames."""
    from avbench.progress import bar as tqdm
    from avbench.tasks.declared import find

    (task_name, _), *_ = find("classification", dataset=cfg.data, version=version)
    task = get_task(task_name, version)
    classes = task.spec.classes
    clips = task.train_clips(split)
    audio = np.zeros((len(clips), 65535), np.float32)
    frames = np.zeros((len(clips), cfg.k_max, cfg.size, cfg.size, 3), np.uint8)
    for i, c in enumerate(tqdm(clips, desc=f"{cfg.data} {split}", disable=not progress)):
        audio[i] = center(task.clip_audio(c))
        frames[i] = uniform_frames(task.clip_frames(c, 8.0, cfg.size), cfg.k_max, cfg.size)
    return {"audio": audio, "frames": frames, "labels": np.array([classes.index(c.instrument) for c in clips])}


def load_split(cfg: Config, version: str, split: str, progress: bool = False) -> dict[str, np.ndarray]:
    """Cached arrays of a split: ``audio (n, 65535)``, ``frames (n, k_max, size, size, 3)``,
    ``labels (n,)``."""
    p = workdir(cfg, version) / f"data-{split}-{cfg.k_max}x{cfg.size}.npz"
    if p.exists():
        with np.load(p) as z:
            return {k: z[k] for k in z.files}
    if cfg.data == "synth-ensembles":
        task = get_task("synth-ensembles-classification", version)
        arr = clip_arrays(task, task.train_clips(split), cfg.k_max, cfg.size, progress)
    else:
        arr = real_arrays(cfg, version, split, progress)
    tmp = p.with_suffix(".tmp.npz")
    np.savez(tmp, **arr)
    tmp.replace(p)
    return arr


# ----------------------------------------------------------------------------- models
def build(cfg: Config, which: str) -> nn.Module:
    n = cfg.n_classes
    if which == "choi":
        return ChoiCNN(n, cfg.choi_mels, cfg.choi_frames, cfg.choi_widths, [tuple(p) for p in cfg.choi_pools], cfg.fc)
    if which == "han":
        return HanCNN(n, cfg.han_mels, cfg.han_frames, cfg.han_widths, cfg.fc)
    if which == "xception":
        return XceptionCNN(n, cfg.choi_mels, tuple(cfg.xception_first), tuple(cfg.xception_widths), cfg.xception_middle,
                           cfg.xception_sep, cfg.fc)
    if which == "visual" or which.startswith("visual-f"):
        return FrameCNN(n, cfg.weights, cfg.visual_width, cfg.visual_zoom)
    if which in ("fusion", "fusion-xception"):
        return Fusion(cfg.k_frames * build(cfg, "visual").n_features + cfg.fc, n, cfg.fusion_hidden)
    raise ValueError(which)


def frontend(cfg: Config, which: str) -> LogMel:
    return LogMel(n_mels=cfg.han_mels if which == "han" else cfg.choi_mels)


def crop_frames(cfg: Config, which: str) -> int:
    """The crop length of an audio model (Xception reads Choi's crops)."""
    return cfg.han_frames if which == "han" else cfg.choi_frames


def frame_tensor(frames: np.ndarray) -> torch.Tensor:
    """uint8 ``(..., H, W, 3)`` -> float ``(..., 3, H, W)`` in [0, 1]."""
    t = torch.from_numpy(np.ascontiguousarray(frames)).float() / 255.0
    return t.movedim(-1, -3)


def augment(frames: torch.Tensor, g: np.random.Generator, scale: float = 1.1) -> torch.Tensor:
    """Training augmentation of frames ``(B, ..., 3, H, W)`` in [0, 1]: resized by ``scale``
    (bicubic), randomly cropped back to ``H x W`` and flipped left-right with probability
    1/2, one draw per leading index (all frames of one clip alike, as a video transform).
    The reference loaders' ``Resize(1.1 s)``, ``RandomCrop(s)``, ``RandomHorizontalFlip``."""
    c, h, w = frames.shape[-3:]
    n = int(np.prod(frames.shape[1:-3]))  # frames per clip (1 for (B, 3, H, W), or none at all)
    x = frames.reshape(-1, n, c, h, w)
    b = x.shape[0]
    big = torch.nn.functional.interpolate(x.flatten(0, 1), size=(int(h * scale), int(w * scale)), mode="bicubic",
                                          align_corners=False).clamp(0, 1).view(b, n, c, int(h * scale), int(w * scale))
    ys = g.integers(0, big.shape[-2] - h + 1, b)
    xs = g.integers(0, big.shape[-1] - w + 1, b)
    flip = g.random(b) < 0.5
    out = torch.stack([big[i, :, :, ys[i]:ys[i] + h, xs[i]:xs[i] + w] for i in range(b)])
    out[flip] = out[flip].flip(-1)
    return out.reshape(frames.shape)


def flip(frames: torch.Tensor, g: np.random.Generator) -> torch.Tensor:
    """Random horizontal flip of each frame ``(B, 3, H, W)`` with probability 1/2 (the
    thesis' training augmentation; its resize and central crop are :class:`FrameCNN`'s
    ``zoom``, applied in training and test alike)."""
    f = torch.from_numpy(g.random(len(frames)) < 0.5)
    out = frames.clone()
    out[f] = out[f].flip(-1)
    return out


def training_frames(n_clips: int, k_max: int, k: int, seed: int) -> np.ndarray:
    """The ``k`` frames of each training video the visual model is trained on ("we
    randomly select k frames for every video"): distinct indices among the ``k_max`` kept,
    seeded, sorted.  Shape: ``(n_clips, k)``."""
    if not 1 <= k <= k_max:
        raise ValueError(f"train_frames {k} must be between 1 and k_max = {k_max}")
    g = np.random.default_rng((seed, 4242))
    return np.sort(np.stack([g.choice(k_max, k, replace=False) for _ in range(n_clips)]), axis=1)


def frame_index(k_max: int, k: int) -> np.ndarray:
    """k frames spaced uniformly among the k_max kept per clip."""
    return np.linspace(0, k_max - 1, k).round().astype(int)


# ----------------------------------------------------------------------------- inference
@torch.no_grad()
def audio_probs(cfg: Config, which: str, model: nn.Module, audio: np.ndarray, n_crops: int | None = None) -> np.ndarray:
    model.eval()
    fe = frontend(cfg, which)
    n_fr = crop_frames(cfg, which)
    out = []
    for i in range(0, len(audio), 64):
        spec = fe(torch.from_numpy(audio[i:i + 64]))
        out.append(crop_average(model, spec, n_fr, n_crops or (2 * cfg.n_crops if which == "han" else cfg.n_crops)))
    return torch.cat(out).numpy()


@torch.no_grad()
def audio_features(cfg: Config, model: nn.Module, audio: np.ndarray) -> np.ndarray:
    """Penultimate features of a crop model (Choi, Xception) averaged over the test crops.
    Shape: ``(n, fc)``."""
    model.eval()
    fe = frontend(cfg, "choi")
    out = []
    for i in range(0, len(audio), 64):
        w = windows(fe(torch.from_numpy(audio[i:i + 64])), cfg.choi_frames, cfg.n_crops)
        b, n = w.shape[:2]
        out.append(model.features(w.flatten(0, 1)).view(b, n, -1).mean(1))
    return torch.cat(out).numpy()


@torch.no_grad()
def visual_probs(model: FrameCNN, frames: np.ndarray, idx: np.ndarray) -> np.ndarray:
    model.eval()
    return torch.cat([model.video_probs(frame_tensor(frames[i:i + 64][:, idx])) for i in range(0, len(frames), 64)]).numpy()


@torch.no_grad()
def visual_features(model: FrameCNN, frames: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """The k frames' penultimate features concatenated.  Shape: ``(n, k * d)``."""
    model.eval()
    out = []
    for i in range(0, len(frames), 64):
        f = frame_tensor(frames[i:i + 64][:, idx])
        b, k = f.shape[:2]
        out.append(model.features(f.flatten(0, 1)).view(b, -1))
    return torch.cat(out).numpy()


@torch.no_grad()
def fusion_probs(model: Fusion, feats: np.ndarray) -> np.ndarray:
    model.eval()
    return torch.softmax(model(torch.from_numpy(feats)), -1).numpy()


# ----------------------------------------------------------------------------- training
def _fit(cfg: Config, which: str, model: nn.Module, step, evaluate, n_train: int, ckpt: Path, progress: bool,
         stop_after: int | None = None, opt: torch.optim.Optimizer | None = None, lr_at_epoch=None,
         batch: int | None = None) -> nn.Module | None:
    """Generic epoch loop with best-on-validation selection and resume.  ``stop_after``
    ends this call after that many epochs, leaving the partial checkpoint to resume from
    (returns ``None`` then).  ``opt`` defaults to Adam at ``cfg.lr``; ``lr_at_epoch(ep)``
    sets the learning rate of epoch ``ep``; ``batch`` defaults to ``cfg.batch``."""
    from avbench.progress import bar as tqdm

    opt = opt or torch.optim.Adam(model.parameters(), lr=cfg.lr)
    batch = batch or cfg.batch
    state = {"epoch": 0, "best": -1.0, "best_state": None, "history": []}
    part = ckpt.with_suffix(".partial.pt")
    if part.exists():
        s = torch.load(part, map_location="cpu", weights_only=False)
        model.load_state_dict(s["model"])
        opt.load_state_dict(s["opt"])
        state = s["state"]
        torch.set_rng_state(s["rng"])
    epochs = cfg.epochs[which]
    first = state["epoch"]
    for ep in range(first, epochs):
        if stop_after is not None and ep - first >= stop_after:
            return None
        g = np.random.default_rng(cfg.seed * 1000 + ep)
        order = g.permutation(n_train)
        if lr_at_epoch is not None:
            for grp in opt.param_groups:
                grp["lr"] = lr_at_epoch(ep)
        model.train()
        t0, tot = time.time(), 0.0
        for i in tqdm(range(0, n_train, batch), desc=f"{which} epoch {ep + 1}/{epochs}", disable=not progress,
                      leave=False):
            loss = step(order[i:i + batch], g)
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(loss.detach()) * len(order[i:i + batch])
        acc = evaluate()
        state["history"].append({"epoch": ep + 1, "loss": tot / n_train, "val_acc": acc, "seconds": time.time() - t0})
        if acc > state["best"]:
            state["best"] = acc
            state["best_state"] = {k: v.detach().clone() for k, v in model.state_dict().items()}
        state["epoch"] = ep + 1
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state, "rng": torch.get_rng_state()},
                   part)
    model.load_state_dict(state["best_state"])
    torch.save({"model": model.state_dict(), "config": asdict(cfg), "history": state["history"], "best_val_acc": state["best"]},
               ckpt)
    part.unlink(missing_ok=True)
    return model


def train_audio(cfg: Config, which: str, tr: dict, va: dict, ckpt: Path, progress: bool = False) -> nn.Module:
    seed_all(cfg.seed)
    model = build(cfg, which)
    fe = frontend(cfg, which)
    n_fr = crop_frames(cfg, which)
    with torch.no_grad():
        spec_tr = torch.cat([fe(torch.from_numpy(tr["audio"][i:i + 128])) for i in range(0, len(tr["audio"]), 128)])
    y = torch.from_numpy(tr["labels"]).long()
    T = spec_tr.shape[-1]

    def step(idx, g):
        starts = g.integers(0, max(1, T - n_fr + 1), len(idx))
        x = torch.stack([spec_tr[i, :, s:s + n_fr] for i, s in zip(idx, starts)])
        return nn.functional.cross_entropy(model(x), y[idx])

    def evaluate():
        return float((audio_probs(cfg, which, model, va["audio"]).argmax(1) == va["labels"]).mean())

    return _fit(cfg, which, model, step, evaluate, len(y), ckpt, progress)


def visual_lr(cfg: Config, epoch: int) -> float:
    """The visual model's learning rate in ``epoch`` (from 0): halved every ``visual_halve_every`` epochs."""
    return cfg.visual_lr * 0.5 ** int(epoch // cfg.visual_halve_every)


def train_visual(cfg: Config, tr: dict, va: dict, ckpt: Path, progress: bool = False,
                 stop_after: int | None = None, train_frames: int | None = None) -> nn.Module | None:
    """The frame CNN as in section 4.2.4: every (video, frame) pair of ``train_frames``
    seeded frames per training video (:func:`training_frames`) is one example per epoch,
    with the video's label; SGD with momentum, batches of ``visual_batch``, the learning
    rate halved every ``visual_halve_every`` epochs; resize/centre crop (the model's
    ``zoom``) and random flips.  Validation averages ``k_frames`` frames per video."""
    seed_all(cfg.seed)
    model = build(cfg, "visual")
    y = torch.from_numpy(tr["labels"]).long()
    k = train_frames or cfg.train_frames
    pool = training_frames(len(y), cfg.k_max, k, cfg.seed)
    idx_k = frame_index(cfg.k_max, cfg.k_frames)

    def step(idx, g):
        clip, j = idx // k, pool[idx // k, idx % k]
        x = flip(frame_tensor(tr["frames"][clip, j]), g)
        return nn.functional.cross_entropy(model(x), y[clip])

    def evaluate():
        return float((visual_probs(model, va["frames"], idx_k).argmax(1) == va["labels"]).mean())

    opt = torch.optim.SGD(model.parameters(), lr=cfg.visual_lr, momentum=cfg.visual_momentum)
    return _fit(cfg, "visual", model, step, evaluate, len(y) * k, ckpt, progress, stop_after, opt=opt,
                lr_at_epoch=lambda ep: visual_lr(cfg, ep), batch=cfg.visual_batch)


def fused_features(cfg: Config, audio_model: nn.Module, visual: FrameCNN, d: dict, k: int | None = None) -> np.ndarray:
    idx = frame_index(cfg.k_max, k or cfg.k_frames)
    return np.concatenate([visual_features(visual, d["frames"], idx), audio_features(cfg, audio_model, d["audio"])], 1)


def train_fusion(cfg: Config, audio_model, visual, tr: dict, va: dict, ckpt: Path, progress: bool = False,
                 which: str = "fusion") -> nn.Module:
    seed_all(cfg.seed)
    model = build(cfg, which)
    f_tr = torch.from_numpy(fused_features(cfg, audio_model, visual, tr))
    f_va = fused_features(cfg, audio_model, visual, va)
    y = torch.from_numpy(tr["labels"]).long()

    def step(idx, g):
        if len(idx) < 2:  # batch norm needs two examples
            idx = np.concatenate([idx, idx])
        return nn.functional.cross_entropy(model(f_tr[idx]), y[idx])

    def evaluate():
        return float((fusion_probs(model, f_va).argmax(1) == va["labels"]).mean())

    return _fit(cfg, "fusion", model, step, evaluate, len(y), ckpt, progress)


def load_model(cfg: Config, which: str, path: Path) -> nn.Module:
    m = build(cfg, which)
    m.load_state_dict(torch.load(path, map_location="cpu", weights_only=False)["model"])
    m.eval()
    return m


def train_all(cfg: Config, version: str, progress: bool = True, stages=None) -> dict[str, Path]:
    """Run (or resume) the stages (default: all of :func:`all_stages`) for ``cfg.seed``;
    returns every stage's checkpoint path."""
    d = seed_dir(cfg, version)
    tr = load_split(cfg, version, "train", progress)
    va = load_split(cfg, version, "val", progress)
    every = all_stages(cfg)
    wanted = every if stages is None else tuple(stages)
    # a fusion needs its trunks
    need = set(wanted) | ({"choi", "visual"} if "fusion" in wanted else set()) | (
        {"xception", "visual"} if "fusion-xception" in wanted else set())
    paths = {s: d / f"{s}.pt" for s in every}
    for s in ("choi", "han", "xception"):
        if s in need and not paths[s].exists():
            train_audio(cfg, s, tr, va, paths[s], progress)
    if "visual" in need and not paths["visual"].exists():
        train_visual(cfg, tr, va, paths["visual"], progress)
    for k in cfg.frame_counts:
        s = f"visual-f{k}"
        if s in need and not paths[s].exists():
            train_visual(cfg, tr, va, paths[s], progress, train_frames=k)
    for s, audio in (("fusion", "choi"), ("fusion-xception", "xception")):
        if s in need and not paths[s].exists():
            train_fusion(cfg, load_model(cfg, audio, paths[audio]), load_model(cfg, "visual", paths["visual"]), tr, va,
                         paths[s], progress, which=s)
    return paths


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="train the multimodal classifier on synth-ensembles")
    ap.add_argument("--config", default="cpu")
    ap.add_argument("--version", default="3")
    ap.add_argument("--seed", type=int, default=None, help="overrides the config's seed")
    ap.add_argument("--threads", type=int, default=None)
    a = ap.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    cfg = Config.load(a.config)
    if a.seed is not None:
        from dataclasses import replace

        cfg = replace(cfg, seed=a.seed)
    t0 = time.time()
    paths = train_all(cfg, a.version)
    for s, p in paths.items():
        ck = torch.load(p, map_location="cpu", weights_only=False)
        print(f"{s}: best val acc {ck['best_val_acc']:.3f} after {len(ck['history'])} epochs "
              f"({sum(h['seconds'] for h in ck['history']):.0f} s)")
    print(f"total {time.time() - t0:.0f} s")
    (seed_dir(cfg, a.version) / "train.json").write_text(json.dumps({"seconds": time.time() - t0}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
