"""The implementations of the ``avbench`` commands (:mod:`avbench.cli` builds the parser and
calls them), one module per group: :mod:`.data` (data and tasks), :mod:`.boards`
(validate, score, leaderboards), :mod:`.analysis` (compare, report) and :mod:`.demo`
(baselines and the demo).  Every command is a thin wrapper over a library function."""
from __future__ import annotations

from ..data.synth.config import config_names

#: the data configurations of synth-ensembles: version 2 (mini2, full2) and version 1 (mini, full)
CONFIG_NAMES = config_names()


def _print(args, text: str) -> None:
    if not getattr(args, "quiet", False):
        print(text)
