"""InformedNMF submissions on the separation tasks.

* ``informed-nmf`` — the templates of the instruments present (labels as input); absent
  instruments are omitted (silent);
* ``nmf-all-templates`` — the templates of all 13 instruments, no labels: every slot gets
  an estimate, which measures with PES how much an NMF leaks into absent instruments.

    avbench baseline run informed-nmf --task synth-ensembles-separation@1 --out DIR

Parameters: beta = 1 (Kullback-Leibler), 100 iterations, one template per semitone,
Wiener-style masks with exponent 2, STFT 1022/256 at 11025 Hz.  Absent instruments are
omitted (silent).
"""
from __future__ import annotations

from pathlib import Path

from avbench import audio as au
from avbench.instruments import CLASSES
from avbench.submission import SubmissionMeta, TaskEntry, write_meta
from avbench.tasks import get_task
from .._common import fresh_task_dir

from . import nmf, templates

BETA, N_ITER, POWER = 1.0, 100, 2.0


def run(task: str, out: str | Path, progress: bool = True, informed: bool = True) -> Path:
    from avbench.progress import bar as tqdm

    t = get_task(task)
    if t.spec.family != "separation":
        raise ValueError(f"informed-nmf separates; {t.spec.key} is a {t.spec.family} task")
    T = templates.build(progress)
    out = Path(out)
    tdir = fresh_task_dir(out, t.spec)
    name = "informed-nmf" if informed else "nmf-all-templates"
    for item in tqdm(t.items, desc=name, disable=not progress):
        present = t.labels(item) if informed else list(CLASSES)
        est = nmf.separate(t.mixture(item), T, present, BETA, N_ITER, POWER)
        for inst, x in est.items():
            if x.any():
                au.write_wav(tdir / "estimates" / item.id / f"{inst}.wav", x, t.spec.sample_rate)
    n_par = sum(T[i].size for i in T if ":" not in i)
    write_meta(out, SubmissionMeta(
        name=name, model="Timbre-informed NMF (fixed per-pitch templates, KL, 100 iterations)"
        + ("" if informed else ", templates of all 13 instruments"),
        authors=["avbench"], code_url=None, oracle=False, extra_training_data="none", n_parameters=n_par,
        notes="baselines/informed_nmf: templates rendered from isolated notes of the benchmark's soundfont; "
              + ("the instruments present are given (labels)." if informed else "no labels: all 13 instruments' templates."),
        tasks=[TaskEntry(name=t.spec.name, version=t.spec.version, inputs=["mixture", "labels"] if informed else ["mixture"],
                         omitted_slots="silence")]))
    return out


BASELINES = {"informed-nmf": run,
             "nmf-all-templates": lambda task, out, progress=True: run(task, out, progress, informed=False)}
