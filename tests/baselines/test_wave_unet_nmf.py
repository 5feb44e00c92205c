"""Exp-/CExp-Wave-U-Net and InformedNMF."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from baselines.informed_nmf import nmf
from baselines.wave_unet import train as wt
from baselines.wave_unet.model import WaveUNet, separate_long, shapes


def test_receptive_field_arithmetic():
    # the paper's input/output lengths (12 levels, kernels 15/5): 147443 -> 16389 samples
    assert shapes(16384, 12, 15, 5) == (147443, 16389)
    # one level by hand: 57 -conv15-> 43 -decimate-> 22 -conv15-> 8 -upsample-> 15 -conv5-> 11
    assert shapes(10, 1, 15, 5) == (57, 11)
    for levels, n in [(1, 10), (3, 300), (5, 1000)]:
        m = WaveUNet(13, levels, 4)
        n_in, n_out = m.io(n)
        assert n_out >= n and m(torch.randn(2, n_in)).shape == (2, 13, n_out)


def test_outputs_are_per_slot_and_conditioning_acts():
    torch.manual_seed(0)
    exp = WaveUNet(13, 3, 4)
    n_in, n_out = exp.io(200)
    x = torch.randn(1, n_in)
    y = exp(x)
    assert y.abs().max() <= 1  # tanh
    assert not torch.allclose(y[0, 0], y[0, 1])  # every slot has its own output weights
    lab = torch.zeros(1, 13)
    lab[0, [2, 5]] = 1
    assert torch.equal(exp(x, lab), exp(x))  # Exp ignores labels
    cexp = WaveUNet(13, 3, 4, conditioned=True)
    assert not torch.allclose(cexp(x, lab), cexp(x, torch.ones(1, 13)))
    with pytest.raises(ValueError):
        cexp(x)


def test_separate_long_tiles_exactly():
    torch.manual_seed(0)
    m = WaveUNet(13, 2, 4).eval()
    n_in, n_out = m.io(100)
    mix = torch.randn(3 * n_out + 17)
    est = separate_long(m, mix, None, 100)
    assert est.shape == (13, mix.shape[0])
    ctx = (n_in - n_out) // 2
    padded = torch.nn.functional.pad(mix, (ctx, n_in))
    with torch.no_grad():
        ref = m(padded[n_out: n_out + n_in][None])[0]  # the second window, computed alone
    torch.testing.assert_close(est[:, n_out: 2 * n_out], ref)


def test_silent_targets_make_absent_slots_quiet():
    """Toy problem: slots 0 and 1 carry a sine and a square wave, the others are always
    silent; training drives the absent slots' output energy far below where it started."""
    torch.manual_seed(0)
    m = WaveUNet(13, 2, 6)
    n_in, n_out = m.io(256)
    g = torch.Generator().manual_seed(1)

    def batch(n):
        t = torch.arange(n_in, dtype=torch.float32)
        f = 0.02 + 0.05 * torch.rand(n, 1, generator=g)
        a = 0.3 * torch.sin(f * t)
        b = 0.2 * torch.sign(torch.sin(0.5 * f * t + 1.0))
        y = torch.zeros(n, 13, n_out)
        c = (n_in - n_out) // 2
        y[:, 0], y[:, 1] = a[:, c:c + n_out], b[:, c:c + n_out]
        return a + b, y

    x, y = batch(16)
    with torch.no_grad():
        absent0 = float((m(x)[:, 2:] ** 2).mean())
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    for _ in range(150):
        xb, yb = batch(8)
        loss = wt.loss_fn(m(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        out = m(x)
    assert float((out[:, 2:] ** 2).mean()) < 0.05 * absent0
    assert float((out[:, 2:] ** 2).mean()) < 0.05 * float((y[:, :2] ** 2).mean())


def test_wave_unet_training_is_deterministic_and_resumes(mini, tmp_path):
    cfg = wt.Config.load("tiny")
    a = wt.train(cfg, "cexp", "1-mini", progress=False, ckpt=tmp_path / "a.pt")
    b = tmp_path / "b.pt"
    assert wt.train(cfg, "cexp", "1-mini", progress=False, ckpt=b, stop_after=10) is None
    wt.train(cfg, "cexp", "1-mini", progress=False, ckpt=b)
    sa, sb = torch.load(a, weights_only=False), torch.load(b, weights_only=False)
    assert all(torch.equal(sa["model"][k], sb["model"][k]) for k in sa["model"])
    assert [h["step"] for h in sb["history"]] == [10, 20]


# ----------------------------------------------------------------------------- NMF
@pytest.mark.parametrize("beta", [1.0, 2.0])
def test_nmf_cost_decreases_monotonically(beta):
    g = torch.Generator().manual_seed(0)
    W = torch.rand(64, 12, generator=g, dtype=torch.float64)
    V = W[:, :6] @ torch.rand(6, 40, generator=g, dtype=torch.float64) + 0.01 * torch.rand(64, 40, generator=g, dtype=torch.float64)
    _, costs = nmf.activations(V, W, beta=beta, n_iter=60, track=True)
    d = np.diff(costs)
    assert np.all(d <= 1e-9 * np.abs(costs[:-1]))
    assert costs[-1] < 0.2 * costs[0]


def test_nmf_uses_only_present_templates_and_is_deterministic(monkeypatch):
    rng = np.random.default_rng(0)
    T = {k: rng.random((512, 5)) for k in ("violin", "cello", "flute")}
    mix = rng.standard_normal(11025).astype(np.float32) * 0.1
    seen = []
    orig = nmf.activations

    def spy(V, W, *a, **kw):
        seen.append(W.shape[1])
        return orig(V, W, *a, **kw)

    monkeypatch.setattr(nmf, "activations", spy)
    est = nmf.separate(mix, T, ["violin", "flute"], n_iter=20)
    assert set(est) == {"violin", "flute"} and seen == [10]
    again = nmf.separate(mix, T, ["violin", "flute"], n_iter=20)
    assert all(np.array_equal(est[k], again[k]) for k in est)
    # the soft masks split the mixture: the estimates add up to it (up to the iSTFT)
    np.testing.assert_allclose(est["violin"] + est["flute"], mix, atol=1e-5)


def test_nmf_separates_sources_with_their_own_templates():
    """Two synthetic 'instruments' whose notes have distinct harmonic templates: each
    estimate correlates with its own source far more than with the other."""
    sr, n = 11025, 11025
    t = np.arange(n) / sr

    def tone(f0, harm):
        return sum(a * np.sin(2 * np.pi * f0 * h * t) for h, a in zip(range(1, 6), harm))

    a, b = 0.3 * tone(220.0, [1, 0, .5, 0, .3]), 0.3 * tone(330.0, [.2, 1, 0, .6, 0])
    tpl = {}
    for name, f0, harm in (("violin", 220.0, [1, 0, .5, 0, .3]), ("flute", 330.0, [.2, 1, 0, .6, 0])):
        S = nmf.stft(torch.from_numpy(tone(f0, harm))).abs().mean(1).numpy()
        tpl[name] = (S / S.sum())[:, None]
    est = nmf.separate((a + b).astype(np.float32), tpl, ["violin", "flute"])
    corr = lambda x, y: float(np.dot(x, y) / np.linalg.norm(x) / np.linalg.norm(y))  # noqa: E731
    assert corr(est["violin"], a) > 0.95 and corr(est["flute"], b) > 0.95


def test_informed_nmf_on_data_version_2_hears_only_training_timbres():
    """On data version 2 the templates come from the training families: no source of a
    val/test family is rendered (the held-out probe renders exactly those)."""
    from avbench.data.synth import soundfonts
    from baselines.informed_nmf import templates

    if soundfonts.missing_fonts():
        pytest.skip("the version-2 soundfonts are not installed (scripts/install.sh)")
    table = soundfonts.load_table()["instruments"]
    for inst, d in table.items():
        train = templates.v2_sources(inst, "train")
        held = templates.v2_sources(inst, "heldout")
        held_fams = [f for f in d["families"] if "test" in f["splits"]]
        assert train and held and not set(train) & set(held)
        assert set(held) == {m for f in held_fams for m in f["members"]}
    # a template is an L1-normalised mean magnitude spectrum of the rendered note
    t = templates._source_template("viola", templates.v2_sources("viola", "train")[0], 41, 60)
    assert t.shape == (512,) and abs(t.sum() - 1) < 1e-9 and (t >= 0).all()
    f0_bin = 261.6 / (11025 / 1022)
    b = int(round(f0_bin))
    assert t[b - 1:b + 2].sum() > 0.01  # energy at the fundamental (middle C)


def test_informed_nmf_templates_share_no_timbre_with_the_test_split(mini2, monkeypatch, tmp_path):
    """The template set actually built (every source rendered, recorded under
    ``<instrument>:sources``) against the timbres the generated test split plays, per
    instrument: they must not intersect.  The held-out probe must hit them."""
    from avbench.data import synth as se
    from baselines.informed_nmf import templates

    rendered: dict[str, set] = {}

    def fake(inst, source, program, key):  # records what is rendered; a flat spectrum
        rendered.setdefault(inst, set()).add(source)
        return np.ones(512) / 512

    test_timbres: dict[str, set] = {}
    for row in se.load("mini2", mini2)["test"]:
        for inst, src in zip(row["instruments"], row["timbre_sources"]):
            test_timbres.setdefault(inst, set()).add(src)
    assert test_timbres, "the mini2 test split plays no timbres"
    monkeypatch.setattr(templates, "_source_template", fake)
    monkeypatch.setenv("AVBENCH_HOME", str(tmp_path))  # a fresh template cache
    T = templates.build_v2("train")
    for inst, srcs in test_timbres.items():
        assert not {str(x) for x in T[inst + ":sources"]} & srcs, inst
        assert not rendered[inst] & srcs, inst
    rendered.clear()
    H = templates.build_v2("heldout")
    assert any({str(x) for x in H[i + ":sources"]} & s for i, s in test_timbres.items())


def test_difference_output_is_the_mixture_minus_the_other_slots():
    """vimss' ``difference`` output: the last slot is the (cropped) mixture minus the others."""
    from baselines.wave_unet.model import WaveUNet, _crop

    torch.manual_seed(0)
    m = WaveUNet(13, 3, 4, 15, 5, output_type="difference").eval()
    n_in, n_out = m.io(512)
    x = torch.randn(2, n_in) * 0.3
    with torch.no_grad():
        y = m(x)
    torch.testing.assert_close(y[:, -1], _crop(x.unsqueeze(1), n_out)[:, 0] - y[:, :-1].sum(1), rtol=0, atol=1e-6)
    assert float(y[:, :-1].abs().max()) <= 1  # the others stay tanh outputs
    with pytest.raises(ValueError, match="output_type"):
        WaveUNet(13, 3, 4, output_type="sum")


def test_exponential_learning_rate_decay_is_set_per_step(tmp_path):
    """``run_steps(lr_at=...)``: before step s the learning rate is lr_at(s), also after a resume."""
    from baselines._common import run_steps

    seen = []
    model = torch.nn.Linear(2, 1)
    opt = torch.optim.Adam(model.parameters(), lr=1.0)

    def batch_loss(g):
        seen.append(opt.param_groups[0]["lr"])
        return model(torch.from_numpy(g.standard_normal((4, 2)).astype(np.float32))).pow(2).mean()

    kw = dict(steps=6, eval_every=2, seed=0, batch_loss=batch_loss, val_loss=lambda: torch.tensor(0.0), desc="t",
              progress=False, lr_at=lambda s: 1e-3 * 0.5 ** (s / 2))
    assert run_steps(model, opt, tmp_path / "p.pt", stop_after=3, **kw) is None
    run_steps(model, opt, tmp_path / "p.pt", **kw)
    # steps 0-2, then resumed from the checkpoint of step 2: steps 2-5
    assert seen == pytest.approx([1e-3 * 0.5 ** (s / 2) for s in (0, 1, 2, 2, 3, 4, 5)])
