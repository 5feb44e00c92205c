"""Mix-and-separate training of the conditioned U-Nets on ``synth-ensembles``.

Every step draws ``batch`` mixtures of 2 to ``level`` solo clips of different instruments
from the train split (the clips and frames of :func:`baselines.multimodal.train.load_split`),
summed exactly; the network sees the mixture's dB-normalised (the thesis' final
models) or log (``log(|X| + 1e-4)``) magnitude, the reference code's two scales
(:func:`baselines.frontend.log_mag`), on a log- (warped to 256 rows on the reference
base-21 grid) or linear-frequency axis, optionally with Gaussian noise added, and
predicts one mask per slot:

* ``binary`` — the reference code's ideal binary mask: target 1 where the slot's
  magnitude is at least the rest of the mixture's, ``|S_i| >= |X| - |S_i|`` (0 for an
  absent slot); binary cross-entropy with the reference's constant positive weight
  (``pos_weight``, 5); thresholded at 0.5 at test time.
* ``ratio`` — target ``min(|S_i| / |X|, 1)``; smooth L1.

Curriculum: ``level`` starts at 2 sources and grows by one (up to ``max_sources``, 7)
when the loss on mixtures of ``level`` validation sources has not improved for
``patience`` evaluations; once at the top, the learning rate halves on each such plateau
(the plateau schedule the reference code meant to have).  Without curriculum ``level``
is ``max_sources`` from the start.  Adam with the reference's weight decay (5e-4); the kept weights are those with the lowest loss
on fixed validation mixtures of 2 to 5 sources (the test's range); checkpoints, resume,
seeds as in :func:`baselines._common.run_steps`.

    python -m baselines.cunet.train --variant unet-film-bottleneck --config cpu --version 1
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import yaml

from .. import frontend as fe
from .._common import load_config, run_steps, save_final
from .._common import workdir as _workdir
from ..multimodal import train as mm

from .model import MAX_PLAYERS, N_SLOTS, Context, CUNet

CONFIGS = Path(__file__).parent / "configs"


@dataclass
class Config:
    name: str = "cpu"
    seed: int = 0
    widths: list = field(default_factory=lambda: [8, 16, 32, 64, 128, 128])
    head_width: float = 1.0         #: MHU-Net: decoder widths scaled by this
    dropout: float = 0.2
    film_hidden: int = 64
    steps: int = 500
    batch: int = 8
    crop: int = 0                   #: training excerpts of this many samples (0: whole 65535-sample clips)
    lr: float = 1e-3
    lr_trunk: float = 1e-4          #: the fine-tuned visual trunk
    eval_every: int = 50
    patience: int = 2
    max_sources: int = 7
    n_val: int = 16                 #: validation mixtures (selection set; and per curriculum level)
    pos_weight: float = 5.0         #: BCE positive weight (the reference's constant)
    weight_decay: float = 5e-4      #: Adam weight decay (the reference's)
    noise_std: float = 0.05
    lstm_hidden: int = 64
    motion_frames: int = 15
    frames_kept: int = 0            #: frames kept per clip (0: the multimodal config's ``k_max``, 20)
    mm_config: str = "cpu"          #: the multimodal config whose cached clips, frames and frame classifier are used
    device: str = "auto"            #: auto (the GPU when there is one) | cpu | cuda
    # the variant (set from variants.yaml)
    variant: str = "unet"
    heads: int = 1
    freq: str = "log"               #: log | linear
    values: str = "db"              #: db (the thesis' final models) | log
    mask: str = "binary"            #: binary | ratio
    noise: bool = False
    curriculum: bool = True
    bias: bool = False              #: convolution biases (Table A.1's "bias")
    conditioning: str | None = None
    context: str | None = None
    # the training recipe (configs/cpu.yaml sets the converging one; README, "Training recipe")
    slot_loss: str = "all"          #: all: BCE averaged over the 13 slots' bins (the reference) | balanced: present and absent slots weighted apart
    absent_weight: float = 1.0      #: balanced: weight of the absent slots' mean loss
    out_bias: float | None = None   #: initial bias of the mask logits (None: PyTorch's default init)
    warmup: int = 0                 #: steps of linear learning-rate warm-up
    schedule: str = "plateau"       #: plateau: halve on a plateau at the curriculum's top | cosine: cosine decay to lr/20
    curriculum_steps: int = 0       #: > 0: one more source every this many steps (instead of on a plateau)
    decoupled_wd: bool = False      #: AdamW's decoupled weight decay instead of Adam's L2 term
    select: str = "loss"            #: the kept weights: lowest validation loss | highest validation SDRi (sdri)
    max_seconds: float | None = None  #: wall-time budget of one call (the run resumes from its checkpoint)

    @classmethod
    def load(cls, name_or_path: str, variant: str = "unet") -> "Config":
        cfg = load_config(cls, CONFIGS, name_or_path)
        return replace(cfg, variant=variant, **variants()[variant]["config"])


def variants() -> dict[str, dict]:
    """The thesis' ablation and conditioning experiments (``configs/variants.yaml``)."""
    return yaml.safe_load((CONFIGS / "variants.yaml").read_text())


def workdir(cfg: Config, version: str) -> Path:
    return _workdir("cunet", f"{cfg.name}@{version}")


# ----------------------------------------------------------------------------- model
def trunk(cfg: Config, version: str, progress: bool = False):
    """The frame classifier of the multimodal baseline (trained there when missing)."""
    mcfg = mm.Config.load(cfg.mm_config)
    path = mm.train_all(mcfg, version, progress, stages=("visual",))["visual"]
    return mm.load_model(mcfg, "visual", path)


def build(cfg: Config, version: str | None = None) -> CUNet:
    """The variant's network; ``version`` is needed for the visual contexts (their trunk)."""
    ctx = None
    if cfg.context == "labels":
        ctx = Context("labels")
    elif cfg.context in ("visual", "motion", "visual-finetune"):
        mcfg = mm.Config.load(cfg.mm_config)
        d = mm.build(mcfg, "visual").n_features
        tr = None
        if cfg.context == "visual-finetune":
            tr = trunk(cfg, version) if version is not None else mm.build(mcfg, "visual")
        ctx = Context(cfg.context, d, cfg.lstm_hidden, trunk=tr, n_players=MAX_PLAYERS)
    return CUNet(cfg.widths, cfg.heads, cfg.dropout, cfg.conditioning, ctx, cfg.film_hidden, cfg.head_width, cfg.bias)


# ----------------------------------------------------------------------------- features
def features(X: torch.Tensor, cfg: Config) -> torch.Tensor:
    """Mixture STFT ``(B, 512, T)`` -> network input ``(B, 1, F, T)``."""
    mag = X.abs()
    if cfg.freq == "log":
        mag = fe.warp(mag)
    return fe.log_mag(mag, cfg.values).unsqueeze(1)


def targets(S: torch.Tensor, X: torch.Tensor, cfg: Config) -> torch.Tensor:
    """Slot STFTs ``(B, 13, 512, T)`` (zeros for absent) and mixture -> target masks ``(B, 13, F, T)``."""
    on = S.abs().flatten(2).amax(-1) > 0  # only the present slots are warped
    mag = S.new_zeros(S.shape, dtype=X.real.dtype) if cfg.freq == "linear" else None
    mix = X.abs()
    if cfg.freq == "log":
        w = fe.warp(S[on].abs())
        mag = w.new_zeros(S.shape[0], N_SLOTS, *w.shape[1:])
        mag[on] = w
        mix = fe.warp(mix)
    else:
        mag[on] = S[on].abs()
    if cfg.mask == "binary":  # the reference's rule: the source outweighs the rest of the mixture
        return ((mag >= mix.unsqueeze(1) - mag) & (mag > 0)).float()
    return (mag / mix.unsqueeze(1).clamp_min(1e-8)).clamp(0, 1)


def loss_fn(masks: torch.Tensor, target: torch.Tensor, cfg: Config, present: torch.Tensor | None = None) -> torch.Tensor:
    """Smooth L1 (ratio masks) or BCE with the constant positive weight ``cfg.pos_weight``
    (binary masks).  ``slot_loss: all`` averages over every bin of the 13 slots (the
    reference's); ``balanced`` averages each slot over its bins, then the present slots'
    mean plus ``absent_weight`` times the absent slots' mean (``present (B, 13)``), so that
    the few present slots are not outweighed by the many absent ones."""
    if cfg.mask == "ratio":
        per = F.smooth_l1_loss(masks, target, reduction="none")
    else:
        p = masks.clamp(1e-6, 1 - 1e-6)
        per = -(cfg.pos_weight * target * torch.log(p) + (1 - target) * torch.log(1 - p))
    if cfg.slot_loss == "all" or present is None:
        return per.mean()
    if cfg.slot_loss != "balanced":
        raise ValueError(f"unknown slot_loss {cfg.slot_loss!r}; use 'all' or 'balanced'")
    slot = per.flatten(2).mean(-1)  # (B, 13)
    on = present.to(slot.dtype)
    pres = (slot * on).sum() / on.sum().clamp_min(1)
    absent = (slot * (1 - on)).sum() / (1 - on).sum().clamp_min(1)
    return pres + cfg.absent_weight * absent


# ----------------------------------------------------------------------------- data
class Data:
    """Solo clips of one split with per-class indices, frame features for the visual
    contexts and the mixture sampler."""

    def __init__(self, d: dict, feats: np.ndarray | None = None):
        self.d, self.feats = d, feats
        self.by_class = [np.flatnonzero(d["labels"] == k) for k in range(N_SLOTS)]
        self.classes = np.array([k for k in range(N_SLOTS) if len(self.by_class[k])])

    def draw(self, g: np.random.Generator, n_mix: int, lo: int, hi: int) -> list[list[tuple[int, int]]]:
        """``n_mix`` mixtures, each a list of (slot, clip index) with 2..hi distinct instruments."""
        out = []
        for _ in range(n_mix):
            n = int(g.integers(lo, min(hi, len(self.classes)) + 1))
            slots = g.choice(self.classes, n, replace=False)
            out.append([(int(k), int(g.choice(self.by_class[k]))) for k in sorted(slots)])
        return out

    def batch(self, mixes: list[list[tuple[int, int]]], cfg: Config, g: np.random.Generator | None, train: bool,
              device: torch.device | str = "cpu") -> dict:
        """Slot STFTs ``S``, mixture STFT ``X``, ``present`` and the context, on ``device``."""
        b = len(mixes)
        flat = [(i, k, c) for i, m in enumerate(mixes) for k, c in m]
        audio = self.d["audio"][[c for _, _, c in flat]]
        if train and cfg.crop:  # one random excerpt per mixture, the same for its sources
            start = g.integers(0, audio.shape[1] - cfg.crop + 1, b)
            audio = np.stack([a[start[i]:start[i] + cfg.crop] for (i, _, _), a in zip(flat, audio)])
        audio = torch.from_numpy(audio).to(device)
        spec = fe.stft(audio)
        S = spec.new_zeros(b, N_SLOTS, *spec.shape[1:])
        S[[i for i, _, _ in flat], [k for _, k, _ in flat]] = spec
        present = torch.zeros(b, N_SLOTS)
        present[[i for i, _, _ in flat], [k for _, k, _ in flat]] = 1.0
        out = {"S": S, "X": S.sum(1), "present": present.to(device), "context": None}
        if cfg.context in ("visual", "visual-finetune", "motion"):
            out["context"], out["players"] = self.players(mixes, cfg, g, train)
            out["context"], out["players"] = out["context"].to(device), out["players"].to(device)
        return out

    def players(self, mixes: list[list[tuple[int, int]]], cfg: Config, g: np.random.Generator | None,
                train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """The visual context of each mixture, ``(B, K', ...)``, and its player mask
        ``(B, K')``: the players in a random order (drawn from ``g`` in training, from a
        fixed generator otherwise), so that a row's position says nothing about its
        instrument; the frames alone, never the slots, fill it."""
        b, k_max = len(mixes), self.d["frames"].shape[1]
        order_g = g if g is not None else np.random.default_rng(8765)
        mask = torch.zeros(b, MAX_PLAYERS)
        if cfg.context == "motion":
            idx = mm.frame_index(k_max, cfg.motion_frames)
            f = torch.zeros(b, MAX_PLAYERS, len(idx), self.feats.shape[-1])
        elif cfg.context == "visual":
            f = torch.zeros(b, MAX_PLAYERS, self.feats.shape[-1])
        else:
            size = self.d["frames"].shape[2]
            f = torch.zeros(b, MAX_PLAYERS, 3, size, size)
        for i, m in enumerate(mixes):
            clips = sorted(c for _, c in m)  # the clips alone, then a random order: no slot decides a row
            for j, pos in enumerate(order_g.permutation(len(clips))):
                c = clips[pos]
                mask[i, j] = 1.0
                if cfg.context == "motion":
                    f[i, j] = torch.from_numpy(self.feats[c, idx])
                else:
                    fr = int(g.integers(0, k_max)) if train else k_max // 2
                    f[i, j] = (torch.from_numpy(self.feats[c, fr]) if cfg.context == "visual"
                               else mm.frame_tensor(self.d["frames"][c, fr]))
        return f, mask


@torch.no_grad()
def frame_features(model, frames: np.ndarray) -> np.ndarray:
    """Per-frame trunk features of every clip.  ``(n, k, H, W, 3)`` -> ``(n, k, D)``."""
    model.eval()
    out = [model.features(mm.frame_tensor(frames[i:i + 32]).flatten(0, 1)).view(len(frames[i:i + 32]), frames.shape[1], -1)
           for i in range(0, len(frames), 32)]
    return torch.cat(out).numpy()


def mm_config(cfg: Config) -> "mm.Config":
    """The multimodal config whose cached clips and frames are read (with ``frames_kept``
    frames per clip when set: 50 for the 50-frame motion context)."""
    mcfg = mm.Config.load(cfg.mm_config)
    return replace(mcfg, k_max=cfg.frames_kept) if cfg.frames_kept else mcfg


def load_data(cfg: Config, version: str, progress: bool = False) -> tuple[Data, Data]:
    mcfg = mm_config(cfg)
    tr, va = mm.load_split(mcfg, version, "train", progress), mm.load_split(mcfg, version, "val", progress)
    ftr = fva = None
    if cfg.context in ("visual", "motion"):
        p = workdir(cfg, version) / f"frame-features-{mcfg.k_max}.npz"
        if not p.exists():
            m = trunk(cfg, version, progress)
            tmp = p.with_suffix(".tmp.npz")
            np.savez(tmp, train=frame_features(m, tr["frames"]), val=frame_features(m, va["frames"]))
            tmp.replace(p)
        with np.load(p) as z:
            ftr, fva = z["train"], z["val"]
    return Data(tr, ftr), Data(va, fva)


# ----------------------------------------------------------------------------- training
def device_of(cfg: Config) -> torch.device:
    """``auto``: the GPU when there is one."""
    if cfg.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(cfg.device)


def step_loss(model: CUNet, data: Data, mixes, cfg: Config, g: np.random.Generator | None, train: bool) -> torch.Tensor:
    dev = next(model.parameters()).device
    bt = data.batch(mixes, cfg, g, train, dev)
    x = features(bt["X"], cfg)
    if train and cfg.noise:
        x = x + cfg.noise_std * torch.from_numpy(g.standard_normal(x.shape).astype(np.float32)).to(dev)
    with torch.no_grad():
        target = targets(bt["S"], bt["X"], cfg)
    return loss_fn(model(x, bt["context"], bt.get("players", bt["present"])), target, cfg, bt["present"])


@torch.no_grad()
def val_quality(model: CUNet, data: Data, mixes: list[list[tuple[int, int]]], cfg: Config) -> dict[str, float]:
    """How the model separates fixed validation mixtures, scored as the task scores them:
    the whole 65535-sample clips separated by :func:`separate` (masks thresholded), the
    BSS Eval v3 SDR of every sounding source's estimate minus the mixture's (a silenced
    estimate takes protocol 2's floor, -80 dB), averaged: ``sdri``; and the share of the
    sounding sources whose estimate is silent: ``silenced``."""
    from avbench.metrics import bss_eval_sources
    from avbench.metrics import functional as MF
    from avbench.metrics.functional.silence import BUCKETS

    sdri, silent = [], []
    for m in mixes:
        refs = data.d["audio"][[c for _, c in m]].astype(np.float64)
        mix = refs.astype(np.float32).sum(0)
        ctx = players = None
        if cfg.context in ("visual", "visual-finetune", "motion"):
            ctx, pl = data.players([m], cfg, None, False)
            players = pl[0].numpy()
        present = np.zeros(N_SLOTS, np.float32)
        present[[k for k, _ in m]] = 1.0
        if "labels" not in variants()[cfg.variant]["inputs"]:  # as the submission reads them (infer.run)
            present = np.ones(N_SLOTS, np.float32)
        est = separate(model, cfg, mix, present if players is None else players, ctx)[[k for k, _ in m]].astype(np.float64)
        codes = MF.buckets(refs, est)
        ok = codes == BUCKETS["sdr"]
        sdr = np.full(len(m), -80.0)
        if ok.any():
            sdr[ok] = np.clip(np.asarray(bss_eval_sources(refs[ok], est[ok], check=False).sdr), -80, 80)
        mix_sdr = np.asarray(bss_eval_sources(refs, np.repeat(mix[None].astype(np.float64), len(m), 0), check=False).sdr)
        sdri.extend(sdr - mix_sdr)
        silent.extend(codes == BUCKETS["eps"])
    return {"sdri": float(np.mean(sdri)), "silenced": float(np.mean(silent))}


def lr_factor(cfg: Config, step: int) -> float | None:
    """The learning-rate factor of step ``step`` for ``schedule: cosine`` (with ``warmup``
    steps of linear warm-up): a function of the step alone, so it resumes exactly."""
    w = min(1.0, (step + 1) / cfg.warmup) if cfg.warmup else 1.0
    if cfg.schedule != "cosine":
        return w if step < cfg.warmup else None  # after the warm-up the plateau rule owns the rate
    t = min(1.0, step / max(1, cfg.steps))
    return w * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * t)))


def train(cfg: Config, version: str, progress: bool = True, ckpt: Path | None = None,
          stop_after: int | None = None, data: tuple[Data, Data] | None = None,
          max_seconds: float | None = None) -> Path | None:
    """Train ``cfg`` on ``version``'s train split (returns the finished checkpoint; an
    existing one is returned as it is).  Resumable: every evaluation rewrites
    ``<ckpt>.partial.pt``, and a call ended by ``stop_after`` steps or ``max_seconds``
    (default ``cfg.max_seconds``) returns ``None``; the next call continues it."""
    ckpt = ckpt or workdir(cfg, version) / f"{cfg.variant}.s{cfg.seed}.pt"
    if ckpt.exists():
        return ckpt
    tr, va = data or load_data(cfg, version, progress)
    torch.manual_seed(cfg.seed)
    model = build(cfg, version).to(device_of(cfg))
    if cfg.out_bias is not None:
        for dec in model.dec:
            torch.nn.init.constant_(dec.out.bias, cfg.out_bias)
    trunk_params = list(model.context.trunk.parameters()) if cfg.context == "visual-finetune" else []
    ids = {id(p) for p in trunk_params}
    groups = [{"params": [p for p in model.parameters() if id(p) not in ids], "lr": cfg.lr}]
    if trunk_params:
        groups.append({"params": trunk_params, "lr": cfg.lr_trunk})
    opt = (torch.optim.AdamW if cfg.decoupled_wd else torch.optim.Adam)(groups, weight_decay=cfg.weight_decay)
    gv = np.random.default_rng(4321)
    select = va.draw(gv, cfg.n_val, 2, 5)
    per_level = {n: va.draw(np.random.default_rng((4321, n)), cfg.n_val, n, n) for n in range(2, cfg.max_sources + 1)}
    live = {"level": 2 if cfg.curriculum else cfg.max_sources}
    scheduled = cfg.curriculum and cfg.curriculum_steps > 0

    def curriculum(state: dict) -> None:
        state.setdefault("level", live["level"])
        state.setdefault("levels", [])
        state.setdefault("cur_best", float("inf"))
        state.setdefault("cur_bad", 0)
        n_done = len(state["history"])
        if n_done > len(state["levels"]):  # an evaluation just happened
            model.eval()
            with torch.no_grad():
                vl = float(step_loss(model, va, per_level[state["level"]], cfg, None, False))
            if scheduled:
                state["level"] = min(cfg.max_sources, 2 + state["step"] // cfg.curriculum_steps)
            else:
                if vl < state["cur_best"] - 1e-4:
                    state["cur_best"], state["cur_bad"] = vl, 0
                else:
                    state["cur_bad"] += 1
                if state["cur_bad"] >= cfg.patience:
                    state["cur_bad"] = 0
                    if state["level"] < cfg.max_sources:
                        state["level"] += 1
                        state["cur_best"] = float("inf")
                    elif cfg.schedule == "plateau":
                        for grp in opt.param_groups:
                            grp["lr"] *= 0.5
            state["levels"].append({"step": state["step"], "level_loss": vl, "level": state["level"],
                                    "lr": opt.param_groups[0]["lr"]})
        live["level"] = state["level"]

    def batch_loss(g):
        if scheduled:  # the level of this very step (a function of the step: resumes exactly)
            live["level"] = min(cfg.max_sources, 2 + g_step["step"] // cfg.curriculum_steps)
        g_step["step"] += 1
        return step_loss(model, tr, tr.draw(g, cfg.batch, 2, live["level"]), cfg, g, True)

    def train_mode():
        model.train()
        if cfg.context == "visual-finetune":
            model.context.trunk.train()

    part = ckpt.with_suffix(".partial.pt")
    g_step = {"step": 0}
    if part.exists():
        g_step["step"] = torch.load(part, map_location="cpu", weights_only=False)["state"]["step"]
    smooth = cfg.warmup or cfg.schedule == "cosine"
    state = run_steps(model, opt, part, steps=cfg.steps, eval_every=cfg.eval_every, seed=cfg.seed,
                      batch_loss=batch_loss, val_loss=lambda: step_loss(model, va, select, cfg, None, False),
                      desc=f"{cfg.variant}.s{cfg.seed}", progress=progress, stop_after=stop_after, train_mode=train_mode,
                      after_eval=curriculum, lr_factor_at=(lambda k: lr_factor(cfg, k)) if smooth else None,
                      quality=lambda: val_quality(model, va, select, cfg), select=cfg.select,
                      max_seconds=max_seconds if max_seconds is not None else cfg.max_seconds)
    if state is None:
        return None
    return save_final(ckpt, part, model, cfg, state, levels=state["levels"])


def load(cfg: Config, path: Path) -> CUNet:
    m = build(cfg)
    m.load_state_dict(torch.load(path, map_location="cpu", weights_only=False)["model"])
    return m.to(device_of(cfg)).eval()


# ----------------------------------------------------------------------------- inference
@torch.no_grad()
def separate(model: CUNet, cfg: Config, mix: np.ndarray, present: np.ndarray, context: torch.Tensor | None = None) -> np.ndarray:
    """Estimates of the 13 slots of one mixture, processed in 65535-sample segments
    (the last zero-padded).  ``present``: the present-instrument vector ``(13,)`` for the
    label contexts, the player mask ``(K',)`` for the visual ones; ``context`` as in
    training with a batch dimension of 1.  Shape: ``(13, n_samples)``."""
    model.eval()
    dev = next(model.parameters()).device
    n = len(mix)
    n_seg = max(1, -(-n // fe.SEG))
    x = np.zeros(n_seg * fe.SEG, np.float32)
    x[:n] = mix
    X = fe.stft(torch.from_numpy(x.reshape(n_seg, fe.SEG)).to(dev))
    pr = torch.from_numpy(present.astype(np.float32)).to(dev)[None].expand(n_seg, -1)
    ctx = context.to(dev).expand(n_seg, *context.shape[1:]) if context is not None else None
    m = model(features(X, cfg), ctx, pr)
    if cfg.mask == "binary":
        m = (m > 0.5).float()
    if cfg.freq == "log":
        m = fe.unwarp(m.flatten(0, 1)).view(n_seg, N_SLOTS, fe.N_FREQ, -1).clamp(0, 1)
    est = fe.apply_masks(X, m, fe.SEG)  # (n_seg, 13, SEG)
    return est.permute(1, 0, 2).reshape(N_SLOTS, -1)[:, :n].cpu().numpy()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="train a conditioned U-Net variant on synth-ensembles")
    ap.add_argument("--variant", required=True, help="|".join(variants()) + " or all")
    ap.add_argument("--config", default="cpu")
    ap.add_argument("--version", default="3")
    ap.add_argument("--seeds", default="0", help="comma-separated training seeds (0,1,2)")
    a = ap.parse_args(argv)
    names = list(variants()) if a.variant == "all" else a.variant.split(",")
    for v, seed in [(v, int(k)) for v in names for k in a.seeds.split(",")]:
        cfg = replace(Config.load(a.config, v), seed=seed)
        ck = torch.load(train(cfg, a.version), map_location="cpu", weights_only=False)
        lv = ck["levels"][-1]["level"] if ck["levels"] else "-"
        kept = (f"best validation SDRi {-ck['best_val_loss']:+.2f} dB" if cfg.select == "sdri"  # the kept weights' score
                else f"best validation loss {ck['best_val_loss']:.4f}")
        print(f"{v} seed {seed}: {kept}, final curriculum level {lv}, {ck['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
