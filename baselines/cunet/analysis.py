"""Results of the conditioned U-Net variants on a separation leaderboard and the thesis'
claims of section 5.3, each beside the thesis' own number (``configs/claims.yaml``),
tested by :mod:`baselines.claims` (seeds averaged per (item, slot), paired by work).
Reads the committed entries; needs no data.

    python -m baselines.cunet.analysis [--task synth-ensembles-separation@3] [--out baselines/cunet/results/results.md]
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


from .. import claims as cl
from .train import CONFIGS, variants

README = Path(__file__).parent / "README.md"

METRICS = ["sdr", "sir", "sar", "si_sdr", "pes"]


def results_table(root: Path, task: str) -> str:
    """One row per variant: the mean over its seeds of each metric's mean, with the seeds'
    range; a row of its own for each other config on the board (``<variant>.paper``)."""
    out = [f"Results on `{task}`: the mean over seeds of each metric's mean over the scored (item, slot) "
           "pairs, the seeds' range in brackets (PES: over the pairs whose reference is silent; every "
           "such pair counts, a silent estimate at the −80 dB floor).", "",
           "| variant | thesis ID | inputs | parameters | seeds | SDR | SIR | SAR | SI-SDR | PES |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for v, spec in variants().items():
        for name, es in cl.config_rows(root, task, v):
            if not es:
                out.append(f"| `{v}` | {spec['id']} | {', '.join(spec['inputs'])} | – | 0 | not trained yet |||||")
                continue
            out.append(_row(name, spec, es))
    return "\n".join(out) + "\n"


def _row(v: str, spec: dict, es: list) -> str:
    cells = []
    for m in METRICS:
        means = [e["scores"][m]["mean"] for _, e, _ in es]
        cells.append(f"{cl.fmt(float(np.mean(means)))} [{cl.fmt(min(means))}, {cl.fmt(max(means))}]")
    e0 = es[0][1]
    return (f"| `{v}` | {spec['id']} | {', '.join(e0['inputs'])} | {e0['n_parameters']:,} | {len(es)} | "
            + " | ".join(cells) + " |")


def report(root: Path, task: str) -> str:
    claims = cl.load_claims(CONFIGS / "claims.yaml")
    return (results_table(root, task) + "\n"
            + f"Claims of the thesis (section 5.3) on `{task}`: the thesis' numbers are URMP test means "
              "(Tables 5.3-5.5); ours pool each variant's seeds per (item, slot), pair the two variants on the "
              "pairs both scored, and test by work (" + cl.TEST_RULE + ").\n\n"
            + cl.table(root, task, claims, config_of=cl.training_config("cunet")))


def main(argv=None) -> int:
    return cl.analysis_main(report, README, "the conditioned U-Nets' results and the thesis' claims", argv)


if __name__ == "__main__":
    raise SystemExit(main())
