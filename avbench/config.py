"""Locations: the cache directory ``AVBENCH_HOME`` (default ``~/.cache/avbench``)."""
from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """Root of everything avbench generates (data, task items, demo output)."""
    p = os.environ.get("AVBENCH_HOME")
    root = Path(p).expanduser() if p else Path.home() / ".cache" / "avbench"
    return root


def data_dir(dataset: str, version: str) -> Path:
    return home() / "data" / dataset / version


def repo_root() -> Path | None:
    """The source checkout avbench runs from, when it is one (for git provenance)."""
    here = Path(__file__).resolve().parent.parent
    return here if (here / ".git").exists() else None
