"""Versioned leaderboards.

``<leaderboards>/<task>/<version>/entries/<submission>.json`` holds one entry per
submission (its metadata, scores and provenance); ``leaderboard.md``, ``.csv``,
``.json``, ``.tex`` (booktabs) and ``.html`` (a self-contained sortable page) beside it
are rebuilt deterministically from the entries.  Entries scored
under another task version are refused, never mixed in.  The main score ranks (its
direction from the metric's metadata), ties break by name, oracle rows are shown
after the ranked rows, marked, and not ranked; an entry without a main score (``null``)
ranks last.

Every update is one transaction under the folder's file lock (:func:`avbench.files.commit`:
staged files, fsync, journal, atomic renames, directory fsync; rolled forward after a
kill, rolled back on an I/O error), so concurrent scorers lose nothing and a reader
sees the old or the new board.  ``SHA256SUMS`` lists every file of the board as
avbench last wrote it: a hand-edited or schema-invalid board is refused, never
overwritten; :func:`verify` recomputes everything an entry claims.

The package, one job per module: :mod:`.entry` (the entry model), :mod:`.store`
(locations, safe reading, locked transactions, checksums), :mod:`.ranking` (order and
the ``vs #1`` statistics), :mod:`.render` (pure renderers; HTML style and script in
``templates/``), :mod:`.verify` (recomputing what a board claims) and :mod:`.publish`
(adding a scored submission to its board: the library call behind ``--update-leaderboard``).
"""
from .entry import Entry, entry_from
from .ranking import RANK_DECIMALS, Ranked, columns, rank, ranked, significance
from .render import (FEW_GROUPS, FEW_MARK, RENDERS, fmt, label, interval_note, protocol_note, render_csv,
                     render_html, render_json, render_latex, render_markdown, renders, table)
from .store import (ENTRY_CAP, LOCK_TIMEOUT, PARQUET_CAP, SUMS, add_entry, adoption, board_dir, board_files,
                    board_of, board_problems, build, default_root, disk_parquet, integrity_problems, load_entries,
                    load_scores, lock, plots, published_root, read_sums, reading_board, review, reviewed_of,
                    seed_from_published)
from .verify import drift, verify
from .publish import Published, publish

__all__ = [
    "ENTRY_CAP", "Entry", "FEW_GROUPS", "FEW_MARK", "LOCK_TIMEOUT", "PARQUET_CAP",
    "Published", "RANK_DECIMALS", "RENDERS", "Ranked", "SUMS", "add_entry", "adoption", "board_dir",
    "board_files", "board_of", "board_problems", "build", "columns", "default_root", "disk_parquet", "drift",
    "entry_from", "fmt", "integrity_problems", "interval_note", "label", "load_entries", "load_scores", "lock", "plots",
    "protocol_note", "publish", "published_root", "rank", "ranked", "read_sums", "reading_board", "render_csv", "render_html",
    "render_json", "render_latex", "render_markdown", "renders", "review", "reviewed_of", "seed_from_published", "significance", "table",
    "verify",
]
