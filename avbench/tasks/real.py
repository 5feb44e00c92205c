"""Tasks on the real datasets: the counterparts of the built-in tasks.

* ``urmp-separation@thesis`` — the seed thesis' URMP protocol (40 pieces, same-instrument
  tracks merged, 11025 Hz, non-overlapping 65535-sample segments, 13 slots), scored like
  ``synth-ensembles-separation``.  ``urmp-separation@1``: the same on the test pieces of
  the grouped split.
* ``music-mix2@object-prior`` — the Object-Prior protocol: fixed pairs of test solos of
  different instruments, the central 65535 samples (≈ 6 s at 11025 Hz) of each, mixed by
  exact sum; SDR/SIR/SAR.
* ``solos-classification@1`` — 13 classes, one item per test stretch.
* ``fcvid-classification@icmr2017`` (12 classes), ``yt8m-classification@icmr2017``
  (13 classes) — one item per test video, Hit@k and F1.

Classification items come straight from the frozen manifests (scoring needs no media).
Protocol-1 separation items are segments of the prepared audio (``avbench data
prepare``): their list depends on the recordings' lengths and is recorded by its sha256
in every result.

Protocol 2 (``docs/protocol.md``) ships as versions ``urmp-separation@2`` and
``@thesis-2``, ``music-mix2@object-prior-2``, ``solos-classification@2``,
``fcvid-classification@icmr2017-2`` and ``yt8m-classification@icmr2017-2``, reading
the data of the version they name.  Ids are opaque.  A separation version's items are a
pinned list shipped in ``pins/<task>@<version>.json`` (recording, start, end, sources,
made once from a complete copy by :func:`pin_items`, the release step
``python -m avbench.tasks.real pin``): a local copy that cannot produce every pinned
item is refused, naming the items, and a version with no pinned list yet cannot be
scored.
"""
from __future__ import annotations

import functools
import json
import hashlib
from pathlib import Path

import numpy as np

from .. import audio as au
from ..data import real
from ..errors import DataError, TaskError
from ..instruments import CLASSES
from .base import Clip, Item, Task, TaskSpec, items_sha256, mixture_of
from .declared import declared, find, registry

SEG = 65535
SR = 11025
MIX2_SEED = 1234

#: the tasks on real datasets (declared in ``specs/``, binding ``real``)
NAMES = tuple(n for n, d in registry().items() if d.binding == "real")
PINS = Path(__file__).parent / "pins"


def data_version(name: str, version: str) -> str:
    """The manifest version a task version reads."""
    return declared(name).version(version).data


def pin_path(name: str, version: str, pins: Path | None = None) -> Path:
    return Path(pins or PINS) / f"{name}@{version}.json"


def available() -> list[tuple[str, str]]:
    return [(n, v) for n, d in registry().items() if d.binding == "real" for v in d.versions]


class RealTask(Task):
    """A task on a prepared real dataset (``specs/<name>.yaml`` declares it)."""

    def __init__(self, name: str, version: str, root: str | Path | None = None):
        self.decl = declared(name)
        if self.decl.binding != "real":
            raise TaskError(f"{name} is not a task on a real dataset")
        vd = self.decl.version(version)
        self.dataset, family = self.decl.dataset, self.decl.family
        self.name, self.version, self.family = name, version, family
        self.protocol = vd.protocol
        self.data_version = vd.data
        self.split = vd.split
        self.rows = {r.id: r for r in real.rows(self.dataset, self.data_version, self.split)}
        self._root = Path(root) if root is not None else None
        self._prep: dict | None = None
        if family == "separation":
            self.prep  # separation items need the prepared audio  # noqa: B018
        self.items = self._build_items()
        self._by_id = {i.id: i for i in self.items}
        self.spec = self._spec()

    # -- prepared data ---------------------------------------------------------------------
    @property
    def prep(self) -> dict:
        """The prepared copy, with every item of the task's split in it."""
        p = self._prepared()
        missing = [i for i in self.rows if i not in p["items"]]
        if missing:
            raise TaskError(f"{len(missing)} {self.split} item(s) of {self.dataset}@{self.data_version} are not prepared, "
                            f"e.g. {missing[0]}", fix=f"run `avbench data prepare {self.dataset} --root YOUR_COPY "
                                                      f"--version {self.data_version} --split {self.split}`")
        return p

    def _prepared(self) -> dict:
        """The prepared copy (any splits), at the tasks' rate."""
        if self._prep is None:
            try:
                self._prep = real.read_prepared(self.dataset, self.data_version, self._root)
            except DataError as e:  # not prepared, or its record unreadable; a programming error propagates
                raise TaskError(f"{self.name}@{self.version} needs the {self.dataset} data prepared ({e.message})",
                                path=getattr(e, "path", None),
                                fix=f"run `avbench data prepare {self.dataset} --root YOUR_COPY --version {self.data_version}`") from e
            s = self._prep["settings"]
            if s["sample_rate"] != SR:
                rate = s["sample_rate"]
                self._prep = None
                raise TaskError(f"{self.dataset}@{self.data_version} was prepared at {rate} Hz; tasks read {SR} Hz",
                                fix=f"re-run `avbench data prepare {self.dataset} ... --sample-rate {SR}`")
        return self._prep

    @property
    def root(self) -> Path:
        return self._root if self._root is not None else real.prepared_dir(self.dataset, self.data_version)

    # -- items -----------------------------------------------------------------------------
    def _build_items(self) -> list[Item]:
        from .synth import opaque_ids

        from .synth import _PREFIX

        if self.protocol == 1:  # one builder per protocol; the declared kind of item picks the candidates
            return getattr(self, f"_{self.decl.items}")()
        # protocol 2: a separation version reads its pinned list (checked against this copy)
        items = self._clips() if self.family == "classification" else self._pinned_items()
        return sorted(opaque_ids(items, _PREFIX[self.decl.items]), key=lambda i: i.id)

    def _pinned_items(self) -> list[Item]:
        """The pinned items of a protocol-2 separation version, each checked against the
        prepared copy (every recording there and long enough)."""
        import json

        p = pin_path(self.name, self.version)
        if not p.exists():
            raise TaskError(f"{self.name}@{self.version} has no pinned item list yet", path=p,
                            fix=f"release step, on a complete copy: `python -m avbench.tasks.real pin {self.name}@"
                                f"{self.version}` after `avbench data prepare {self.dataset} --version {self.data_version}`; "
                                f"until then use {self.name}@{self.data_version}")
        doc = json.loads(p.read_text())
        if doc.get("manifest_sha256") != real.manifest_sha256(self.dataset, self.data_version):
            raise TaskError(f"the pinned items of {self.name}@{self.version} were made from another manifest", path=p,
                            fix="pin again from the current manifest (a new task version)")
        pinned = [Item.model_validate(x) for x in doc["items"]]
        bad = []
        for it in pinned:
            for c in it.clips:
                rec = self.prep["items"].get(c.recording)
                if rec is None or rec["n_samples"] < c.end:
                    bad.append(f"{c.recording}[{c.start}:{c.end}]")
        if bad:
            raise TaskError(f"the local copy cannot produce {len(bad)} pinned item(s) of {self.name}@{self.version}: "
                            + ", ".join(bad[:10]) + (" ..." if len(bad) > 10 else ""), path=self.root,
                            fix=f"restore the full recordings and re-run `avbench data prepare {self.dataset} "
                                f"--version {self.data_version}`; a shortened copy would score other items")
        return pinned

    def _clips(self) -> list[Item]:
        """One item per row of the split's manifest (the whole recording)."""
        return [Item(id=r.id, clips=[Clip(recording=r.id, start=0, end=0, instrument=r.labels[0])],
                     label=r.labels[0], n_sources=1, group=r.group) for r in sorted(self.rows.values(), key=lambda r: r.id)]

    def _segments(self) -> list[Item]:
        """Every recording of the split cut into non-overlapping segments."""
        items = []
        for r in sorted(self.rows.values(), key=lambda r: r.id):
            n = self.prep["items"][r.id]["n_samples"]
            for k, (s, e) in enumerate(au.segments(n, SEG)):
                items.append(Item(id=f"{r.id}/{k:02d}", clips=[Clip(recording=r.id, start=s, end=e)],
                                  sources=list(r.labels), n_sources=len(r.labels), group=r.group))
        return items

    def _pairs(self) -> list[Item]:
        """Fixed pairs of test solos of different instruments (seeded), central clips."""
        from .declared import _expand

        slots = _expand(self.decl.slots, CLASSES)  # the pair in slot order
        vids = sorted(self.rows.values(), key=lambda r: r.id)
        rng = np.random.default_rng(MIX2_SEED)
        order = list(rng.permutation(len(vids)))
        used, items = set(), []
        for pos, a in enumerate(order):
            if a in used:
                continue
            for b in order[pos + 1:]:
                if b in used or vids[b].labels[0] == vids[a].labels[0]:
                    continue
                used.update((a, b))
                clips = []
                for r in (vids[a], vids[b]):
                    n = self.prep["items"][r.id]["n_samples"]
                    if n < SEG:
                        raise TaskError(f"{r.id} has {n} samples, fewer than one {SEG}-sample clip",
                                        fix="check the file; the protocol needs 6 s of audio")
                    s = (n - SEG) // 2
                    clips.append(Clip(recording=r.id, start=s, end=s + SEG, instrument=r.labels[0]))
                clips.sort(key=lambda c: slots.index(c.instrument))
                pid = hashlib.sha256("|".join(f"{c.recording}:{c.start}" for c in clips).encode()).hexdigest()[:12]
                items.append(Item(id=f"pair-{len(items):04d}-{pid}", clips=clips, sources=[c.instrument for c in clips],
                                  n_sources=2, group=f"{clips[0].recording}|{clips[1].recording}"))
                break
        return items

    def _classes(self) -> list[str]:
        if self.dataset == "solos":
            return list(CLASSES)
        ix = real.mf.index(self.dataset, self.data_version)
        from ..instruments import canonical

        return [canonical(c) for c in ix["classes"]]

    def _spec(self) -> TaskSpec:
        fields = self.decl.spec_fields(
            self.version, classes=self._classes() if self.family == "classification" else None,
            title=real.info(self.dataset).title, dataset=self.dataset, data_version=self.data_version, split=self.split)
        return TaskSpec(name=self.name, version=self.version, dataset=self.dataset, dataset_version=self.data_version,
                        manifest_sha256=real.manifest_sha256(self.dataset, self.data_version),
                        items_sha256=items_sha256(self.items), n_items=len(self.items), sample_rate=SR,
                        segment_samples=SEG, **fields)

    # -- data ------------------------------------------------------------------------------
    def item(self, item_id: str) -> Item:
        try:
            return self._by_id[item_id]
        except KeyError:
            raise TaskError(f"{self.spec.key} has no item {str(item_id)[:80]!r}",
                            fix=f"use the ids of task.ids ({len(self.items)} items)") from None

    @functools.lru_cache(maxsize=64)
    def _wav(self, rel: str) -> np.ndarray:
        return au.read_audio(self.root / rel)[0]

    def reference(self, item: Item) -> np.ndarray:
        """References of every slot (zeros for absent instruments).  Shape: ``(n_slots, n_samples)``."""
        slots = self.spec.slots
        n = item.clips[0].end - item.clips[0].start
        out = np.zeros((len(slots), n), dtype=np.float32)
        for c in item.clips:
            rec = self.prep["items"][c.recording]
            if "stems" in rec:
                for inst in item.sources:
                    out[slots.index(inst)] = self._wav(rec["stems"][inst])[c.start:c.end]
            else:
                out[slots.index(c.instrument)] = self._wav(rec["audio"])[c.start:c.end]
        return out

    def mixture(self, item: Item) -> np.ndarray:
        """Separation: the exact float32 sum of the references in slot order.  Classification:
        the prepared audio of the item.  Shape: ``(n_samples,)``."""
        self._offers(item, "mixture", "audio")
        if self.family == "classification":
            return self._wav(self.prep["items"][item.clips[0].recording]["audio"])
        return mixture_of(self.reference(item))

    def frames(self, item: Item, fps: float = 8.0, size: int = 224):
        """Prepared frames of the item's recordings ``(n_frames, size, size, 3)``.  Protocol
        2: a list, one per video in the item's order (URMP: the one ensemble video; mix2:
        the two solo videos in a seeded order).  Protocol 1: keyed by instrument (URMP: the
        ensemble video under every instrument present)."""
        from ..video import read_frames

        self._offers(item, "frames")
        if self.protocol >= 2:
            vids = []
            for c in item.clips:
                rec = self.prep["items"][c.recording]
                if "frames" in rec:
                    t0 = c.start / SR if self.family == "separation" else 0.0
                    t1 = c.end / SR if self.family == "separation" else None
                    vids.append(read_frames(self.root / rec["frames"], self.prep["settings"]["fps"], size, t0, t1))
            return vids
        out = {}
        for c in item.clips:
            rec = self.prep["items"][c.recording]
            if "frames" not in rec:
                continue
            t0 = c.start / SR if self.family == "separation" else 0.0
            t1 = c.end / SR if self.family == "separation" else None
            fr = read_frames(self.root / rec["frames"], self.prep["settings"]["fps"], size, t0, t1)
            for inst in ([c.instrument] if c.instrument else item.sources):
                out[inst] = fr
        return out

    def _not_evaluated(self, recording: str) -> None:
        if recording in self.rows:  # the rows of the task's own (evaluation) split
            self._training_split(self.split)

    def train_clips(self, split: str) -> list[Clip]:
        """One clip per item of the split (the whole recording, ``end == 0``), each with its
        label as instrument; every one must be prepared."""
        if self.family != "classification":
            self._no_training("training clips (a separation task on real data)")
        rows = real.rows(self.dataset, self.data_version, self._training_split(split))
        missing = [r.id for r in rows if r.id not in self._prepared()["items"]]
        if missing:
            raise TaskError(f"{len(missing)} {split} item(s) of {self.dataset}@{self.data_version} are not prepared, "
                            f"e.g. {missing[0]}", fix=f"run `avbench data prepare {self.dataset} --root YOUR_COPY "
                                                      f"--version {self.data_version} --split {split}`")
        return [Clip(recording=r.id, start=0, end=0, instrument=r.labels[0]) for r in rows]

    def clip_audio(self, clip: Clip) -> np.ndarray:
        """The prepared audio of a training clip (the whole recording when ``end == 0``)."""
        self._not_evaluated(clip.recording)
        x = self._wav(self._prepared()["items"][clip.recording]["audio"])
        return x if clip.end == 0 else x[clip.start:clip.end]

    def clip_frames(self, clip: Clip, fps: float = 8.0, size: int = 224) -> np.ndarray:
        """The prepared frames of a clip's video (none: shape ``(0, size, size, 3)``), at the
        prepared rate."""
        from ..video import read_frames

        self._not_evaluated(clip.recording)
        p = self._prepared()
        rec = p["items"][clip.recording]
        if "frames" not in rec:
            return np.zeros((0, size, size, 3), np.uint8)
        t0, t1 = clip.start / SR, (clip.end / SR if clip.end else None)
        return read_frames(self.root / rec["frames"], p["settings"]["fps"], size, t0, t1)

    def train_labels(self) -> list[str]:
        """The label of every item of the training split (for priors)."""
        return [r.labels[0] for r in real.rows(self.dataset, self.data_version, self._training_split("train"))]

    def labels(self, item: Item) -> list[str]:
        """The instruments present, in slot order (separation only)."""
        self._offers(item, "labels")
        return sorted(item.sources, key=self.spec.slots.index)


def pin_items(name: str, version: str, root: str | Path | None = None, pins: Path | None = None) -> Path:
    """Make the pinned item list of a protocol-2 separation version from a complete
    prepared copy: the protocol-1 candidates (segments, or central-clip pairs) in which
    two sources or more sound (RMS of -60 dB in 25% of the 1024-sample frames).  Writes
    ``pins/<name>@<version>.json``; the release step after a new manifest version."""
    import json

    from .synth import MIN_ACTIVE, MIN_SOURCES, active_fraction

    d = declared(name)
    if d.binding != "real" or d.family != "separation" or d.version(version).protocol < 2:
        raise TaskError(f"{name}@{version} is not a protocol-2 separation version", fix="pin e.g. urmp-separation@2")
    data = d.version(version).data
    base = RealTask(name, next(v for v, vd in d.versions.items() if vd.protocol == 1 and vd.data == data), root)
    keep = []
    rng = np.random.default_rng(MIX2_SEED + 1)
    for it in base.items:
        ref = base.reference(it)
        if sum(active_fraction(r) >= MIN_ACTIVE for r in ref if r.any()) >= MIN_SOURCES:
            if len(it.clips) > 1:  # the videos in a seeded order: a position says nothing of the class
                clips = [it.clips[j] for j in rng.permutation(len(it.clips))]
                it = it.model_copy(update={"clips": clips, "sources": [c.instrument for c in clips]})
            keep.append(it.model_dump())
    out = pin_path(name, version, pins)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {"task": f"{name}@{version}", "from": f"{name}@{base.version}", "manifest_sha256": base.spec.manifest_sha256,
           "n_candidates": len(base.items), "items": keep}
    out.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return out


if __name__ == "__main__":  # python -m avbench.tasks.real pin NAME@VERSION [--root PREPARED]
    import argparse

    ap = argparse.ArgumentParser(prog="python -m avbench.tasks.real")
    ap.add_argument("command", choices=["pin"])
    ap.add_argument("task")
    ap.add_argument("--root", default=None, help="the prepared copy (default: under AVBENCH_HOME)")
    a = ap.parse_args()
    n, _, v = a.task.partition("@")
    print(pin_items(n, v, a.root))


def verify_copy(name: str, root: str | Path, version: str | None = None,
                splits: list[str] | None = None) -> list["real.FileProblem"]:
    """Every missing or unusable file of a local copy of dataset ``name``
    (:func:`avbench.data.real.verify`), and every recording too short for the pinned items
    of a task version that reads it (:func:`pinned_problems`), sorted by path."""
    version = version or real.info(name).default_version
    problems = {p.path: p for p in real.verify(name, root, version, splits)}
    for prob in pinned_problems(name, root, version):
        problems.setdefault(prob.path, prob)
    return sorted(problems.values(), key=lambda p: p.path)


def pinned_problems(name: str, root: str | Path, version: str) -> list["real.FileProblem"]:
    """The recordings of a local copy too short for the pinned items of a protocol-2 task
    version that reads this data (``avbench/tasks/pins/``): each named with the pinned
    items it cannot produce."""
    root = Path(root)
    out: dict[str, real.FileProblem] = {}
    by_id = {r.id: r for r in real.rows(name, version)}
    for task, v in find("separation", dataset=name, binding="real"):
        vd = declared(task).version(v)
        pin = pin_path(task, v)
        if vd.data != version or vd.protocol < 2 or not pin.exists():
            continue
        need: dict[str, int] = {}
        for it in json.loads(pin.read_text())["items"]:
            for c in it["clips"]:
                need[c["recording"]] = max(need.get(c["recording"], 0), c["end"])
        for rec, end in sorted(need.items()):
            r = by_id.get(rec)
            found, _ = real.resolve(r, root) if r is not None else ({}, [])
            sound = found.get("mix") or found.get("audio") or found.get("video")
            if sound is None:
                continue  # reported as missing above
            try:
                n = len(au.decode(sound, SR, r.start, r.end)[0])
            except Exception:  # noqa: BLE001 - reported as corrupt above
                continue
            if n < end:
                rel = str(Path(sound).relative_to(root))
                out.setdefault(rel, real.FileProblem(rel, f"too short for the pinned items of {task}@{v} "
                                                     f"({n} of {end} samples at {SR} Hz)")).items.append(rec)
    return list(out.values())
