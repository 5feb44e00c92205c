"""Generation of a data version (deterministic; the manifest records every file's sha256) and its loading."""
from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import shutil
from dataclasses import asdict, replace
from pathlib import Path


from ... import audio as au
from ...config import data_dir
from ...errors import DataError
from .config import GENERATOR_VERSIONS, NAME, RENDER_RATE, Config, config_for, config_name, generation
from .corpus import parse_work, plan, select_works
from .render import _render_recording_v1, instrument_gains, soundfont_path, sounding_keys
from .timbres import _render_recording_v2, timbre_tables

def _render_recording(args) -> dict:
    cfg = args[0]
    if generation(cfg) == 2:
        return _render_recording_v2(args)
    return _render_recording_v1(args)


def _sources_meta(cfg: Config) -> dict:
    if generation(cfg) == 1:
        return {"soundfont": "TimGM6mb.sf2", "soundfont_sha256": au.sha256_file(soundfont_path())}
    from . import soundfonts

    return {"soundfonts": {fid: {"file": f.file, "sha256": f.sha256} for fid, f in soundfonts.FONTS.items()},
            "timbre_table_sha256": hashlib.sha256(soundfonts.TABLE.read_bytes()).hexdigest()}


def _pool(workers: int):
    ctx = mp.get_context("fork") if hasattr(os, "fork") else mp.get_context()
    return ctx.Pool(workers)


def library_versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for pkg in ("music21", "pretty_midi", "tinysoundfont", "numpy", "scipy"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "missing"
    return out


def generate(config: str = "mini", root: str | Path | None = None, workers: int | None = None,
             force: bool = False, progress: bool = True, sample_rate: int | None = None) -> Path:
    """Generate a configuration into ``root`` (default ``$AVBENCH_HOME/data/synth-ensembles/<version>``).

    Returns the root.  Skips the work when a complete copy is already there (``force``
    regenerates).  Resumable: an interrupted run leaves no ``dataset.json`` and
    restarts cleanly.  ``sample_rate`` (e.g. 44100, the rendering rate) stores the audio
    at another rate under the version ``<version>-<rate>``: same works, notes and
    splits, recordings of the same duration; the built-in tasks use 11025 Hz.
    """
    from ...progress import bar as tqdm

    cfg = config_for(config)
    if sample_rate is not None and sample_rate != cfg.sample_rate:
        if RENDER_RATE % sample_rate and sample_rate % 11025:
            raise DataError(f"unsupported sample rate {sample_rate}", fix="use a multiple of 11025 Hz up to 44100")
        cfg = replace(cfg, sample_rate=int(sample_rate), version=f"{cfg.version}-{int(sample_rate)}")
    root = Path(root) if root is not None else data_dir(NAME, cfg.version)
    if (root / "dataset.json").exists() and not force:
        return root
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    workers = workers or max(1, min(os.cpu_count() or 1, 8))
    if generation(cfg) == 2:
        from . import soundfonts

        problems = soundfonts.missing_fonts()
        if problems:
            raise problems[0]
        timbre_tables()  # fonts loaded, sounding keys and gains computed before forking
    else:
        sounding_keys(), instrument_gains()  # computed before forking, shared by workers
    candidates = select_works(cfg)
    with _pool(workers) as pool:
        it = pool.imap(parse_work, candidates, chunksize=2)
        parsed_all = list(tqdm(it, total=len(candidates), desc=f"generate {NAME} {cfg.version}: parse scores", disable=not progress, unit="work"))
    parsed = [p for p in parsed_all if p is not None]
    plans = plan(cfg, parsed)
    by_work = {p["work"]: p["parts"] for p in parsed}
    jobs = [(cfg, r, by_work[r.work], str(root)) for r in plans]
    with _pool(workers) as pool:
        rows = list(tqdm(pool.imap(_render_recording, jobs, chunksize=1), total=len(jobs), desc=f"generate {NAME} {cfg.version}: render",
                         disable=not progress, unit="rec"))
    rows.sort(key=lambda r: ({"train": 0, "val": 1, "test": 2}[r["split"]], r["id"]))
    manifest = "".join(json.dumps(r, sort_keys=True, separators=(",", ":")) + "\n" for r in rows)
    (root / "manifest.jsonl").write_text(manifest)
    meta = {
        "name": NAME,
        "version": cfg.version,
        "generator_version": GENERATOR_VERSIONS[generation(cfg)],
        "config": asdict(cfg),
        "manifest_sha256": hashlib.sha256(manifest.encode()).hexdigest(),
        **_sources_meta(cfg),
        "libraries": library_versions(),
        "counts": _counts(rows),
    }
    tmp = root / "dataset.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, root / "dataset.json")
    card = Path(__file__).parents[1] / "cards" / "synth-ensembles.md"
    if card.exists():
        shutil.copyfile(card, root / "README.md")
    return root


def _counts(rows: list[dict]) -> dict:
    out: dict = {}
    for r in rows:
        d = out.setdefault(r["split"], {"ensemble": 0, "solo": 0, "by_size": {}})
        d[r["kind"]] += 1
        if r["kind"] == "ensemble":
            d["by_size"][str(r["n_sources"])] = d["by_size"].get(str(r["n_sources"]), 0) + 1
    return out


# ---------------------------------------------------------------------------------------
# loading


def locate(config: str = "mini") -> Path:
    cfg = config_for(config)
    root = data_dir(NAME, cfg.version)
    if not (root / "dataset.json").exists():
        raise DataError(f"{NAME} {cfg.version} has not been generated", path=root,
                        fix=f"run `avbench data generate {NAME} --config {config_name(cfg)}`")
    return root


def read_manifest(root: str | Path) -> list[dict]:
    root = Path(root)
    path = root / "manifest.jsonl"
    if not path.exists():
        raise DataError("manifest.jsonl is missing", path=path, fix="regenerate the data with --force")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def verify(root: str | Path) -> list[str]:
    """Every missing or corrupt file (by sha256) of a generated copy, with the recordings affected."""
    root = Path(root)
    problems = []
    for r in read_manifest(root):
        for rel, sha in r["sha256"].items():
            p = root / rel
            if not p.exists():
                problems.append(f"missing {rel} (recording {r['id']})")
            elif au.sha256_file(p) != sha:
                problems.append(f"corrupt {rel} (recording {r['id']}): sha256 differs from the manifest")
    return problems


def load_notes(root: str | Path, row: dict) -> dict[str, list]:
    from ...video import Note

    with open(Path(root) / row["notes"]) as f:
        d = json.load(f)["players"]
    return {k: [Note(*n) for n in v] for k, v in d.items()}


def load(config: str = "mini", root: str | Path | None = None):
    """The data as a Hugging Face ``DatasetDict`` with ``train``, ``val`` and ``test``.

    Columns: ``id, kind, work, composer, title, instruments, n_sources, sample_rate,
    n_samples, mix`` (``Audio(decode=False)``), ``stems`` (list of ``Audio(decode=False)``,
    in the order of ``instruments``) and ``notes`` (path of the notes JSON).  Decode the
    audio with :func:`avbench.audio.read_audio`; render frames with
    :func:`avbench.video.player_frames`.  Data version 2 adds, per player in the order of
    ``instruments``, ``timbre_families``, ``timbre_sources`` and ``backgrounds`` (the full
    timbre, performance and style records are in ``manifest.jsonl``); render its frames
    with :func:`avbench.data.synth.scenes.styled_frames`.
    """
    from datasets import Audio, Dataset, DatasetDict, List

    root = Path(root) if root is not None else locate(config)
    rows = read_manifest(root)
    splits: dict[str, list] = {"train": [], "val": [], "test": []}
    for r in rows:
        splits[r["split"]].append({
            "id": r["id"], "kind": r["kind"], "work": r["work"], "composer": r["composer"],
            "title": r["title"], "instruments": r["instruments"], "n_sources": r["n_sources"],
            "sample_rate": r["sample_rate"], "n_samples": r["n_samples"],
            "mix": str(root / r["mix"]),
            "stems": [str(root / r["stems"][i]) for i in r["instruments"]],
            "notes": str(root / r["notes"]),
            **({"timbre_families": [t["family"] for t in r["timbres"]],
                "timbre_sources": [t["source"] for t in r["timbres"]],
                "backgrounds": [st["background"] for st in r["styles"]]} if "timbres" in r else {}),
        })
    dd = {}
    for s, items in splits.items():
        ds = Dataset.from_list(items) if items else Dataset.from_dict({k: [] for k in ("id",)})
        if items:
            ds = ds.cast_column("mix", Audio(decode=False))
            ds = ds.cast_column("stems", List(Audio(decode=False)))
        dd[s] = ds
    return DatasetDict(dd)
