"""Training-step and separation throughput of the U-Net variants (medians of timed
repeats after warm-up), on the CPU or the GPU:

    python -m baselines.cunet.speed --device cuda --widths 16,32,64,128,256,512 --batch 16

Imports PyTorch and the networks only."""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from .. import frontend as fe

from .model import N_SLOTS, Context, CUNet

VARIANTS = {"unet": dict(heads=1), "mhunet": dict(heads=13),
            "unet-film-bottleneck": dict(heads=1, conditioning="film-bottleneck", context="labels"),
            "unet-film-encoder": dict(heads=1, conditioning="film-encoder", context="labels")}


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def measure(name: str, widths: list[int], batch: int, device: str, head_width: float, repeats: int = 10) -> dict:
    v = VARIANTS[name]
    ctx = Context(v["context"]) if v.get("context") else None
    m = CUNet(widths, v["heads"], conditioning=v.get("conditioning"), context=ctx, head_width=head_width).to(device)
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    audio = torch.randn(batch, fe.SEG, device=device) * 0.1
    present = torch.zeros(batch, N_SLOTS, device=device)
    present[:, :3] = 1
    target = (torch.rand(batch, N_SLOTS, 256, 256, device=device) > 0.5).float()

    def step():
        X = fe.stft(audio)
        x = fe.log_mag(fe.warp(X.abs())).unsqueeze(1)
        loss = torch.nn.functional.binary_cross_entropy(m(x, None, present), target)
        opt.zero_grad()
        loss.backward()
        opt.step()

    @torch.no_grad()
    def separate():
        X = fe.stft(audio)
        masks = (m(fe.log_mag(fe.warp(X.abs())).unsqueeze(1), None, present) > 0.5).float()
        fe.apply_masks(X, fe.unwarp(masks.flatten(0, 1)).view(batch, N_SLOTS, fe.N_FREQ, -1))

    out = {"variant": name, "params": sum(p.numel() for p in m.parameters())}
    for key, fn, mode in (("train_step_s", step, m.train), ("separate_s", separate, m.eval)):
        mode()
        for _ in range(3):
            fn()
        _sync(device)
        ts = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            _sync(device)
            ts.append(time.perf_counter() - t)
        out[key] = statistics.median(ts)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--widths", default="8,16,32,64,128,128")
    ap.add_argument("--head-width", type=float, default=0.25)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    a = ap.parse_args(argv)
    widths = [int(w) for w in a.widths.split(",")]
    name = torch.cuda.get_device_name() if a.device.startswith("cuda") else "cpu"
    print(f"device {name}, widths {widths}, batch {a.batch} mixtures of 65535 samples")
    print(f"{'variant':24s} {'parameters':>11s} {'train step (s)':>15s} {'separation (s/mixture)':>23s}")
    for v in a.variants.split(","):
        r = measure(v, widths, a.batch, a.device, a.head_width, a.repeats)
        print(f"{v:24s} {r['params']:11,d} {r['train_step_s']:15.4f} {r['separate_s'] / a.batch:23.5f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
