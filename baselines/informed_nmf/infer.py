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

from avbench.instruments import CLASSES
from avbench.submission import SubmissionWriter
from avbench.tasks import get_task


from . import nmf, templates

BETA, N_ITER, POWER = 1.0, 100, 2.0


def run(task: str, out: str | Path, progress: bool = True, informed: bool = True, heldout: bool = False) -> Path:
    from avbench.progress import bar as tqdm

    t = get_task(task)
    if t.spec.family != "separation":
        raise ValueError(f"informed-nmf separates; {t.spec.key} is a {t.spec.family} task")
    v2 = "timbres" in next(iter(getattr(t, "rows", {}).values()), {})  # data version 2: held-out timbres
    if heldout and not v2:
        raise ValueError(f"{t.spec.key} has no held-out timbres (data version 2 has: versions 3, 3-mini)")
    T = templates.build_v2("heldout" if heldout else "train", progress) if v2 else templates.build(progress)
    name = "informed-nmf-heldout-timbres" if heldout else ("informed-nmf" if informed else "nmf-all-templates")
    source = ("the held-out (val/test) timbres: a probe of the leak, not a method" if heldout else
              "the training timbres" if v2 else "the benchmark's soundfont")
    n_par = sum(T[i].size for i in T if ":" not in i)
    heard = sorted({str(x) for k in T if k.endswith(":sources") for x in T[k]})
    with SubmissionWriter(
            out, name=name, model="Timbre-informed NMF (fixed per-pitch templates, KL, 100 iterations)"
            + ("" if informed else ", templates of all 13 instruments")
            + (", templates from the test timbres (leak probe)" if heldout else ""),
            authors=["avbench"], code_url=None, oracle=heldout, extra_training_data="none", n_parameters=n_par,
            notes=f"baselines/informed_nmf: templates rendered from isolated notes of {source}"
                  + (f" ({', '.join(heard)})" if heard else "") + "; "
                  + ("the instruments present are given (labels)." if informed
                     else "no labels: all 13 instruments' templates.")) as w:
        w.add_task(t, inputs=["mixture", "labels"] if informed else ["mixture"])
        for item in tqdm(t.items, desc=name, disable=not progress):
            present = t.labels(item) if informed else list(CLASSES)
            w.write_estimates(t, item.id, nmf.separate(t.mixture(item), T, present, BETA, N_ITER, POWER))
    return Path(out)


BASELINES = {"informed-nmf": run,
             "informed-nmf-heldout-timbres": lambda task, out, progress=True: run(task, out, progress, heldout=True),
             "nmf-all-templates": lambda task, out, progress=True: run(task, out, progress, informed=False)}
