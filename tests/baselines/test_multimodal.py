"""The multimodal classifier baseline: shapes, front end, crops, fusion, training."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from baselines.multimodal import train as tr
from baselines.multimodal.model import ChoiCNN, FrameCNN, Fusion, HanCNN, LogMel, crop_average, n_parameters, windows


def _ref_logmel(x: np.ndarray, sr: int, n_fft: int, hop: int, n_mels: int, top_db: float = 80.0) -> np.ndarray:
    """Log-mel spectrogram written out by hand: reflect-padded frames, periodic Hann window,
    |rfft|^2, triangular HTK mel filters without normalisation, dB, top_db clipping."""
    xp = np.pad(x.astype(np.float64), n_fft // 2, mode="reflect")
    n = 1 + (len(xp) - n_fft) // hop
    win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    P = np.abs(np.fft.rfft(np.stack([xp[i * hop:i * hop + n_fft] * win for i in range(n)]), axis=1)) ** 2
    mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)  # noqa: E731
    imel = lambda m: 700.0 * (10 ** (m / 2595.0) - 1.0)  # noqa: E731
    pts = imel(np.linspace(mel(0.0), mel(sr / 2), n_mels + 2))
    f = np.linspace(0, sr / 2, n_fft // 2 + 1)
    fb = np.stack([np.maximum(0, np.minimum((f - pts[m]) / (pts[m + 1] - pts[m]), (pts[m + 2] - f) / (pts[m + 2] - pts[m + 1])))
                   for m in range(n_mels)], axis=1)
    db = 10 * np.log10(np.maximum(P @ fb, 1e-10)).T
    return np.maximum(db, db.max() - top_db)


def test_logmel_matches_hand_computation():
    rng = np.random.default_rng(0)
    t = np.arange(11025) / 11025
    x = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(len(t))).astype(np.float32)
    got = LogMel(11025, 512, 256, 96)(torch.from_numpy(x)[None])[0].double().numpy()
    ref = _ref_logmel(x, 11025, 512, 256, 96)
    assert got.shape == ref.shape == (96, 1 + 11025 // 256)
    np.testing.assert_allclose(got, ref, atol=2e-3)


def test_mel_filterbank_agrees_with_torchaudio_at_even_rates():
    import torchaudio

    from baselines.multimodal.model import mel_filterbank

    ref = torchaudio.functional.melscale_fbanks(257, 0.0, 8000.0, 64, 16000, norm=None, mel_scale="htk")
    torch.testing.assert_close(mel_filterbank(257, 16000, 64), ref, atol=1e-5, rtol=1e-4)


def test_shapes_and_paper_size():
    choi = ChoiCNN(13, 96, 1366)
    assert choi.pad_t == 74  # 1366 -> 1440 frames, as the paper's zero padding of 37 per side
    assert 2.2e6 < n_parameters(choi) < 2.5e6  # "about 2.4 M parameters"
    assert choi(torch.randn(2, 96, 1366)).shape == (2, 13)
    han = HanCNN(13, 128, 43)
    assert han(torch.randn(3, 128, 43)).shape == (3, 13) and han.features(torch.randn(3, 128, 43)).shape == (3, 1024)
    vis = FrameCNN(13, width=8)
    assert vis(torch.rand(2, 3, 32, 32)).shape == (2, 13)
    assert vis.video_probs(torch.rand(2, 4, 3, 32, 32)).sum(1).allclose(torch.ones(2))
    fus = Fusion(4 * vis.n_features + 1024, 13)
    assert fus(torch.randn(5, 4 * vis.n_features + 1024)).shape == (5, 13)


def test_crops_uniform_central_and_average():
    spec = torch.arange(100.0).view(1, 1, 100).expand(2, 4, 100)
    w = windows(spec, 10, 4)
    assert w.shape == (2, 4, 4, 10)
    assert [int(w[0, i, 0, 0]) for i in range(4)] == [0, 30, 60, 90]  # first at 0, last ends at T
    assert int(windows(spec, 10, 1)[0, 0, 0, 0]) == 45  # central crop
    assert windows(spec, 10, None, hop=25).shape[1] == 4  # every 25 frames: 0, 25, 50, 75

    class Lin(torch.nn.Module):
        def forward(self, x):
            return x.mean(-2)[..., :3]

    model = Lin()
    got = crop_average(model, spec, 10, 4)
    ref = torch.stack([torch.softmax(model(w[:, i]), -1) for i in range(4)], 1).mean(1)
    torch.testing.assert_close(got, ref)


@pytest.fixture(scope="module")
def tiny(mini, tmp_path_factory):
    cfg = tr.Config.load("tiny")
    return cfg, tr.load_split(cfg, "1-mini", "train"), tr.load_split(cfg, "1-mini", "val")


def test_short_training_beats_chance_and_is_deterministic(tiny, tmp_path):
    cfg, trn, val = tiny
    assert trn["frames"].shape[1:] == (cfg.k_max, cfg.size, cfg.size, 3) and len(trn["labels"]) > 20
    choi = tr.train_audio(cfg, "choi", trn, val, tmp_path / "choi.pt")
    vis = tr.train_visual(cfg, trn, val, tmp_path / "visual.pt")
    idx = tr.frame_index(cfg.k_max, cfg.k_frames)
    # held-out accuracy (the mini validation split: other works)
    acc_a = float((tr.audio_probs(cfg, "choi", choi, val["audio"]).argmax(1) == val["labels"]).mean())
    acc_v = float((tr.visual_probs(vis, val["frames"], idx).argmax(1) == val["labels"]).mean())
    chance = 1 / 13
    assert acc_a > 4 * chance and acc_v > 4 * chance, (acc_a, acc_v)
    # fusion trains on the frozen features: the unimodal models are untouched
    before = {k: v.clone() for k, v in choi.state_dict().items()}
    fus = tr.train_fusion(cfg, choi, vis, trn, val, tmp_path / "fusion.pt")
    assert all(torch.equal(before[k], v) for k, v in choi.state_dict().items())
    feats = tr.fused_features(cfg, choi, vis, trn)
    assert feats.shape == (len(trn["labels"]), cfg.k_frames * vis.n_features + cfg.fc)
    f_val = tr.fused_features(cfg, choi, vis, val)
    assert float((tr.fusion_probs(fus, f_val).argmax(1) == val["labels"]).mean()) > 4 * chance
    # same seed, same weights
    vis2 = tr.train_visual(cfg, trn, val, tmp_path / "visual2.pt")
    assert all(torch.equal(a, b) for a, b in zip(vis.state_dict().values(), vis2.state_dict().values()))


def test_resume_continues_from_the_last_epoch(tiny, tmp_path):
    cfg, trn, val = tiny
    straight = tr.train_visual(cfg, trn, val, tmp_path / "a.pt")
    ck = tmp_path / "b.pt"
    assert tr.train_visual(cfg, trn, val, ck, stop_after=2) is None  # interrupted after 2 epochs
    assert ck.with_suffix(".partial.pt").exists() and not ck.exists()
    resumed = tr.train_visual(cfg, trn, val, ck)
    assert len(torch.load(ck, weights_only=False)["history"]) == cfg.epochs["visual"]
    assert all(torch.equal(a, b) for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()))


def test_trains_on_a_real_dataset_with_its_own_classes(tmp_path, monkeypatch):
    """On fcvid-classification the models train on FCVID's prepared train/val splits and
    predict its 12 classes (a fixture tree in the native layout, 10 items per split)."""
    import pandas as pd

    from avbench.data import real
    from avbench.testing import fixtures
    from baselines.multimodal import infer

    monkeypatch.setenv("AVBENCH_HOME", str(tmp_path / "home"))
    orig = real.rows

    def few(name, version=None, split=None):
        if split:
            return orig(name, version, split)[:10]
        return [r for s in ("test", "train", "val") for r in orig(name, version, s)[:10]]

    monkeypatch.setattr(real, "rows", few)
    import avbench.tasks as tasks_mod

    pins = {k: v for k, v in tasks_mod.frozen().items() if not k.startswith("fcvid-")}
    monkeypatch.setattr(tasks_mod, "frozen", lambda: pins)  # 10 of the pinned items: unpinned here
    tree = fixtures.make("fcvid", tmp_path / "FCVID", "icmr2017", seconds=6.5)
    real.prepare("fcvid", tree, "icmr2017", size=32, progress=False)
    monkeypatch.setenv("AVBENCH_MM_CONFIG", "tiny")
    out = infer.run("mm-av", "fcvid-classification@icmr2017", tmp_path / "sub", progress=False)
    from avbench.tasks import get_task

    classes = get_task("fcvid-classification@icmr2017").spec.classes
    df = pd.read_csv(out / "fcvid-classification" / "predictions.csv")
    assert list(df.columns[1:]) == classes and len(classes) == 12
    assert list(df["item_id"]) == [r.id for r in sorted(few("fcvid", "icmr2017", "test"), key=lambda r: r.id)]
    np.testing.assert_allclose(df[classes].sum(axis=1), 1.0, atol=1e-4)
    ck = torch.load(tmp_path / "home/baselines/multimodal/tiny@fcvid-icmr2017/fusion.pt", weights_only=False)
    assert ck["config"]["n_classes"] == 12 and ck["config"]["data"] == "fcvid"


def test_mcnemar_exact_matches_the_binomial_by_hand():
    from baselines.multimodal.analysis import mcnemar

    # 10 clips only a gets right, 2 only b, 5 both, 3 neither
    a = np.array([1] * 10 + [0] * 2 + [1] * 5 + [0] * 3, bool)
    b = np.array([0] * 10 + [1] * 2 + [1] * 5 + [0] * 3, bool)
    r = mcnemar(a, b)
    assert (r["only_a"], r["only_b"]) == (10, 2)
    assert r["p_value"] == pytest.approx(2 * (1 + 12 + 66) / 4096)  # 2 P(X <= 2), X ~ Bin(12, 1/2)
    assert mcnemar(a, a)["p_value"] == 1.0
    assert mcnemar(b, a)["p_value"] == pytest.approx(r["p_value"])


def test_training_frames_are_k_distinct_seeded_frames_per_video():
    p = tr.training_frames(50, 20, 5, seed=0)
    assert p.shape == (50, 5) and p.min() >= 0 and p.max() < 20
    assert all(len(set(row)) == 5 for row in p) and (np.diff(p, axis=1) > 0).all()
    assert np.array_equal(p, tr.training_frames(50, 20, 5, seed=0))
    assert not np.array_equal(p, tr.training_frames(50, 20, 5, seed=1))
    assert len({tuple(r) for r in p}) > 1  # not the same frames for every video
    with pytest.raises(ValueError, match="k_max"):
        tr.training_frames(3, 4, 5, seed=0)


class _Recorder:
    """Frames array that records which (clip, frame) pairs training reads."""

    def __init__(self, a):
        self.a, self.shape, self.read = a, a.shape, []

    def __getitem__(self, key):
        clip, j = key
        self.read += list(zip(np.atleast_1d(clip).tolist(), np.atleast_1d(j).tolist()))
        return self.a[key]


@pytest.mark.parametrize("k", [1, 3])
def test_frame_count_training_reads_exactly_k_frames_per_video(tiny, tmp_path, k):
    """Training with k frames per video (Table 4.2) reads those k frames of every training
    video, each once per epoch, and no other frame."""
    import dataclasses

    cfg, trn, val = tiny
    cfg = dataclasses.replace(cfg, epochs={**cfg.epochs, "visual": 1})
    rec = _Recorder(trn["frames"])
    tr.train_visual(cfg, {**trn, "frames": rec}, val, tmp_path / f"v{k}.pt", train_frames=k)
    pool = tr.training_frames(len(trn["labels"]), cfg.k_max, k, cfg.seed)
    want = {(c, int(f)) for c in range(len(pool)) for f in pool[c]}
    assert len(rec.read) == len(trn["labels"]) * k  # one epoch: every (video, frame) pair once
    assert set(rec.read) == want


def test_visual_optimiser_is_sgd_with_halving():
    cfg = tr.Config.load("cpu")
    assert (cfg.visual_momentum, cfg.visual_batch) == (0.9, 64)
    assert [tr.visual_lr(cfg, e) / cfg.visual_lr for e in range(6)] == [1, 1, 0.5, 0.5, 0.25, 0.25]
    paper = tr.Config.load("paper")
    assert paper.visual_lr == 1e-4 and tr.visual_lr(paper, 5) == pytest.approx(5e-5) and tr.visual_lr(paper, 4) == 1e-4


def test_xception_first_filters_and_paper_size():
    from baselines.multimodal.model import n_parameters

    paper = tr.Config.load("paper")
    x = tr.build(paper, "xception")
    assert x.stem[0].kernel_size == (48, 3)
    assert 8.0e6 < n_parameters(x) < 10.0e6  # the thesis: 9.6 M
    cpu = tr.build(tr.Config.load("cpu"), "xception")
    assert cpu(torch.randn(2, 96, 128)).shape == (2, 13) and cpu.features(torch.randn(2, 96, 128)).shape == (2, 1024)
