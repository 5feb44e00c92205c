"""Per-pitch spectral templates rendered from isolated notes of the benchmark's instruments.

Every sounding key of an instrument's range is rendered alone (0.8 s at velocity 100,
through the same soundfont and per-instrument gain as the benchmark), at 11025 Hz; its
template is the mean STFT magnitude (n_fft 1022, hop 256) over the frames while the key
is held, normalised to unit L1 norm.  Cached in ``AVBENCH_HOME/baselines/informed_nmf``.

On data version 2 (held-out timbres) a template is the mean of the templates of the
*training* timbres of the instrument (``timbres="train"``, what the baseline uses): the
test timbres are never heard.  ``timbres="heldout"`` renders them from the val/test
families instead: the leak that version 1 had (one soundfont everywhere), kept as a
probe (the ``informed-nmf-heldout-timbres`` row, marked as an oracle).
"""
from __future__ import annotations

import numpy as np
import torch

from avbench.data import synth as se
from avbench.instruments import INSTRUMENTS

from .._common import workdir
from ..frontend import HOP, stft

SR = 11025
NOTE_S = 0.8


def note_template(inst: str, key: int) -> np.ndarray:
    x = se.render_player([(0.0, NOTE_S, key, 100)], inst, int(1.2 * SR), SR)
    S = stft(torch.from_numpy(x.astype(np.float64))).abs().numpy()
    held = S[:, 1:int(NOTE_S * SR / HOP)]
    t = held.mean(1)
    return t / max(t.sum(), 1e-12)


def _source_template(inst: str, source: str, program: int, key: int) -> np.ndarray:
    n = int(1.2 * SR)
    n_render = n * se.RENDER_RATE // SR
    x = se.render_part_v2(inst, {"source": source, "program": program, "seed": 0}, [(0.0, NOTE_S, key, 100)],
                           np.zeros(n_render + se.RENDER_RATE), np.ones(n_render + se.RENDER_RATE), n, SR)
    S = stft(torch.from_numpy(x.astype(np.float64))).abs().numpy()
    t = S[:, 1:int(NOTE_S * SR / HOP)].mean(1)
    return t / max(t.sum(), 1e-12)


def v2_sources(inst: str, timbres: str) -> list[str]:
    """The timbre sources whose notes make an instrument's templates: those of its training
    families (``train``) or of its val/test families (``heldout``)."""
    from avbench.data.synth import soundfonts

    split = {"train": "train", "heldout": "test"}[timbres]
    return [m for f in soundfonts.families(inst, split) for m in f["members"]]


def build_v2(timbres: str = "train", progress: bool = False) -> dict[str, np.ndarray]:
    """Templates of data version 2: per instrument and key, the mean template of the
    sources of the training families (``train``) or of the held-out ones (``heldout``)."""
    if timbres not in ("train", "heldout"):
        raise ValueError(f"timbres must be 'train' or 'heldout', not {timbres!r}")
    p = workdir("informed_nmf", ".") / f"templates-v2-{timbres}.npz"
    if p.exists():
        return _load(p)
    from avbench.progress import bar as tqdm

    tables = se.timbre_tables()
    out = {}
    for inst in tqdm(INSTRUMENTS, desc=f"templates ({timbres} timbres)", disable=not progress):
        sources = v2_sources(inst.name, timbres)
        keys, cols = [], []
        for k in range(inst.low, inst.high + 1):
            ts = [_source_template(inst.name, src, inst.gm_program, k) for src in sources
                  if k in tables[(inst.name, src)]["sounding"]]
            if ts:
                t = np.mean(ts, 0)
                keys.append(k)
                cols.append(t / max(t.sum(), 1e-12))
        out[inst.name] = np.stack(cols, 1)
        out[inst.name + ":keys"] = np.array(keys)
        out[inst.name + ":sources"] = np.array(sources)  # the timbres heard, for the record and the tests
    return _save(p, out)


def build(progress: bool = False) -> dict[str, np.ndarray]:
    """``{instrument: (n_freq, n_keys)}`` and the keys in ``{instrument + ':keys': (n_keys,)}``."""
    p = workdir("informed_nmf", ".") / "templates.npz"
    if p.exists():
        return _load(p)
    from avbench.progress import bar as tqdm

    snd = se.sounding_keys()
    out = {}
    for inst in tqdm(INSTRUMENTS, desc="templates", disable=not progress):
        keys = sorted(snd[inst.name])
        out[inst.name] = np.stack([note_template(inst.name, k) for k in keys], 1)
        out[inst.name + ":keys"] = np.array(keys)
    return _save(p, out)


def _load(p) -> dict[str, np.ndarray]:
    with np.load(p) as z:
        return {k: z[k] for k in z.files}


def _save(p, out: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Write the cache atomically; returns ``out``."""
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".tmp.npz")
    np.savez(tmp, **out)
    tmp.replace(p)
    return out
