"""Task specifications (pydantic) and the task interface."""
from __future__ import annotations

import abc
import hashlib
import json
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Clip(Strict):
    """A stretch of one recording: ``[start, end)`` in samples at the task's rate."""

    recording: str
    start: int
    end: int
    instrument: str | None = None


class Item(Strict):
    """One evaluation item.

    ``sources`` are the instruments present (their stems are the references);
    ``clips`` name where the audio comes from (one for ensembles and classification,
    one per source for mix-and-separate mixtures); ``label`` is the class of a
    classification item; ``group`` is what bootstrap intervals resample (the work).
    """

    id: str
    clips: list[Clip]
    sources: list[str] = Field(default_factory=list)
    label: str | None = None
    n_sources: int = 0
    group: str = ""


class TaskSpec(Strict):
    name: str
    version: str
    family: Literal["separation", "classification"]
    description: str
    dataset: str
    dataset_version: str
    manifest_sha256: str
    items_sha256: str
    n_items: int
    protocol: str
    sample_rate: int
    segment_samples: int
    slots: list[str] = Field(default_factory=list)      #: output slots (separation)
    classes: list[str] = Field(default_factory=list)    #: classes (classification)
    inputs: list[str]                                   #: what a model may use
    metrics: list[str]
    main_score: str
    aggregate: Literal["mean", "median"] = "mean"
    metric_params: dict[str, Any] = Field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def protocol_number(self) -> int:
        """The scoring protocol this version follows (``docs/protocol.md``)."""
        return protocol_number(self.metric_params)


def protocol_number(metric_params: dict) -> int:
    """The scoring protocol recorded metric parameters follow (``docs/protocol.md``): 1 unless
    they say otherwise."""
    return int(metric_params.get("protocol", 1))


def mixture_of(ref: np.ndarray, present: list[int] | None = None) -> np.ndarray:
    """The one mixture rule of the separation tasks: the float32 sum of the sounding
    references (``present``, default: every slot with a nonzero sample), added in slot
    order.  The model's input (:meth:`Task.mixture`) and the mixture scoring measures the
    improvement over are this very array, bit for bit.  ``ref``: ``(n_slots, n_samples)``."""
    if present is None:
        present = [k for k in range(ref.shape[0]) if ref[k].any()]
    mix = np.zeros(ref.shape[1], dtype=np.float32)
    for k in sorted(present):
        mix += ref[k].astype(np.float32, copy=False)
    return mix


def items_sha256(items: list[Item]) -> str:
    s = "".join(json.dumps(i.model_dump(), sort_keys=True, separators=(",", ":")) + "\n" for i in items)
    return hashlib.sha256(s.encode()).hexdigest()


class Task(abc.ABC):
    """A task bound to its data: its spec, its items, and how to read references/inputs.

    Two sides.  What a model may read is :meth:`inputs` (or :meth:`input`): exactly the
    inputs ``spec.inputs`` lists, keyed by name, for an item id from :attr:`ids`; any
    other input raises :class:`~avbench.errors.TaskError`.  :attr:`items` (with their
    clips, sources, labels and groups) and :meth:`reference` are the scorer's records:
    the answers.  Only oracles read them.
    """

    spec: TaskSpec
    items: list[Item]

    @property
    def ids(self) -> list[str]:
        """The item ids, in the task's order.  Under protocol 2 they are opaque."""
        return [i.id for i in self.items]

    def n_samples(self, item: "Item | str") -> int:
        """Samples of every estimate of an item (separation) or of its audio."""
        it = self.item(item) if isinstance(item, str) else item
        return it.clips[0].end - it.clips[0].start

    def _offers(self, item: Item, *names: str) -> None:
        if not any(n in self.spec.inputs for n in names):
            from ..errors import TaskError

            raise TaskError(f"{self.spec.key} does not offer {names[0]!r} as an input",
                            fix=f"a model may read only: {', '.join(self.spec.inputs)}")

    def input(self, item: "Item | str", name: str):
        """One declared input of an item: ``mixture``/``audio`` (``(n_samples,)``),
        ``labels`` (the instruments present, in class order) or ``frames``."""
        it = self.item(item) if isinstance(item, str) else item
        if name not in self.spec.inputs:
            from ..errors import TaskError

            raise TaskError(f"{self.spec.key} does not offer {name!r} as an input",
                            fix=f"a model may read only: {', '.join(self.spec.inputs)}")
        if name in ("mixture", "audio"):
            return self.mixture(it)
        return getattr(self, name)(it)

    def inputs(self, item: "Item | str") -> dict:
        """Every declared input of an item, keyed as in ``spec.inputs``."""
        return {n: self.input(item, n) for n in self.spec.inputs}

    @abc.abstractmethod
    def item(self, item_id: str) -> Item:
        """The item with this id."""

    @abc.abstractmethod
    def reference(self, item: Item) -> np.ndarray:
        """References of every output slot.  Shape: ``(n_slots, n_samples)``."""

    @abc.abstractmethod
    def mixture(self, item: Item) -> np.ndarray:
        """The model's input audio.  Shape: ``(n_samples,)``."""

    @abc.abstractmethod
    def frames(self, item: Item, fps: float = 8.0, size: int = 224) -> dict[str, np.ndarray]:
        """Per-player frames ``(n_frames, size, size, 3)`` keyed by instrument."""

    @abc.abstractmethod
    def labels(self, item: Item) -> list[str]:
        """The instruments present (conditioning information)."""

    # -- training data: the public interface baselines train through ----------------------
    # Each binding offers what its data has; what it does not offer says so, naming the task.
    def _no_training(self, what: str):
        from ..errors import TaskError

        raise TaskError(f"{self.spec.key} offers no {what}",
                        fix="train on a task whose data has it (the built-in benchmark offers all of them)")

    #: the splits the training interface may serve; never the version's scored split
    TRAINING_SPLITS = ("train", "val")
    #: the split the items are made of (a version's ``split:``; bindings set it)
    split: str = "test"

    @property
    def training_splits(self) -> tuple[str, ...]:
        """The splits training data may come from: ``TRAINING_SPLITS`` less the scored
        split (a version scored on ``val`` trains on ``train`` only)."""
        return tuple(s for s in self.TRAINING_SPLITS if s != self.split)

    def _training_split(self, split: str) -> str:
        """``split`` when training data may come from it, else a TaskError: the scored
        split's recordings are what the items are made of, and their labels the answers."""
        if split not in self.training_splits:
            from ..errors import TaskError

            raise TaskError(f"{self.spec.key}: training data comes from {' and '.join(self.training_splits)}, "
                            f"not {str(split)[:40]!r} (the items are made of {self.split})",
                            fix=f"train on {self.training_splits[0]}; the {self.split} items are read through "
                                "task.input only")
        return split

    def train_clips(self, split: str) -> list[Clip]:
        """The clips of a split (``train``/``val``) for training, each with its instrument:
        built-in tasks give the sounding 65535-sample clips of the solo recordings, real
        classification tasks one clip per item of the split (``end == 0``: the whole
        recording)."""
        self._no_training("training clips")

    def clip_audio(self, clip: Clip) -> np.ndarray:
        """The audio of a training clip.  Shape: ``(n_samples,)``."""
        self._no_training("clip audio")

    def clip_frames(self, clip: Clip, fps: float = 8.0, size: int = 224) -> np.ndarray:
        """The frames of a training clip's player.  Shape: ``(n_frames, size, size, 3)``
        (no frames: ``n_frames == 0``)."""
        self._no_training("clip frames")

    def train_labels(self) -> list[str]:
        """The label of every training recording (for priors)."""
        self._no_training("training labels")

    def recordings(self, split: str, kind: str = "ensemble") -> list[dict]:
        """Manifest rows of a split's recordings of ``kind`` (``ensemble``/``solo``), for training."""
        self._no_training("training recordings")

    def stem(self, recording: str, instrument: str) -> np.ndarray:
        """The whole stem of one player of a training recording.  Shape: ``(n_samples,)``."""
        self._no_training("stems")
