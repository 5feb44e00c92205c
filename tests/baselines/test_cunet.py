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


def test_contexts_give_zero_vectors_for_absent_players():
    players = torch.tensor([[1.0, 1.0, 0, 0, 0, 0, 0]])  # K' = 7 rows, two real players
    v = Context("visual", 5)(torch.randn(1, 7, 5), players).view(7, 5)
    assert torch.count_nonzero(v[2:]) == 0 and bool(v[:2].abs().sum() > 0)
    mo = Context("motion", 5, lstm_hidden=3)
    assert mo.dim == 7 * 3
    feats = torch.randn(1, 7, 4, 5)
    out = mo(feats, players).view(7, 3)
    assert torch.count_nonzero(out[2:]) == 0
    _, (h, _) = mo.lstm(feats[0, :2])
    torch.testing.assert_close(out[:2], h[-1])
    # the absent players' inputs do not matter
    feats2 = feats.clone()
    feats2[0, 4] = 100.0
    torch.testing.assert_close(mo(feats2, players), mo(feats, players))


def _visual_data(n_clips=4, k=3, size=8, d=5):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (n_clips, k, size, size, 3), dtype=np.uint8)
    d_ = {"audio": rng.standard_normal((n_clips, 65535)).astype(np.float32) * 0.1,
          "labels": np.arange(n_clips), "frames": frames}
    return tr.Data(d_, rng.standard_normal((n_clips, k, d)).astype(np.float32))


@pytest.mark.parametrize("context", ["visual", "visual-finetune", "motion"])
def test_visual_context_does_not_change_when_identities_are_permuted(context):
    """The same players' frames under other instrument identities give the same context:
    the rows are filled from the frames in an order no slot decides."""
    data = _visual_data()
    cfg = replace(tr.Config(), context=context, motion_frames=3)
    a = [[(0, 0), (5, 1), (7, 2)]]
    b = [[(12, 0), (3, 1), (1, 2)]]  # the same clips (frames), other slots
    for train in (True, False):
        ca, pa = data.players(a, cfg, np.random.default_rng(7), train)
        cb, pb = data.players(b, cfg, np.random.default_rng(7), train)
        assert torch.equal(ca, cb) and torch.equal(pa, pb)
        assert pa.tolist() == [[1, 1, 1, 0, 0, 0, 0]]
    # and the order is random: over draws, each clip leads
    firsts = set()
    for s in range(30):
        c, _ = data.players(a, replace(cfg, context="visual"), np.random.default_rng(s), False)
        firsts.add(next(j for j in range(3) if torch.equal(c[0, 0], torch.from_numpy(data.feats[j, 1]))))
    assert firsts == {0, 1, 2}


def test_item_context_reads_frames_in_served_order_and_no_labels():
    from baselines.cunet.infer import item_context

    rng = np.random.default_rng(1)
    served = [rng.integers(0, 255, (9, 64, 64, 3), dtype=np.uint8) for _ in range(3)]

    class Task:  # protocol 2: a list of players' frames in position order
        def frames(self, item, fps, size):
            return served

        def labels(self, item):
            raise AssertionError("a visual context must not read the labels")

    cfg = replace(tr.Config(), context="visual-finetune")
    ctx, players = item_context(cfg, Task(), None)
    assert players.tolist() == [1, 1, 1, 0, 0, 0, 0]
    for j, f in enumerate(served):
        torch.testing.assert_close(ctx[0, j], tr.mm.frame_tensor(f[len(f) // 2]))
    assert torch.count_nonzero(ctx[0, 3:]) == 0


def test_targets_and_weighted_loss_by_hand():
    """The reference's binary rule ``|S| >= |X| - |S|`` (not an argmax over slots) and the
    constant positive weight 5."""
    cfg = replace(tr.Config(), freq="linear")
    S = torch.zeros(1, N_SLOTS, 2, 2, dtype=torch.complex64)
    S[0, 0] = torch.tensor([[3.0, 1.0], [0.0, 2.0]])
    S[0, 5] = torch.tensor([[1.0, 4.0], [0.0, 2.0]])
    S[0, 7] = torch.tensor([[0.0, 0.0], [0.0, 1.0]])
    X = S.sum(1)  # [[4, 5], [0, 5]]
    t = tr.targets(S, X, cfg)
    # bin (1, 1): slots 0 and 5 are the loudest (2 of 5) but neither outweighs the rest (3)
    assert t[0, 0].tolist() == [[1, 0], [0, 0]] and t[0, 5].tolist() == [[0, 1], [0, 0]]
    assert torch.count_nonzero(t[0, [1, 2, 3, 4, 6, 7]]) == 0  # absent slots, the silent bin, the quiet one
    # half the mixture is enough: 2 >= 4 - 2
    S2 = torch.zeros(1, N_SLOTS, 1, 1, dtype=torch.complex64)
    S2[0, 1], S2[0, 2] = 2.0, 2.0
    assert tr.targets(S2, S2.sum(1), cfg)[0, [1, 2], 0, 0].tolist() == [1, 1]
    r = tr.targets(S, X, replace(cfg, mask="ratio"))
    torch.testing.assert_close(r[0, 0], torch.tensor([[0.75, 0.2], [0.0, 0.4]]))
    # weighted BCE at p = 0.5: (5 * positives + negatives) * log 2 / bins
    p = torch.full_like(t, 0.5)
    n_pos = float(t.sum())
    expect = (5 * n_pos + (t.numel() - n_pos)) * np.log(2) / t.numel()
    assert float(tr.loss_fn(p, t, cfg)) == pytest.approx(expect, rel=1e-5)
    assert float(tr.loss_fn(p, t, replace(cfg, pos_weight=1.0))) == pytest.approx(np.log(2), rel=1e-5)


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


@pytest.mark.parametrize("recipe", [{}, {"slot_loss": "balanced", "decoupled_wd": True, "warmup": 3,
                                     "schedule": "cosine", "curriculum_steps": 3, "out_bias": -1.0}])
def test_resume_anywhere_equals_uninterrupted_with_dropout(mini_data, tmp_path, recipe):
    """Stopped after a step that is not an evaluation (and once by its wall-time budget),
    then resumed: the same weights, history and curriculum as an uninterrupted run, with
    dropout on (its randomness is drawn per step, not from the global stream)."""
    cfg = replace(tr.Config.load("tiny", "unet-film-bottleneck"), steps=8, eval_every=3, dropout=0.3, **recipe)
    a = torch.load(tr.train(cfg, "1-mini", progress=False, ckpt=tmp_path / "a.pt", data=mini_data),
                   weights_only=False)
    assert tr.train(cfg, "1-mini", progress=False, ckpt=tmp_path / "b.pt", data=mini_data, stop_after=5) is None
    torch.manual_seed(123)  # whatever the global stream holds when a run resumes
    _ = torch.rand(7)
    assert tr.train(cfg, "1-mini", progress=False, ckpt=tmp_path / "b.pt", data=mini_data, max_seconds=0.0) is None
    b = torch.load(tr.train(cfg, "1-mini", progress=False, ckpt=tmp_path / "b.pt", data=mini_data),
                   weights_only=False)
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    strip = [{k: v for k, v in h.items()} for h in a["history"]]
    assert strip == b["history"] and a["levels"] == b["levels"]
    assert {"sdri", "silenced"} <= set(a["history"][-1])  # the progress figures are recorded


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


def _board_with_seeds(tmp_path, systems: dict[str, list[np.ndarray]], n_works=8, per_work=3):
    """A board whose entries are the seeds of each system, with hand-set SI-SDR values per
    (item, slot): items of ``n_works`` works, one slot each."""
    import json

    import pandas as pd

    d = tmp_path / "synth-ensembles-separation" / "3" / "entries"
    d.mkdir(parents=True)
    items = [f"seg-{i:04d}" for i in range(n_works * per_work)]
    for sysname, seeds in systems.items():
        for k, vals in enumerate(seeds):
            name = sysname if k == 0 else f"{sysname}.s{k}"
            f = pd.DataFrame({"item": items, "slot": "violin", "group": [f"w{i // per_work}" for i in range(len(items))],
                              "n_sources": 2, "si_sdr": vals})
            f.to_parquet(d / f"{name}.scores.parquet")
            (d / f"{name}.json").write_text(json.dumps({"name": name, "scores": {"si_sdr": {"mean": float(np.mean(vals))}}}))
    return tmp_path


def test_claims_pool_seeds_pair_by_work_and_flip_when_swapped(tmp_path):
    """baselines.claims against hand computations: the seed-averaged values, their per-work
    means, scipy's Wilcoxon on those, and the verdict in both directions."""
    from scipy.stats import wilcoxon

    from baselines import claims as cl

    rng = np.random.default_rng(0)
    n = 24
    base = rng.normal(-5, 2, n)
    a = [base + 2 + rng.normal(0, 0.3, n) for _ in range(3)]  # a clearly better, 3 seeds
    b = [base + rng.normal(0, 0.3, n) for _ in range(3)]
    root = _board_with_seeds(tmp_path, {"good": a, "plain": b})
    task = "synth-ensembles-separation@3"
    c = {"claim": "good beats plain", "a": "good", "b": "plain", "metric": "si_sdr", "direction": "greater",
         "paper": {"table": "5.4", "rows": "ID 14 vs ID 1", "a": -12.4, "b": -12.5}}
    e = cl.evaluate(root, task, c)
    ma, mb = np.mean(a, 0), np.mean(b, 0)
    wa, wb = ma.reshape(8, 3).mean(1), mb.reshape(8, 3).mean(1)
    assert e["r"]["bootstrap"]["diff"] == pytest.approx(float((ma - mb).mean()), abs=1e-12)
    assert e["r"]["n_works"] == 8 and e["r"]["n"] == n
    assert e["r"]["test"]["p_value"] == pytest.approx(wilcoxon(wa - wb).pvalue, rel=1e-9)
    np.testing.assert_allclose(e["per_seed_a"], [x.mean() for x in a])
    np.testing.assert_allclose(e["per_seed_diff"], [(x - y).mean() for x, y in zip(a, b)])
    assert e["verdict"] == "holds"
    assert cl.evaluate(root, task, {**c, "a": "plain", "b": "good"})["verdict"] == "does not hold"
    # a 2 dB difference with a tight interval: far outside the 0.5 dB equivalence margin
    assert cl.evaluate(root, task, {**c, "direction": "no-difference"})["verdict"] == "does not hold"
    assert cl.evaluate(root, task, {**c, "b": "missing"})["verdict"] == "not run"
    text = cl.table(root, task, [c, {**c, "b": "missing"}])
    assert "-12.40 vs -12.50 (Table 5.4, ID 14 vs ID 1)" in text and text.count("**holds**") == 1
    assert "not on the board: `missing`" in text and "provisional" not in text
    # one seed of a system: the verdict is computed from it, and marked provisional
    root1 = _board_with_seeds(tmp_path / "one", {"good": a[:1], "plain": b})
    text1 = cl.table(root1, task, [c])
    assert "**holds** (provisional: seeds `good` 1 of 3) |" in text1


def test_a_pooled_effect_that_reverses_in_two_of_three_seeds_is_not_holds(tmp_path):
    """Pooled, a beats b significantly (one seed carries it), but two of the three seeds
    point the other way: seeds are a source of variance, so the claim is not *holds*."""
    from baselines import claims as cl

    rng = np.random.default_rng(1)
    n = 24
    base = rng.normal(-5, 2, n)
    b = [base + rng.normal(0, 0.05, n) for _ in range(3)]
    a = [base + 9 + rng.normal(0, 0.05, n), base - 0.5 + rng.normal(0, 0.05, n), base - 0.5 + rng.normal(0, 0.05, n)]
    root = _board_with_seeds(tmp_path, {"lucky": a, "plain": b})
    c = {"claim": "lucky beats plain", "a": "lucky", "b": "plain", "metric": "si_sdr", "direction": "greater",
         "paper": {"table": "5.4", "rows": "-", "a": 0, "b": 0}}
    e = cl.evaluate(root, "synth-ensembles-separation@3", c)
    # averaged over seeds first, the rank test over works calls it significant; with the seeds
    # as a source of variance (the hierarchical bootstrap) it is not
    assert e["r"]["bootstrap"]["diff"] > 0 and e["r"]["test"]["rank_test"]["p_value"] < 0.05
    assert e["r"]["test"]["p_value"] >= 0.05
    assert sum(d > 0 for d in e["per_seed_diff"]) == 1
    assert e["verdict"] == "inconclusive"


@pytest.mark.parametrize("direction, diff, low, high, p, seeds, want", [
    ("greater", 0.8, -0.4, 2.0, 0.2, [1, 1, 1], "inconclusive"),      # the interval straddles zero
    ("greater", -0.8, -2.0, 0.4, 0.2, [-1, -1, -1], "inconclusive"),  # no evidence either way
    ("greater", 2.0, 1.0, 3.0, 0.001, [1, 2, 3], "holds"),
    ("greater", 2.0, 1.0, 3.0, 0.001, [1, -2, -3], "inconclusive"),   # 1 of 3 seeds
    ("greater", -2.0, -3.0, -1.0, 0.001, [-1, -2, -3], "does not hold"),
    ("not-worse", -3.02, -6.01, -0.06, 0.04, [-3, -3, -3], "does not hold"),  # 3 dB worse: fails at 0.5 dB
    ("not-worse", -0.1, -0.4, 0.2, 0.5, [0, 0, 0], "holds"),
    ("not-worse", -0.3, -1.5, 0.9, 0.6, [0, 0, 0], "inconclusive"),
    ("no-difference", 0.1, -0.3, 0.4, 0.7, [0, 0, 0], "holds"),
    ("no-difference", 0.1, -1.3, 1.4, 0.7, [0, 0, 0], "inconclusive"),  # p >= 0.05 is not equality
    ("no-difference", 2.0, 1.0, 3.0, 0.001, [2, 2, 2], "does not hold"),
])
def test_three_verdicts_by_hand(direction, diff, low, high, p, seeds, want):
    from baselines import claims as cl

    assert cl.verdict(direction, diff, low, high, p, seeds, 0.5) == want


def test_a_claim_on_a_row_outside_the_gate_is_not_testable(tmp_path):
    """A seed row that silences 6% of its sounding sources makes its claims *not testable*."""
    import json

    from baselines import claims as cl

    rng = np.random.default_rng(0)
    base = rng.normal(-5, 2, 24)
    root = _board_with_seeds(tmp_path, {"good": [base + 2] * 3, "plain": [base] * 3})
    p = root / "synth-ensembles-separation" / "3" / "entries" / "good.s1.json"
    e = json.loads(p.read_text())
    e.update(counts={"sdr": 94, "eps": 6}, scores={**e["scores"], "sdri": {"mean": 3.0}})
    p.write_text(json.dumps(e))
    c = {"claim": "good beats plain", "a": "good", "b": "plain", "metric": "si_sdr", "direction": "greater",
         "paper": {"table": "5.4", "rows": "-", "a": 0, "b": 0}}
    got = cl.evaluate(root, "synth-ensembles-separation@3", c)
    assert got["verdict"] == "not testable: not converged" and got["gated"] == ["good.s1"]


def test_claim_tables_cover_every_claim_and_variant():
    """Each claim names trained variants, a metric, a direction and the thesis' numbers."""
    from baselines import claims as cl

    claims = cl.load_claims(tr.CONFIGS / "claims.yaml")
    vs = tr.variants()
    assert len(claims) >= 30
    for c in claims:
        assert c["a"] in vs and c["b"] in vs and c["metric"] in cl.LABELS, c
        assert c["direction"] in ("greater", "no-difference", "not-worse")
        assert {"table", "rows", "a", "b"} <= set(c["paper"]), c
    # Table A.1's 16 experiments are variants, with their IDs
    assert sorted(v["id"] for v in vs.values() if isinstance(v["id"], int)) == list(range(1, 17))


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


@pytest.mark.parametrize("module", ["cunet", "wave_unet"])
def test_readme_claim_tables_are_generated_from_the_committed_entries(module):
    """Each README's results and claims block is exactly what its analysis module prints
    from the committed leaderboard entries (regenerate with ``--readme``)."""
    import importlib
    from pathlib import Path

    from baselines import claims as cl

    an = importlib.import_module(f"baselines.{module}.analysis")
    task = "synth-ensembles-separation@3"
    block = cl.readme_block(an.README, task)
    assert block is not None, f"{an.README} has no generated block for {task}"
    root = Path(__file__).parents[2] / "leaderboards"
    assert block == an.report(root, task), f"run: python -m baselines.{module}.analysis --task {task} --readme"


@pytest.mark.parametrize("module,task", [("sop", "synth-ensembles-mix2@3"),
                                         ("multimodal", "synth-ensembles-classification@3")])
def test_readme_claim_tables_of_the_audio_visual_baselines(module, task):
    """Sound-of-Pixels / Object-Prior and the multimodal classifier: the README block is
    what the analysis module generates from the committed entries and its committed
    outputs (``results/3/*.json``)."""
    import importlib
    from pathlib import Path

    from baselines import claims as cl

    an = importlib.import_module(f"baselines.{module}.analysis")
    block = cl.readme_block(an.README, task)
    assert block is not None, f"{an.README} has no generated block for {task}"
    root = Path(__file__).parents[2] / "leaderboards"
    assert block == an.claims_report(root, "3", an.RESULTS / "3"), f"run: python -m baselines.{module}.analysis"


def test_an_entry_that_names_its_config_is_trained_and_written_with_it(mini_data, avbench_home, tmp_path, monkeypatch):
    """``unet.tiny.s1``: the config in the name wins over AVBENCH_CUNET_CONFIG, the checkpoint
    is that config's, and the submission carries the name (a row of its own on a board)."""
    from avbench.submission import validate
    from baselines.cunet import infer

    monkeypatch.setenv("AVBENCH_CUNET_CONFIG", "cpu")
    out = infer.run("unet.tiny.s1", "synth-ensembles-separation@1-mini", tmp_path / "sub", progress=False)
    meta = validate(out).meta
    assert meta.name == "unet.tiny.s1" and "[tiny config]" in meta.model and "seed 1" in meta.notes
    assert (avbench_home / "baselines/cunet/tiny@1-mini/unet.s1.pt").exists()
    assert not (avbench_home / "baselines/cunet/cpu@1-mini").exists()


def test_the_recipe_lowers_the_loss_and_raises_val_sdri_on_the_mini_task(mini_data, tmp_path):
    """An honest smoke test of the training recipe (present and absent slots weighted apart):
    a tiny U-Net trained for a few dozen steps on the mini task ends with a lower validation
    loss and a higher validation SDRi (the task's scoring, on fixed validation mixtures) than
    at its first evaluation, and silences no more sources."""
    cfg = replace(tr.Config.load("tiny", "unet-label-multiply"), steps=40, eval_every=5, batch=4, n_val=4,
                  slot_loss="balanced", lr=0.01)
    h = torch.load(tr.train(cfg, "1-mini", progress=False, ckpt=tmp_path / "r.pt", data=mini_data),
                   weights_only=False)["history"]
    first, last = h[0], h[-1]
    assert last["val_loss"] < first["val_loss"]
    assert max(x["sdri"] for x in h[1:]) > first["sdri"]
    assert last["silenced"] <= first["silenced"]
