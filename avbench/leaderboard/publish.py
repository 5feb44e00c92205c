"""Publishing a scored submission on its leaderboard: one library call, which the CLI's
``avbench score --update-leaderboard`` makes and the Python API exports
(``avbench.publish``).

Without a folder of leaderboards the default (writable) one is used, and a board that
does not exist there yet starts from the published rows of its task version, so a new
row is ranked beside the reference rows.  The entry is added in one locked
transaction (:func:`~avbench.leaderboard.store.add_entry`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .entry import entry_from
from .store import Reproduced, add_entry, board_dir, default_root, seed_from_published


@dataclass(frozen=True)
class Published:
    """What :func:`publish` did to one board."""

    board: Path          #: the board folder (``<leaderboards>/<task>/<version>``)
    #: ``updated`` (the entry added or replaced), ``unchanged`` (the same outputs scored
    #: again: nothing rewritten) or ``reproduced`` (other outputs with every score equal
    #: to the row of that name, AVB507: the board is left as it is)
    status: str
    seeded: int = 0      #: entries copied from the published board when the board was started
    message: str = ""    #: the AVB507 notice of a reproduction

    @property
    def markdown(self) -> Path:
        return self.board / "leaderboard.md"


def publish(result, submission, leaderboards: str | Path | None = None, replace: bool = False) -> Published:
    """Add a scored ``result`` (:func:`avbench.score` gives one per task) of the validated
    ``submission`` (:func:`avbench.validate`) to its task version's board under
    ``leaderboards`` (default: :func:`~avbench.leaderboard.store.default_root`, started from
    the published rows).  ``replace``: replace a row of the same name scored from other
    outputs (else AVB504).  Refusals are :class:`~avbench.errors.LeaderboardError` (AVB503
    to AVB506) and leave the board as it was."""
    from ..scoring import scores_path

    seeded = 0
    if leaderboards is None:
        root = default_root(write=True)
        seeded = seed_from_published(root, result.task, result.version)
    else:
        root = Path(leaderboards)
    bd = board_dir(root, result.task, result.version)
    before = (bd / "leaderboard.json").read_bytes() if (bd / "leaderboard.json").is_file() else None
    try:
        d = add_entry(root, entry_from(result, submission.meta),
                      scores=scores_path(submission.root, f"{result.task}@{result.version}"), replace=replace)
    except Reproduced as e:
        return Published(bd, "reproduced", seeded, e.message)
    same = before is not None and before == (d / "leaderboard.json").read_bytes()
    return Published(d, "unchanged" if same else "updated", seeded)
