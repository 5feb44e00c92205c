"""Score a whole test split end to end with 1 and 2 workers and print where the time goes.

    python benchmarks/score_split.py [--task synth-ensembles-separation@1] [--baseline oracle-irm]

Writes the baseline's submission into a temporary folder, then scores it three times:
one worker with the task's input-mixture metrics not cached yet (a first run on this
machine), one worker with them cached, and two workers.  Each run starts without resume
state.  Printed per run: the wall-clock time and the split of the scoring processes'
busy time (``avbench score --profile``): the metric kernels, reading files, decoding
them, validation, and the rest; then the two-worker speed-up.  Needs the task's data
(``avbench data generate synth-ensembles --config full`` for the full versions).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="synth-ensembles-separation@1")
    ap.add_argument("--baseline", default="oracle-irm")
    args = ap.parse_args(argv)

    from avbench import scoring
    from avbench.cli import _baselines
    from avbench.config import home
    from avbench.profile import format_split
    from avbench.tasks import get_task

    task = get_task(args.task)
    with tempfile.TemporaryDirectory(prefix="avbench-split-") as tmp:
        sub = Path(tmp) / args.baseline
        _baselines()[args.baseline](args.task, sub, progress=False)
        mixture = home() / "scoring" / "mixture" / task.spec.key
        shutil.rmtree(mixture, ignore_errors=True)
        walls = {}
        print(f"{args.task}: {task.spec.n_items} items, {args.baseline}")
        for label, workers in (("1 worker, mixture metrics not cached", 1), ("1 worker", 1), ("2 workers", 2)):
            shutil.rmtree(home() / "scoring" / task.spec.key, ignore_errors=True)  # no resume state
            (r,) = scoring.score(sub, workers=workers, progress=False)
            p = dict(r.profile)
            walls[label] = p["wall_s"]
            print(f"{label:<38} {format_split(p)}")
        print(f"two workers / one worker (cached): {walls['1 worker'] / walls['2 workers']:.2f}x; "
              f"main score {r.main_score} = {r.main_value:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
