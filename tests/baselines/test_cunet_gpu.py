"""The conditioned U-Nets on the GPU (skipped without CUDA).  Imports PyTorch and the
networks only, so it also runs where avbench's other dependencies are absent."""
from __future__ import annotations

import pytest
import torch

from baselines import frontend as fe
from baselines.cunet.model import N_SLOTS, Context, CUNet

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


def _present():
    p = torch.zeros(2, N_SLOTS)
    p[0, [0, 1]] = 1
    p[1, [5, 7, 12]] = 1
    return p


@pytest.mark.parametrize("cond,heads", [("film-bottleneck", 1), ("film-encoder", 13), ("label-multiply", 1)])
def test_gpu_matches_cpu(cond, heads):
    torch.manual_seed(0)
    ctx = Context("labels") if cond != "label-multiply" else None
    m = CUNet([8, 16, 32, 64, 128, 128], heads, conditioning=cond, context=ctx, head_width=0.25).eval()
    for mod in m.modules():  # a non-identity FiLM
        if hasattr(mod, "net") and isinstance(mod.net, torch.nn.Sequential):
            torch.nn.init.normal_(mod.net[-1].weight, std=0.1)
    x = torch.randn(2, 1, 256, 256)
    p = _present()
    cpu = m(x, None, p)
    gpu = m.cuda()(x.cuda(), None, p.cuda()).cpu()
    torch.testing.assert_close(gpu, cpu, atol=1e-4, rtol=1e-3)
    if cond == "label-multiply":
        assert torch.count_nonzero(gpu[p == 0]) == 0


def test_gpu_front_end_and_training_step():
    torch.manual_seed(0)
    x = torch.randn(4, fe.SEG, device="cuda")
    X = fe.stft(x)
    spec = fe.log_mag(fe.warp(X.abs())).unsqueeze(1)
    m = CUNet(heads=1, conditioning="film-bottleneck", context=Context("labels")).cuda()  # the paper's widths
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    p = _present().repeat(2, 1).cuda()
    target = (torch.rand(4, N_SLOTS, 256, 256, device="cuda") > 0.5).float()
    losses = []
    for _ in range(20):
        loss = torch.nn.functional.binary_cross_entropy(m(spec, None, p), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0]
    est = fe.apply_masks(X, fe.unwarp(m.eval()(spec, None, p)[:, :3].flatten(0, 1)).view(4, 3, fe.N_FREQ, -1))
    assert est.shape == (4, 3, fe.SEG) and est.is_cuda


def test_training_and_separation_on_the_gpu(tmp_path, monkeypatch):
    """A short run of the real training loop on the GPU (synthetic clips, label FiLM),
    resumed after an interruption; the checkpoint separates on the CPU."""
    import numpy as np

    from baselines.cunet import train as tr

    monkeypatch.setenv("AVBENCH_HOME", str(tmp_path))
    rng = np.random.default_rng(0)
    t = np.arange(fe.SEG) / fe.SR
    audio, labels = [], []
    for k in range(N_SLOTS):
        for j in range(3):
            f0 = 110 * 2 ** ((k + 0.3 * j) / 6)
            audio.append(0.1 * np.sin(2 * np.pi * f0 * t) * (1 + 0.1 * rng.standard_normal()))
            labels.append(k)
    d = {"audio": np.asarray(audio, np.float32), "labels": np.asarray(labels), "frames": np.zeros((len(labels), 1, 8, 8, 3), np.uint8)}
    data = (tr.Data(d), tr.Data(d))
    cfg = tr.Config.load("tiny", "unet-film-bottleneck")
    cfg = tr.replace(cfg, steps=8, eval_every=2, device="cuda")
    assert tr.train(cfg, "gpu", progress=False, ckpt=tmp_path / "m.pt", data=data, stop_after=3) is None
    p = tr.train(cfg, "gpu", progress=False, ckpt=tmp_path / "m.pt", data=data)
    ck = torch.load(p, map_location="cpu", weights_only=False)
    assert ck["history"][-1]["step"] == 8 and all(np.isfinite(h["val_loss"]) for h in ck["history"])
    m = tr.load(tr.replace(cfg, device="cpu"), p)
    present = np.zeros(N_SLOTS)
    present[[0, 6]] = 1
    est = tr.separate(m, cfg, d["audio"][0] + d["audio"][18], present)
    assert est.shape == (N_SLOTS, fe.SEG) and np.isfinite(est).all()
