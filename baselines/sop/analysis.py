"""The Object-Prior paper's analyses, on ``synth-ensembles``:

* ``async`` — separation on ``synth-ensembles-mix2`` with every clip's frames replaced by
  frames of another recording of the same instrument (the paper's Table IV), beside the
  synchronised frames; SDR/SIR/SAR (BSS Eval v3, 512 taps).
* ``channels`` — instrument classification of the test solo clips by the strongest visual
  channel and by the strongest audio channel (Table V, Fig. 3), with confusion matrices.
  Sound-of-Pixels' channels are named by the class they respond to most on the training
  clips; Object-Prior's channels are the classes.
* ``three`` — Sound-of-Pixels trained on three instruments only (section III-C): which
  visual channel responds to which instrument.

    python -m baselines.sop.analysis [async|channels|three|all] --config cpu --version 1

Writes ``<analysis>.md`` / ``.json`` (and the confusion-matrix SVGs) under
``baselines/sop/results/``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from avbench.instruments import CLASSES
from avbench.metrics import bss_eval_sources
from avbench.tasks import get_task
from .. import frontend as fe
from ..multimodal import train as mm

from . import train as st

RESULTS = Path(__file__).parent / "results"
THREE = ("violin", "flute", "trumpet")


def _models(cfg, version):
    return {k: st.load(cfg, k, st.train(cfg, k, version, progress=False)) for k in ("sop", "object-prior")}


def async_table(cfg: st.Config, version: str, limit: int | None = None) -> dict:
    size = mm.Config.load(cfg.mm_config).size
    t = get_task("synth-ensembles-mix2", version)
    cls = get_task("synth-ensembles-classification", version)
    pool: dict[str, list] = {}
    for it in cls.items:  # test solo clips by instrument: the frames of other recordings
        pool.setdefault(it.label, []).append(it)
    models = _models(cfg, version)
    out = {}
    items = t.items[:limit] if limit else t.items
    for kind, model in models.items():
        res = {"sync": [], "async": []}
        silent = {"sync": 0, "async": 0}
        for n, item in enumerate(items):
            ref_all = t.reference(item)
            insts = [c.instrument for c in item.clips]
            ref = np.stack([ref_all[t.spec.slots.index(i)] for i in insts]).astype(np.float64)
            mix = t.mixture(item)
            fr = t.frames(item, 8.0, size)
            sync = [st.frames_tensor(fr[i][None], cfg.n_frames)[0] for i in insts]
            other = []
            for c in item.clips:
                cands = [p for p in pool[c.instrument] if p.clips[0].recording != c.recording]
                alt = cands[n % len(cands)]
                other.append(st.frames_tensor(cls.frames(alt, 8.0, size)[c.instrument][None], cfg.n_frames)[0])
            for key, frames in (("sync", sync), ("async", other)):
                est = st.separate(model, mix, frames).astype(np.float64)
                if not est.any(axis=1).all():  # a silent estimate has no SDR (scored as EPS on the leaderboard)
                    silent[key] += 1
                    continue
                m = bss_eval_sources(ref, est, 512)
                res[key].append([m.sdr.mean(), m.sir.mean(), m.sar.mean()])
        out[kind] = {k: {**dict(zip(("sdr", "sir", "sar"), map(float, np.mean(v, 0)))), "n_silent": silent[k]}
                     for k, v in res.items()}
    return {"task": t.spec.key, "n_items": len(items), "results": out}


@torch.no_grad()
def _channel_stats(model, d: dict, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Per clip: the visual vector and the magnitude-weighted mean activation of every
    audio channel on the clip alone.  Shapes ``(n, K)``, ``(n, K)``."""
    model.eval()
    vis, aud = [], []
    for i in range(0, len(d["labels"]), 16):
        vis.append(model.visual(st.frames_tensor(d["frames"][i:i + 16], n_frames)))
        X, spec = st.spec_input(torch.from_numpy(d["audio"][i:i + 16]))
        a = torch.sigmoid(model.audio(spec))
        w = fe.warp(X.abs()).unsqueeze(1)
        aud.append((a * w).sum(dim=(-2, -1)) / w.sum(dim=(-2, -1)).clamp_min(1e-8))
    return torch.cat(vis).numpy(), torch.cat(aud).numpy()


def _confusion_svg(cm: np.ndarray, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 5))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(CLASSES)), CLASSES, rotation=90, fontsize=7)
    ax.set_yticks(range(len(CLASSES)), CLASSES, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)


def channels_table(cfg: st.Config, version: str, out_dir: Path = RESULTS) -> dict:
    mcfg = mm.Config.load(cfg.mm_config)
    tr = mm.load_split(mcfg, version, "train")
    cls = get_task("synth-ensembles-classification", version)
    from ..multimodal.infer import task_arrays

    y = np.array([CLASSES.index(i.label) for i in cls.items])
    te = {**task_arrays(cls, mcfg), "labels": y}
    out = {}
    for kind, model in _models(cfg, version).items():
        v_tr, a_tr = _channel_stats(model, tr, cfg.n_frames)
        v_te, a_te = _channel_stats(model, te, cfg.n_frames)
        res = {}
        for name, s_tr, s_te in (("visual", v_tr, v_te), ("audio", a_tr, a_te)):
            if kind == "object-prior" and name == "visual":
                name_of = np.arange(len(CLASSES))  # the channels are the classes
            else:  # each channel named by the class whose training clips it wins most often
                win = s_tr.argmax(1)
                name_of = np.array([Counter(tr["labels"][win == k]).most_common(1)[0][0] if (win == k).any() else -1
                                    for k in range(s_tr.shape[1])])
            pred = name_of[s_te.argmax(1)]
            cm = np.zeros((len(CLASSES), len(CLASSES)), int)
            for a, b in zip(y, pred):
                if b >= 0:
                    cm[a, b] += 1
            res[name] = {"accuracy": float((pred == y).mean()), "confusion": cm.tolist()}
            _confusion_svg(cm, f"{kind}: classification by the strongest {name} channel",
                           out_dir / f"confusion_{kind}_{name}.svg")
        out[kind] = res
    return {"task": cls.spec.key, "n_items": int(len(y)), "results": out}


def three_table(cfg: st.Config, version: str, steps: int = 300) -> dict:
    mcfg = mm.Config.load(cfg.mm_config)
    tr, va = mm.load_split(mcfg, version, "train"), mm.load_split(mcfg, version, "val")
    keep = [CLASSES.index(i) for i in THREE]

    def sub(d):
        m = np.isin(d["labels"], keep)
        return {k: v[m] for k, v in d.items()}

    c3 = dataclasses.replace(cfg, steps=steps, eval_every=max(1, steps // 3))
    ck = st.workdir(cfg, version) / f"sop-three-{steps}.pt"
    model = st.load(c3, "sop", st.train(c3, "sop", version, progress=False, ckpt=ck, data=(sub(tr), sub(va))))
    te = sub(mm.load_split(mcfg, version, "val"))
    vis, _ = _channel_stats(model, te, cfg.n_frames)
    act = torch.sigmoid(torch.from_numpy(vis)).numpy()
    rows = {}
    for i in THREE:
        m = act[te["labels"] == CLASSES.index(i)].mean(0)
        rows[i] = {"top_channels": [int(k) for k in np.argsort(-m)[:3]], "activation": [float(x) for x in m]}
    return {"instruments": list(THREE), "steps": steps, "clips": "validation solos", "results": rows}


def markdown(name: str, r: dict) -> str:
    if name == "async":
        lines = [f"# Asynchronized frames ({r['task']}, {r['n_items']} items)", "",
                 "| model | frames | SDR | SIR | SAR | items with a silent estimate (left out) |", "|---|---|---:|---:|---:|---:|"]
        for kind, v in r["results"].items():
            for key, s in v.items():
                lines.append(f"| {kind} | {key} | {s['sdr']:.2f} | {s['sir']:.2f} | {s['sar']:.2f} | {s['n_silent']} |")
    elif name == "channels":
        lines = [f"# Classification by the strongest channel ({r['task']}, {r['n_items']} clips)", "",
                 "| model | visual channel | audio channel |", "|---|---:|---:|"]
        for kind, v in r["results"].items():
            lines.append(f"| {kind} | {100 * v['visual']['accuracy']:.1f}% | {100 * v['audio']['accuracy']:.1f}% |")
    else:
        lines = [f"# Sound-of-Pixels on three instruments ({r['steps']} steps)", "",
                 "| instrument | top visual channels (mean sigmoid activation) |", "|---|---|"]
        for i, v in r["results"].items():
            tops = ", ".join(f"{k} ({v['activation'][k]:.2f})" for k in v["top_channels"])
            lines.append(f"| {i} | {tops} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", nargs="?", default="all", choices=["async", "channels", "three", "all"])
    ap.add_argument("--config", default="cpu")
    ap.add_argument("--version", default="1")
    ap.add_argument("--out", default=str(RESULTS))
    a = ap.parse_args(argv)
    cfg = st.Config.load(a.config)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    pending = ["async", "channels", "three"] if a.what == "all" else [a.what]
    for w in pending:
        r = {"async": lambda: async_table(cfg, a.version), "channels": lambda: channels_table(cfg, a.version, out),
             "three": lambda: three_table(cfg, a.version)}[w]()
        (out / f"{w}.json").write_text(json.dumps(r, indent=1, sort_keys=True) + "\n")
        (out / f"{w}.md").write_text(markdown(w, r))
        print(markdown(w, r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
