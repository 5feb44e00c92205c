"""Time avbench, fast_bss_eval and mir_eval on the same seeded items, in one run.

    python benchmarks/compare.py [--repeats 7] [--long-repeats 3] [--skip-long] [--skip-reference] [--family all]
    python benchmarks/compare.py --device cuda [--batch 32] [--repeats 7]

Prints, per item family (``--family``: notes with decays, sustained narrowband tones) and
workload, the median seconds per item of each library, the ratios
(peer / avbench: above 1 means avbench is faster) and the largest |difference| of
avbench's SDR/SIR/SAR to mir_eval's and to the definition (least squares on the explicit
matrix of delayed references, Householder QR: ``benchmarks.items.definition_sources``;
not run on the 3-minute workload, whose explicit matrix would take 32 GB), and the share of
avbench's Toeplitz solves left to the dense fall-back after iterative refinement.
fast_bss_eval runs its exact paths (float64, no conjugate-gradient iterations): the torch
backend, and the numpy backend with ``compute_permutation=True`` (its path without
permutation fails on NumPy 2), compared with avbench's permutation path.  Each is timed
in its own block after half a second idle, so that none inherits a thread pool still
spinning from the one before.  Every library runs with the machine's threads.

With ``--device`` (``cuda`` on a GPU machine): items per second of one batched call of
``--batch`` items (float64) for avbench and fast_bss_eval's torch backend on that device,
for 2 and 4 sources x 65535, and the largest |difference| of the device's SDR/SIR/SAR to
avbench's on the CPU.
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
from benchmarks.items import definition_sources, music_item, sustained_item  # noqa: E402

from avbench.metrics import bss_eval_sources  # noqa: E402


def _median_time(fn, repeats: int) -> float:
    fn()  # warm-up
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def _blocks(fns: dict, repeats: int, settle: float = 0.5) -> dict[str, float]:
    """Median seconds of each function, one block of repeats per function, each block
    after ``settle`` seconds idle: thread pools that spin after a call (numpy's BLAS)
    then no longer hold the cores when the next library is timed."""
    out = {}
    for k, fn in fns.items():
        time.sleep(settle)
        out[k] = _median_time(fn, repeats)
    return out


def device_main(device: str, batch: int, repeats: int) -> int:
    """Batched throughput on ``device`` and agreement with the CPU."""
    import fast_bss_eval

    dev = torch.device(device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    print(f"torch {torch.__version__}, device {dev}"
          f"{' (' + torch.cuda.get_device_name(dev) + ')' if dev.type == 'cuda' else ''}, batch {batch}, float64")
    print(f"{'workload':<16}{'avbench it/s':>14}{'fbe it/s':>12}{'avb/fbe':>9}{'|d| cpu dB':>12}")
    for n_src in (4, 2):
        items = [music_item(100 + b, n_src, 65535) for b in range(batch)]
        R = torch.from_numpy(np.stack([r for r, _ in items])).to(dev)
        E = torch.from_numpy(np.stack([e for _, e in items])).to(dev)

        def synced(fn):
            return lambda: (fn(), sync())[0]

        t = _blocks({"avb": synced(lambda: bss_eval_sources(R, E)),
                     "fbe": synced(lambda: fast_bss_eval.bss_eval_sources(R, E, compute_permutation=False,
                                                                          use_cg_iter=None))}, repeats)
        got = np.array([x.cpu().numpy() for x in bss_eval_sources(R, E)[:3]])
        cpu = np.array(bss_eval_sources(R.cpu().numpy(), E.cpu().numpy())[:3])
        d = float(np.max(np.abs(got - cpu)))
        print(f"{n_src} src x 65535   {batch / t['avb']:>14.1f}{batch / t['fbe']:>12.1f}{t['fbe'] / t['avb']:>9.2f}{d:>12.2e}",
              flush=True)
    return 0


#: the item families the speed is measured on (benchmarks/items.py)
FAMILIES = {"music": music_item, "sustained": sustained_item}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--long-repeats", type=int, default=3)
    ap.add_argument("--skip-long", action="store_true")
    ap.add_argument("--skip-mir-eval-long", action="store_true", help="mir_eval on 3 minutes takes minutes")
    ap.add_argument("--skip-reference", action="store_true", help="the QR reference takes about a minute at 4 x 65535")
    ap.add_argument("--samples", type=int, default=65535, help="length of the short workloads")
    ap.add_argument("--family", default="all", choices=["all", *FAMILIES],
                    help="item family (benchmarks/items.py): music (notes with decays), sustained (narrowband tones)")
    ap.add_argument("--device", help="batched throughput on this torch device (cuda) instead")
    ap.add_argument("--batch", type=int, default=32, help="items per batched call with --device")
    args = ap.parse_args(argv)
    if args.device:
        return device_main(args.device, args.batch, args.repeats)

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
    from avbench.metrics.functional import _toeplitz

    cols = ("avbench s", "fbe-torch s", "torch/avb", "avb-perm s", "fbe-np s", "np/avb", "mir_eval s", "mir/avb",
            "|d| mir dB", "|d| LS dB", "fall-back")
    print(f"{'workload':<26}" + "".join(f"{c:>12}" for c in cols))
    fams = list(FAMILIES) if args.family == "all" else [args.family]
    for fam, (label, n_src, N, reps) in ((f, w) for f in fams for w in workloads):
        label = f"{fam}: {label}"
        R, E = FAMILIES[fam](7, n_src, N)
        before = dict(_toeplitz.STATS)
        bss_eval_sources(R, E)  # the fall-back rate of this item's solves
        solves = _toeplitz.STATS["solves"] - before["solves"]
        fb = (_toeplitz.STATS["fallbacks"] - before["fallbacks"]) / max(1, solves)
        Rt, Et = torch.from_numpy(R), torch.from_numpy(E)
        t = _blocks({
            "avb": lambda: bss_eval_sources(R, E),
            "fbe": lambda: fast_bss_eval.bss_eval_sources(Rt, Et, compute_permutation=False, use_cg_iter=None),
            "avb_p": lambda: bss_eval_sources(R, E, compute_permutation=True),
            "np": lambda: fast_bss_eval.numpy.bss_eval_sources(R, E, compute_permutation=True, use_cg_iter=None),
        }, reps)
        t_avb, t_fbe, t_avb_p, t_np = t["avb"], t["fbe"], t["avb_p"], t["np"]
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
        print(f"{label:<26}" + "".join(f.format(v) for f, v in zip(fmt, vals)) + f"{d_mir:>12.2e}{d_ls:>12.2e}"
              f"{100 * fb:>11.0f}%", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
