"""Task registry.

Every task is declared in ``specs/<name>.yaml`` (:mod:`avbench.tasks.declared`) and bound
to its data by the binding the declaration names (:data:`BINDINGS`).  A task is addressed as ``NAME@VERSION`` (the real-data tasks of :mod:`avbench.tasks.real`
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

from ..errors import AvbenchError, TaskError
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


def did_you_mean(word: str, choices) -> str:
    """`` (did you mean X?)`` for the closest of ``choices`` to a mistyped ``word``, or ``""``."""
    import difflib

    choices = list(choices)
    low = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(low), n=1, cutoff=0.6)
    return f" (did you mean {low[close[0]]}?)" if close else ""


def resolve(key: str, version: str | None = None) -> tuple[str, str]:
    """``NAME@VERSION`` (or ``key``, ``version``) -> ``(name, version)`` of a declared task
    version.  The one place every command resolves a task: a missing version, an unknown
    task and an unknown version are each refused with a did-you-mean and the versions
    (newest protocol first, with whether their data is here)."""
    from .declared import registry

    name, version = parse_key(key) if version is None else (key, version)
    reg = registry()
    if name not in reg:
        raise TaskError(f"unknown task {name[:80]!r}{did_you_mean(name, reg)}",
                        fix=f"use one of: {', '.join(sorted(reg))} (avbench tasks lists them)")
    if version not in reg[name].versions:
        rate = version.rsplit("-", 1)[-1]
        hint = (f"data generated at {rate} Hz is for your own use; the tasks read the 11025 Hz data: "
                if reg[name].binding == "synth" and rate.isdigit() and len(rate) >= 4 else "")
        raise TaskError(f"{name} has no version {version[:40]!r}{did_you_mean(version, reg[name].versions)}",
                        fix=f"{hint}{name} has {version_choices(name)}")
    return name, version


def version_choices(name: str) -> str:
    """The versions of a task, newest protocol first, each with its protocol and whether its
    data is here, e.g. ``2-mini (protocol 2, data here), 2 (protocol 2, data not generated)``."""
    from .declared import registry

    d = registry().get(name)
    if d is None:
        known = ", ".join(sorted({n for n, _ in available()}))
        return f"no versions: it is not a task (tasks: {known})"
    if d.binding == "synth":
        from ..data import synth as se

        out = []
        for v, vd in sorted(d.versions.items(), key=lambda kv: (-kv[1].protocol, kv[0].endswith("mini") is False,
                                                                kv[0])):
            try:
                se.locate(vd.data)
                state = "data here"
            except (AvbenchError, OSError, ValueError):  # not generated (or unreadable): say so
                state = "data not generated"
            out.append(f"{v} (protocol {vd.protocol}, {state})")
        return "versions " + ", ".join(out)
    vs = sorted(d.versions.items(), key=lambda kv: (kv[1].protocol < 2, kv[0]))
    return "versions " + ", ".join(f"{v} (protocol {vd.protocol})" for v, vd in vs)


def available() -> list[tuple[str, str]]:
    """Every declared ``(task, version)``: the built-in tasks first."""
    from .declared import registry

    decls = sorted(registry().values(), key=lambda d: (d.binding != "synth", d.name))
    return [(d.name, v) for d in decls for v in d.versions]


def _bindings() -> dict:
    """How a declaration's ``binding`` is bound to its data."""
    from .real import RealTask
    from .synth import SynthTask

    return {"synth": SynthTask, "real": RealTask}


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
    from .declared import declared

    name, version = resolve(name, version)
    from ..config import home

    ck = (name, version, str(root), str(home()))
    if ck in _CACHE:
        return _CACHE[ck]
    decl = declared(name)
    if check_frozen:
        decl.check_pin(version, frozen().get(f"{name}@{version}"))
    task = _bindings()[decl.binding](name, version, root)
    pin = frozen().get(task.spec.key) if check_frozen else None
    if pin and decl.binding == "real" and pin["manifest_sha256"] != task.spec.manifest_sha256:
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
