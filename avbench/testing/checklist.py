"""The validation checklist: every problem avbench refuses or flags, with a fixture.

Each :class:`Fixture` turns a valid submission for a mini task (:func:`base`) into one
that shows exactly one problem code.  The tests build every fixture and check the
codes; ``docs/validation.md`` is generated from this list (``python -m
avbench.testing.checklist --markdown``); the robustness harness (``tests/robustness/harness.py``,
run by ``scripts/robustness.py``) combines fixtures into random malformed submissions.
"""
from __future__ import annotations

import copy
import os
import shutil
import stat
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import yaml

SEP_TASK = "synth-ensembles-separation@1-mini"
CLS_TASK = "synth-ensembles-classification@1-mini"


@dataclass(frozen=True)
class Fixture:
    id: str
    item: str
    code: str
    family: str  # "separation" or "classification"
    build: Callable[[Path, object], None]
    stage: str = "validate"  # "score": found while scoring; "race": a change between validation and scoring;
    # "kernel": a scoring backstop that validated files cannot reach (tested on arrays)
    env: dict = field(default_factory=dict)
    needs: str = ""  # "root": needs the privilege to make device files
    task: str = ""  # the task version it runs on, when not the family's default (SEP_TASK, CLS_TASK)


# ----------------------------------------------------------------------------- byte makers
def wav_bytes(x: np.ndarray | None = None, sr: int = 11025, tag: int = 3, bits: int = 32, ch: int = 1,
              declared: int | None = None, payload: bytes | None = None) -> bytes:
    """A RIFF/WAVE file written by hand (any header, even a lying one)."""
    if payload is None:
        a = np.zeros(0) if x is None else np.asarray(x)
        payload = a.astype("<f4" if bits == 32 and tag == 3 else "<f8" if tag == 3 else "<i2").tobytes()
    align = ch * bits // 8
    fmt = struct.pack("<HHIIHH", tag, ch, sr, sr * align, align, bits)
    n = len(payload) if declared is None else declared
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", n) + payload
    return b"RIFF" + struct.pack("<I", min(len(body), 2 ** 32 - 1)) + body


def npy_bytes(header: str, payload: bytes = b"", major: int = 1) -> bytes:
    h = header.encode("latin1")
    pad = (64 - (10 + len(h) + 1) % 64) % 64
    h = h + b" " * pad + b"\n"
    pre = b"\x93NUMPY" + bytes([major, 0]) + (struct.pack("<H", len(h)) if major == 1 else struct.pack("<I", len(h)))
    return pre + h + payload


def flac_bytes(x: np.ndarray, sr: int = 11025) -> bytes:
    import io

    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.asarray(x, dtype=np.float32), sr, format="FLAC", subtype="PCM_16")
    return buf.getvalue()


# ----------------------------------------------------------------------------- bases
def base(dest: Path, task) -> Path:
    """A valid submission for ``task``: silent FLAC estimates for every slot of every
    item (separation) or uniform scores (classification)."""
    dest = Path(dest)
    dest.mkdir(parents=True)
    spec = task.spec
    meta = {"name": "checklist", "model": "Checklist base", "authors": ["avbench"], "oracle": False,
            "extra_training_data": "none", "notes": "", "tasks": [
                {"name": spec.name, "version": spec.version, "inputs": [], "omitted_slots": "error"}]}
    (dest / "submission.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    tdir = dest / spec.name
    if spec.family == "separation":
        for item in task.items:
            n = item.clips[0].end - item.clips[0].start
            silent = flac_bytes(np.zeros(n), spec.sample_rate)
            d = tdir / "estimates" / item.id
            d.mkdir(parents=True)
            for s in spec.slots:
                (d / f"{s}.flac").write_bytes(silent)
    else:
        tdir.mkdir(parents=True)
        p = 1.0 / len(spec.classes)
        rows = ["item_id," + ",".join(spec.classes)] + [f"{i.id}," + ",".join(f"{p:.6f}" for _ in spec.classes)
                                                          for i in task.items]
        (tdir / "predictions.csv").write_text("\n".join(rows) + "\n")
    return dest


def _first(root: Path, task) -> tuple[Path, str, int]:
    item = task.items[0]
    return (root / task.spec.name / "estimates" / item.id, task.spec.slots[0],
            item.clips[0].end - item.clips[0].start)


def _slot(root: Path, task, name: str, data: bytes) -> None:
    """Replace the first item's first slot estimate by ``name`` (``{slot}`` filled in) holding ``data``."""
    d, s, _ = _first(root, task)
    (d / f"{s}.flac").unlink()
    (d / name.format(slot=s)).write_bytes(data)


def _n(task) -> int:
    i = task.items[0]
    return i.clips[0].end - i.clips[0].start


def edit_meta(root: Path, **changes) -> None:
    """Change ``submission.yaml`` of ``root``: top-level keys (``None`` removes one), and
    ``task_<key>`` in its first task."""
    m = yaml.safe_load((root / "submission.yaml").read_text())
    for k, v in changes.items():
        if k.startswith("task_"):
            m["tasks"][0][k[5:]] = v
        elif v is None:
            m.pop(k, None)
        else:
            m[k] = v
    (root / "submission.yaml").write_text(yaml.safe_dump(m, sort_keys=False, allow_unicode=True))


def _yaml_text(root: Path, text: str | bytes) -> None:
    p = root / "submission.yaml"
    p.write_bytes(text if isinstance(text, bytes) else text.encode())


def _yaml_replace(root: Path, old: str, new: str) -> None:
    p = root / "submission.yaml"
    t = p.read_text()
    assert old in t, old
    p.write_text(t.replace(old, new, 1))


def _csv(root: Path, task, edit: Callable[[list[list[str]]], list[list[str]]], raw: bytes | None = None) -> None:
    p = root / task.spec.name / "predictions.csv"
    if raw is not None:
        p.write_bytes(raw)
        return
    rows = [line.split(",") for line in p.read_text().splitlines()]
    p.write_text("\n".join(",".join(r) for r in edit(rows)) + "\n")


def _rm_tree(root: Path, _task) -> None:
    shutil.rmtree(root)


def _empty(root: Path, _task) -> None:
    shutil.rmtree(root)
    root.mkdir()


def _only_yaml(root: Path, task) -> None:
    shutil.rmtree(root / task.spec.name)


def _symlink(root: Path, _task) -> None:
    os.symlink("/etc/hostname", root / "notes.txt")


def _symlink_dir(root: Path, _task) -> None:
    os.symlink("/", root / "everything")


def _hardlink(root: Path, _task) -> None:
    outside = root.parent / f".{root.name}-outside"
    outside.write_bytes(b"shared")
    os.link(outside, root / "extra.bin")


def _fifo(root: Path, _task) -> None:
    os.mkfifo(root / "pipe")


def _socket(root: Path, _task) -> None:
    import socket

    s = socket.socket(socket.AF_UNIX)
    path = root / "sock"
    if len(str(path)) < 100:
        s.bind(str(path))
    else:  # too long for AF_UNIX: bind relative to the folder
        cwd = os.getcwd()
        os.chdir(root)
        try:
            s.bind("sock")
        finally:
            os.chdir(cwd)
    s.close()


def _device(root: Path, _task) -> None:
    os.mknod(root / "null", 0o600 | stat.S_IFCHR, os.makedev(1, 3))


def _case(root: Path, _task) -> None:
    (root / "README.txt").write_text("a")
    (root / "readme.txt").write_text("b")


def _unicode(root: Path, _task) -> None:
    (root / "caf\u00e9.txt").write_text("a")  # NFC
    (root / "cafe\u0301.txt").write_text("b")  # NFD


def _bad_name(root: Path, _task) -> None:
    with open(os.path.join(os.fsencode(root), b"bad-\xff.txt"), "wb") as f:
        f.write(b"x")


def _huge_file(root: Path, _task) -> None:
    from ..submission import FILE_CAP

    with open(root / "big.bin", "wb") as f:
        f.truncate(FILE_CAP + 1)  # sparse: nothing is written


def _huge_estimate(root: Path, task) -> None:
    from ..safeio import audio_cap

    d, s, n = _first(root, task)
    (d / f"{s}.flac").unlink()
    with open(d / f"{s}.wav", "wb") as f:
        f.truncate(audio_cap(n) + 1)


def _total(root: Path, _task) -> None:
    (root / "padding.bin").write_bytes(b"\0" * 4096)


def _dup_estimate(root: Path, task) -> None:
    d, s, n = _first(root, task)
    (d / f"{s}.wav").write_bytes(wav_bytes(np.zeros(n)))


def _missing_item(root: Path, task) -> None:
    shutil.rmtree(_first(root, task)[0])


def _unknown_item(root: Path, task) -> None:
    d = root / task.spec.name / "estimates" / "no-such-item" / "00"
    d.mkdir(parents=True)
    (d / "violin.wav").write_bytes(b"never read")


def _unknown_slot(root: Path, task) -> None:
    d, _, n = _first(root, task)
    (d / "kazoo.flac").write_bytes(flac_bytes(np.zeros(n)))


def _unknown_type(root: Path, task) -> None:
    d, _, _ = _first(root, task)
    (d / "violin.mp3").write_bytes(b"ID3")


def _missing_slot(root: Path, task) -> None:
    d, s, _ = _first(root, task)
    (d / f"{s}.flac").unlink()


def _no_estimates(root: Path, task) -> None:
    shutil.rmtree(root / task.spec.name / "estimates")
    (root / task.spec.name / "README.txt").write_text("outputs go here")


def _no_task_folder(root: Path, task) -> None:
    shutil.rmtree(root / task.spec.name)
    (root / "README.txt").write_text("outputs forgotten")


def _silent(root: Path, task) -> None:
    """All-zero estimates where the sources play (the base itself is silent: keep it)."""


def _identical(root: Path, task) -> None:
    """Every estimate is the reference itself."""
    from ..audio import write_wav

    for item in task.items:
        ref = task.reference(item)
        d = root / task.spec.name / "estimates" / item.id
        for k, s in enumerate(task.spec.slots):
            (d / f"{s}.flac").unlink()
            write_wav(d / f"{s}.wav", ref[k], task.spec.sample_rate)


def _npy_f8(x: np.ndarray) -> bytes:
    x = np.ascontiguousarray(x, dtype="<f8")
    return npy_bytes(f"{{'descr': '<f8', 'fortran_order': False, 'shape': ({x.shape[0]},), }}", x.tobytes())


def _overflow(root: Path, task) -> None:
    """A float64 estimate scaled by 1e200: its energy overflows (once dropped from the means)."""
    _slot(root, task, "{slot}.npy", _npy_f8(np.sin(np.arange(_n(task)) * 0.01) * 1e200))


def _underflow(root: Path, task) -> None:
    _slot(root, task, "{slot}.npy", _npy_f8(np.sin(np.arange(_n(task)) * 0.01) * 1e-200))


def _undefined(root: Path, task) -> None:
    """Nothing to build: validation refuses such files (AVB471); the test calls the
    scoring kernel on the reference scaled by 1e-200 (see stage ``kernel``)."""


def _changed_later(root: Path, task) -> None:
    """Nothing to build: the test changes a file after validation (see stage ``race``)."""


def _results_link(root: Path, _task) -> None:
    outside = root.parent / f".{root.name}-elsewhere"
    outside.mkdir()
    os.symlink(outside, root / "results")


def _csv_drop_item(rows):
    return rows[:1] + rows[2:]


def _csv_dup_item(rows):
    return rows + [rows[1]]


def _csv_unknown_item(rows):
    return rows + [["007"] + rows[1][1:]]


def _csv_cell(value: str):
    def edit(rows):
        rows[1][1] = value
        return rows
    return edit


def _csv_dup_col(rows):
    return [r + [r[1]] for r in rows]


def _csv_rename_col(rows):
    rows[0][1] = "kazoo"
    return rows


def _csv_ragged(rows):
    rows[2] = rows[2][:-1]
    return rows


def _csv_blank_lines(rows):
    return rows[:2] + [[""]] * 3 + rows[2:]


def _csv_long_line(rows):
    rows[2] = [rows[2][0] + "9" * 20000] + rows[2][1:]
    return rows


def _csv_no_id(rows):
    rows[0][0] = "id"
    return rows


def _fx() -> list[Fixture]:
    S, C = "separation", "classification"
    F = Fixture
    fx = [
        # folder and tree
        F("missing-folder", "missing submission folder", "AVB401", S, _rm_tree),
        F("missing-yaml", "submission.yaml missing", "AVB401", S, lambda r, t: (r / "submission.yaml").unlink()),
        F("empty-folder", "empty submission folder", "AVB406", S, _empty),
        F("yaml-only", "submission.yaml but no outputs", "AVB406", S, _only_yaml),
        F("symlink-file", "symbolic link to a file (never followed)", "AVB441", S, _symlink),
        F("symlink-dir", "symbolic link to a folder (never followed)", "AVB441", S, _symlink_dir),
        F("symlink-yaml", "submission.yaml is a symbolic link", "AVB441", S,
          lambda r, t: (os.rename(r / "submission.yaml", r.parent / f".{r.name}.yaml"),
                        os.symlink(r.parent / f".{r.name}.yaml", r / "submission.yaml"))),
        F("hard-link", "hard link (a file with two names)", "AVB442", S, _hardlink),
        F("fifo", "FIFO (never opened)", "AVB443", S, _fifo),
        F("socket", "Unix socket", "AVB443", S, _socket),
        F("device", "device file", "AVB443", S, _device, needs="root"),
        F("path-escape", "task path escaping the folder (../)", "AVB440", S,
          lambda r, t: edit_meta(r, task_path="../elsewhere")),
        F("path-absolute", "absolute task path", "AVB440", S, lambda r, t: edit_meta(r, task_path="/etc")),
        F("name-case", "names differing only by case", "AVB444", S, _case),
        F("name-unicode", "names differing only by Unicode normalisation (NFC/NFD)", "AVB444", S, _unicode),
        F("name-bytes", "file name that is not UTF-8", "AVB447", S, _bad_name),
        F("file-cap", "file over the size cap (sparse, never read)", "AVB445", S, _huge_file),
        F("estimate-cap", "estimate over the size its item implies (refused from its size: never read, hashed or decoded)", "AVB445", S, _huge_estimate),
        F("total-cap", "submission over the total size cap", "AVB446", S, _total,
          env={"AVBENCH_MAX_TOTAL_BYTES": "1000"}),
        # trust boundaries
        F("results-link", "results/ is a symbolic link (scoring would write through it)", "AVB470", S, _results_link),
        F("results-file", "results is a plain file", "AVB470", S, lambda r, t: (r / "results").write_text("x")),
        F("results-fifo", "results is a FIFO", "AVB470", S, lambda r, t: os.mkfifo(r / "results")),
        F("audio-overflow", "float64 estimate scaled by 1e200 (its energy overflows)", "AVB471", S, _overflow),
        F("changed-after-validation", "an estimate changed between validation and scoring", "AVB472", S,
          _changed_later, stage="race"),
        F("audio-underflow", "float64 estimate scaled by 1e-200 (its squares underflow)", "AVB471", S, _underflow),
        F("metric-undefined", "a metric NaN or -inf while scoring (a backstop: validated files cannot reach it; "
          "the fixture feeds the scoring kernel a reference scaled by 1e-200)", "AVB473", S, _undefined,
          stage="kernel"),
        # items and slots
        F("duplicate-estimate", "two estimates for one slot (.flac and .wav)", "AVB412", S, _dup_estimate),
        F("missing-item", "missing item", "AVB410", S, _missing_item),
        F("unknown-item", "unknown item folder (its files are not read)", "AVB411", S, _unknown_item),
        F("unknown-slot", "unknown instrument slot", "AVB413", S, _unknown_slot),
        F("unknown-type", "file type that is not WAV, FLAC or NPY", "AVB413", S, _unknown_type),
        F("missing-slot", "missing slot estimate", "AVB414", S, _missing_slot),
        F("no-estimates", "estimates folder missing", "AVB405", S, _no_estimates),
        F("no-task-folder", "task folder missing", "AVB405", S, _no_task_folder),
        F("task-twice", "task listed twice", "AVB412", S,
          lambda r, t: edit_meta(r, tasks=[copy.deepcopy(x) for x in yaml.safe_load((r / "submission.yaml").read_text())["tasks"] * 2])),
        # metadata
        F("yaml-tag", "YAML tag (!!python/object...)", "AVB402", S,
          lambda r, t: _yaml_replace(r, "notes: ''", "notes: !!python/object/apply:os.system ['true']")),
        F("yaml-std-tag", "explicit standard YAML tag (!!binary)", "AVB402", S,
          lambda r, t: _yaml_replace(r, "notes: ''", "notes: !!binary aGVsbG8=")),
        F("yaml-alias", "YAML anchors and aliases (billion laughs)", "AVB402", S,
          lambda r, t: _yaml_replace(r, "notes: ''", "notes: &a x\nextra_training_data: *a")),
        F("yaml-duplicate-key", "duplicate key", "AVB407", S,
          lambda r, t: _yaml_replace(r, "notes: ''", "notes: ''\nnotes: again")),
        F("yaml-unknown-key", "unknown key", "AVB403", S, lambda r, t: edit_meta(r, score=99.0)),
        F("yaml-wrong-type", "wrong type (a string for n_parameters)", "AVB403", S,
          lambda r, t: edit_meta(r, n_parameters="many")),
        F("yaml-version-int", "unquoted task version (an integer, not a string)", "AVB403", S,
          lambda r, t: _yaml_replace(r, "version: 1-mini", "version: 1")),
        F("yaml-bad-url", "URL that is not http(s) (javascript:...)", "AVB403", S,
          lambda r, t: edit_meta(r, paper_url="javascript:alert(1)")),
        F("yaml-bad-name", "name outside [a-z0-9._-]", "AVB403", S, lambda r, t: edit_meta(r, name="My Model!")),
        F("yaml-not-mapping", "top level is not a mapping", "AVB403", S, lambda r, t: _yaml_text(r, "- a\n- b\n")),
        F("yaml-empty-field", "empty required field", "AVB408", S, lambda r, t: edit_meta(r, model="  ")),
        F("yaml-missing-field", "missing required field", "AVB408", S, lambda r, t: edit_meta(r, model=None)),
        F("yaml-no-tasks", "empty task list", "AVB408", S, lambda r, t: edit_meta(r, tasks=[])),
        F("yaml-long-text", "over-long text", "AVB409", S, lambda r, t: edit_meta(r, notes="x" * 5000)),
        F("yaml-control-char", "control character in text", "AVB409", S, lambda r, t: edit_meta(r, model="a\x1b[2Jb")),
        F("yaml-bidi", "Unicode direction override in text", "AVB409", S, lambda r, t: edit_meta(r, model="a\u202eb")),
        F("yaml-syntax", "YAML syntax error", "AVB415", S, lambda r, t: _yaml_text(r, "name: [unclosed\n")),
        F("yaml-not-utf8", "submission.yaml not UTF-8", "AVB415", S, lambda r, t: _yaml_text(r, b"name: \xff\xfe\n")),
        F("yaml-cap", "submission.yaml over its size cap", "AVB445", S,
          lambda r, t: _yaml_text(r, "# " + "x" * (70 << 10) + "\n")),
        F("avbench-version", "declared avbench version not the running one", "AVB417", S,
          lambda r, t: edit_meta(r, avbench_version="0.0.1")),
        F("task-version", "declared task version not offered by this avbench", "AVB416", S,
          lambda r, t: edit_meta(r, task_version="99")),
        F("unknown-task", "unknown task", "AVB404", S, lambda r, t: edit_meta(r, task_name="no-such-task")),
        F("unknown-input", "input the task does not offer", "AVB404", S, lambda r, t: edit_meta(r, task_inputs=["lyrics"])),
        # audio
        F("audio-empty-file", "empty audio file (0 bytes)", "AVB425", S, lambda r, t: _slot(r, t, "{slot}.wav", b"")),
        F("audio-no-samples", "WAV with no samples", "AVB425", S, lambda r, t: _slot(r, t, "{slot}.wav", wav_bytes())),
        F("audio-truncated", "truncated WAV (header declares more)", "AVB426", S,
          lambda r, t: _slot(r, t, "{slot}.wav", wav_bytes(np.zeros(_n(t)))[:-1000])),
        F("audio-truncated-flac", "truncated FLAC", "AVB426", S,
          lambda r, t: _slot(r, t, "{slot}.flac", flac_bytes(np.sin(np.arange(_n(t)) * 0.1) * 0.5)[:3000])),
        F("audio-not-audio", "text behind a .wav name", "AVB420", S,
          lambda r, t: _slot(r, t, "{slot}.wav", b"this is not audio\n" * 10)),
        F("audio-wrong-format", "FLAC bytes behind a .wav name", "AVB420", S,
          lambda r, t: _slot(r, t, "{slot}.wav", flac_bytes(np.zeros(_n(t))))),
        F("audio-subtype", "unsupported sample format (mu-law)", "AVB427", S,
          lambda r, t: _slot(r, t, "{slot}.wav", wav_bytes(tag=7, bits=8, payload=b"\0" * _n(t)))),
        F("audio-huge-header", "header claiming a huge length", "AVB428", S,
          lambda r, t: _slot(r, t, "{slot}.wav", wav_bytes(payload=b"\0" * 64, declared=2 ** 32 - 8))),
        F("audio-sample-rate", "wrong sample rate", "AVB421", S,
          lambda r, t: _slot(r, t, "{slot}.wav", wav_bytes(np.zeros(_n(t)), sr=44100))),
        F("audio-stereo", "wrong channel count", "AVB423", S,
          lambda r, t: _slot(r, t, "{slot}.wav", wav_bytes(np.zeros(2 * _n(t)), ch=2))),
        F("audio-length", "wrong length", "AVB422", S,
          lambda r, t: _slot(r, t, "{slot}.wav", wav_bytes(np.zeros(_n(t) - 1)))),
        F("audio-nan", "NaN or inf samples", "AVB424", S,
          lambda r, t: _slot(r, t, "{slot}.wav", wav_bytes(np.r_[np.nan, np.zeros(_n(t) - 1)]))),
        F("audio-far-outside", "far outside [-1, 1] (warning)", "AVB450", S,
          lambda r, t: _slot(r, t, "{slot}.wav", wav_bytes(np.full(_n(t), 100.0)))),
        F("audio-silent", "silent estimate where the source plays (defined score, warning)", "AVB451", S,
          _silent, stage="score"),
        F("audio-identical", "estimate identical to the reference (protocol 1: warning, capped score)", "AVB452", S,
          _identical, stage="score"),
        F("audio-copy", "estimate identical to the reference under protocol 2 (refused, never capped into a mean)",
          "AVB474", S, _identical, stage="score", task="synth-ensembles-separation@2-mini"),
        F("decoder-timeout", "decoder over its wall-clock limit", "AVB429", S, lambda r, t: None,
          env={"AVBENCH_DECODE_TIMEOUT": "0.0001"}),
        # NPY
        F("npy-pickle", "NPY holding pickled objects", "AVB461", S,
          lambda r, t: _slot(r, t, "{slot}.npy", npy_bytes(f"{{'descr': '|O', 'fortran_order': False, 'shape': ({_n(t)},), }}", b"\x80\x04N."))),
        F("npy-huge-header", "NPY with a huge declared header", "AVB462", S,
          lambda r, t: _slot(r, t, "{slot}.npy", b"\x93NUMPY\x02\x00" + struct.pack("<I", 2 ** 31) + b"{")),
        F("npy-bad-header", "NPY header that is not a literal dict", "AVB462", S,
          lambda r, t: _slot(r, t, "{slot}.npy", npy_bytes("__import__('os').system('true')"))),
        F("npy-huge-shape", "NPY with a huge declared shape", "AVB464", S,
          lambda r, t: _slot(r, t, "{slot}.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000000,), }"))),
        F("npy-2d", "NPY that is not one-dimensional", "AVB464", S,
          lambda r, t: _slot(r, t, "{slot}.npy", npy_bytes(f"{{'descr': '<f4', 'fortran_order': False, 'shape': (1, {_n(t)}), }}", b"\0" * 4 * _n(t)))),
        F("npy-dtype", "NPY of an unsupported dtype (complex64)", "AVB463", S,
          lambda r, t: _slot(r, t, "{slot}.npy", npy_bytes(f"{{'descr': '<c8', 'fortran_order': False, 'shape': ({_n(t)},), }}", b"\0" * 8 * _n(t)))),
        F("npy-big-endian", "NPY big-endian float", "AVB463", S,
          lambda r, t: _slot(r, t, "{slot}.npy", npy_bytes(f"{{'descr': '>f4', 'fortran_order': False, 'shape': ({_n(t)},), }}", b"\0" * 4 * _n(t)))),
        F("npy-payload", "NPY payload size mismatch", "AVB465", S,
          lambda r, t: _slot(r, t, "{slot}.npy", npy_bytes(f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({_n(t)},), }}", b"\0" * 100))),
        F("npy-other-format", "WAV bytes behind a .npy name", "AVB460", S,
          lambda r, t: _slot(r, t, "{slot}.npy", wav_bytes(np.zeros(_n(t))))),
        # CSV predictions
        F("csv-missing", "predictions.csv missing", "AVB430", C,
          lambda r, t: (r / t.spec.name / "predictions.csv").rename(r / t.spec.name / "predictions.txt")),
        F("csv-empty", "empty predictions.csv", "AVB430", C, lambda r, t: _csv(r, t, None, raw=b"")),
        F("csv-nul", "NUL byte in predictions.csv", "AVB430", C,
          lambda r, t: _csv(r, t, None, raw=(r / t.spec.name / "predictions.csv").read_bytes() + b"x\0y\n")),
        F("csv-not-utf8", "not UTF-8", "AVB433", C,
          lambda r, t: _csv(r, t, None, raw=(r / t.spec.name / "predictions.csv").read_bytes().replace(b"item_id", b"item_\xe9d", 1))),
        F("csv-no-id-column", "wrong header: no item_id column", "AVB431", C, lambda r, t: _csv(r, t, _csv_no_id)),
        F("csv-unknown-class", "unknown class name in the header (and so a missing one)", "AVB431", C,
          lambda r, t: _csv(r, t, _csv_rename_col)),
        F("csv-dup-column", "duplicated header column", "AVB434", C, lambda r, t: _csv(r, t, _csv_dup_col)),
        F("csv-missing-id", "missing item id", "AVB410", C, lambda r, t: _csv(r, t, _csv_drop_item)),
        F("csv-dup-id", "duplicate item id", "AVB412", C, lambda r, t: _csv(r, t, _csv_dup_item)),
        F("csv-unknown-id", "unknown item id (read as a string: 007 stays 007)", "AVB411", C,
          lambda r, t: _csv(r, t, _csv_unknown_item)),
        F("csv-empty-cell", "empty score cell", "AVB435", C, lambda r, t: _csv(r, t, _csv_cell(""))),
        F("csv-non-numeric", "non-numeric score", "AVB432", C, lambda r, t: _csv(r, t, _csv_cell("high"))),
        F("csv-nan", "NaN score", "AVB432", C, lambda r, t: _csv(r, t, _csv_cell("nan"))),
        F("csv-overflow", "score overflowing to inf", "AVB432", C, lambda r, t: _csv(r, t, _csv_cell("1e999"))),
        F("csv-negative", "negative score", "AVB436", C, lambda r, t: _csv(r, t, _csv_cell("-0.5"))),
        F("csv-ragged", "ragged row", "AVB437", C, lambda r, t: _csv(r, t, _csv_ragged)),
        F("csv-blank-lines", "blank lines between rows", "AVB438", C, lambda r, t: _csv(r, t, _csv_blank_lines)),
        F("csv-long-line", "a line longer than any valid row", "AVB439", C, lambda r, t: _csv(r, t, _csv_long_line)),
    ]
    return fx


FIXTURES: list[Fixture] = _fx()
BY_ID = {f.id: f for f in FIXTURES}


def make(fixture: Fixture, dest: Path, task) -> Path:
    """Build ``fixture`` at ``dest`` (a fresh path) from a valid base; returns ``dest``."""
    base(dest, task)
    fixture.build(Path(dest), task)
    return Path(dest)


def markdown() -> str:
    """The checklist table of ``docs/validation.md``."""
    from ..errors import CODES

    lines = ["| Checklist item | Code | Severity | Meaning | Fixture |", "|---|---|---|---|---|"]
    for f in FIXTURES:
        sev, meaning = CODES[f.code]
        lines.append(f"| {f.item} | `{f.code}` | {sev} | {meaning} | `{f.id}` ({f.task or f.family}"
                     + {"score": ", scoring", "race": ", changed while scoring", "kernel": ", scoring backstop"}.get(f.stage, "") + ") |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(markdown(), end="")
