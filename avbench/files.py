"""File writing shared by every layer: atomic replacement, so a reader never sees half a file."""
from __future__ import annotations

import os
from pathlib import Path


def atomic_write(path: str | Path, text: str | bytes) -> None:
    """Write ``text`` (str or bytes) to a temporary file beside ``path``, fsync, rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    mode = "wb" if isinstance(text, bytes) else "w"
    with open(tmp, mode) as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
