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
import hashlib
from pathlib import Path

import numpy as np

from .. import audio as au
from ..data import real
from ..errors import TaskError
from ..instruments import CLASSES
from .base import Clip, Item, Task, TaskSpec, items_sha256
from .synth import ENSEMBLE_METRICS, ENSEMBLE_PARAMS

SEG = 65535
SR = 11025
MIX2_SEED = 1234

#: task name -> (dataset, family, {version: split})
TASKS: dict[str, tuple[str, str, dict[str, str]]] = {
    "urmp-separation": ("urmp", "separation", {"1": "test", "thesis": "test", "2": "test", "thesis-2": "test"}),
    "music-mix2": ("music", "separation", {"object-prior": "test", "object-prior-2": "test"}),
    "solos-classification": ("solos", "classification", {"1": "test", "2": "test"}),
    "fcvid-classification": ("fcvid", "classification", {"icmr2017": "test", "icmr2017-2": "test"}),
    "yt8m-classification": ("yt8m", "classification", {"icmr2017": "test", "icmr2017-2": "test"}),
}
NAMES = tuple(TASKS)
#: protocol-2 task versions -> the data (manifest) version they read
PROTOCOL2 = {"2": "1", "thesis-2": "thesis", "object-prior-2": "object-prior", "icmr2017-2": "icmr2017"}
PINS = Path(__file__).parent / "pins"


def data_version(version: str) -> str:
    return PROTOCOL2.get(version, version)


def pin_path(name: str, version: str, pins: Path | None = None) -> Path:
    return Path(pins or PINS) / f"{name}@{version}.json"


def available() -> list[tuple[str, str]]:
    return [(n, v) for n, (_, _, vs) in TASKS.items() for v in vs]


class RealTask(Task):
    def __init__(self, name: str, version: str, root: str | Path | None = None):
        if name not in TASKS:
            raise TaskError(f"unknown task {name!r}")
        self.dataset, family, versions = TASKS[name]
        if version not in versions:
            raise TaskError(f"{name} has no version {version!r}", fix=f"use one of {', '.join(versions)}")
        self.name, self.version, self.family = name, version, family
        self.protocol = 2 if version in PROTOCOL2 else 1
        self.data_version = data_version(version)
        self.split = versions[version]
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
        if self._prep is None:
            try:
                self._prep = real.read_prepared(self.dataset, self.data_version, self._root)
            except Exception as e:
                raise TaskError(f"{self.name}@{self.version} needs the {self.dataset} data prepared",
                                path=getattr(e, "path", None),
                                fix=f"run `avbench data prepare {self.dataset} --root YOUR_COPY --version {self.data_version}`") from e
            s = self._prep["settings"]
            if s["sample_rate"] != SR:
                raise TaskError(f"{self.dataset}@{self.data_version} was prepared at {s['sample_rate']} Hz; tasks read {SR} Hz",
                                fix=f"re-run `avbench data prepare {self.dataset} ... --sample-rate {SR}`")
            missing = [i for i in self.rows if i not in self._prep["items"]]
            if missing:
                raise TaskError(f"{len(missing)} {self.split} item(s) of {self.dataset}@{self.data_version} are not prepared, "
                                f"e.g. {missing[0]}", fix=f"run `avbench data prepare {self.dataset} --root YOUR_COPY "
                                                          f"--version {self.data_version} --split {self.split}`")
        return self._prep

    @property
    def root(self) -> Path:
        return self._root if self._root is not None else real.prepared_dir(self.dataset, self.data_version)

    # -- items -----------------------------------------------------------------------------
    def _build_items(self) -> list[Item]:
        from .synth import opaque_ids

        if self.protocol == 1:
            return self._build_items_1()
        if self.family == "classification":
            return sorted(opaque_ids(self._build_items_1(), "clip"), key=lambda i: i.id)
        items = self._pinned_items()
        return sorted(opaque_ids(items, "seg" if self.name == "urmp-separation" else "pair"), key=lambda i: i.id)

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

    def _build_items_1(self) -> list[Item]:
        if self.family == "classification":
            return [Item(id=r.id, clips=[Clip(recording=r.id, start=0, end=0, instrument=r.labels[0])],
                         label=r.labels[0], n_sources=1, group=r.group) for r in sorted(self.rows.values(), key=lambda r: r.id)]
        if self.name == "urmp-separation":
            items = []
            for r in sorted(self.rows.values(), key=lambda r: r.id):
                n = self.prep["items"][r.id]["n_samples"]
                for k, (s, e) in enumerate(au.segments(n, SEG)):
                    items.append(Item(id=f"{r.id}/{k:02d}", clips=[Clip(recording=r.id, start=s, end=e)],
                                      sources=list(r.labels), n_sources=len(r.labels), group=r.group))
            return items
        return self._mix2_items()

    def _mix2_items(self) -> list[Item]:
        """Fixed pairs of test solos of different instruments (seeded), central clips."""
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
                clips.sort(key=lambda c: _slot(c.instrument))
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
        common = dict(name=self.name, version=self.version, dataset=self.dataset, dataset_version=self.data_version,
                      manifest_sha256=real.manifest_sha256(self.dataset, self.data_version),
                      items_sha256=items_sha256(self.items), n_items=len(self.items), sample_rate=SR,
                      segment_samples=SEG)
        from .synth import P2_PARAMS

        p2 = self.protocol >= 2
        rule2 = ("; protocol 2: the pinned items (two sources or more sound), every (item, slot) scored, opaque ids, "
                 "frames by player position")
        if self.name == "urmp-separation":
            proto = ("seed thesis protocol: 40 pieces (same-instrument duets removed), same-instrument tracks merged"
                     if self.data_version == "thesis" else "test pieces of the grouped split, same-instrument tracks merged")
            return TaskSpec(
                family="separation", description="Separate every instrument of URMP ensembles (13 slots).",
                protocol=proto + "; non-overlapping 65535-sample segments at 11025 Hz; 13 slots; " +
                         (rule2[2:] if p2 else "SDR family where reference and estimate are non-silent, PES/EPS otherwise"),
                slots=list(CLASSES), inputs=["mixture", "labels", "frames"],
                metrics=list(ENSEMBLE_METRICS), main_score="sdr",
                metric_params=dict(P2_PARAMS if p2 else ENSEMBLE_PARAMS), **common)
        if self.name == "music-mix2":
            return TaskSpec(
                family="separation", description="Separate two-instrument mixtures of MUSIC solos (Object-Prior protocol).",
                protocol=f"pairs of test solos of different instruments (seed {MIX2_SEED}); central 65535 samples at "
                         "11025 Hz of each; mixture = exact sum; frames at 8 fps" + (rule2 if p2 else ""),
                slots=list(CLASSES) + [c for c in _MUSIC_EXTRA if c not in CLASSES],
                inputs=["mixture", "labels", "frames"],
                metrics=list(ENSEMBLE_METRICS) if p2 else ["sdr", "sir", "sar", "si_sdr", "sdri", "si_sdri"],
                main_score="sdr", metric_params=dict(P2_PARAMS) if p2 else
                {"bss_eval": "v3", "filter_length": 512, "compute_permutation": False, "si_sdr_eps": 0.0}, **common)
        params = {"ties": "(-score, class index)", "zero_division": 0.0}
        if p2:
            params["protocol"] = 2
        return TaskSpec(
            family="classification", description=f"Recognise the instrument of {real.info(self.dataset).title} test items.",
            protocol=f"the {self.split} split of {self.dataset}@{self.data_version}; one item per "
                     f"{'timestamp stretch' if self.dataset == 'solos' else 'video'}" + ("; protocol 2: opaque ids" if p2 else ""),
            classes=self._classes(), inputs=["audio", "frames"], metrics=["hit@1", "hit@3", "macro_f1", "micro_f1"],
            main_score="hit@1", metric_params=params, **common)

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
        ref = self.reference(item)
        mix = np.zeros(ref.shape[1], dtype=np.float32)
        for k in range(ref.shape[0]):
            if ref[k].any():
                mix += ref[k]
        return mix

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

    def train_labels(self) -> list[str]:
        """The label of every item of the training split (for priors)."""
        return [r.labels[0] for r in real.rows(self.dataset, self.data_version, "train")]

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

    if version not in PROTOCOL2 or TASKS[name][1] != "separation":
        raise TaskError(f"{name}@{version} is not a protocol-2 separation version", fix="pin e.g. urmp-separation@2")
    base = RealTask(name, data_version(version), root)
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


def _slot(inst: str) -> int:
    order = list(CLASSES) + [c for c in _MUSIC_EXTRA if c not in CLASSES]
    return order.index(inst)


#: MUSIC-11 instruments outside the 13 URMP slots (extra output slots of music-mix2)
_MUSIC_EXTRA = ("accordion", "acoustic_guitar", "erhu", "xylophone")

