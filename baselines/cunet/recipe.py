"""The training recipe, measured one change at a time on a fixed small budget.

Each recipe step adds one change to the previous one (``STEPS``); every step trains the
same variants with the same seed and step budget, and reports the loss curve, the
validation SDRi and the silenced share of the sounding sources on the fixed validation
mixtures of :func:`baselines.cunet.train.val_quality`.  Two runs go side by side, one
thread each.  The table of the README's "Training recipe" section is this command's
output:

    python -m baselines.cunet.recipe --version 3 --steps 400 --variants unet,unet-film-bottleneck
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

#: cumulative recipe steps: name -> the config fields it changes (on top of the previous)
STEPS: list[tuple[str, dict]] = [
    ("reference (Adam + L2 5e-4, BCE over 13 slots, plateau curriculum)",
     dict(slot_loss="all", out_bias=None, warmup=0, schedule="plateau", curriculum_steps=0, decoupled_wd=False)),
    ("+ present/absent slots weighted apart", dict(slot_loss="balanced")),
    ("+ decoupled weight decay (AdamW)", dict(decoupled_wd=True)),
    ("+ warm-up and cosine decay", dict(warmup=50, schedule="cosine")),
    ("+ scheduled curriculum (one more source every 1/6 of the steps)", dict(curriculum_steps=-1)),
    ("+ mask-logit bias at -2 (masks start at 0.12)", dict(out_bias=-2.0)),
]


def cumulative(upto: int, steps: int) -> dict:
    out: dict = {}
    for _, ch in STEPS[:upto + 1]:
        out.update(ch)
    if out.get("curriculum_steps") == -1:
        out["curriculum_steps"] = max(1, steps // 6)
    return out


def one(variant: str, k: int, version: str, steps: int, out: Path) -> dict:
    """Train recipe step ``k`` of ``variant`` in this process; its history as a dict."""
    import torch

    from . import train as tr

    torch.set_num_threads(1)
    cfg = replace(tr.Config.load("cpu", variant), steps=steps, eval_every=max(1, steps // 8), select="loss",
                  **cumulative(k, steps))
    ck = out / f"{variant}.r{k}.pt"
    p = tr.train(cfg, version, progress=True, ckpt=ck)
    s = torch.load(p, map_location="cpu", weights_only=False)
    last = s["history"][-1]
    return {"variant": variant, "step": k, "recipe": STEPS[k][0], "history": s["history"], "seconds": s["seconds"],
            "final_sdri": last.get("sdri"), "final_silenced": last.get("silenced"),
            "best_sdri": max(h.get("sdri", float("-inf")) for h in s["history"])}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--version", default="3")
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--variants", default="unet,unet-film-bottleneck")
    ap.add_argument("--only", default=None, help="comma-separated recipe step numbers (default: all)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "recipe.json")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    from .train import workdir, Config

    out = workdir(Config.load("cpu"), a.version) / f"recipe-{a.steps}"
    out.mkdir(parents=True, exist_ok=True)
    if a.worker:
        v, k = a.worker
        r = one(v, int(k), a.version, a.steps, out)
        (out / f"{v}.r{k}.json").write_text(json.dumps(r))
        return 0
    ks = [int(x) for x in a.only.split(",")] if a.only else list(range(len(STEPS)))
    jobs = [(v, k) for k in ks for v in a.variants.split(",")]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

    def run(job):
        v, k = job
        if not (out / f"{v}.r{k}.json").exists():
            subprocess.run([sys.executable, "-m", "baselines.cunet.recipe", "--version", a.version, "--steps",
                            str(a.steps), "--worker", v, str(k)], check=True, env=env)
        return json.loads((out / f"{v}.r{k}.json").read_text())

    with ThreadPoolExecutor(a.jobs) as ex:
        rows = list(ex.map(run, jobs))
    old = json.loads(a.json.read_text()) if a.json.exists() else {}
    old[str(a.steps)] = rows
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps(old, indent=1) + "\n")
    print(f"| recipe ({a.steps} steps, batch 8) | variant | val loss | val SDRi (dB) | silenced | s |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        h = r["history"][-1]
        print(f"| {r['recipe']} | `{r['variant']}` | {h['val_loss']:.4f} | {h['sdri']:+.2f} | "
              f"{100 * h['silenced']:.0f}% | {r['seconds']:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
