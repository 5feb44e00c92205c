"""Per-pitch spectral templates rendered from isolated notes of the benchmark's instruments.

Every sounding key of an instrument's range is rendered alone (0.8 s at velocity 100,
through the same soundfont and per-instrument gain as the benchmark), at 11025 Hz; its
template is the mean STFT magnitude (n_fft 1022, hop 256) over the frames while the key
is held, normalised to unit L1 norm.  Cached in ``AVBENCH_HOME/baselines/informed_nmf``.
"""
from __future__ import annotations

import numpy as np
import torch

from avbench.data import synth_ensembles as se
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


def build(progress: bool = False) -> dict[str, np.ndarray]:
    """``{instrument: (n_freq, n_keys)}`` and the keys in ``{instrument + ':keys': (n_keys,)}``."""
    p = workdir("informed_nmf", ".") / "templates.npz"
    if p.exists():
        with np.load(p) as z:
            return {k: z[k] for k in z.files}
    from avbench.progress import bar as tqdm

    snd = se.sounding_keys()
    out = {}
    for inst in tqdm(INSTRUMENTS, desc="templates", disable=not progress):
        keys = sorted(snd[inst.name])
        out[inst.name] = np.stack([note_template(inst.name, k) for k in keys], 1)
        out[inst.name + ":keys"] = np.array(keys)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".tmp.npz")
    np.savez(tmp, **out)
    tmp.replace(p)
    return out
