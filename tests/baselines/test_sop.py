"""Shared front end, Sound-of-Pixels and Object-Prior."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from baselines import frontend as fe
from baselines.sop import train as st
from baselines.sop.model import ObjectPriorSynthesizer, Separator


def test_front_end_shapes_warp_and_istft():
    x = torch.randn(2, 65535, dtype=torch.float64)
    X = fe.stft(x)
    assert X.shape == (2, 512, 256)
    # a mask of ones returns the input (iSTFT with length=65535)
    y = fe.apply_masks(X, torch.ones(2, 1, 512, 256, dtype=torch.float64))
    assert y.shape == (2, 1, 65535) and torch.allclose(y[:, 0], x, atol=1e-9)
    # the log-frequency warp keeps the ends and round-trips smooth spectra closely
    s = torch.linspace(0, 1, 512, dtype=torch.float64)[None, :, None].expand(1, 512, 256).contiguous()
    w = fe.warp(s)
    assert w.shape == (1, 256, 256) and float(w[0, 0, 0]) == pytest.approx(0.0) and float(w[0, -1, 0]) == pytest.approx(1.0)
    assert float((fe.unwarp(w) - s).abs().max()) < 1e-3


def test_warp_is_the_reference_base_21_grid():
    """Row ``i`` of the warp reads linear bin ``(21 ** (i / 255) - 1) / 20 * 511`` (the
    reference ``warpgrid``: ``(21 ** ((y + 1) / 2) - 11) / 10`` on [-1, 1] with
    ``align_corners``), computed here by hand; bilinear sampling of a ramp returns it exactly."""
    import math

    ramp = torch.arange(512, dtype=torch.float64)[None, :, None].expand(1, 512, 4).contiguous()
    w = fe.warp(ramp)[0, :, 0]
    hand = [(math.pow(21, i / 255) - 1) / 20 * 511 for i in range(256)]
    np.testing.assert_allclose(w.numpy(), hand, rtol=0, atol=1e-9)
    assert w[0] == 0 and abs(float(w[-1]) - 511) < 1e-9
    assert abs(float(w[128]) - (math.pow(21, 128 / 255) - 1) / 20 * 511) < 1e-9
    hz = np.array(hand) * fe.SR / fe.N_FFT
    assert int((np.array(hand) < 2).sum()) == 7  # 0-21 Hz: 7 rows (a 512**p grid gives 45)
    assert int(((hz >= 2800) & (hz <= 5500)).sum()) == 52  # (a 512**p grid gives 27)
    # the inverse: linear bin j reads warped row (log(10 y + 11) / log 21) * 255, y = 2 j / 511 - 1
    rows = torch.arange(256, dtype=torch.float64)[None, :, None].expand(1, 256, 4).contiguous()
    u = fe.unwarp(rows)[0, :, 0]
    hand_u = [math.log(10 * (2 * j / 511 - 1) + 11) / math.log(21) * 255 for j in range(512)]
    np.testing.assert_allclose(u.numpy(), hand_u, rtol=0, atol=1e-9)


def test_log_magnitude_scales_follow_the_references():
    mag = torch.tensor([0.0, 1e-3, 1.0, 30.0], dtype=torch.float64)
    torch.testing.assert_close(fe.log_mag(mag, "log"), torch.log(mag + 1e-4))
    torch.testing.assert_close(fe.log_mag(mag, "log", fe.LOG_FLOOR["sop"]), torch.log(mag + 1e-10))
    a = 2.0 ** -16  # conditioned-u-net's amplitude_to_db: 20 log1p(m / a) / (20 log1p(1 / a))
    hand = [20 * np.log1p(m / a) / (20 * np.log1p(1 / a)) for m in mag.tolist()]
    np.testing.assert_allclose(fe.log_mag(mag, "db").numpy(), hand, rtol=1e-12)
    assert float(fe.log_mag(mag, "db")[0]) == 0 and float(fe.log_mag(mag, "db")[2]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="log"):
        fe.log_mag(mag, "log1p")


def test_softmax_synthesizer_weights_sum_to_one():
    syn = ObjectPriorSynthesizer()
    v = torch.randn(4, 13)
    w = syn.weights(v)
    assert torch.allclose(w.sum(1), torch.ones(4)) and (w > 0).all()
    a = torch.randn(4, 13, 8, 8)
    torch.testing.assert_close(syn(v, a), (w[:, :, None, None] * a).sum(1))


def test_shapes():
    m = Separator("sop", 8, 4, 7, 4)
    spec = torch.randn(2, 1, 256, 256)
    fr = torch.rand(2, 3, 3, 32, 32)
    assert m.audio(spec).shape == (2, 8, 256, 256) and m.visual(fr).shape == (2, 8)
    assert m.mask_logits(spec, fr).shape == (2, 256, 256)


@pytest.fixture(scope="module")
def mini_data(mini):
    from baselines.multimodal import train as mm

    c = mm.Config.load("tiny")
    return mm.load_split(c, "1-mini", "train"), mm.load_split(c, "1-mini", "val")


def test_classifier_pretraining_and_frozen_visual(mini_data, tmp_path):
    cfg = st.Config.load("tiny")
    tr, va = mini_data
    torch.manual_seed(0)
    m = st.build(cfg, "object-prior")
    acc = st.pretrain_classifier(cfg, m, tr, va)
    assert acc > 0.7, acc  # 13 classes, chance 0.08: a few hundred steps on the benchmark's frames
    ck = st.train(cfg, "object-prior", "1-mini", progress=False, ckpt=tmp_path / "op.pt", data=(tr, va))
    s = torch.load(ck, weights_only=False)
    assert s["cls_acc"] > 0.7
    # the frozen visual network is the pre-trained classifier, untouched by mix-and-separate
    before = torch.load(ck, weights_only=False)["model"]
    part = tmp_path / "op2.pt"
    st.train(cfg, "object-prior", "1-mini", progress=False, ckpt=part, data=(tr, va))
    after = torch.load(part, weights_only=False)["model"]
    m2 = st.build(cfg, "object-prior")
    m2.load_state_dict(after)
    vis_keys = [k for k in after if k.startswith("visual.")]
    aud_keys = [k for k in after if k.startswith("audio.") and after[k].dtype.is_floating_point]
    assert vis_keys and aud_keys
    # compare with the classifier right after pre-training (same seed -> same classifier)
    torch.manual_seed(cfg.seed)
    ref = st.build(cfg, "object-prior")
    st.pretrain_classifier(cfg, ref, tr, va)
    for k in vis_keys:
        assert torch.equal(after[k], ref.state_dict()[k]), k
    assert any(not torch.equal(after[k], ref.state_dict()[k]) for k in aud_keys)
    assert all(torch.equal(before[k], after[k]) for k in after)  # seeded: two runs are identical


def test_short_overfit_reduces_the_loss(mini_data):
    cfg = st.Config.load("tiny")
    tr, _ = mini_data
    torch.manual_seed(0)
    m = st.build(cfg, "sop")
    g = np.random.default_rng(0)
    a, b = st.pair_batch(tr, g, 4)
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        loss = st.mix_loss(m, tr, a, b, cfg)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.6 * losses[0], (losses[0], losses[-1])


def test_separate_writes_one_estimate_per_source(mini_data):
    cfg = st.Config.load("tiny")
    tr, _ = mini_data
    m = st.build(cfg, "sop").eval()
    mix = (tr["audio"][0] + tr["audio"][1]).astype(np.float32)
    fr = [st.frames_tensor(tr["frames"][i][None], cfg.n_frames)[0] for i in (0, 1)]
    est = st.separate(m, mix, fr)
    assert est.shape == (2, 65535) and np.isfinite(est).all()
