"""Entry names of the baselines' leaderboard rows: ``<name>[.<config>][.s<seed>]``.

The committed reference rows are trained with :data:`DEFAULT_CONFIG` and carry no config
name (``unet``, ``unet.s1``, ``unet.s2``); rows of another config are entries of their own
(``unet.paper``, ``unet.paper.s1``), so they never replace the reference rows.  Imports
nothing heavy, so that the scripts can ask it for a name::

    python -m baselines.names NAME SEED [CONFIG]      # prints the entry name
"""
from __future__ import annotations

import functools
import os
import re
import sys
from typing import Callable

SEEDS = (0, 1, 2)  #: the training seeds of the committed rows
DEFAULT_CONFIG = "cpu"  #: the config of the committed reference rows, whose entries carry no config name
OTHER_CONFIGS = ("paper",)  #: configs whose rows are entries of their own, named ``<name>.<config>``


def seed_entry(name: str, seed: int, config: str | None = None) -> str:
    """The entry name of a baseline trained with ``seed`` (and ``config``): ``unet`` (seed 0,
    the default config), ``unet.s1``, ``unet.paper``, ``unet.paper.s2``.  A config other than
    the default is part of the name, so its rows never replace the reference rows."""
    base = name if config in (None, DEFAULT_CONFIG) else f"{name}.{config}"
    return base if seed == 0 else f"{base}.s{seed}"


def parse_entry(entry: str) -> tuple[str, str | None, int]:
    """``unet.paper.s1`` -> ``("unet", "paper", 1)``; ``unet.s2`` -> ``("unet", None, 2)``;
    ``unet`` -> ``("unet", None, 0)``."""
    m = re.fullmatch(r"([^.]+)(?:\.(?!s\d+(?:$|\.))([a-z][a-z0-9_-]*))?(?:\.s(\d+))?", entry)
    if m is None:
        raise ValueError(f"{entry!r} is not a baseline entry name: <name>[.<config>][.s<seed>]")
    return m[1], m[2], int(m[3] or 0)


def entry_config(entry: str, env: str, config: str | None = None) -> tuple[str, str, int]:
    """``(name, config, seed)`` of an entry.  The config is the one its name carries; for a
    name that carries none, ``config`` when given, else the environment variable ``env``,
    else :data:`DEFAULT_CONFIG`.  A ``config`` that contradicts the name is an error."""
    name, named, seed = parse_entry(entry)
    if named is not None and config is not None and config != named:
        raise ValueError(f"entry {entry!r} names config {named!r}, not {config!r}")
    return name, named or config or os.environ.get(env) or DEFAULT_CONFIG, seed


def entries_of(names, run: Callable) -> dict[str, Callable]:
    """A baseline package's ``BASELINES``: ``run(entry, task, out, progress)`` for every name,
    seed of :data:`SEEDS` and config (the default one and :data:`OTHER_CONFIGS`)."""
    return {e: functools.partial(run, e)
            for n in names for c in (None, *OTHER_CONFIGS) for e in (seed_entry(n, k, c) for k in SEEDS)}


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (2, 3) or not args[1].isdigit():
        print("usage: python -m baselines.names NAME SEED [CONFIG]", file=sys.stderr)
        return 2
    print(seed_entry(args[0], int(args[1]), args[2] if len(args) == 3 else None))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
