"""Loaders for the real datasets: resolve a frozen manifest against a user's local copy
in the dataset's native layout, verify it, load it as a Hugging Face ``DatasetDict`` and
prepare the cached form tasks read.

    verify("urmp", "/data/URMP/Dataset")          -> every missing / corrupt file
    load("solos", "/data/Solos")                  -> DatasetDict (audio as Audio(decode=False))
    prepare("music", "/data/MUSIC", "object-prior") -> AVBENCH_HOME/data/music/object-prior

Audio is decoded by avbench (:func:`avbench.audio.decode`: soundfile for audio files,
PyAV for video containers) and resampled on the fly; frames come from the videos (PyAV)
or from extracted frame folders (:func:`avbench.video.read_frames`).
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import audio as au
from ..config import data_dir, home
from ..errors import DataError
from ..files import atomic_write
from . import manifest as mf

VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm")


@dataclass(frozen=True)
class DatasetInfo:
    """One real dataset: what the loaders, the cards and the manifest builder read."""

    name: str
    title: str
    default_version: str
    card: str
    audio_rate: int | None = None     #: the native audio rate every file must have (None: any)
    #: ``module:function`` under :mod:`avbench.data` that builds its shipped manifests from
    #: the public lists (``python -m avbench.data.build_manifests``); None: none shipped
    builder: str | None = None
    #: the source lists (under ``avbench/data/sources``) its manifests are built from
    inputs: tuple[str, ...] = ()


_OVERLAPS = "cross_dataset_overlaps.csv"
DATASETS: dict[str, DatasetInfo] = {
    "urmp": DatasetInfo("urmp", "URMP", "1", "urmp.md", 48000, "urmp:build",
                        ("urmp/pieces.csv", "urmp/tracks.csv", "urmp/shared_takes.csv")),
    "solos": DatasetInfo("solos", "Solos", "1", "solos.md", None, "solos:build",
                         ("solos/solos_ids.json", "solos/solos_timestamps.json", _OVERLAPS)),
    "music": DatasetInfo("music", "MUSIC / MUSIC-21", "object-prior", "music.md", None, "music:build",
                         ("music/MUSIC_solo_videos.json", "music/MUSIC21_solo_videos.json",
                          "music/MUSIC_duet_videos.json", _OVERLAPS)),
    "audioset": DatasetInfo("audioset", "AudioSet instruments (reconstruction)", "recon-1", "audioset.md",
                            inputs=("audioset/ontology.json",)),
    "fcvid": DatasetInfo("fcvid", "FCVID musical performance", "icmr2017", "fcvid.md", None, "icmr:build_fcvid",
                         ("fcvid/fcvid_dataset.csv", "fcvid/classes.csv", _OVERLAPS)),
    "yt8m": DatasetInfo("yt8m", "YouTube-8M musical instruments", "icmr2017", "yt8m.md", None, "icmr:build_yt8m",
                        ("yt8m/yt8m_dataset.csv", "yt8m/classes.csv", _OVERLAPS)),
}


def info(name: str) -> DatasetInfo:
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}", fix=f"use one of: synth-ensembles, {', '.join(DATASETS)}")
    return DATASETS[name]


def manifest_root(name: str, version: str) -> Path:
    """Shipped manifests, or the user's derived ones (AudioSet) under ``AVBENCH_HOME``."""
    if (mf.MANIFESTS / name / version / "index.json").exists():
        return mf.MANIFESTS
    user = home() / "manifests"
    if (user / name / version / "index.json").exists():
        return user
    if name == "audioset":
        raise DataError(f"the {name}@{version} items have not been derived yet", path=user / name / version,
                        fix="run `avbench data derive audioset --eval eval_segments.csv --train "
                            "balanced_train_segments.csv [unbalanced_train_segments.csv]` with the official CSVs")
    mf.index(name, version)  # raises with the available versions
    return mf.MANIFESTS


def rows(name: str, version: str | None = None, split: str | None = None) -> list[mf.Row]:
    version = version or info(name).default_version
    return mf.read(name, version, split, root=manifest_root(name, version))


def manifest_sha256(name: str, version: str) -> str:
    return mf.manifest_sha256(name, version, root=manifest_root(name, version))


# ----------------------------------------------------------------------------- resolving
def _kind(role: str) -> str:
    if role in ("mix", "audio") or role.startswith("stem/"):
        return "audio"
    if role == "video":
        return "video"
    if role == "frames":
        return "frames"
    return "text"


def _find(root: Path, rel: str, role: str) -> Path | None:
    p = root / rel
    if p.exists():
        return p
    if role == "video":
        for s in VIDEO_SUFFIXES:
            q = p.with_suffix(s)
            if q.exists():
                return q
    if role.startswith("stem/"):
        # URMP: a part whose files carry another instrument code (piece 15's trombone)
        name = Path(rel).name
        head, part, _abbr, rest = name.split("_", 3)
        hits = sorted(p.parent.glob(f"{head}_{part}_*_{rest}"))
        if len(hits) == 1:
            return hits[0]
    return None


def resolve(row: mf.Row, root: str | Path) -> tuple[dict[str, Path], list[str]]:
    """Paths of a row's files under ``root`` (the native layout, else the alternative one)
    and the relative paths that are missing."""
    root = Path(root)

    def look(files: dict[str, str]) -> tuple[dict[str, Path], list[str]]:
        found, missing = {}, []
        for role, rel in files.items():
            p = _find(root, rel, role)
            if p is None:
                missing.append(rel)
            else:
                found[role] = p
        return found, missing

    found, missing = look(row.files)
    if missing and row.alt_files:
        alt, alt_missing = look(row.alt_files)
        # report against the layout the copy follows (the one with more of its files present)
        if len(alt) > len(found):
            return alt, alt_missing
    return found, missing


_PROBE: dict[tuple, str | None] = {}


def check_file(path: Path, kind: str, sample_rate: int | None = None) -> str | None:
    """Why a file cannot be used (``None`` when it can).  Video probes are cached by inode."""
    st = path.stat()
    key = (kind, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, sample_rate)
    if key in _PROBE:
        return _PROBE[key]
    why = None
    try:
        if st.st_size == 0:
            why = "empty file"
        elif kind == "audio":
            if path.suffix.lower() == ".wav":
                why = au.wav_truncated(path)
            if why is None and path.suffix.lower() in au.SOUNDFILE_SUFFIXES:
                i = au.info(path)
                if sample_rate is not None and i.samplerate != sample_rate:
                    why = f"sample rate {i.samplerate} Hz, expected {sample_rate} Hz"
                elif i.frames == 0:
                    why = "no samples"
                else:
                    why = _tail_readable(path, i.frames)
            elif why is None:
                why = _probe_video(path, need_audio=True)
        elif kind == "video":
            why = _probe_video(path)
        elif kind == "frames":
            if not any(p.suffix.lower() in (".jpg", ".jpeg", ".png") for p in path.iterdir()):
                why = "frame folder holds no images"
        else:
            lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
            if not lines:
                why = "no annotation lines"
            else:
                [float(v) for ln in lines for v in ln.split()]
    except Exception as e:  # noqa: BLE001 - any decoder failure means a corrupt file
        why = f"cannot be read ({type(e).__name__}: {str(e)[:120]})"
    _PROBE[key] = why
    return why


def _tail_readable(path: Path, n_frames: int, tail: int = 2048) -> str | None:
    """Decode the last samples a file declares (catches truncated compressed audio)."""
    import soundfile as sf

    with sf.SoundFile(str(path)) as f:
        f.seek(max(0, n_frames - tail))
        got = len(f.read(tail))
    want = min(tail, n_frames)
    return None if got >= want else f"declares {n_frames} samples but the last ones cannot be decoded (truncated)"


def _probe_video(path: Path, need_audio: bool = False) -> str | None:
    import av

    with av.open(str(path)) as c:
        if need_audio and not c.streams.audio:
            return "no audio stream"
        if not c.streams.video and not need_audio:
            return "no video stream"
        st = c.streams.video[0] if c.streams.video else c.streams.audio[0]
        got = next(iter(c.decode(st)), None)
        if got is None:
            return "no decodable frame"
        if c.duration and c.duration > 2_000_000:  # decode near the end too: catches truncated files
            c.seek(int(c.duration - 1_000_000), any_frame=False)
            if next(iter(c.decode(st)), None) is None:
                return "cannot decode the last second (truncated?)"
    return None


@dataclass
class FileProblem:
    path: str
    problem: str
    items: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        its = ", ".join(self.items[:5]) + (f" (+{len(self.items) - 5} more)" if len(self.items) > 5 else "")
        return f"{self.problem}: {self.path} (item{'s' if len(self.items) > 1 else ''} {its})"


def verify(name: str, root: str | Path, version: str | None = None, splits: list[str] | None = None) -> list[FileProblem]:
    """Every missing or unusable file of a local copy, with the items each one affects (the
    copy against its manifest; :func:`avbench.tasks.real.verify_copy` adds what the pinned
    task items need)."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root} is not a folder", path=root, fix=f"pass --root the top folder of your {info(name).title} copy")
    version = version or info(name).default_version
    sr = info(name).audio_rate
    problems: dict[str, FileProblem] = {}
    for r in _rows_of(name, version, splits):
        found, missing = resolve(r, root)
        for rel in missing:
            problems.setdefault(rel, FileProblem(rel, "missing")).items.append(r.id)
        for role, p in found.items():
            why = check_file(p, _kind(role), sr if _kind(role) == "audio" else None)
            if why:
                rel = str(p.relative_to(root))
                problems.setdefault(rel, FileProblem(rel, f"corrupt ({why})")).items.append(r.id)
    return sorted(problems.values(), key=lambda p: p.path)


def _rows_of(name: str, version: str, splits: list[str] | None) -> list[mf.Row]:
    if not splits:
        return rows(name, version)
    out = []
    for s in splits:
        out += rows(name, version, s)
    return out


# ----------------------------------------------------------------------------- loading
def load(name: str, root: str | Path, version: str | None = None, splits: list[str] | None = None,
         missing: str = "error"):
    """The dataset as a ``DatasetDict`` with one split per manifest split.

    Columns: ``id, labels, native_labels, source_id, group, start, end`` (seconds, ``None``
    for whole recordings), ``audio`` (``Audio(decode=False)``: the mixture, the audio file
    or the video container carrying the sound), ``stems`` (list of ``Audio(decode=False)``,
    URMP), ``stem_labels``, ``video`` and ``frames`` (paths, ``""`` when absent),
    ``annotations`` (paths) and ``extra`` (JSON).  Decode with :func:`decode_audio` and
    :func:`decode_frames`.  ``missing="skip"`` drops items with missing files instead of
    raising.
    """
    from datasets import Audio, Dataset, DatasetDict, List

    root = Path(root)
    if not root.is_dir():  # the same error as `avbench data verify`
        raise DataError(f"{root} is not a folder", path=root, fix=f"pass the top folder of your {info(name).title} copy")
    version = version or info(name).default_version
    by_split: dict[str, list[dict]] = {}
    lost = []
    for r in _rows_of(name, version, splits):
        found, miss = resolve(r, root)
        if miss:
            lost.append((r.id, miss[0]))
            continue
        stems = sorted((k for k in found if k.startswith("stem/")), key=lambda k: int(k.split("/")[1]))
        parts = {p["part"]: p["instrument"] for p in r.extra.get("parts", [])}
        sound = found.get("mix") or found.get("audio") or found.get("video")
        by_split.setdefault(r.split, []).append({
            "id": r.id, "labels": r.labels, "native_labels": r.native_labels, "source_id": r.source_id,
            "group": r.group, "start": r.start, "end": r.end, "audio": str(sound) if sound else "",
            "stems": [str(found[k]) for k in stems], "stem_labels": [parts[int(k.split("/")[1])] for k in stems],
            "video": str(found["video"]) if "video" in found else "",
            "frames": str(found["frames"]) if "frames" in found else "",
            "annotations": [str(found[k]) for k in sorted(found) if _kind(k) == "text"],
            "extra": json.dumps(r.extra, sort_keys=True),
        })
    if lost and missing == "error":
        raise DataError(f"{len(lost)} item(s) of {name}@{version} have missing files, e.g. {lost[0][1]} (item {lost[0][0]})",
                        path=root, fix=f"run `avbench data verify {name} --root {root}` for the full list, "
                                       "or load with missing='skip'")
    dd = {}
    for s, items in sorted(by_split.items()):
        ds = Dataset.from_list(items)
        ds = ds.cast_column("audio", Audio(decode=False))
        ds = ds.cast_column("stems", List(Audio(decode=False)))
        dd[s] = ds
    return DatasetDict(dd)


def decode_audio(path: str | Path | dict, sample_rate: int | None = None, start: float | None = None,
                 end: float | None = None) -> np.ndarray:
    """Mono float32 audio of a loaded item (``Audio(decode=False)`` dicts accepted),
    resampled to ``sample_rate``.  Shape: ``(n_samples,)``."""
    if isinstance(path, dict):
        path = path["path"]
    return au.decode(path, sample_rate, start, end)[0]


def decode_frames(path: str | Path, fps: float = 8.0, size: int = 224, start: float = 0.0,
                  end: float | None = None) -> np.ndarray:
    from ..video import read_frames

    return read_frames(path, fps, size, start, end)


# ----------------------------------------------------------------------------- preparing
def prepared_dir(name: str, version: str) -> Path:
    return data_dir(name, version)


def read_prepared(name: str, version: str, root: Path | None = None) -> dict:
    d = Path(root) if root is not None else prepared_dir(name, version)
    p = d / "prepared.json"
    if not p.exists():
        raise DataError(f"{name}@{version} has not been prepared", path=p,
                        fix=f"run `avbench data prepare {name} --root YOUR_COPY --version {version}`")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise DataError(f"{name}@{version}: prepared.json cannot be read ({type(e).__name__})", path=p,
                        fix=f"prepare it again: `avbench data prepare {name} --root YOUR_COPY --version {version}`") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("settings"), dict) or not isinstance(doc.get("items"), dict):
        raise DataError(f"{name}@{version}: prepared.json is not a prepared copy's record", path=p,
                        fix=f"prepare it again: `avbench data prepare {name} --root YOUR_COPY --version {version}`")
    return doc


def _safe(item_id: str) -> str:
    return item_id.replace("/", "__")


def _prepare_one(args) -> tuple[str, dict]:
    r, found, out, sr, fps, size = args
    r = mf.Row.model_validate_json(r)
    found = {k: Path(v) for k, v in found.items()}
    out = Path(out)
    rec: dict = {}
    base = f"audio/{_safe(r.id)}"
    if any(k.startswith("stem/") for k in found):
        by_inst: dict[str, np.ndarray] = {}
        for p in r.extra.get("parts", []):
            x = au.decode(found[f"stem/{p['part']}"], sr)[0].astype(np.float64)
            cur = by_inst.get(p["instrument"])
            if cur is None:
                by_inst[p["instrument"]] = x
            else:
                n = max(len(cur), len(x))
                by_inst[p["instrument"]] = np.pad(cur, (0, n - len(cur))) + np.pad(x, (0, n - len(x)))
        n = min(len(v) for v in by_inst.values())
        rec["stems"] = {}
        for inst, x in by_inst.items():
            rel = f"{base}/{inst}.wav"
            au.write_wav(out / rel, x[:n].astype(np.float32), sr)
            rec["stems"][inst] = rel
        rec["n_samples"] = n
    sound = found.get("mix") or found.get("audio") or found.get("video")
    if sound is not None:
        x = au.decode(sound, sr, r.start, r.end)[0]
        rel = f"{base}/{'mix' if 'mix' in found else 'audio'}.wav"
        au.write_wav(out / rel, x, sr)
        rec["audio"] = rel
        rec.setdefault("n_samples", len(x))
    vid = found.get("video") or found.get("frames")
    if vid is not None and fps:
        from ..video import read_frames
        from PIL import Image

        fr = read_frames(vid, fps, size, r.start or 0.0, r.end)
        d = out / "frames" / _safe(r.id)
        tmp = d.with_name(d.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for k, f in enumerate(fr):
            Image.fromarray(f).save(tmp / f"{k + 1:06d}.jpg", quality=90)
        shutil.rmtree(d, ignore_errors=True)
        os.replace(tmp, d)
        rec["frames"] = f"frames/{_safe(r.id)}"
        rec["n_frames"] = int(len(fr))
    return r.id, rec


def prepare(name: str, root: str | Path, version: str | None = None, splits: list[str] | None = None,
            out: str | Path | None = None, sample_rate: int = 11025, fps: float = 8.0, size: int = 224,
            workers: int = 1, progress: bool = True) -> Path:
    """Turn a local copy into the cached form tasks read: mono audio at ``sample_rate``
    (URMP: one stem per instrument, same-instrument parts summed), the item's stretch only,
    and JPEG frames at ``fps``.  Resumable: items already prepared with the same settings
    are skipped.  Items with missing or corrupt files are refused up front."""
    from concurrent.futures import ProcessPoolExecutor

    from ..progress import bar as tqdm

    root = Path(root)
    version = version or info(name).default_version
    out = Path(out) if out is not None else prepared_dir(name, version)
    probs = verify(name, root, version, splits)
    if probs:
        raise DataError(f"{len(probs)} missing or corrupt file(s), first: {probs[0]}", path=root,
                        fix=f"run `avbench data verify {name} --root {root}` and fix or restrict --split")
    settings = {"sample_rate": sample_rate, "fps": fps, "size": size}
    state_p = out / "prepared.json"
    state = json.loads(state_p.read_text()) if state_p.exists() else {}
    if state.get("settings") != settings or state.get("manifest_sha256") != manifest_sha256(name, version):
        state = {"dataset": name, "version": version, "manifest_sha256": manifest_sha256(name, version),
                 "settings": settings, "items": {}}
    state["root"] = str(root)
    pending = []
    for r in _rows_of(name, version, splits):
        if r.id in state["items"]:
            continue
        found, _ = resolve(r, root)
        pending.append((r.model_dump_json(), {k: str(v) for k, v in found.items()}, str(out), sample_rate, fps, size))
    out.mkdir(parents=True, exist_ok=True)

    def save():
        atomic_write(state_p, json.dumps(state, indent=1, sort_keys=True))

    bar = tqdm(total=len(pending), desc=f"prepare {name}@{version}", unit="item", disable=not progress)
    if workers > 1 and len(pending) > 1:
        with ProcessPoolExecutor(workers) as ex:
            for k, (iid, rec) in enumerate(ex.map(_prepare_one, pending, chunksize=4)):
                state["items"][iid] = rec
                bar.update()
                if k % 50 == 49:
                    save()
    else:
        for k, a in enumerate(pending):
            iid, rec = _prepare_one(a)
            state["items"][iid] = rec
            bar.update()
            if k % 50 == 49:
                save()
    bar.close()
    save()
    return out


# ----------------------------------------------------------------------------- hub
MEDIA_COLUMNS = ("audio", "stems", "video", "frames")


def hub_payload(name: str, version: str | None = None):
    """What ``push`` uploads: the manifest rows and derived labels only, never media or
    media paths.  Returns a ``DatasetDict``."""
    from datasets import Dataset, DatasetDict

    version = version or info(name).default_version
    dd = {}
    for s in mf.index(name, version, manifest_root(name, version))["splits"]:
        dd[s] = Dataset.from_list([{
            "id": r.id, "labels": r.labels, "native_labels": r.native_labels, "source_id": r.source_id,
            "group": r.group, "start": r.start, "end": r.end, "extra": json.dumps(r.extra, sort_keys=True),
        } for r in rows(name, version, s)])
    return DatasetDict(dd)


def push(name: str, repo_id: str, version: str | None = None, token: str | None = None, private: bool = False) -> str:
    """Upload the manifests and labels of a dataset version to the Hugging Face Hub (the
    one command of avbench that uses the network, and only when asked)."""
    version = version or info(name).default_version
    dd = hub_payload(name, version)
    for s, ds in dd.items():
        bad = [c for c in ds.column_names if c in MEDIA_COLUMNS]
        assert not bad, f"media columns {bad} must never be pushed"
    dd.push_to_hub(repo_id, config_name=version.replace(".", "-"), token=token, private=private,
                   commit_message=f"avbench {name}@{version} manifest sha256 {manifest_sha256(name, version)}")
    return repo_id
