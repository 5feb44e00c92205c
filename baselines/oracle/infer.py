"""Oracle baselines, written as submissions.

Separation (``synth-ensembles-separation``, ``synth-ensembles-mix2``):

* ``oracle-ibm`` — ideal binary mask: each time-frequency bin of the mixture STFT goes
  to the source with the largest reference magnitude there (n_fft = 1022, hop 256, Hann,
  centred; the shared front end of the separation baselines), mixture phase, iSTFT.
* ``oracle-irm`` — ideal ratio mask ``|S_j| / sum_k |S_k|`` on the mixture STFT.
* ``oracle-mixture`` — the input mixture as the estimate of every instrument present
  (uses the labels; absent slots silent): the lower bound.
* ``mixture-every-slot`` — the input mixture in every one of the 13 slots (the mixture
  alone, no labels): the thesis' lower-bound row (Table 5.3, row L: PES 18.2 dB, since
  the absent slots are not silent), beside ours whose absent slots are silent.

Classification (``synth-ensembles-classification``):

* ``oracle-label`` — score 1 for the true class: the upper bound.
* ``oracle-prior`` — the training-split class frequencies for every item (chance level).

Absent slots are omitted from the submission (``omitted_slots: silence``).
"""
from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from avbench.submission import SubmissionWriter
from avbench.tasks import get_task

N_FFT, HOP = 1022, 256


def _stft(x: torch.Tensor) -> torch.Tensor:
    return torch.stft(x, N_FFT, HOP, window=torch.hann_window(N_FFT, dtype=x.dtype), center=True, return_complex=True)


def _istft(X: torch.Tensor, length: int) -> torch.Tensor:
    return torch.istft(X, N_FFT, HOP, window=torch.hann_window(N_FFT, dtype=torch.float64), center=True, length=length)


def ideal_masks(ref: np.ndarray, mix: np.ndarray, kind: str) -> np.ndarray:
    """Masked-mixture estimates.  Shape: ref ``(n_src, n)``, mix ``(n,)`` -> ``(n_src, n)``."""
    R = _stft(torch.from_numpy(ref.astype(np.float64))).abs()
    X = _stft(torch.from_numpy(mix.astype(np.float64)))
    if kind == "ibm":
        best = R.argmax(0, keepdim=True)
        mask = torch.zeros_like(R).scatter_(0, best, 1.0) * (R > 0)
    elif kind == "irm":
        tot = R.sum(0, keepdim=True)
        mask = torch.where(tot > 0, R / tot.clamp_min(1e-300), torch.zeros_like(R))
    else:  # pragma: no cover
        raise ValueError(kind)
    est = _istft(mask * X.unsqueeze(0), mix.shape[-1]).numpy()
    est[~ref.any(axis=1)] = 0.0
    return est


META = {
    "oracle-ibm": ("Ideal binary mask (oracle, STFT 1022/256)", ["mixture"]),
    "oracle-irm": ("Ideal ratio mask (oracle, STFT 1022/256)", ["mixture"]),
    "oracle-mixture": ("Input mixture for every present instrument (lower bound)", ["mixture", "labels"]),
    "mixture-every-slot": ("Input mixture in every slot (the thesis' lower bound, Table 5.3 row L)", ["mixture"]),
    "oracle-label": ("True label (upper bound)", ["audio"]),
    "oracle-prior": ("Training-split class prior (chance level)", []),
}


def estimate(name: str, t, item) -> np.ndarray:
    """The estimates of a separation oracle for one item.  Shape: ``(n_slots, n_samples)``."""
    mix = t.mixture(item)
    if name == "oracle-mixture":  # reads only its declared inputs
        present = np.array([[s in t.labels(item)] for s in t.spec.slots])
        return np.where(present, mix[None, :], 0.0)
    if name == "mixture-every-slot":
        return np.repeat(mix[None, :], len(t.spec.slots), 0)
    return ideal_masks(t.reference(item), mix, name.split("-")[1])


def prediction(name: str, t, item) -> list[float]:
    """The class scores of a classification oracle for one item."""
    classes = t.spec.classes
    if name == "oracle-label":
        return [1.0 if c == item.label else 0.0 for c in classes]
    counts = Counter(t.train_labels())
    total = sum(counts.values()) or 1
    return [counts.get(c, 0) / total for c in classes]


def run(name: str, task: str, out: str | Path, progress: bool = True) -> Path:
    from avbench.progress import bar as tqdm

    t = get_task(task)
    key = t.spec.key
    sep = t.spec.family == "separation"
    if name not in (("oracle-ibm", "oracle-irm", "oracle-mixture", "mixture-every-slot") if sep
                    else ("oracle-label", "oracle-prior")):
        raise ValueError(f"{name} does not apply to {key}")
    oracle = name not in ("oracle-mixture", "mixture-every-slot", "oracle-prior")
    with SubmissionWriter(out, name=name, model=META[name][0], authors=["avbench"], oracle=oracle,
                          extra_training_data="none", n_parameters=0,
                          notes="Reference bound computed by baselines/oracle.") as w:
        w.add_task(t, inputs=META[name][1], omitted_slots="silence")
        if sep:
            for item in tqdm(t.items, desc=name, disable=not progress):
                w.write_estimates(t, item.id, estimate(name, t, item))
        else:
            for item in t.items:
                w.write_scores(t, item.id, prediction(name, t, item))
    return Path(out)


BASELINES = {n: functools.partial(run, n) for n in META}
