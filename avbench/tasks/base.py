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


def items_sha256(items: list[Item]) -> str:
    s = "".join(json.dumps(i.model_dump(), sort_keys=True, separators=(",", ":")) + "\n" for i in items)
    return hashlib.sha256(s.encode()).hexdigest()


class Task(abc.ABC):
    """A task bound to its data: its spec, its items, and how to read references/inputs."""

    spec: TaskSpec
    items: list[Item]

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
