"""Task registry.

A task is addressed as ``NAME@VERSION`` (the real-data tasks of :mod:`avbench.tasks.real`
name their protocol versions, e.g. ``urmp-separation@thesis-2``); a missing version is
refused with the list of versions, never guessed.  The item
lists of the built-in tasks are derived deterministically from the generated data and
pinned by their sha256 in ``frozen.json``: data that would give other items is refused,
so a task version always means the same evaluation items.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

from ..errors import TaskError
from .base import Clip, Item, Task, TaskSpec  # noqa: F401

_FROZEN = Path(__file__).parent / "frozen.json"
_CACHE: dict[tuple[str, str, str], Task] = {}


def parse_key(key: str) -> tuple[str, str]:
    """``NAME@VERSION`` -> ``(NAME, VERSION)``.  A missing version is refused, never guessed:
    the error lists the versions and which of them have their data here."""
    name, _, version = key.partition("@")
    if not version:
        raise TaskError(f"task {name!r} needs a version: NAME@VERSION",
                        fix=f"{name} has {version_choices(name)}")
    return name, version


def version_choices(name: str) -> str:
    """The versions of a task, newest protocol first, each with its protocol and whether its
    data is here, e.g. ``2-mini (protocol 2, data here), 2 (protocol 2, data not generated)``."""
    from . import real, synth

    if name in synth.NAMES:
        from ..data import synth_ensembles as se

        out = []
        for v in sorted(synth.VERSIONS, key=lambda v: (-synth.protocol_of(v), v.endswith("mini") is False, v)):
            try:
                se.locate(synth.VERSIONS[v])
                state = "data here"
            except Exception:  # noqa: BLE001 - not generated (or unreadable): say so
                state = "data not generated"
            out.append(f"{v} (protocol {synth.protocol_of(v)}, {state})")
        return "versions " + ", ".join(out)
    if name in real.TASKS:
        vs = sorted(real.TASKS[name][2], key=lambda v: (v not in real.PROTOCOL2, v))
        return "versions " + ", ".join(f"{v} (protocol {2 if v in real.PROTOCOL2 else 1})" for v in vs)
    known = ", ".join(sorted({n for n, _ in available()}))
    return f"no versions: it is not a task (tasks: {known})"


def available() -> list[tuple[str, str]]:
    from . import real, synth

    return [(n, v) for n in synth.NAMES for v in synth.VERSIONS] + real.available()


def frozen() -> dict:
    """The pinned item and manifest hashes of every task version (``frozen.json``, shipped
    in the package).  Missing or unreadable is an error, never an empty set of pins."""
    try:
        pins = json.loads(_FROZEN.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise TaskError(f"the task pins cannot be read ({type(e).__name__}: {e})", path=_FROZEN,
                        fix="reinstall avbench; frozen.json is part of the package") from e
    if not isinstance(pins, dict) or not pins:
        raise TaskError("the task pins are empty or not a mapping", path=_FROZEN,
                        fix="reinstall avbench; frozen.json is part of the package")
    return pins


def get_task(name: str, version: str | None = None, root: str | Path | None = None, check_frozen: bool = True) -> Task:
    """The task ``name`` at ``version``, bound to its data."""
    from . import real, synth

    if version is None:
        name, version = parse_key(name)
    from ..config import home

    ck = (name, version, str(root), str(home()))
    if ck in _CACHE:
        return _CACHE[ck]
    if name in synth.NAMES:
        task = synth.SynthTask(name, version, root)
    elif name in real.NAMES:
        task = real.RealTask(name, version, root)
    else:
        known = ", ".join(sorted({n for n, _ in available()}))
        raise TaskError(f"unknown task {name!r}", fix=f"use one of: {known}")
    pin = frozen().get(task.spec.key) if check_frozen else None
    if pin and name in real.NAMES and pin["manifest_sha256"] != task.spec.manifest_sha256:
        # items of a real-data task come from its manifest: another manifest (a derived or
        # test copy) gives other items by design; boards pinned to the shipped ones refuse them
        warnings.warn(f"{task.spec.key}: not the shipped manifest (sha256 {task.spec.manifest_sha256[:12]} != "
                      f"{pin['manifest_sha256'][:12]}); its results cannot enter the pinned boards", stacklevel=2)
        pin = None
    if pin:
        if pin["items_sha256"] != task.spec.items_sha256:
            raise TaskError(
                f"the generated data gives other evaluation items than {task.spec.key} pins "
                f"(items sha256 {task.spec.items_sha256[:12]} != {pin['items_sha256'][:12]})",
                path=getattr(task, "root", None),
                fix="regenerate the data with the pinned library versions (scripts/install.sh) "
                    "and `avbench data generate ... --force`")
        if pin["manifest_sha256"] != task.spec.manifest_sha256:
            warnings.warn(f"{task.spec.key}: the generated audio differs in its bytes from the reference build "
                          f"(manifest sha256 {task.spec.manifest_sha256[:12]} != {pin['manifest_sha256'][:12]}); "
                          "results record the manifest hash", stacklevel=2)
    _CACHE[ck] = task
    return task
