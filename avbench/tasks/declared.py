"""Tasks as data: one declaration per task, ``specs/<task>.yaml``.

A declaration says everything a task is apart from its data: family, the dataset binding
(``synth`` for the built-in benchmark, ``real`` for a prepared real dataset), the kind of
items (``segments`` of ensembles, ``pairs`` of solo clips, single ``clips``), the
description and protocol text, slots or classes, the inputs a model may read, the
metrics and the metric parameters per scoring protocol (named sets in
``specs/_params.yaml``), and the versions with the protocol and data each one reads.

The registry (:func:`registry`) is every ``specs/*.yaml`` of the package and of the
folders named by ``AVBENCH_TASK_SPECS``, found on disk: a task on an existing dataset is
one new YAML file.  The items come from one builder per
protocol in the binding (:mod:`avbench.tasks.synth`, :mod:`avbench.tasks.real`).

Placeholders: ``$instruments`` in ``slots``/``classes`` stands for the 13 avbench classes
in their order; ``classes: $manifest`` for the classes of the dataset's manifest; text
fields may use ``{title}``, ``{dataset}``, ``{data_version}`` and ``{split}``.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import TaskError

SPECS = Path(__file__).parent / "specs"
_KEYS = {"name", "family", "binding", "dataset", "items", "description", "protocol", "slots", "classes", "inputs",
         "metrics", "main_score", "aggregate", "metric_params", "versions", "gate"}
#: the keys of a task's convergence gate (docs/protocol.md, "The convergence gate")
GATE_KEYS = {"max_silenced", "min_sdri"}


@dataclass(frozen=True)
class VersionDecl:
    protocol: int
    data: str  #: the data configuration (synth) or manifest version (real) it reads
    split: str = "test"
    #: this version's metric list, in place of its protocol's (None: the protocol's)
    metrics: tuple[str, ...] | None = None


@dataclass
class TaskDecl:
    name: str
    family: str
    binding: str
    items: str
    description: str
    protocol: dict[str, str]
    inputs: list[str]
    metrics: dict[int, list[str]]
    main_score: str
    metric_params: dict[int, dict[str, Any]]
    versions: dict[str, VersionDecl]
    dataset: str | None = None
    slots: list[str] = field(default_factory=list)
    classes: list[str] | str = field(default_factory=list)
    aggregate: str = "mean"
    #: the convergence gate of the task's rows: ``max_silenced`` (share of the sounding
    #: sources whose estimate is silent) and ``min_sdri`` (mean SDRi in dB); a non-oracle row
    #: outside it is marked *not converged* (empty: no gate)
    gate: dict[str, float] = field(default_factory=dict)
    path: Path | None = None

    def version(self, version: str) -> VersionDecl:
        try:
            return self.versions[version]
        except KeyError:
            raise TaskError(f"{self.name} has no version {version!r}",
                            fix=f"use one of {', '.join(self.versions)}") from None

    def metric_list(self, version: str) -> list[str]:
        """The metrics ``version`` scores: its own list where it declares one, else its
        protocol's (``frozen.json`` pins it, with the main score)."""
        v = self.version(version)
        return list(v.metrics) if v.metrics is not None else list(self.metrics[v.protocol])

    def check_pin(self, version: str, pin: dict | None) -> None:
        """Refuse a declaration whose metric list or main score differ from what its
        version's pin records: a published version's columns never change in place."""
        if not pin:
            return
        for key, have in (("metrics", self.metric_list(version)), ("main_score", self.main_score)):
            if key in pin and pin[key] != have:
                raise TaskError(f"{self.name}@{version} declares {key} {have!r}, but its pin records {pin[key]!r}",
                                path=self.path,
                                fix="declare a new version for the new list (versions: NEW: {protocol: ..., "
                                    "metrics: [...]}) and pin it; a published version's columns never change")

    def protocol_text(self, version: str, **fmt) -> str:
        v = self.version(version)
        text = self.protocol.get(version, self.protocol.get(str(v.protocol)))
        if text is None:
            raise TaskError(f"{self.name}@{version}: no protocol text declared", path=self.path,
                            fix="add it under protocol: (by version or by protocol number)")
        return text.format(**fmt)

    def spec_fields(self, version: str, classes: list[str] | None = None, **fmt) -> dict[str, Any]:
        """The declared fields of :class:`~avbench.tasks.base.TaskSpec` for ``version``
        (the binding adds the data's: hashes, counts, rates).  ``classes`` replaces
        ``$manifest``."""
        from ..instruments import CLASSES

        v = self.version(version)
        cls = self.classes
        if cls == "$manifest":
            if classes is None:
                raise TaskError(f"{self.name}: classes come from the manifest; the binding must give them")
            cls = list(classes)
        return dict(family=self.family, description=self.description.format(**fmt),
                    protocol=self.protocol_text(version, **fmt), slots=_expand(self.slots, CLASSES),
                    classes=_expand(cls, CLASSES), inputs=list(self.inputs), metrics=self.metric_list(version),
                    main_score=self.main_score, aggregate=self.aggregate,
                    metric_params=dict(self.metric_params[v.protocol]))


def _expand(names: list[str], classes) -> list[str]:
    out = []
    for n in names:
        out.extend(classes if n == "$instruments" else [n])
    return out


@functools.lru_cache(maxsize=None)
def param_sets(path: Path = SPECS / "_params.yaml") -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
        raise TaskError("not a mapping of named parameter sets", path=path, fix="see the file's header")
    return doc


def load(path: Path) -> TaskDecl:
    """One task declaration, checked: unknown or missing keys, versions without a
    protocol, protocol numbers without metrics or parameters are errors naming the file."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise TaskError(f"cannot read the task declaration ({type(e).__name__})", path=path,
                        fix="fix the YAML") from e
    if not isinstance(doc, dict):
        raise TaskError("a task declaration is a mapping", path=path, fix="see avbench/tasks/declared.py")
    unknown = sorted(set(doc) - _KEYS)
    if unknown:
        raise TaskError(f"unknown key(s) {', '.join(unknown)}", path=path, fix=f"use only: {', '.join(sorted(_KEYS))}")
    need = sorted({"name", "family", "binding", "items", "description", "protocol", "inputs", "metrics",
                   "main_score", "metric_params", "versions"} - set(doc))
    if need:
        raise TaskError(f"missing key(s) {', '.join(need)}", path=path, fix="declare them")
    if doc["name"] != path.stem:
        raise TaskError(f"the file declares {doc['name']!r}", path=path, fix=f"name the file {doc['name']}.yaml")
    sets = param_sets()
    versions = {}
    for k, v in doc["versions"].items():
        extra = sorted(set(v) - {"protocol", "data", "split", "metrics"}) if isinstance(v, dict) else ["(not a mapping)"]
        if extra:
            raise TaskError(f"version {k}: unknown key(s) {', '.join(extra)}", path=path,
                            fix="a version declares protocol, data and optionally split and metrics")
        if str(v.get("split", "test")) == "train":
            raise TaskError(f"version {k}: split train is what models train on, not a split to score", path=path,
                            fix="score test (the default) or val")
        ms = v.get("metrics")
        if ms is not None and (not isinstance(ms, list) or not all(isinstance(m, str) for m in ms)):
            raise TaskError(f"version {k}: metrics is a list of metric names", path=path, fix="e.g. metrics: [sdr, sir]")
        versions[str(k)] = VersionDecl(int(v["protocol"]), str(v["data"]), str(v.get("split", "test")),
                                       tuple(ms) if ms is not None else None)
    protocols = {v.protocol for v in versions.values()}
    metrics = {int(k): list(v) for k, v in doc["metrics"].items()}
    params = {}
    for k, v in doc["metric_params"].items():
        if v not in sets:
            raise TaskError(f"metric_params {k}: no parameter set {v!r}", path=path,
                            fix=f"use one of {', '.join(sets)} (specs/_params.yaml)")
        params[int(k)] = dict(sets[v])
    missing = sorted(p for p in protocols if p not in params or (
        p not in metrics and any(v.protocol == p and v.metrics is None for v in versions.values())))
    if missing:
        raise TaskError(f"protocol {missing[0]} has versions but no metrics or metric_params", path=path,
                        fix="declare both for every protocol a version follows")
    gate = doc.get("gate") or {}
    if not isinstance(gate, dict) or set(gate) - GATE_KEYS or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in gate.values()):
        raise TaskError("gate: a mapping of numbers with the keys " + ", ".join(sorted(GATE_KEYS)), path=path,
                        fix="e.g. gate: {max_silenced: 0.05, min_sdri: 0.0}")
    return TaskDecl(name=doc["name"], family=doc["family"], binding=doc["binding"], items=doc["items"],
                    description=doc["description"], protocol={str(k): str(v) for k, v in doc["protocol"].items()},
                    inputs=list(doc["inputs"]), metrics=metrics, main_score=doc["main_score"], metric_params=params,
                    versions=versions, dataset=doc.get("dataset"), slots=list(doc.get("slots", [])),
                    classes=doc.get("classes", []), aggregate=doc.get("aggregate", "mean"),
                    gate={k: float(v) for k, v in gate.items()}, path=path)


def registry() -> dict[str, TaskDecl]:
    """Every declared task by name: the package's ``specs/*.yaml``, then those of the
    folders in ``AVBENCH_TASK_SPECS`` (``os.pathsep``-separated; your own tasks on the
    datasets avbench binds), in file-name order.  A name declared twice is an error."""
    return _registry(os.environ.get("AVBENCH_TASK_SPECS", ""))


@functools.lru_cache(maxsize=8)
def _registry(extra: str) -> dict[str, TaskDecl]:
    out: dict[str, TaskDecl] = {}
    for folder in [SPECS] + [Path(x) for x in extra.split(os.pathsep) if x]:
        for p in sorted(Path(folder).glob("*.yaml")):
            if p.name.startswith("_"):
                continue
            d = load(p)
            if d.binding not in ("synth", "real"):
                raise TaskError(f"binding {d.binding!r} is not one avbench has", path=p,
                                fix="use synth (the built-in benchmark) or real (a prepared real dataset)")
            if d.name in out:
                raise TaskError(f"task {d.name!r} is declared twice (also {out[d.name].path})", path=p,
                                fix="rename one of them")
            out[d.name] = d
    return out


def declared(name: str) -> TaskDecl:
    try:
        return registry()[name]
    except KeyError:
        raise TaskError(f"unknown task {name!r}", fix=f"use one of: {', '.join(registry())}") from None


def find(family: str | None = None, dataset: str | None = None, binding: str | None = None,
         version: str | None = None) -> list[tuple[str, str]]:
    """``(task, version)`` pairs matching every given field (the dataset a real task reads,
    e.g. ``find("classification", dataset="fcvid")``)."""
    return [(d.name, v) for d in registry().values() for v in d.versions
            if (family is None or d.family == family) and (dataset is None or d.dataset == dataset)
            and (binding is None or d.binding == binding) and (version is None or v == version)]
