"""The writer of a submission folder in the layout avbench reads."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..tasks.base import Task
from .meta import SubmissionMeta, TaskEntry, write_meta

class SubmissionWriter:
    """Write a submission folder in the layout avbench reads (what every baseline uses).

    ::

        with SubmissionWriter("submissions/my-model", name="my-model", model="U-Net") as w:
            w.add_task(task, inputs=["mixture"])
            for item in task.items:
                w.write_estimates(task, item.id, {"violin": x, "cello": y})   # separation
                # or w.write_scores(task, item.id, scores)                     # classification

    Estimates are written as float32 WAV at the task's rate.  :meth:`add_task` declares
    the task with ``omitted_slots: silence`` (pass ``omitted_slots="error"`` to require
    every slot's file): an all-zero estimate of an instrument that does not play in the
    item is left out and scored as silence; every other slot given is written, and a
    sounding instrument's missing file, or a missing item, is an error of ``validate``
    and ``score`` alike.  Scores are kept in memory
    and written as ``predictions.csv`` by :meth:`close`, which also writes
    ``submission.yaml``.  Adding a task empties its folder and its old results.
    """

    def __init__(self, root: str | Path, name: str, model: str, **meta):
        self.root = Path(root)
        self._meta = dict(name=name, model=model, **meta)
        self._tasks: dict[str, TaskEntry] = {}
        self._scores: dict[str, dict[str, np.ndarray]] = {}
        self._specs: dict = {}

    def add_task(self, task: Task, inputs: list[str], omitted_slots: str = "silence") -> Path:
        import shutil

        spec = task.spec
        shutil.rmtree(self.root / spec.name, ignore_errors=True)
        shutil.rmtree(self.root / "results" / spec.key, ignore_errors=True)
        self._tasks[spec.key] = TaskEntry(name=spec.name, version=spec.version, inputs=list(inputs),
                                          omitted_slots=omitted_slots)
        self._specs[spec.key] = spec
        (self.root / spec.name).mkdir(parents=True, exist_ok=True)
        return self.root / spec.name

    def _entry(self, task: Task) -> TaskEntry:
        if task.spec.key not in self._tasks:
            raise ValueError(f"call add_task({task.spec.key}) first")
        return self._tasks[task.spec.key]

    def write_estimates(self, task: Task, item_id: str, estimates) -> None:
        """``estimates``: ``{slot: array}``, or an array ``(n_slots, n_samples)`` in slot order."""
        from ..audio import write_wav

        self._entry(task)
        spec = task.spec
        if not hasattr(estimates, "items"):
            estimates = dict(zip(spec.slots, np.asarray(estimates)))
        d = self.root / spec.name / "estimates" / item_id
        item = next((i for i in task.items if i.id == item_id), None)
        if item is None:
            raise ValueError(f"{item_id!r} is not an item of {spec.key}")
        playing = set(item.sources)
        for slot, x in estimates.items():
            if slot not in spec.slots:
                raise ValueError(f"{slot!r} is not a slot of {spec.key}")
            x = np.asarray(x)
            if x.any() or slot in playing:  # an all-zero estimate of a sounding instrument is written
                write_wav(d / f"{slot}.wav", x, spec.sample_rate)

    def write_scores(self, task: Task, item_id: str, scores) -> None:
        """One score per class, in ``task.spec.classes`` order."""
        self._entry(task)
        x = np.asarray(scores, dtype=np.float64)
        if x.shape != (len(task.spec.classes),):
            raise ValueError(f"{len(task.spec.classes)} scores expected, got shape {x.shape}")
        self._scores.setdefault(task.spec.key, {})[item_id] = x

    def close(self) -> Path:
        import csv

        for key, rows in self._scores.items():
            spec = self._specs[key]
            with open(self.root / spec.name / "predictions.csv", "w", newline="") as f:
                w = csv.writer(f, lineterminator="\n")
                w.writerow(["item_id", *spec.classes])
                for iid, x in rows.items():
                    w.writerow([iid, *[f"{v:.6f}" for v in x]])
        write_meta(self.root, SubmissionMeta(**self._meta, tasks=list(self._tasks.values())))
        return self.root

    def __enter__(self) -> "SubmissionWriter":
        return self

    def __exit__(self, exc_type, *_) -> None:
        if exc_type is None:
            self.close()
