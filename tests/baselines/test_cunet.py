"""Conditioned U-Nets and MHU-Nets (baselines/cunet)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from baselines import frontend as fe
from baselines.cunet import train as tr
from baselines.cunet.model import N_SLOTS, Context, CUNet, FiLM

W = [2, 4, 4, 8, 8, 8]


def _present(*rows):
    p = torch.zeros(len(rows), N_SLOTS)
    for i, r in enumerate(rows):
        p[i, list(r)] = 1
    return p


@pytest.mark.parametrize("heads,n_freq", [(1, 256), (13, 256), (1, 512)])
def test_shapes_and_mask_range(heads, n_freq):
    torch.manual_seed(0)
    m = CUNet(W, heads, head_width=0.5).eval()
    x = torch.randn(2, 1, n_freq, 256) * 3
    masks = m(x)
    assert masks.shape == (2, N_SLOTS, n_freq, 256)
    assert float(masks.detach().min()) >= 0 and float(masks.detach().max()) <= 1
    if heads == 13:  # one decoder per slot: each slot's mask depends on its own decoder only
        base = m(x)
        with torch.no_grad():
            m.dec[3].out.bias += 5.0
        after = m(x)
        assert torch.equal(after[:, :3], base[:, :3]) and not torch.equal(after[:, 3], base[:, 3])


def test_label_multiply_zeroes_absent_slots_exactly():
    torch.manual_seed(0)
    m = CUNet(W, 1, conditioning="label-multiply").eval()
    p = _present([0, 4], [2, 5, 12])
    masks = m(torch.randn(2, 1, 256, 256), None, p)
    absent = p == 0
    assert torch.count_nonzero(masks[absent]) == 0
    assert bool((masks[~absent] > 0).all())
    # and through the whole separation: absent slots' estimates are exactly zero
    cfg = replace(tr.Config(), widths=W, conditioning="label-multiply")
    mix = np.random.default_rng(0).standard_normal(65535).astype(np.float32) * 0.1
    est = tr.separate(m, cfg, mix, p[0].numpy())
    assert not est[[i for i in range(N_SLOTS) if i not in (0, 4)]].any() and est[[0, 4]].any()


@pytest.mark.parametrize("cond", ["film-bottleneck", "film-encoder", "film-final"])
def test_film_is_the_identity_at_initialisation(cond):
    torch.manual_seed(0)
    plain = CUNet(W, 1).eval()
    film = CUNet(W, 1, conditioning=cond, context=Context("labels")).eval()
    missing, unexpected = film.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and all(k.startswith("film") for k in missing)
    x = torch.randn(2, 1, 256, 256)
    a = film(x, None, _present([0, 1], [7]))
    b = film(x, None, _present([3], [2, 8, 9]))
    torch.testing.assert_close(a, plain(x), rtol=0, atol=0)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    # once its last layer is non-zero the context changes the output
    with torch.no_grad():
        layers = film.film if cond != "film-encoder" else film.film[-1]
        layers.net[-1].weight.normal_()
    assert not torch.allclose(film(x, None, _present([0, 1], [7])), film(x, None, _present([3], [2, 8, 9])))


def test_film_closed_form():
    f = FiLM(3, 2, hidden=4)
    with torch.no_grad():
        f.net[-1].weight.zero_()
        f.net[-1].bias.copy_(torch.tensor([1.0, -0.5, 2.0, 3.0]))  # dgamma = (1, -0.5), beta = (2, 3)
    x = torch.ones(1, 2, 2, 2)
    y = f(x, torch.zeros(1, 3))
    assert torch.equal(y[0, 0], torch.full((2, 2), 1 * 2.0 + 2)) and torch.equal(y[0, 1], torch.full((2, 2), 1 * 0.5 + 3))


def test_contexts_give_zero_vectors_for_absent_sources():
    p = _present([1, 6])
    v = Context("visual", 5)(torch.randn(1, N_SLOTS, 5), p).view(N_SLOTS, 5)
    assert torch.count_nonzero(v[[i for i in range(N_SLOTS) if i not in (1, 6)]]) == 0 and bool(v[[1, 6]].abs().sum() > 0)
    mo = Context("motion", 5, lstm_hidden=3)
    feats = torch.randn(1, N_SLOTS, 4, 5)
    out = mo(feats, p).view(N_SLOTS, 3)
    assert torch.count_nonzero(out[[0, 2, 3]]) == 0
    _, (h, _) = mo.lstm(feats[0, [1, 6]])
    torch.testing.assert_close(out[[1, 6]], h[-1])
    # the absent sources' inputs do not matter
    feats2 = feats.clone()
    feats2[0, 0] = 100.0
    torch.testing.assert_close(mo(feats2, p), mo(feats, p))


def test_targets_and_weighted_loss_by_hand():
    cfg = replace(tr.Config(), freq="linear")
    S = torch.zeros(1, N_SLOTS, 2, 2, dtype=torch.complex64)
    S[0, 0] = torch.tensor([[3.0, 1.0], [0.0, 2.0]])
    S[0, 5] = torch.tensor([[1.0, 4.0], [0.0, 2.0]])
    X = S.sum(1)
    t = tr.targets(S, X, cfg)
    assert t[0, 0].tolist() == [[1, 0], [0, 1]] and t[0, 5].tolist() == [[0, 1], [0, 1]]
    assert torch.count_nonzero(t[0, [1, 2, 3, 4, 6]]) == 0  # absent slots and the silent bin are 0
    r = tr.targets(S, X, replace(cfg, mask="ratio"))
    torch.testing.assert_close(r[0, 0], torch.tensor([[0.75, 0.2], [0.0, 0.5]]))
    # weighted BCE: positive weight = negatives / positives of the batch
    p = torch.full_like(t, 0.5)
    n_pos = float(t.sum())
    w = (t.numel() - n_pos) / n_pos
    expect = (w * n_pos + (t.numel() - n_pos)) * np.log(2) / t.numel()
    assert float(tr.loss_fn(p, t, cfg)) == pytest.approx(expect, rel=1e-5)


def test_separate_lengths_and_identity_masks():
    cfg = replace(tr.Config(), widths=W)

    class Ones(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.unused = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x, context=None, present=None):
            return torch.ones(x.shape[0], N_SLOTS, *x.shape[2:])

    rng = np.random.default_rng(1)
    for n in (65535, 100000, 30000):
        mix = rng.standard_normal(n).astype(np.float32)
        for freq in ("log", "linear"):
            est = tr.separate(Ones(), replace(cfg, freq=freq), mix, np.ones(N_SLOTS))
            assert est.shape == (N_SLOTS, n)
            np.testing.assert_allclose(est[3], mix, atol=2e-4)  # all-ones masks give back the mixture


def _overfit(cfg, steps):
    """Train on one fixed mixture of two synthetic harmonic tones."""
    t = np.arange(fe.SEG) / fe.SR
    a = 0.3 * sum(np.sin(2 * np.pi * 220 * k * t) / k for k in range(1, 6))
    b = 0.3 * np.sign(np.sin(2 * np.pi * 587 * t)) * (t % 0.5 < 0.25)
    d = {"audio": np.stack([a, b]).astype(np.float32), "labels": np.array([0, 9]), "frames": np.zeros((2, 1, 8, 8, 3), np.uint8)}
    data = tr.Data(d)
    torch.manual_seed(0)
    m = CUNet(cfg.widths, 1, 0.0)
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    mixes = [[(0, 0), (9, 1)]]
    losses = []
    for s in range(steps):
        m.train()
        loss = tr.step_loss(m, data, mixes, cfg, np.random.default_rng(s), True)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses


@pytest.mark.parametrize("mask", ["binary", "ratio"])
def test_short_overfit_on_one_mixture(mask):
    cfg = replace(tr.Config(), widths=[4, 8, 8, 16, 16, 16], mask=mask)
    losses = _overfit(cfg, 80)
    assert losses[-1] < 0.5 * losses[0]


@pytest.fixture(scope="module")
def mini_data(mini):
    return tr.load_data(tr.Config.load("tiny", "unet-motion"), "1-mini")


def test_variants_build_and_step(mini_data, avbench_home):
    for v in tr.variants():
        cfg = tr.Config.load("tiny", v)
        data = tr.load_data(cfg, "1-mini") if cfg.context in ("visual", "motion") else mini_data
        torch.manual_seed(0)
        m = tr.build(cfg, "1-mini")
        opt = torch.optim.Adam(m.parameters(), 1e-2)
        for s in range(2):  # FiLM starts as the identity: the context gets gradients from the 2nd step
            g = np.random.default_rng(s)
            loss = tr.step_loss(m, data[0], data[0].draw(g, 2, 2, 3), cfg, g, True)
            opt.zero_grad()
            loss.backward()
            opt.step()
            assert torch.isfinite(loss), v
        if cfg.context == "visual-finetune":  # the trunk is trained
            assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in m.context.trunk.parameters())


def test_deterministic_and_resumable_training(mini_data, tmp_path):
    cfg = replace(tr.Config.load("tiny", "unet-film-bottleneck"), steps=6, eval_every=2)
    a = tr.train(cfg, "1-mini", progress=False, ckpt=tmp_path / "a.pt", data=mini_data)
    b = tr.train(cfg, "1-mini", progress=False, ckpt=tmp_path / "b.pt", data=mini_data)
    assert tr.train(cfg, "1-mini", progress=False, ckpt=tmp_path / "c.pt", data=mini_data, stop_after=3) is None
    c = tr.train(cfg, "1-mini", progress=False, ckpt=tmp_path / "c.pt", data=mini_data)
    sa, sb, sc = (torch.load(p, weights_only=False) for p in (a, b, c))
    for k in sa["model"]:
        assert torch.equal(sa["model"][k], sb["model"][k]), k
        assert torch.equal(sa["model"][k], sc["model"][k]), k
    assert sa["levels"] == sc["levels"]


def test_curriculum_grows_on_plateaus(mini_data, tmp_path, monkeypatch):
    real = tr.step_loss

    def flat_validation(model, data, mixes, cfg, g, train):  # every validation check is a plateau
        return real(model, data, mixes, cfg, g, train) if train else torch.tensor(1.0)

    monkeypatch.setattr(tr, "step_loss", flat_validation)
    cfg = replace(tr.Config.load("tiny", "unet"), steps=9, eval_every=1, patience=1)
    assert cfg.max_sources == 4
    p = tr.train(cfg, "1-mini", progress=False, ckpt=tmp_path / "cur.pt", data=mini_data)
    levels = torch.load(p, weights_only=False)["levels"]
    # a new level's first check sets its best; the next (no better) raises the level; at the
    # top each plateau halves the learning rate instead
    assert [x["level"] for x in levels] == [2, 3, 3, 4, 4, 4, 4, 4, 4]
    assert [x["lr"] / cfg.lr for x in levels[-5:]] == [1.0, 0.5, 0.25, 0.125, 0.0625]
    flat = replace(cfg, curriculum=False)
    p = tr.train(flat, "1-mini", progress=False, ckpt=tmp_path / "flat.pt", data=mini_data)
    assert {x["level"] for x in torch.load(p, weights_only=False)["levels"]} == {cfg.max_sources}


def test_claims_report_on_committed_entries(tmp_path):
    """The claims table with the committed oracle entries standing in for two variants:
    the ideal binary mask must beat the mixture, not the other way round."""
    import shutil
    from pathlib import Path

    from baselines.cunet import analysis

    src = Path(__file__).parents[2] / "leaderboards" / "synth-ensembles-separation" / "1" / "entries"
    dst = tmp_path / "synth-ensembles-separation" / "1" / "entries"
    dst.mkdir(parents=True)
    for old, new in [("oracle-ibm", "unet-film-bottleneck"), ("oracle-mixture", "unet")]:
        for ext in (".json", ".scores.parquet"):
            shutil.copy(src / f"{old}{ext}", dst / f"{new}{ext}")
    text = analysis.report(tmp_path, "synth-ensembles-separation@1")
    assert "| `unet` |" in text and "| `unet-film-bottleneck` |" in text
    line = next(x for x in text.splitlines() if x.startswith("| FiLM-bottleneck label conditioning beats no conditioning (SDR)"))
    assert line.endswith("**holds** |")
    # swapped: the claim must fail
    for ext in (".json", ".scores.parquet"):
        (dst / f"unet{ext}").rename(dst / f"tmp{ext}")
        (dst / f"unet-film-bottleneck{ext}").rename(dst / f"unet{ext}")
        (dst / f"tmp{ext}").rename(dst / f"unet-film-bottleneck{ext}")
    text = analysis.report(tmp_path, "synth-ensembles-separation@1")
    line = next(x for x in text.splitlines() if x.startswith("| FiLM-bottleneck label conditioning beats no conditioning (SDR)"))
    assert line.endswith("**does not hold** |")


def test_training_excerpts(mini_data):
    """``crop``: one random excerpt per mixture, the same for all its sources."""
    cfg = replace(tr.Config.load("tiny", "unet"), crop=16128)
    tr_data = mini_data[0]
    g = np.random.default_rng(3)
    mixes = tr_data.draw(g, 2, 2, 3)
    bt = tr_data.batch(mixes, cfg, np.random.default_rng(5), True)
    assert bt["S"].shape[-1] == 16128 // fe.HOP + 1 == 64
    start = np.random.default_rng(5).integers(0, 65535 - 16128 + 1, 2)
    for i, m in enumerate(mixes):
        for k, c in m:
            x = torch.from_numpy(tr_data.d["audio"][c, start[i]:start[i] + 16128])
            torch.testing.assert_close(bt["S"][i, k], fe.stft(x[None])[0])
    # validation batches use the whole clips
    assert tr_data.batch(mixes, cfg, None, False)["S"].shape[-1] == 256
