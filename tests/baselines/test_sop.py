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


def test_layer4_dilation_follows_nostride_dilate():
    """The reference's ``_nostride_dilate(dilate=2)`` on layer4: the strided first 3x3
    convolution gets stride 1 and keeps dilation 1, the 1x1 shortcut stride 1, every other
    3x3 convolution dilation 2; the trunk's output stride is 16."""
    from baselines.sop.model import VisualNet

    v = VisualNet(k=5, width=4)
    l4 = v.trunk[-1]
    assert l4[0].conv1.stride == (1, 1) and l4[0].conv1.dilation == (1, 1) and l4[0].conv1.padding == (1, 1)
    assert l4[0].downsample[0].stride == (1, 1) and l4[0].downsample[0].dilation == (1, 1)
    for conv in (l4[0].conv2, l4[1].conv1, l4[1].conv2):
        assert conv.stride == (1, 1) and conv.dilation == (2, 2) and conv.padding == (2, 2)
    # layer3 is untouched: its first convolution still strides
    assert v.trunk[-2][0].conv1.stride == (2, 2)
    assert v.trunk(torch.rand(1, 3, 64, 64)).shape[-2:] == (4, 4)


def test_training_example_divides_the_mixture_by_n_and_thresholds_at_half():
    """One source alone: the mixture is that source divided by N = 2 (half its STFT), its
    target is 1 wherever the mixture has energy (``|S| = |X| > 0.5 |X|``), the silent
    source's target is 0; the weight is ``clamp(log(1 + |X|), 1e-3, 10)`` of the warped
    ``|X| + 1e-10``."""
    t = torch.arange(65535, dtype=torch.float64)
    x1 = (0.8 * torch.sin(2 * np.pi * 1000 * t / 11025))[None]
    x2 = torch.zeros_like(x1)
    X, target, weight = st.targets([x1, x2])
    torch.testing.assert_close(X, fe.stft(x1) / 2)
    mag = fe.warp(X.abs() + 1e-10)
    assert target.shape == (1, 2, 256, 256)
    assert torch.equal(target[0, 0], (mag[0] > 0.5 * mag[0]).double())
    assert target[0, 0].mean() > 0.99 and target[0, 1].sum() == 0
    torch.testing.assert_close(weight[0, 0], torch.log1p(mag[0]).clamp(1e-3, 10))
    # two sources: the target of each is |S_n| > 0.5 |X| with S_n = x_n / 2
    x2 = (0.3 * torch.sin(2 * np.pi * 2500 * t / 11025))[None]
    X, target, _ = st.targets([x1, x2])
    torch.testing.assert_close(X, fe.stft(x1 / 2 + x2 / 2))
    m1 = fe.warp(fe.stft(x1 / 2).abs())
    assert torch.equal(target[0, 0], (m1[0] > 0.5 * fe.warp(X.abs() + 1e-10)[0]).double())


def test_learning_rate_drops_weight_decay_and_groups():
    cfg = st.Config.load("tiny")
    cfg = type(cfg)(**{**cfg.__dict__, "steps": 100})
    assert [st.lr_factor(cfg, s) for s in (0, 39, 40, 79, 80, 99)] == pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01])
    m = st.build(cfg, "sop")
    opt = st.optimizer(cfg, m, "sop")
    assert all(g["weight_decay"] == 1e-4 and g["momentum"] == 0.9 for g in opt.param_groups)
    fast, slow = opt.param_groups
    ids = lambda ps: {id(p) for p in ps}  # noqa: E731
    assert ids(m.visual.head.parameters()) <= ids(fast["params"]) and fast["lr"] == cfg.lr_audio
    assert ids(slow["params"]) == ids(m.visual.trunk.parameters()) and slow["lr"] == cfg.lr_visual
    op = st.build(cfg, "object-prior")
    assert len(st.optimizer(cfg, op, "object-prior").param_groups) == 1  # the visual rate is 0


def test_frame_augmentation_is_one_draw_per_clip():
    from baselines.multimodal.train import augment

    x = torch.rand(6, 3, 3, 20, 20)
    y = augment(x, np.random.default_rng(0))
    assert y.shape == x.shape and float(y.min()) >= 0 and float(y.max()) <= 1
    # scale 1: no resize and no crop, only the flip; every frame of a clip alike
    y = augment(x, np.random.default_rng(3), scale=1.0)
    for i in range(6):
        flipped = torch.allclose(y[i], x[i].flip(-1), atol=1e-6)
        assert flipped or torch.allclose(y[i], x[i], atol=1e-6)
    assert any(torch.allclose(y[i], x[i].flip(-1), atol=1e-6) for i in range(6))
    assert any(torch.allclose(y[i], x[i], atol=1e-6) for i in range(6))


def test_strongest_channel_rule_and_identity_mapping():
    """Hand-made activations: each sample is named by its own strongest channel (not by
    the strongest channel of the mean), with the identity mapping for Object-Prior."""
    from baselines.sop import analysis as an

    act = np.array([[0.1, 0.9, 0.3],
                    [0.8, 0.1, 0.7],
                    [0.2, 0.2, 0.9],
                    [0.0, 0.95, 0.0]])
    assert an.strongest(act).tolist() == [1, 0, 2, 1]
    assert act.mean(0).argmax() == 1  # a mean over samples would name every sample 1
    assert an.classify(act, an.identity_names(3)).tolist() == [1, 0, 2, 1]
    # a Sound-of-Pixels naming: channel -> class from training clips, -1 for a channel that wins none
    names = st.majority_names(np.array([0, 0, 1, 0, 1, 1, 1]), np.array([4, 4, 7, 9, 7, 7, 4]), 3)
    assert names.tolist() == [4, 7, -1]
    assert an.classify(act, names).tolist() == [7, 4, -1, 7]


def test_audio_channel_activation_is_the_plain_mean():
    from baselines.sop import analysis as an

    a = torch.zeros(1, 2, 4, 4)
    a[0, 0, 0, 0] = 8.0          # one loud cell: mean 0.5
    a[0, 1] = 0.6                # uniform: mean 0.6
    torch.testing.assert_close(an.channel_means(a), torch.tensor([[0.5, 0.6]]))
    assert an.strongest(an.channel_means(a).numpy()).tolist() == [1]


def test_best_one_to_one_naming():
    from baselines.sop import analysis as an

    # trumpet (1) and tuba (2) share channel 0, violin (0) has channel 2, channel 1 is unused
    win = np.array([2, 2, 0, 0, 0, 0])
    lab = np.array([0, 0, 1, 1, 2, 2])
    acc, naming = an.best_one_to_one(win, lab, 3, 3)
    assert acc == pytest.approx(4 / 6) and naming[0] == 2 and naming[1] != naming[2]


def test_players_are_named_by_the_model_among_the_labels():
    """Protocol 2: frames by position, the instruments present given; Object-Prior names
    each player by its class posterior (one-to-one), whatever the players' order."""
    cfg = st.Config.load("tiny")
    m = st.build(cfg, "object-prior")
    m.channel_names = np.arange(13)
    from avbench.instruments import CLASSES

    logits = {0: torch.full((13,), -5.0), 1: torch.full((13,), -5.0)}
    logits[0][CLASSES.index("tuba")] = 3.0
    logits[1][CLASSES.index("trumpet")] = 2.0
    logits[1][CLASSES.index("tuba")] = 2.5  # player 1 looks more like a tuba too: one-to-one decides

    class Fixed(torch.nn.Module):
        def forward(self, frames):
            return torch.stack([logits[int(f[0, 0, 0, 0])] for f in frames])

    m.visual = Fixed()
    p0, p1 = torch.zeros(3, 3, 8, 8), torch.ones(3, 3, 8, 8)
    assert st.name_players(m, [p0, p1], ["trumpet", "tuba"]) == ["tuba", "trumpet"]
    assert st.name_players(m, [p1, p0], ["trumpet", "tuba"]) == ["trumpet", "tuba"]
