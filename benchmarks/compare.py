"""Time avbench, fast_bss_eval and mir_eval on the same seeded items, in one run.

    python benchmarks/compare.py [--repeats 7] [--long-repeats 3] [--skip-long] [--skip-reference]

Prints, per workload, the median seconds per item of each library, the ratios
(peer / avbench: above 1 means avbench is faster) and the largest |difference| of
avbench's SDR/SIR/SAR to mir_eval's and to the definition (least squares on the explicit
matrix of delayed references, Householder QR: ``benchmarks.items.definition_sources``;
not run on the 3-minute workload, whose explicit matrix would take 32 GB).
fast_bss_eval runs its exact paths (float64, no conjugate-gradient iterations): the torch
backend, and the numpy backend with ``compute_permutation=True`` (its path without
permutation fails on NumPy 2), compared with avbench's permutation path.  Every library
runs with the machine's threads.
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
from benchmarks.items import definition_sources, music_item  # noqa: E402

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
    ap.add_argument("--skip-reference", action="store_true", help="the QR reference takes about a minute at 4 x 65535")
    ap.add_argument("--samples", type=int, default=65535, help="length of the short workloads")
    args = ap.parse_args(argv)

    import fast_bss_eval
    import mir_eval.separation as mir_sep

    n = args.samples
    workloads = [("4 src x 65535" if n == 65535 else f"4 src x {n}", 4, n, args.repeats),
                 ("2 src x 65535" if n == 65535 else f"2 src x {n}", 2, n, args.repeats)]
    if not args.skip_long:
        workloads.append(("4 src x 3 min", 4, 3 * 60 * 11025, args.long_repeats))
    versions = {p: importlib.metadata.version(p) for p in ("fast-bss-eval", "mir_eval")}
    print(f"torch {torch.__version__}, numpy {np.__version__}, threads {torch.get_num_threads()}; "
          f"fast_bss_eval {versions['fast-bss-eval']}, mir_eval {versions['mir_eval']}")
    cols = ("avbench s", "fbe-torch s", "torch/avb", "avb-perm s", "fbe-np s", "np/avb", "mir_eval s", "mir/avb",
            "|d| mir dB", "|d| LS dB")
    print(f"{'workload':<16}" + "".join(f"{c:>12}" for c in cols))
    for label, n_src, N, reps in workloads:
        R, E = music_item(7, n_src, N)
        Rt, Et = torch.from_numpy(R), torch.from_numpy(E)
        t_avb = _median_time(lambda: bss_eval_sources(R, E), reps)
        t_fbe = _median_time(lambda: fast_bss_eval.bss_eval_sources(Rt, Et, compute_permutation=False, use_cg_iter=None), reps)
        t_avb_p = _median_time(lambda: bss_eval_sources(R, E, compute_permutation=True), reps)
        t_np = _median_time(lambda: fast_bss_eval.numpy.bss_eval_sources(R, E, compute_permutation=True, use_cg_iter=None), reps)
        ours = np.array(bss_eval_sources(R, E)[:3])
        if N > 10 * 65535 and args.skip_mir_eval_long:
            t_mir, d_mir = float("nan"), float("nan")
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                ref = np.array(mir_sep.bss_eval_sources(R, E, compute_permutation=False)[:3])
                t_mir = time.perf_counter() - t0
                if N <= 10 * 65535 and reps > 1:
                    t_mir = _median_time(lambda: mir_sep.bss_eval_sources(R, E, compute_permutation=False), max(1, reps // 2))
            d_mir = float(np.max(np.abs(ours - ref)))
        d_ls = float("nan")
        if N <= 65535 and not args.skip_reference:
            want = definition_sources(R, E)
            d_ls = float(np.max(np.abs(ours - want)))
        vals = (t_avb, t_fbe, t_fbe / t_avb, t_avb_p, t_np, t_np / t_avb_p, t_mir, t_mir / t_avb)
        fmt = ("{:>12.4f}", "{:>12.4f}", "{:>12.2f}", "{:>12.4f}", "{:>12.4f}", "{:>12.2f}", "{:>12.4f}", "{:>12.2f}")
        print(f"{label:<16}" + "".join(f.format(v) for f, v in zip(fmt, vals)) + f"{d_mir:>12.2e}{d_ls:>12.2e}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
