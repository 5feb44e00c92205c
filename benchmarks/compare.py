"""Time avbench, fast_bss_eval and mir_eval on the same seeded items, in one run.

    python benchmarks/compare.py [--repeats 7] [--long-repeats 3] [--skip-long]

Prints, per workload, the median seconds per item of each library, the ratios
(peer / avbench: above 1 means avbench is faster) and the largest |difference| of
avbench's SDR/SIR/SAR to mir_eval's.  fast_bss_eval runs its exact path: the torch
backend in float64 without conjugate-gradient iterations (its numpy backend without
permutation fails on NumPy 2).  Every library runs with the machine's threads.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.items import music_item  # noqa: E402

from avbench.metrics import bss_eval_sources  # noqa: E402


def _median_time(fn, repeats: int) -> float:
    fn()  # warm-up
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--long-repeats", type=int, default=3)
    ap.add_argument("--skip-long", action="store_true")
    ap.add_argument("--skip-mir-eval-long", action="store_true", help="mir_eval on 3 minutes takes minutes")
    args = ap.parse_args(argv)

    import fast_bss_eval
    import mir_eval.separation as mir_sep

    workloads = [("4 src x 65535", 4, 65535, args.repeats), ("2 src x 65535", 2, 65535, args.repeats)]
    if not args.skip_long:
        workloads.append(("4 src x 3 min", 4, 3 * 60 * 11025, args.long_repeats))
    versions = {p: importlib.metadata.version(p) for p in ("fast-bss-eval", "mir_eval")}
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}; "
          f"fast_bss_eval {versions['fast-bss-eval']}, mir_eval {versions['mir_eval']}")
    print(f"{'workload':<16}{'avbench s':>11}{'fbe s':>10}{'mir_eval s':>12}{'fbe/avb':>9}{'mir/avb':>9}{'max|d| dB':>11}")
    for label, n_src, n, reps in workloads:
        R, E = music_item(7, n_src, n)
        Rt, Et = torch.from_numpy(R), torch.from_numpy(E)
        t_avb = _median_time(lambda: bss_eval_sources(R, E), reps)
        t_fbe = _median_time(lambda: fast_bss_eval.bss_eval_sources(Rt, Et, compute_permutation=False, use_cg_iter=None), reps)
        ours = np.array(bss_eval_sources(R, E)[:3])
        long_mir = n > 10 * 65535 and args.skip_mir_eval_long
        if long_mir:
            t_mir, diff = float("nan"), float("nan")
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                ref = np.array(mir_sep.bss_eval_sources(R, E, compute_permutation=False)[:3])
                t_mir = time.perf_counter() - t0
                if n <= 10 * 65535 and reps > 1:
                    t_mir = _median_time(lambda: mir_sep.bss_eval_sources(R, E, compute_permutation=False), max(1, reps // 2))
            diff = float(np.max(np.abs(ours - ref)))
        print(f"{label:<16}{t_avb:>11.4f}{t_fbe:>10.4f}{t_mir:>12.4f}{t_fbe / t_avb:>9.2f}{t_mir / t_avb:>9.2f}{diff:>11.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
