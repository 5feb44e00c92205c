"""Check the committed oracle rows of the full synth-ensembles versions against what
today's code gives, within CI's time.

    python scripts/oracle_drift.py [--versions 1 2 3] [--sample 24] [--leaderboards DIR]

Separation (ensembles and mix2; oracle-ibm, oracle-irm, oracle-mixture): a seeded sample
of items is estimated and scored again, through the same float32 samples a submission
stores, and every per-item score is compared with the committed per-item parquet
(1e-6 dB).  ``avbench leaderboard verify`` re-derives every summary of the entry from
that parquet, so a sample that matches pins the whole row.  Classification
(oracle-label, oracle-prior): every item is scored again and every summary compared.

The complete re-creation of every row is ``scripts/oracle_leaderboards.sh`` followed by
``avbench leaderboard check --against FRESH`` (a release step: about 15 minutes on
2 cores).  Exit status 1 names every difference.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from avbench import leaderboard as lb
from avbench.scoring import evaluate, score_separation_item
from avbench.tasks import get_task
from avbench_baselines.oracle.infer import estimate, prediction

SEP = ("synth-ensembles-separation", "synth-ensembles-mix2")
METRIC_COLUMNS = ("sdr", "sir", "sar", "si_sdr", "sd_sdr", "pes", "eps", "sdr_in", "si_sdr_in", "sdri", "si_sdri")


def _same(a, b, tol: float) -> bool:
    if pd.isna(a) or pd.isna(b):
        return bool(pd.isna(a) and pd.isna(b))
    return a == b or abs(float(a) - float(b)) <= tol


def check_separation(key: str, board: Path, sample: int, tol: float) -> tuple[list[str], int]:
    t = get_task(key)
    rng = np.random.default_rng(0)
    ids = sorted(rng.choice(len(t.items), size=min(sample, len(t.items)), replace=False))
    probs, n = [], 0
    for name in ("oracle-ibm", "oracle-irm", "oracle-mixture"):
        pq = board / "entries" / f"{name}.scores.parquet"
        if not pq.exists():
            probs.append(f"{key}: no committed {name} row")
            continue
        committed = pd.read_parquet(pq).set_index(["item", "slot"])
        for k in ids:
            item = t.items[int(k)]
            est = estimate(name, t, item).astype(np.float32).astype(np.float64)  # what the WAV holds
            ref = t.reference(item).astype(np.float64)
            rows = score_separation_item(t, ref, est, item)
            for row in rows:
                where = f"{key} {name} {row['item']}/{row['slot']}"
                if (row["item"], row["slot"]) not in committed.index:
                    probs.append(f"{where}: not in the committed per-item scores")
                    continue
                c = committed.loc[(row["item"], row["slot"])]
                if c["bucket"] != row["bucket"]:
                    probs.append(f"{where}: bucket {c['bucket']} -> {row['bucket']}")
                for m in METRIC_COLUMNS:
                    if m in c.index:
                        n += 1
                        if not _same(c[m], row[m], tol):
                            probs.append(f"{where}: {m} moved from {c[m]} to {row[m]}")
            n_rows = int((committed.index.get_level_values("item") == item.id).sum())
            if n_rows != len(rows):
                probs.append(f"{key} {name} {item.id}: {n_rows} committed rows")
    return probs, n


def check_classification(key: str, board: Path, tol: float) -> tuple[list[str], int]:
    t = get_task(key)
    probs, n = [], 0
    for name in ("oracle-label", "oracle-prior"):
        f = board / "entries" / f"{name}.json"
        if not f.exists():
            probs.append(f"{key}: no committed {name} row")
            continue
        e = lb.Entry.model_validate_json(f.read_text())
        r = evaluate(t, {it.id: prediction(name, t, it) for it in t.items}, name=name)
        for m, s in r.scores.items():
            for field in ("mean", "n", "ci_low", "ci_high"):
                n += 1
                a, b = getattr(e.scores[m], field), getattr(s, field)
                if not _same(a, b, tol):
                    probs.append(f"{key} {name}: {m}.{field} moved from {a} to {b}")
    return probs, n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--versions", nargs="+", default=["1", "2", "3"])
    ap.add_argument("--sample", type=int, default=24, help="separation items per task (seeded)")
    ap.add_argument("--leaderboards", type=Path, default=Path("leaderboards"))
    ap.add_argument("--tolerance", type=float, default=1e-6)
    a = ap.parse_args(argv)
    probs, n = [], 0
    for v in a.versions:
        for name in SEP:
            p, k = check_separation(f"{name}@{v}", a.leaderboards / name / v, a.sample, a.tolerance)
            probs, n = probs + p, n + k
        key = f"synth-ensembles-classification@{v}"
        p, k = check_classification(key, a.leaderboards / "synth-ensembles-classification" / v, a.tolerance)
        probs, n = probs + p, n + k
    for p in probs:
        print(p, file=sys.stderr)
    print(f"oracle drift, versions {' '.join(a.versions)}: {n} values compared, {len(probs)} differences")
    return 1 if probs else 0


if __name__ == "__main__":
    sys.exit(main())
