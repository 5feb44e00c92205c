"""The ``data`` and ``tasks`` commands: generate, list, verify, prepare, derive and push datasets; list the tasks."""
from __future__ import annotations

import json
import time
from pathlib import Path

from ..errors import AvbenchError, ConfigError, DataError
from . import _print


def cmd_data_generate(args) -> int:
    from ..data import synth as se

    if args.name != se.NAME:
        raise ConfigError(f"{args.name} cannot be generated", fix=f"only {se.NAME} is generated; real datasets are read from a local copy")
    t0 = time.time()
    root = se.generate(args.config, workers=args.workers, force=args.force, progress=not args.quiet,
                       sample_rate=args.sample_rate)
    _print(args, f"{se.NAME} {root.name} at {root} ({time.time() - t0:.1f} s)")
    return 0


def cmd_data_list(args) -> int:
    from ..config import data_dir
    from ..data import real
    from ..data import synth as se

    rows = []
    for name, cfg in se.CONFIGS.items():
        root = data_dir(se.NAME, cfg.version)
        if (root / "dataset.json").exists():
            meta = json.loads((root / "dataset.json").read_text())
            counts = {s: c["ensemble"] + c["solo"] for s, c in meta["counts"].items()}
            state = "generated"
        else:
            counts, state = {}, "not generated"
        rows.append({"dataset": se.NAME, "version": cfg.version, "state": state, "unit": "recordings", "splits": counts})
        # other sample rates (`data generate --sample-rate`): data for your own use, not a task
        for other in sorted(root.parent.glob(f"{cfg.version}-*")):
            if (other / "dataset.json").exists() and other.name.split("-")[-1].isdigit():
                meta = json.loads((other / "dataset.json").read_text())
                counts = {s: c["ensemble"] + c["solo"] for s, c in meta["counts"].items()}
                rows.append({"dataset": se.NAME, "version": other.name, "unit": "recordings", "splits": counts,
                             "state": f"generated at {other.name.split('-')[-1]} Hz (no task reads it)"})
    for name in real.DATASETS:
        for version in real.mf.versions(name) + ([] if name != "audioset" else ["recon-1"]):
            try:
                ix = real.mf.index(name, version, real.manifest_root(name, version))
                counts = {s: x["n_items"] for s, x in ix["splits"].items()}
            except AvbenchError:
                counts = {}
            prepared = (real.prepared_dir(name, version) / "prepared.json").exists()
            state = "prepared" if prepared else ("derive first" if name == "audioset" and not counts else "manifest")
            if not any(r["dataset"] == name and r["version"] == version for r in rows):
                rows.append({"dataset": name, "version": version, "state": state, "unit": "items", "splits": counts})
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            c = ", ".join(f"{k} {v}" for k, v in sorted(r["splits"].items())) or "-"
            print(f"{r['dataset']:<16} {r['version']:<13} {r['state']:<14} {r['unit']}: {c}")
    return 0


def cmd_data_video(args) -> int:
    from ..data import synth as se
    from ..video import player_frames, tile, write_mp4

    root = se.locate(args.config)
    rows = {r["id"]: r for r in se.read_manifest(root)}
    if args.recording not in rows:
        raise DataError(f"no recording {args.recording!r}", path=root / "manifest.jsonl",
                           fix="pick an id from manifest.jsonl (e.g. one starting with ens-)")
    row = rows[args.recording]
    notes = se.load_notes(root, row)
    n_frames = int(row["n_samples"] / row["sample_rate"] * args.fps)
    if "styles" in row:  # data version 2: each player's recorded style
        from ..data.synth.scenes import styled_frames

        frames = [styled_frames(notes[i], i, st, 0.0, n_frames, args.fps, args.size)
                  for i, st in zip(row["instruments"], row["styles"])]
    else:
        frames = [player_frames(notes[i], i, 0.0, n_frames, args.fps, args.size) for i in row["instruments"]]
    write_mp4(args.out, tile(frames), args.fps)
    _print(args, f"wrote {args.out} ({n_frames} frames, {len(frames)} players)")
    return 0


def cmd_data_verify(args) -> int:
    from ..data import real
    from ..data import synth as se

    if args.name == se.NAME:
        root = se.locate(args.config) if args.root is None else Path(args.root)
        problems = se.verify(root)
        for p in problems:
            print(p)
        if problems:
            raise DataError(f"{len(problems)} missing or corrupt file(s)", path=root, fix="regenerate with --force")
        _print(args, f"{root}: every file matches the manifest")
        return 0
    if args.root is None:
        raise ConfigError(f"{args.name} is read from your local copy", fix=f"pass --root, e.g. avbench data verify {args.name} --root /data/{args.name}")
    version = args.version or real.info(args.name).default_version
    from ..tasks.real import verify_copy

    problems = verify_copy(args.name, args.root, version, args.split)
    if args.json:
        print(json.dumps([{"path": p.path, "problem": p.problem, "items": p.items} for p in problems], indent=2))
    else:
        for p in problems:
            print(p)
    if problems:
        n_items = len({i for p in problems for i in p.items})
        raise DataError(f"{len(problems)} missing or corrupt file(s) affecting {n_items} item(s) of {args.name}@{version}",
                           path=args.root, fix="restore the files listed above (paths are relative to --root)")
    _print(args, f"{args.root}: every file of {args.name}@{version} is present and readable")
    return 0


def cmd_data_prepare(args) -> int:
    from ..data import real

    t0 = time.time()
    out = real.prepare(args.name, args.root, args.version, args.split, out=args.out, sample_rate=args.sample_rate,
                       fps=args.fps, size=args.size, workers=args.workers or 1, progress=not args.quiet)
    _print(args, f"{args.name}@{args.version or real.info(args.name).default_version} prepared at {out} ({time.time() - t0:.1f} s)")
    return 0


def cmd_data_derive(args) -> int:
    from ..data import audioset

    if args.name != "audioset":
        raise ConfigError(f"{args.name} ships its manifests", fix="only audioset is derived from your own segment CSVs")
    ix = audioset.derive(args.eval, args.train, val_fraction=args.val_fraction)
    counts = ", ".join(f"{s} {x['n_items']}" for s, x in ix["splits"].items())
    _print(args, f"audioset@{audioset.VERSION}: {counts}; manifest sha256 {ix['manifest_sha256']}")
    return 0


def cmd_data_push(args) -> int:
    from ..data import real

    real.push(args.name, args.repo_id, args.version, private=args.private)
    _print(args, f"pushed the {args.name} manifests and labels (no media) to {args.repo_id}")
    return 0


def cmd_tasks(args) -> int:
    from ..tasks import available, get_task

    from ..tasks import frozen

    pins = frozen()
    out = []
    for name, version in available():
        pin = pins.get(f"{name}@{version}", {})
        row = {"task": name, "version": version, "protocol": pin.get("protocol"), "n_items": pin.get("n_items"),
               "main_score": None, "inputs": None, "items_sha256": pin.get("items_sha256"), "data": "missing"}
        try:
            t = get_task(name, version)
            row.update(n_items=t.spec.n_items, main_score=t.spec.main_score, inputs=list(t.spec.inputs),
                       items_sha256=t.spec.items_sha256, protocol=t.spec.protocol_number, data="ready")
        except AvbenchError:
            pass
        out.append(row)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for r in out:
            state = "" if r["data"] == "ready" else (
                " (data not generated)" if r["task"].startswith("synth-") else " (data not prepared)")
            n = r["n_items"] if r["n_items"] is not None else "?"
            sha = f"  items sha256 {r['items_sha256'][:16]}" if r["items_sha256"] else ""
            inputs = f"  inputs: {', '.join(r['inputs'])}" if r["inputs"] else ""
            proto = f"  protocol {r['protocol']}" if r["protocol"] else ""
            print(f"{r['task'] + '@' + r['version']:<42} items: {n}{proto}{sha}{inputs}{state}")
    return 0
