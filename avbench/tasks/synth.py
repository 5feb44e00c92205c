"""The tasks of the built-in benchmark ``synth-ensembles``.

* ``synth-ensembles-separation`` — the seed thesis' URMP protocol: every test ensemble
  cut into non-overlapping 65535-sample segments at 11025 Hz; one estimate per
  instrument slot (13, fixed order, silence for absent instruments); BSS Eval v3
  SDR/SIR/SAR (512 taps, no permutation) and SI-SDR/SD-SDR where reference and
  estimate are both non-silent, PES where the reference is silent, EPS where the
  estimate is silent (exact-zero test, eps 1e-8, floor -80 dB).
* ``synth-ensembles-mix2`` — the MUSIC mix-and-separate protocol: fixed, seeded pairs of
  65535-sample solo clips of two different instruments from different works; the
  mixture is their exact sum; BSS Eval v3 SDR/SIR/SAR.
* ``synth-ensembles-classification`` — 13-class instrument recognition of 65535-sample
  solo clips from audio, video or both; Hit@1, Hit@3, macro-F1, per-class F1 and the
  confusion matrix.

Version ``1`` runs on the ``full`` data, ``1-mini`` on the ``mini`` data; both follow
scoring protocol 1.  Versions ``2`` and ``2-mini`` (same data) follow protocol 2
(``docs/protocol.md``): every (item, slot) scored, silent estimates at the floor, no
trivial items (at least two sources sound in every separation item), opaque item ids,
frames keyed by player position, and only the declared inputs.  Versions ``3`` and
``3-mini`` follow protocol 2 on data version 2 (``full2``, ``mini2``): held-out timbres,
expressive playing and styled video (:mod:`avbench.data.synth.soundfonts`, :mod:`avbench.data.synth.scenes`).
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numpy as np

from .. import audio as au
from ..data import synth as se
from ..errors import TaskError
from ..instruments import CLASSES
from ..data.synth.scenes import styled_frames
from ..video import player_frames
from .base import Clip, Item, Task, TaskSpec, items_sha256, mixture_of
from .declared import declared, registry

SEG = se.SEGMENT
MIX2_SEED = 1234
MIN_ACTIVE = 0.25  #: a solo clip needs sound in this fraction of its samples

#: protocol 2's rule for a sounding source, the defaults of what a task version records
#: (``specs/_params.yaml``: ``active_frame``, ``active_db``, ``min_sources``)
ACTIVE_FRAME = 1024      #: samples per frame of the "sounds" test
ACTIVE_DB = -60.0        #: a frame sounds when its RMS reaches this (dB re full scale)
MIN_SOURCES = 2          #: sources that must sound in every separation item
P2_SEED = 20261201       #: the shuffle that numbers the protocol-2 items (ids carry no content)
#: the id prefix of each kind of item under protocol 2
_PREFIX = {"segments": "seg", "pairs": "pair", "clips": "clip"}

#: the built-in tasks avbench ships (declared in ``specs/``, binding ``synth``); a task
#: declared elsewhere on this data is bound the same way (:func:`is_synth`)
NAMES = tuple(n for n, d in registry().items() if d.binding == "synth")


def is_synth(name: str) -> bool:
    """A declared task on the built-in benchmark."""
    d = registry().get(name)
    return d is not None and d.binding == "synth"


def versions() -> dict[str, str]:
    """The built-in task versions and the data configuration each reads (every built-in
    task has the same versions)."""
    return {v: d.data for v, d in declared(NAMES[0]).versions.items()}


def current(config: str) -> str:
    """The task version of the current scoring protocol on a data configuration: of the
    built-in versions that read it, the one of the highest protocol (from the declarations)."""
    reads = [(d.protocol, v) for v, d in declared(NAMES[0]).versions.items() if d.data == config]
    if not reads:
        raise KeyError(f"no built-in task version reads the data configuration {config!r}")
    return max(reads)[1]


def active_fraction(x: np.ndarray, frame: int = ACTIVE_FRAME, db: float = ACTIVE_DB) -> float:
    """The fraction of ``frame``-sample frames (the last, shorter one included) whose RMS
    reaches ``db`` dB re full scale: how much of a clip a source sounds in."""
    n = x.shape[-1]
    k = -(-n // frame)
    pad = np.zeros(k * frame, dtype=np.float64)
    pad[:n] = x
    e = (pad.reshape(k, frame) ** 2).sum(1)
    lens = np.full(k, frame, dtype=np.float64)
    lens[-1] = n - (k - 1) * frame
    return float(np.mean(e / lens >= 10.0 ** (db / 10.0)))


def opaque_ids(items: list, prefix: str, seed: int = P2_SEED) -> list:
    """Renumber items in a seeded shuffled order: ``prefix-0000`` ... — an id says nothing
    about the recording, work, composer or instrument."""
    order = np.random.default_rng(seed).permutation(len(items))
    out = [items[int(j)].model_copy(update={"id": f"{prefix}-{pos:04d}"}) for pos, j in enumerate(order)]
    return out


class SynthTask(Task):
    """A built-in task bound to its generated data (``specs/<name>.yaml`` declares it)."""

    def __init__(self, name: str, version: str, root: Path | None = None):
        self.decl = declared(name)
        if self.decl.binding != "synth":
            raise TaskError(f"{name} is not a task of the built-in benchmark")
        if version not in self.decl.versions:
            rate = version.rsplit("-", 1)[-1]
            hint = (f"data generated at {rate} Hz is for your own use; the tasks read the 11025 Hz data: "
                    if rate.isdigit() and len(rate) >= 4 else "")
            raise TaskError(f"{name} has no version {version!r}",
                            fix=f"{hint}use one of {', '.join(self.decl.versions)}")
        self.name, self.version = name, version
        vd = self.decl.version(version)
        self.split = vd.split  #: the split the items are made of (the scored split)
        self.protocol = vd.protocol
        self.params = self.decl.metric_params[vd.protocol]
        self.root = Path(root) if root is not None else se.locate(vd.data)
        meta = __import__("json").loads((self.root / "dataset.json").read_text())
        self.rows = {r["id"]: r for r in se.read_manifest(self.root)}
        self.items = self._build_items()
        self.spec = self._spec(meta["manifest_sha256"])
        self._by_id = {i.id: i for i in self.items}

    # -- items ---------------------------------------------------------------------------
    def _scored(self, kind: str) -> list[dict]:
        """The manifest rows of the version's split (``split:``, test unless declared)."""
        return [r for r in self.rows.values() if r["split"] == self.split and r["kind"] == kind]

    @functools.cached_property
    def _solo_clips(self) -> list[tuple[dict, Clip]]:
        return self._clips_of(self.split)

    def _clips_of(self, split: str) -> list[tuple[dict, Clip]]:
        out = []
        rows = [r for r in self.rows.values() if r["split"] == split and r["kind"] == "solo"]
        for r in sorted(rows, key=lambda r: r["id"]):
            x = self._stem(r["id"], r["instruments"][0])
            for k, (s, e) in enumerate(au.segments(r["n_samples"], SEG)):
                if self._sounds(x[s:e]):
                    out.append((r, Clip(recording=r["id"], start=s, end=e, instrument=r["instruments"][0])))
        return out

    def _sounds(self, x: np.ndarray) -> bool:
        """Protocol 1: non-zero in 25% of the samples; protocol 2: RMS of at least -60 dB in
        25% of the 1024-sample frames (the version's ``active_*`` parameters)."""
        need = self.params.get("min_active_fraction", MIN_ACTIVE)
        if self.protocol == 1:
            return np.count_nonzero(x) >= need * x.shape[0]
        return active_fraction(x, self.params.get("active_frame", ACTIVE_FRAME),
                               self.params.get("active_db", ACTIVE_DB)) >= need

    # one item builder per protocol; the declared kind of item picks the candidates
    def _build_items(self) -> list[Item]:
        items = getattr(self, f"_{self.decl.items}")()
        return items if self.protocol == 1 else self._protocol2(items)

    def _protocol2(self, items: list[Item]) -> list[Item]:
        """Protocol 2 from the protocol-1 candidates: no trivial items (``min_sources`` sound
        in every ensemble segment), players in a seeded order (the manifest lists an
        ensemble's instruments, and a pair its clips, in class order: frames in that order
        would tell each player's class by position), and opaque ids."""
        kind = self.decl.items
        if kind == "segments":
            need = self.params.get("min_sources", MIN_SOURCES)
            items = [i for i in items if sum(self._sounds(self._stem(i.clips[0].recording, s)[i.clips[0].start:i.clips[0].end])
                                             for s in i.sources) >= need]
            rng = np.random.default_rng(P2_SEED + 2)
            items = [i.model_copy(update={"sources": [i.sources[j] for j in rng.permutation(len(i.sources))]})
                     for i in items]
        elif kind == "pairs":
            rng = np.random.default_rng(P2_SEED + 1)
            items = [i.model_copy(update={"clips": [i.clips[j] for j in rng.permutation(2)]}) for i in items]
            items = [i.model_copy(update={"sources": [c.instrument for c in i.clips]}) for i in items]
        return sorted(opaque_ids(items, _PREFIX[kind]), key=lambda i: i.id)

    def _segments(self) -> list[Item]:
        """Every ensemble of the scored split cut into non-overlapping segments."""
        items = []
        for r in sorted(self._scored("ensemble"), key=lambda r: r["id"]):
            for k, (s, e) in enumerate(au.segments(r["n_samples"], SEG)):
                items.append(Item(id=f"{r['id']}/{k:02d}", clips=[Clip(recording=r["id"], start=s, end=e)],
                                  sources=list(r["instruments"]), n_sources=r["n_sources"], group=r["work"]))
        return items

    def _clips(self) -> list[Item]:
        """Every sounding solo clip of the scored split."""
        return [Item(id=f"{c.recording}/{c.start // SEG:02d}", clips=[c], label=c.instrument, n_sources=1,
                     group=r["work"]) for r, c in self._solo_clips]

    def _pairs(self) -> list[Item]:
        """Seeded pairs of solo clips of the scored split, of different instruments from different works."""
        clips = self._solo_clips
        rng = np.random.default_rng(MIX2_SEED)
        order = list(rng.permutation(len(clips)))
        items, used = [], set()
        for a_pos, a in enumerate(order):
            if a in used:
                continue
            ra, ca = clips[a]
            for b in order[a_pos + 1:]:
                rb, cb = clips[b]
                if b in used or cb.instrument == ca.instrument or rb["work"] == ra["work"]:
                    continue
                used.update((a, b))
                pair = sorted([ca, cb], key=lambda c: CLASSES.index(c.instrument))
                pid = hashlib.sha256(f"{pair[0].recording}:{pair[0].start}|{pair[1].recording}:{pair[1].start}".encode()).hexdigest()[:12]
                items.append(Item(id=f"pair-{len(items):04d}-{pid}", clips=pair, sources=[c.instrument for c in pair],
                                  n_sources=2, group=f"{ra['work']}|{rb['work']}"))
                break
        return items

    def _spec(self, manifest_sha: str) -> TaskSpec:
        return TaskSpec(name=self.name, version=self.version, dataset=se.NAME, dataset_version=self.version,
                        manifest_sha256=manifest_sha, items_sha256=items_sha256(self.items), n_items=len(self.items),
                        sample_rate=11025, segment_samples=SEG, **self.decl.spec_fields(self.version))

    # -- audio ---------------------------------------------------------------------------
    @functools.lru_cache(maxsize=64)
    def _stem(self, recording: str, instrument: str) -> np.ndarray:
        r = self.rows[recording]
        x, sr = au.read_audio(self.root / r["stems"][instrument])
        return x

    def item(self, item_id: str) -> Item:
        try:
            return self._by_id[item_id]
        except KeyError:
            raise TaskError(f"{self.spec.key} has no item {str(item_id)[:80]!r}",
                            fix=f"use the ids of task.ids ({len(self.items)} items)") from None

    # -- training data (for baselines) ---------------------------------------------------------
    def train_clips(self, split: str) -> list[Clip]:
        """The 65535-sample clips of a split's solo recordings that sound (the rule of the
        test items), for training on ``train``/``val`` (the scored split is refused)."""
        return [c for _, c in self._clips_of(self._training_split(split))]

    solo_clips = train_clips

    def _training_recording(self, recording: str) -> dict:
        r = self.rows.get(recording)
        if r is None:
            raise TaskError(f"{self.spec.key} has no recording {str(recording)[:80]!r}",
                            fix="use the ids of task.recordings(split) or task.train_clips(split)")
        self._training_split(r["split"])
        return r

    def clip_audio(self, clip: Clip) -> np.ndarray:
        """Shape: ``(n_samples,)``.  Training clips only (a test recording is refused)."""
        self._training_recording(clip.recording)
        return self._stem(clip.recording, clip.instrument)[clip.start:clip.end]

    def clip_frames(self, clip: Clip, fps: float = 8.0, size: int = 224) -> np.ndarray:
        """Frames of the player of a solo clip.  Shape: ``(n_frames, size, size, 3)``.
        Training clips only."""
        row = self._training_recording(clip.recording)
        n = int((clip.end - clip.start) / 11025 * fps)
        return self._player_frames(row, clip.instrument, clip.start / 11025, n, fps, size)

    def _player_frames(self, row: dict, inst: str, start: float, n: int, fps: float, size: int) -> np.ndarray:
        """A player's frames: the styled scene of data version 2 (the player's recorded
        style), the plain drawing of version 1."""
        notes = se.load_notes(self.root, row)[inst]
        if "styles" in row:
            style = row["styles"][row["instruments"].index(inst)]
            return styled_frames(notes, inst, style, start, n, fps, size)
        return player_frames(notes, inst, start, n, fps, size)

    def recordings(self, split: str, kind: str = "ensemble") -> list[dict]:
        """Manifest rows of a split's ensemble (or solo) recordings, for training (``train``/``val``)."""
        self._training_split(split)
        return sorted((r for r in self.rows.values() if r["split"] == split and r["kind"] == kind), key=lambda r: r["id"])

    def stem(self, recording: str, instrument: str) -> np.ndarray:
        """The whole stem of one player of a training recording.  Shape: ``(n_samples,)``."""
        self._training_recording(recording)
        return self._stem(recording, instrument)

    def work_of(self, recording: str) -> str:
        return self.rows[recording]["work"]

    def reference(self, item: Item) -> np.ndarray:
        """References of every slot (zeros for absent instruments).  Shape: ``(13, n_samples)``."""
        n = item.clips[0].end - item.clips[0].start
        out = np.zeros((len(CLASSES), n), dtype=np.float32)
        if len(item.clips) == 1:
            c = item.clips[0]
            for inst in item.sources or [c.instrument]:  # ensembles name their sources; solo clips their player
                out[CLASSES.index(inst)] = self._stem(c.recording, inst)[c.start:c.end]
        else:
            for c in item.clips:
                out[CLASSES.index(c.instrument)] = self._stem(c.recording, c.instrument)[c.start:c.end]
        return out

    def mixture(self, item: Item) -> np.ndarray:
        """The model's input audio: the exact float32 sum of the references, added in slot
        order (for ensembles this equals the stored mixture).  Shape: ``(n_samples,)``."""
        self._offers(item, "mixture", "audio")
        return mixture_of(self.reference(item))

    def frames(self, item: Item, fps: float = 8.0, size: int = 224):
        """Frames of every player, ``(n_frames, size, size, 3)`` each.  Protocol 2: a list in
        player position order (nothing says which instrument a player holds).  Protocol 1:
        a dict keyed by instrument (which gives the classes away; kept as published)."""
        self._offers(item, "frames")
        out = {}
        for c in item.clips:
            row = self.rows[c.recording]
            insts = [c.instrument] if c.instrument else item.sources
            for inst in insts:
                n = int((c.end - c.start) / 11025 * fps)
                out[inst] = self._player_frames(row, inst, c.start / 11025, n, fps, size)
        return list(out.values()) if self.protocol >= 2 else out

    def train_labels(self) -> list[str]:
        """The label of every training solo recording (for priors)."""
        split = self._training_split("train")
        return [r["instruments"][0] for r in self.rows.values() if r["split"] == split and r["kind"] == "solo"]

    def labels(self, item: Item) -> list[str]:
        """The instruments present, in class order (conditioning information of the
        separation tasks; a classification task does not offer it)."""
        self._offers(item, "labels")
        return sorted(item.sources, key=CLASSES.index)
