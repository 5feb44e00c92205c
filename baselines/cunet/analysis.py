"""Results of the conditioned U-Net variants on a separation leaderboard and the thesis'
claims checked with paired tests (``avbench compare``'s bootstrap over works and
Wilcoxon signed-rank test).  Reads the committed entries; needs no data.

    python -m baselines.cunet.analysis [--task synth-ensembles-separation@1] [--out baselines/cunet/results/results.md]
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from avbench import leaderboard as lb
from avbench.compare import compare_frames
from avbench.leaderboard import load_scores
from avbench.tasks import parse_key

from .train import variants

METRICS = ["sdr", "sir", "sar", "si_sdr", "pes"]


def _entry(root: Path, task: str, name: str) -> dict | None:
    n, v = parse_key(task)
    p = lb.board_dir(root, n, v) / "entries" / f"{name}.json"
    return json.loads(p.read_text()) if p.exists() else None


def _fmt(x, nd=2) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{nd}f}"


def _test(root: Path, task: str, a: str, b: str, metric: str) -> dict:
    _, fa = load_scores(a, task, root)
    _, fb = load_scores(b, task, root)
    return compare_frames(fa, fb, "separation", metric)


def _diff(r: dict) -> str:
    bs, p = r["bootstrap"], r["test"]["p_value"]
    return (f"{bs['diff']:+.2f} dB [{bs['low']:+.2f}, {bs['high']:+.2f}], p = {p:.2g} (signed-rank over "
            f"{r['n_works']} works), n = {r['n']}")


def _beats(r: dict) -> bool:
    return r["bootstrap"]["diff"] > 0 and r["significant"]


def report(root: Path, task: str) -> str:
    names = [v for v in variants() if _entry(root, task, v)]
    rows = {v: _entry(root, task, v) for v in names}
    out = [f"Results on `{task}` (means; PES over the (segment, slot) pairs whose reference is silent "
           "and whose estimate is not; n in brackets).", "",
           "| variant | inputs | parameters | SDR | SIR | SAR | SI-SDR | PES [n] | SDR 2 / 3 / 4 / 5 sources |",
           "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for v in names:
        e = rows[v]
        s = e["scores"]
        by_n = e["breakdown"]["n_sources"]
        per = " / ".join(_fmt(by_n[k]["sdr"]["mean"]) for k in sorted(by_n, key=int))
        out.append(f"| `{v}` | {', '.join(e['inputs'])} | {e['n_parameters']:,} | {_fmt(s['sdr']['mean'])} | "
                   f"{_fmt(s['sir']['mean'])} | {_fmt(s['sar']['mean'])} | {_fmt(s['si_sdr']['mean'])} | "
                   f"{_fmt(s['pes']['mean'])} [{s['pes']['n']}] | {per} |")

    def mean(v, m):
        return rows[v]["scores"][m]["mean"] if v in rows else None

    claims = []

    def beats(a, b, metric, claim):
        if a in rows and b in rows:
            r = _test(root, task, a, b, metric)
            claims.append((claim, f"`{a}` − `{b}` {metric.upper().replace('_', '-')}: {_diff(r)}", _beats(r)))

    beats("unet-film-bottleneck", "unet", "sdr", "FiLM-bottleneck label conditioning beats no conditioning (SDR)")
    beats("unet-film-bottleneck", "unet", "si_sdr", "FiLM-bottleneck label conditioning beats no conditioning (SI-SDR)")
    label = [v for v in ("unet", "unet-film-bottleneck", "unet-film-encoder", "unet-film-final", "unet-label-multiply")
             if v in rows]
    if "unet-label-multiply" in rows:
        si = {v: mean(v, "si_sdr") for v in label}
        pes = {v: mean(v, "pes") for v in label if mean(v, "pes") is not None}
        best_si = max(si, key=si.get)
        worst_pes = max(pes, key=pes.get) if pes else None
        claims.append(("label-multiply gives the best SI-SDR (among the label-conditioned U-Nets and the U-Net)",
                       "SI-SDR: " + ", ".join(f"`{v}` {_fmt(x)}" for v, x in si.items()),
                       best_si == "unet-label-multiply"))
        claims.append(("label-multiply gives the worst PES",
                       "PES [n]: " + ", ".join(f"`{v}` {_fmt(mean(v, 'pes'))} [{rows[v]['scores']['pes']['n']}]"
                                                 for v in label),
                       worst_pes == "unet-label-multiply"))
    if "unet-ratio" in rows:
        r_si = _test(root, task, "unet-ratio", "unet", "si_sdr")
        r_pes = _test(root, task, "unet-ratio", "unet", "pes")
        claims.append(("ratio masks give higher SI-SDR than binary masks",
                       f"`unet-ratio` − `unet` SI-SDR: {_diff(r_si)}", _beats(r_si)))
        claims.append(("ratio masks give worse (higher) PES than binary masks",
                       f"`unet-ratio` − `unet` PES: {_diff(r_pes)}", _beats(r_pes)))
    beats("unet", "unet-no-curriculum", "sdr", "curriculum beats no curriculum (SDR)")
    beats("unet-visual-film-bottleneck", "unet", "sdr", "visual FiLM-bottleneck beats no conditioning (SDR)")
    if "unet-motion" in rows and "unet-visual-film-bottleneck" in rows:
        r = _test(root, task, "unet-motion", "unet-visual-film-bottleneck", "sdr")
        claims.append(("motion context does not beat single-frame context (SDR)",
                       f"`unet-motion` − `unet-visual-film-bottleneck` SDR: {_diff(r)}", not _beats(r)))
    out += ["", "| claim of the thesis | here | verdict |", "|---|---|---|"]
    out += [f"| {c} | {d} | **{'holds' if ok else 'does not hold'}** |" for c, d, ok in claims]
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="the conditioned U-Nets' results and the thesis' claims")
    ap.add_argument("--task", default="synth-ensembles-separation@1")
    ap.add_argument("--leaderboards", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    text = report(a.leaderboards or lb.default_root(), a.task)
    print(text, end="")
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
