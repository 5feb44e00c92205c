"""The thesis' section-5.2 claims (Exp-/CExp-Wave-U-Net and InformedNMF, Tables 5.1-5.2)
on a separation board, each beside the thesis' number (``configs/claims.yaml``), tested
by :mod:`baselines.claims`.  Reads the committed entries; needs no data.

    python -m baselines.wave_unet.analysis [--task synth-ensembles-separation@3] [--out FILE]
"""
from __future__ import annotations

from pathlib import Path


from .. import claims as cl
from .train import CONFIGS

README = Path(__file__).parent / "README.md"
#: one entry by design: InformedNMF trains nothing (fixed initialisation, seed 0)
UNSEEDED = ("informed-nmf", "nmf-all-templates", "informed-nmf-heldout-timbres")


def report(root: Path, task: str) -> str:
    return (f"Claims of the thesis (section 5.2) on `{task}`: the thesis' numbers are URMP test means "
            "(Tables 5.1-5.2); ours pool each system's seeds per (item, slot), pair the two systems, and "
            "test by work (" + cl.TEST_RULE + "); InformedNMF "
            "trains nothing and has one entry.\n\n"
            + cl.table(root, task, cl.load_claims(CONFIGS / "claims.yaml"), unseeded=UNSEEDED))


def main(argv=None) -> int:
    return cl.analysis_main(report, README, "the thesis' section-5.2 claims on a separation board", argv)


if __name__ == "__main__":
    raise SystemExit(main())
