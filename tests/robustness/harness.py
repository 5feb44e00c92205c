#!/usr/bin/env python
"""Fuzzing and fault injection: prints avbench's robustness figures.

The test harness; ``scripts/robustness.py`` is its command line, and the tests under
``tests/robustness/`` import it.

    python scripts/robustness.py all         # the full figures (about 10 min on 2 cores)
    python scripts/robustness.py ci          # the sizes tests/robustness/test_faults.py runs in CI
    python scripts/robustness.py loaders --n 100000
    python scripts/robustness.py parsers --n 1000000
    python scripts/robustness.py folders --n 1000
    python scripts/robustness.py concurrency --writers 8 16 --per 25
    python scripts/robustness.py kill --n 200
    python scripts/robustness.py io
    python scripts/robustness.py determinism
    python scripts/robustness.py tamper --n 100
    python scripts/robustness.py trust --n 100

Every experiment prints one ``FIGURE`` line per figure and ``ok``/``FAILED`` against
its target; the exit status is non-zero when a target is missed.  Inputs are generated
from a seed (``--seed``), so every run can be repeated exactly.  Inputs that crash a
loader, raise out of it or take over 2 s are saved to
``tests/robustness/fuzz_regressions/`` and replayed by the tests from then on.

Needs the mini benchmark (generated into ``$AVBENCH_HOME`` when missing) and, for
``parsers``, ``atheris`` (installed by ``scripts/install.sh test``).
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import hashlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
REGRESSIONS = ROOT / "tests" / "robustness" / "fuzz_regressions"
N_SAMPLES = 256  # loader fuzzing: small inputs, many of them
SR = 11025


def figure(name: str, value, target: str, ok: bool) -> bool:
    print(f"FIGURE {name}: {value}  (target {target}) {'ok' if ok else 'FAILED'}", flush=True)
    return ok


def tree_hash(d: Path, skip: tuple[str, ...] = ()) -> str:
    """sha256 over every path and file content under ``d`` (links and specials by name)."""
    h = hashlib.sha256()
    if not d.exists():
        return "absent"
    for dirpath, dirnames, names in os.walk(d):
        dirnames.sort()
        for n in sorted(names):
            p = Path(dirpath) / n
            if n in skip:
                continue
            h.update(str(p.relative_to(d)).encode("utf-8", "surrogateescape") + b"\0")
            if p.is_file() and not p.is_symlink():
                h.update(p.read_bytes())
            h.update(b"\0")
    return h.hexdigest()


# ============================================================================ loaders
def _seeds() -> list[tuple[str, bytes]]:
    import soundfile as sf

    from avbench.testing.checklist import npy_bytes, wav_bytes

    x = np.sin(np.arange(N_SAMPLES) * 0.3) * 0.5
    out = [("wav", wav_bytes(x)), ("wav", wav_bytes(x, bits=64)),
           ("npy", npy_bytes(f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({N_SAMPLES},), }}",
                             x.astype("<f4").tobytes())),
           ("npy", npy_bytes(f"{{'descr': '<i2', 'fortran_order': False, 'shape': ({N_SAMPLES},), }}",
                             (x * 3000).astype("<i2").tobytes(), major=2))]
    for fmt, sub in (("WAV", "PCM_16"), ("WAV", "PCM_24"), ("WAV", "PCM_32"), ("FLAC", "PCM_16"), ("FLAC", "PCM_24")):
        b = io.BytesIO()
        sf.write(b, x, SR, format=fmt, subtype=sub)
        out.append((fmt.lower(), b.getvalue()))
    return out


_INTERESTING = [0, 1, 2, 3, 7, 8, 16, 24, 32, 64, 255, 256, 0x7FFF, 0x8000, 0xFFFF, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1,
                N_SAMPLES - 1, N_SAMPLES, N_SAMPLES + 1, 4 * N_SAMPLES, 44100, 11025]


def mutate(rng: random.Random, data: bytes, seeds: list[tuple[str, bytes]]) -> bytes:
    b = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 3, 4, 8))):
        op = rng.randrange(9)
        head = min(len(b), 80) or 1
        pos = rng.randrange(head) if rng.random() < 0.7 else rng.randrange(max(1, len(b)))
        if op == 0 and b:  # flip a bit
            b[pos % len(b)] ^= 1 << rng.randrange(8)
        elif op == 1 and b:  # an interesting byte
            b[pos % len(b)] = rng.choice((0, 1, 0x7F, 0x80, 0xFF))
        elif op == 2 and len(b) >= 4:  # an interesting 16/32-bit field
            v = rng.choice(_INTERESTING)
            w = rng.choice((2, 4))
            pos = min(pos, len(b) - w)
            b[pos:pos + w] = (v % (1 << (8 * w))).to_bytes(w, rng.choice(("little", "big")))
        elif op == 3:  # truncate
            del b[rng.randrange(len(b) + 1):]
        elif op == 4:  # append
            b += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
        elif op == 5:  # insert
            b[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 16)))
        elif op == 6 and b:  # delete a span
            del b[pos:pos + rng.randrange(1, 32)]
        elif op == 7 and len(b) > 8:  # duplicate a span
            s = rng.randrange(len(b))
            b[pos:pos] = b[s:s + rng.randrange(1, 64)]
        else:  # splice another seed's head
            other = rng.choice(seeds)[1]
            k = rng.randrange(1, 64)
            b[:k] = other[:k]
    return bytes(b)


def _input(seed: int, i: int, seeds) -> tuple[str, bytes]:
    rng = random.Random(seed * 1_000_003 + i)
    kind, data = rng.choice(seeds)
    ext = kind if rng.random() < 0.9 else rng.choice(("wav", "flac", "npy"))
    return f"x/{i}.{ext}", mutate(rng, data, seeds)


def _loader_worker(start: int, count: int, seed: int) -> dict:
    """Run inputs ``start..start+count`` through the loader (in this process)."""
    from avbench.safeio import read_estimate

    seeds = _seeds()
    errors, slow, worst = [], [], 0.0
    for i in range(start, start + count):
        rel, data = _input(seed, i, seeds)
        t0 = time.perf_counter()
        try:
            read_estimate(data, rel, SR, N_SAMPLES)
        except Exception as e:  # noqa: BLE001 - exactly what the fuzzer counts
            errors.append([i, f"{type(e).__name__}: {e}"[:300]])
        dt = time.perf_counter() - t0
        worst = max(worst, dt)
        if dt > 2.0:
            slow.append([i, dt])
    return {"n": count, "errors": errors, "slow": slow, "worst_s": worst, "maxrss_kb": _peak_rss_kb()}


def _peak_rss_kb() -> int:
    """Peak resident memory of this process image (VmHWM; ``ru_maxrss`` would carry the
    peak of the process that forked us across ``exec``)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _save_regression(seed: int, i: int, why: str) -> Path:
    rel, data = _input(seed, i, _seeds())
    REGRESSIONS.mkdir(parents=True, exist_ok=True)
    p = REGRESSIONS / f"{hashlib.sha256(data).hexdigest()[:16]}{Path(rel).suffix}"
    p.write_bytes(data)
    (p.with_suffix(p.suffix + ".txt")).write_text(f"seed {seed} input {i}: {why}\n")
    return p


def _run_worker_proc(start: int, count: int, seed: int) -> tuple[int, dict | None]:
    r = subprocess.run([sys.executable, __file__, "_loader-worker", str(start), str(count), str(seed)],
                       capture_output=True, text=True, timeout=3600)
    if r.returncode != 0:
        return r.returncode, None
    return 0, json.loads(r.stdout.strip().splitlines()[-1])


def loaders(n: int = 100_000, seed: int = 0, workers: int = 2) -> bool:
    """``n`` mutated WAV/FLAC/NPY inputs through the bounded loaders, in fresh processes."""
    from concurrent.futures import ThreadPoolExecutor

    t0 = time.time()
    batch = max(1, min(5000, n // (workers * 2) or 1))
    ranges = [(s, min(batch, n - s)) for s in range(0, n, batch)]
    crashes: list[int] = []
    stats: list[dict] = []

    def run(rg):
        rc, st = _run_worker_proc(rg[0], rg[1], seed)
        if rc == 0:
            return [st]
        # a process died: find the inputs, one process each
        out = []
        for i in range(rg[0], rg[0] + rg[1]):
            rc1, st1 = _run_worker_proc(i, 1, seed)
            if rc1 != 0:
                crashes.append(i)
                _save_regression(seed, i, f"loader process exit {rc1}")
            else:
                out.append(st1)
        return out

    with ThreadPoolExecutor(workers) as ex:
        for res in ex.map(run, ranges):
            stats.extend(res)
    errors = [e for s in stats for e in s["errors"]]
    slow = [e for s in stats for e in s["slow"]]
    for i, why in errors[:50]:
        _save_regression(seed, i, why)
    for i, dt in slow[:50]:
        _save_regression(seed, i, f"took {dt:.2f} s")
    done = sum(s["n"] for s in stats) + len(crashes)
    peak = max((s["maxrss_kb"] for s in stats), default=0) / 1024
    worst = max((s["worst_s"] for s in stats), default=0.0)
    ok = figure("loader inputs", done, f">= {n}", done >= n)
    ok &= figure("loader uncaught exceptions", len(errors), "0", not errors)
    ok &= figure("loader crashes", len(crashes), "0", not crashes)
    ok &= figure("loader inputs over 2 s", len(slow), "0", not slow)
    ok &= figure("loader slowest input [s]", f"{worst:.4f}", "< 2", worst < 2)
    ok &= figure("loader peak memory [MiB]", f"{peak:.0f}", "< 1024", peak < 1024)
    print(f"  ({done} inputs in {time.time() - t0:.0f} s, {workers} processes, seed {seed})")
    return ok


# ============================================================================ parsers
PARSER_CLASSES = ["violin", "cello", "flute"]
PARSER_IDS = ["007", "ens-a/00", "ens-b/01"]


def _parser_target(name: str):
    from avbench.safeio import parse_npy_header, parse_predictions, read_npy
    from avbench.submission import parse_meta

    if name == "csv":
        return lambda data: parse_predictions(data, "p.csv", PARSER_CLASSES, PARSER_IDS)
    if name == "meta":
        return lambda data: parse_meta(data)
    if name == "npy":
        def npy(data):
            parse_npy_header(data)
            read_npy(data, "x.npy", SR, 4)
        return npy
    raise SystemExit(f"unknown parser {name}")


def _parser_corpus(name: str, d: Path) -> None:
    from avbench.testing.checklist import npy_bytes

    d.mkdir(parents=True, exist_ok=True)
    if name == "csv":
        rows = ["item_id," + ",".join(PARSER_CLASSES)] + [f"{i},0.1,0.2,0.7" for i in PARSER_IDS]
        (d / "ok.csv").write_text("\n".join(rows) + "\n")
        (d / "quoted.csv").write_text('"item_id","violin","cello","flute"\r\n"007","1e-3",".5","0"\r\n')
    elif name == "meta":
        (d / "ok.yaml").write_text("name: m\nmodel: M\nauthors: [A]\npaper_url: https://x.org\noracle: false\n"
                                   "n_parameters: 12\nnotes: |\n  two\n  lines\ntasks:\n  - name: t\n    version: '1'\n"
                                   "    inputs: [mixture]\n    omitted_slots: silence\n")
        (d / "flow.yaml").write_text('{name: "m", model: "M", tasks: [{name: t, version: "1", inputs: []}], avbench_version: "0"}\n')
    else:
        (d / "ok.npy").write_bytes(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", b"\0" * 16))
        (d / "v2.npy").write_bytes(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", b"\0" * 32,
                                             major=2))


def _atheris_worker(name: str, runs: int, seed: int, workdir: str) -> None:
    import atheris

    # PyYAML is left uninstrumented: atheris' bytecode rewriting breaks its scanner
    with atheris.instrument_imports(include=["avbench.safeio", "avbench.submission"]):
        target = _parser_target(name)

    def one(data: bytes) -> None:
        target(data)  # any exception escapes: atheris reports it as a crash

    # no -rss_limit_mb: libFuzzer reads ru_maxrss, which carries the peak of the process
    # that started this one (pytest) across exec; the inputs are capped at 2 KiB anyway
    corpus = Path(workdir) / "corpus"
    _parser_corpus(name, corpus)
    atheris.Setup([sys.argv[0], f"-runs={runs}", f"-seed={seed + 1}", "-max_len=2048", "-rss_limit_mb=0",
                   f"-artifact_prefix={workdir}/", "-print_final_stats=1", str(corpus)], one)
    atheris.Fuzz()


def parsers(n: int = 1_000_000, seed: int = 0, which=("csv", "meta", "npy")) -> bool:
    """``n`` coverage-guided executions (atheris/libFuzzer) of each parser."""
    ok = True
    for name in which:
        t0 = time.time()
        with tempfile.TemporaryDirectory() as wd:
            r = subprocess.run([sys.executable, __file__, "_atheris", name, str(n), str(seed), wd],
                               capture_output=True, text=True, timeout=6 * 3600)
            log = r.stdout + r.stderr
            execs = 0
            for line in log.splitlines():
                if line.startswith("stat::number_of_executed_units:"):
                    execs = int(line.split(":")[-1])
                elif line.startswith("Done ") and " runs in " in line:
                    execs = max(execs, int(line.split()[1]))
            crashes = sorted(Path(wd).glob("crash-*")) + sorted(Path(wd).glob("timeout-*")) + \
                sorted(Path(wd).glob("oom-*"))
            for c in crashes:
                REGRESSIONS.mkdir(parents=True, exist_ok=True)
                shutil.copy(c, REGRESSIONS / f"{name}-{c.name}")
            failed = r.returncode != 0 or crashes
            if failed:
                print(log[-3000:])
        ok &= figure(f"{name} parser executions", execs, f">= {n}", execs >= n)
        ok &= figure(f"{name} parser uncaught exceptions/crashes", len(crashes) + (1 if failed and not crashes else 0),
                     "0", not failed)
        print(f"  ({name}: {time.time() - t0:.0f} s)")
    return ok


# ============================================================================ shared set-up
def _setup():
    from avbench.data import synth as se

    se.generate("mini", progress=False)
    from avbench.testing import checklist as ck
    from avbench.tasks import get_task

    return ck, {"separation": get_task(ck.SEP_TASK), "classification": get_task(ck.CLS_TASK)}


def _scored_board(ck, t, work: Path, name: str = "resident") -> tuple[Path, Path]:
    """A valid classification submission scored onto a fresh leaderboard root."""
    from avbench import leaderboard as lb
    from avbench.scoring import score, scores_path
    from avbench.submission import validate

    sub = ck.base(work / name, t)
    ck.edit_meta(sub, name=name)
    r = score(sub, workers=1, progress=False)[0]
    lbroot = work / "lb"
    lb.add_entry(lbroot, lb.entry_from(r, validate(sub).meta), scores_path(sub, f"{r.task}@{r.version}"))
    return sub, lbroot


# ============================================================================ folders
def folders(n: int = 1000, seed: int = 0) -> bool:
    """``n`` random malformed submissions (1-3 checklist defects each) through ``avbench score
    --update-leaderboard``: exit 2, documented codes, no traceback, leaderboard unchanged."""
    from avbench.cli import main
    from avbench.errors import CODES

    ck, tasks = _setup()
    rng = random.Random(seed)
    t0 = time.time()
    can_mknod = os.geteuid() == 0
    pool = {fam: [f for f in ck.FIXTURES if f.family == fam and f.stage == "validate"
                  and CODES[f.code][0] == "error" and (can_mknod or f.needs != "root")]
            for fam in tasks}
    bad = {"exit": 0, "traceback": 0, "no_code": 0, "undocumented": 0, "board_changed": 0}
    seen_codes: set[str] = set()
    with tempfile.TemporaryDirectory() as wd:
        wd = Path(wd)
        _, lbroot = _scored_board(ck, tasks["classification"], wd)
        bases = {fam: ck.base(wd / f"base-{fam}", t) for fam, t in tasks.items()}
        before = tree_hash(lbroot)
        for i in range(n):
            fam = "separation" if rng.random() < 0.7 else "classification"
            picks = rng.sample(pool[fam], rng.choice((1, 1, 2, 3)))
            dest = wd / f"s{i}"
            shutil.copytree(bases[fam], dest)
            env = {}
            for f in picks:
                try:
                    f.build(dest, tasks[fam])
                    env.update(f.env)
                except Exception:  # noqa: BLE001 - an earlier defect removed what this one changes
                    pass
            old_env = {k: os.environ.get(k) for k in env}
            os.environ.update(env)
            out, err = io.StringIO(), io.StringIO()
            try:
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    rc = main(["score", str(dest), "--update-leaderboard", "--leaderboards", str(lbroot), "--json",
                               "--workers", "1"])
            except BaseException as e:  # noqa: BLE001 - an escaped exception is a traceback
                rc, err = 1, io.StringIO(f"Traceback: {type(e).__name__}: {e}")
            finally:
                for k, v in old_env.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
            codes: set[str] = set()
            try:
                rep = json.loads(out.getvalue())["error"]
                codes = set(rep.get("counts", {})) or {rep.get("code")}
            except (ValueError, KeyError, TypeError):
                pass
            seen_codes |= codes
            bad["exit"] += rc != 2
            bad["traceback"] += "Traceback" in err.getvalue()
            bad["no_code"] += not codes
            bad["undocumented"] += bool(codes - set(CODES))
            after = tree_hash(lbroot)
            bad["board_changed"] += after != before
            if rc != 2 or "Traceback" in err.getvalue() or after != before:
                print(f"  folder {i} ({[f.id for f in picks]}): exit {rc}\n{err.getvalue()[-1500:]}")
                before = after
            shutil.rmtree(dest, ignore_errors=True)
    ok = figure("malformed folders", n, f">= {n}", True)
    ok &= figure("malformed folders not exiting 2", bad["exit"], "0", bad["exit"] == 0)
    ok &= figure("malformed folders with a traceback", bad["traceback"], "0", bad["traceback"] == 0)
    ok &= figure("malformed folders without a documented code", bad["no_code"] + bad["undocumented"], "0",
                 bad["no_code"] + bad["undocumented"] == 0)
    ok &= figure("malformed folders that changed the leaderboard", bad["board_changed"], "0", bad["board_changed"] == 0)
    print(f"  ({n} folders in {time.time() - t0:.0f} s; {len(seen_codes)} distinct codes seen)")
    return ok


# ============================================================================ concurrency
def _writer(args):
    root, entry_json, names = args
    from avbench import leaderboard as lb

    e = lb.Entry.model_validate_json(entry_json)
    for name in names:
        lb.add_entry(Path(root), e.model_copy(update={"name": name}))


def concurrency(writers=(8, 16), per: int = 25) -> bool:
    """``w`` processes adding ``per`` entries each to one leaderboard at once."""
    import multiprocessing as mp

    from avbench import leaderboard as lb

    ck, tasks = _setup()
    ok = True
    with tempfile.TemporaryDirectory() as wd:
        wd = Path(wd)
        sub, lbroot0 = _scored_board(ck, tasks["classification"], wd)
        d0 = next(lbroot0.glob("*/*/entries")).parent
        template = next((d0 / "entries").glob("*.json")).read_text()
        for w in writers:
            root = wd / f"lb{w}"
            t0 = time.time()
            jobs = [(str(root), template, [f"w{k:02d}-{j:02d}" for j in range(per)]) for k in range(w)]
            procs = [mp.get_context("fork").Process(target=_writer, args=(j,)) for j in jobs]
            for p in procs:
                p.start()
            for p in procs:
                p.join()
            d = next(root.glob("*/*/entries")).parent
            names = [p.stem for p in (d / "entries").glob("*.json")]
            rows = json.loads((d / "leaderboard.json").read_text())["rows"]
            expect = {n for j in jobs for n in j[2]}
            lost = len(expect - set(names)) + len(expect - {r["name"] for r in rows})
            dup = len(rows) - len({r["name"] for r in rows})
            failed_procs = sum(p.exitcode != 0 for p in procs)
            integrity = lb.integrity_problems(d)
            ok &= figure(f"{w} writers x {per}: lost entries", lost, "0", lost == 0 and failed_procs == 0)
            ok &= figure(f"{w} writers x {per}: duplicated entries", dup, "0", dup == 0 and len(rows) == len(expect))
            ok &= figure(f"{w} writers x {per}: board integrity problems", len(integrity), "0", not integrity)
            print(f"  ({w * per} updates by {w} processes in {time.time() - t0:.0f} s)")
    return ok


# ============================================================================ SIGKILL
def _state(d: Path) -> str:
    return tree_hash(d, skip=(".lock",))


class _Hook:
    """A wrapper for :func:`avbench.files.write_hook`: records every write step and, at step ``at``,
    calls ``action`` (raise an OSError, or SIGKILL the process) before the step runs."""

    def __init__(self, inner, at: int | None = None, action=None):
        self.inner, self.at, self.action, self.calls = inner, at, action, []

    def __getattr__(self, name):
        fn = getattr(self.inner, name)

        def wrapped(*a, **kw):
            self.calls.append(f"{name} {Path(a[0]).name}")
            if self.at is not None and len(self.calls) - 1 == self.at:
                self.action()
            return fn(*a, **kw)
        return wrapped


def _fail_with(err: int):
    def action():
        raise OSError(err, os.strerror(err))
    return action


def _sigkill():
    os.kill(os.getpid(), signal.SIGKILL)


def _killed_at(root, entry, k):
    from avbench import files
    from avbench import leaderboard as lb

    with files.write_hook(lambda ops: _Hook(ops, k, _sigkill)):
        lb.add_entry(root, entry)


def kill(n: int = 200, seed: int = 0) -> bool:
    """``n`` updates killed (SIGKILL) at random points; the board is then the old or the new state."""
    import multiprocessing as mp

    from avbench import files
    from avbench import leaderboard as lb
    from avbench.files import recover

    ck, tasks = _setup()
    rng = random.Random(seed)
    ctx = mp.get_context("fork")
    out = {"old": 0, "new": 0, "rolled_forward": 0, "other": 0, "tmp_left": 0, "invalid": 0}
    t0 = time.time()
    with tempfile.TemporaryDirectory() as wd:
        wd = Path(wd)
        sub, lbroot = _scored_board(ck, tasks["classification"], wd)
        d = next(lbroot.glob("*/*/entries")).parent
        base = lb.Entry.model_validate_json(next((d / "entries").glob("*.json")).read_text())
        for k in range(4):  # a few entries to render
            lb.add_entry(lbroot, base.model_copy(update={"name": f"e{k}"}))

        def entry(i):
            s = base.scores
            bumped = {m: st.model_copy(update={"mean": (st.mean or 0) + i * 1e-3}) for m, st in s.items()}
            return base.model_copy(update={"name": f"e{i % 6}", "scores": bumped})

        # calibrate: how long one update takes in a child
        durs = []
        for i in range(5):
            t = time.perf_counter()
            p = ctx.Process(target=lb.add_entry, args=(lbroot, entry(1000 + i)))
            p.start()
            p.join()
            durs.append(time.perf_counter() - t)
        span = float(np.median(durs))
        with files.write_hook(_Hook) as probe:
            lb.add_entry(lbroot, entry(2000))
        steps = len(probe.calls)
        at_step = 0
        for i in range(n):
            e = entry(i)
            old = _state(d)
            scratch = wd / "scratch"
            shutil.rmtree(scratch, ignore_errors=True)
            shutil.copytree(lbroot, scratch)
            lb.add_entry(scratch, e)
            new = _state(next(scratch.glob("*/*/entries")).parent)
            if i % 2:  # at a random moment (mostly while rendering)
                p = ctx.Process(target=lb.add_entry, args=(lbroot, e))
                p.start()
                time.sleep(rng.uniform(0, span * 1.1))
                os.kill(p.pid, signal.SIGKILL)
            else:  # just before a random write step (inside the transaction)
                at_step += 1
                p = ctx.Process(target=_killed_at, args=(lbroot, e, rng.randrange(steps)))
                p.start()
            p.join()
            mid = _state(d)
            journal = (d / ".journal.json").exists()
            with lb.lock(d):
                recover(d)
            after = _state(d)
            if after == old and not journal:
                out["old"] += 1
            elif after == new:
                out["rolled_forward" if journal else "new"] += 1
            else:
                out["other"] += 1
                print(f"  trial {i}: neither old nor new (journal {journal}, mid == old {mid == old})")
            leftovers = [q for q in d.rglob(".*") if q.name not in (".lock",)]
            out["tmp_left"] += bool(leftovers)
            try:
                lb.load_entries(d, d.parent.name, d.name)
                out["invalid"] += bool(lb.integrity_problems(d))
            except Exception:  # noqa: BLE001
                out["invalid"] += 1
    ok = figure("killed updates", f"{n} ({at_step} just before one of the {steps} write steps, the rest at random "
                "times)", f">= {n}", True)
    ok &= figure("killed updates leaving neither old nor new state", out["other"], "0", out["other"] == 0)
    ok &= figure("killed updates leaving an invalid board", out["invalid"], "0", out["invalid"] == 0)
    ok &= figure("temporary files left after the next run", out["tmp_left"], "0", out["tmp_left"] == 0)
    print(f"  (old state {out['old']}, new state {out['new']}, rolled forward by the next run "
          f"{out['rolled_forward']}; update takes {span * 1000:.0f} ms; {time.time() - t0:.0f} s)")
    return ok


# ============================================================================ ENOSPC / EIO
def io_faults() -> bool:
    """ENOSPC and EIO at every write step of ``avbench score --update-leaderboard``."""
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1700000000")  # a complete run always writes the same bytes
    from avbench import files
    from avbench.cli import main

    ck, tasks = _setup()
    t0 = time.time()
    ok = True
    with tempfile.TemporaryDirectory() as wd:
        wd = Path(wd)
        _, lbroot = _scored_board(ck, tasks["classification"], wd)
        sub = ck.base(wd / "newcomer", tasks["classification"])
        ck.edit_meta(sub, name="newcomer")
        # old results exist (from an earlier, different version of the outputs)
        assert main(["score", str(sub), "--quiet", "--workers", "1"]) == 0
        csv = sub / tasks["classification"].spec.name / "predictions.csv"
        csv.write_text(csv.read_text().replace("0.076923", "0.07692", 1))
        tpl_lb, tpl_sub = wd / "tpl-lb", wd / "tpl-sub"
        shutil.copytree(lbroot, tpl_lb)
        shutil.copytree(sub, tpl_sub)
        with files.write_hook(_Hook) as probe, contextlib.redirect_stdout(io.StringIO()):
            assert main(["score", str(sub), "--update-leaderboard", "--leaderboards", str(lbroot), "--quiet",
                         "--workers", "1"]) == 0
        steps = len(probe.calls)
        new_results = tree_hash(sub / "results")  # what a complete run writes
        for err in (errno.ENOSPC, errno.EIO):
            wrong_exit = changed = leftovers = not_recovered = 0
            for k in range(steps):
                shutil.rmtree(lbroot)
                shutil.copytree(tpl_lb, lbroot)
                shutil.rmtree(sub)
                shutil.copytree(tpl_sub, sub)
                b_lb, b_sub = tree_hash(lbroot, (".lock",)), tree_hash(sub / "results")
                with files.write_hook(lambda ops: _Hook(ops, k, _fail_with(err))), \
                        contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as e:
                    rc = main(["score", str(sub), "--update-leaderboard", "--leaderboards", str(lbroot),
                               "--quiet", "--workers", "1"])
                wrong_exit += rc != 3 or "Traceback" in e.getvalue()
                res = tree_hash(sub / "results")
                changed += tree_hash(lbroot, (".lock",)) != b_lb or res not in (b_sub, new_results)
                left = [q for q in list(lbroot.rglob(".*")) + list((sub / "results").rglob(".*"))
                        if q.name.endswith((".tmp", ".bak")) or q.name == ".journal.json"]
                if left:
                    print(f"  step {k} ({probe.calls[k]}): left {[q.name for q in left]}")
                leftovers += bool(left)
                with contextlib.redirect_stdout(io.StringIO()):  # the next run succeeds
                    not_recovered += main(["score", str(sub), "--update-leaderboard", "--leaderboards",
                                           str(lbroot), "--quiet", "--workers", "1"]) != 0
            name = errno.errorcode[err]
            ok &= figure(f"{name} at each of {steps} write steps: runs not exiting 3", wrong_exit, "0", wrong_exit == 0)
            ok &= figure(f"{name}: runs leaving the leaderboard changed, or results neither old nor new", changed, "0",
                         changed == 0)
            ok &= figure(f"{name}: temporary files left behind", leftovers, "0", leftovers == 0)
            ok &= figure(f"{name}: next run failing", not_recovered, "0", not_recovered == 0)
    print(f"  ({2 * steps} injected faults in {time.time() - t0:.0f} s)")
    return ok


# ============================================================================ determinism
_REVERSED_LISTING = """
import os, sys
_scandir, _listdir = os.scandir, os.listdir
class _Rev:
    def __init__(self, it): self.items = iter(list(it)[::-1]); self.it = it
    def __iter__(self): return self
    def __next__(self): return next(self.items)
    def __enter__(self): return self
    def __exit__(self, *a): self.it.close()
    def close(self): self.it.close()
os.scandir = lambda *a, **k: _Rev(_scandir(*a, **k))
os.listdir = lambda *a, **k: _listdir(*a, **k)[::-1]
from avbench.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _noisy_submission(ck, t, dest: Path) -> Path:
    """Separation outputs with real scores: the reference, scaled, plus seeded noise."""
    from avbench.audio import write_wav

    sub = ck.base(dest, t)
    ck.edit_meta(sub, name="noisy")
    rng = np.random.default_rng(0)
    for item in t.items:
        ref = t.reference(item)
        d = sub / t.spec.name / "estimates" / item.id
        for k, s in enumerate(t.spec.slots):
            if ref[k].any():
                (d / f"{s}.flac").unlink()
                write_wav(d / f"{s}.wav", 0.8 * ref[k] + 0.01 * rng.standard_normal(ref.shape[1]), t.spec.sample_rate)
    return sub


def determinism() -> bool:
    """One submission scored under different hash seeds, listing orders and process counts."""
    ck, tasks = _setup()
    t0 = time.time()
    digests = []
    with tempfile.TemporaryDirectory() as wd:
        wd = Path(wd)
        tpl = _noisy_submission(ck, tasks["separation"], wd / "tpl")
        runs = [("0", False, 1), ("12345", True, 2), ("random", False, 3), ("777", True, 1)]
        for k, (hs, rev, workers) in enumerate(runs):
            sub = wd / f"run{k}" / "noisy"
            shutil.copytree(tpl, sub)
            lbroot = wd / f"run{k}" / "lb"
            env = dict(os.environ, PYTHONHASHSEED=hs, SOURCE_DATE_EPOCH="1700000000")
            args = ["score", str(sub), "--update-leaderboard", "--leaderboards", str(lbroot), "--quiet",
                    "--workers", str(workers)]
            cmd = [sys.executable, "-c", _REVERSED_LISTING, *args] if rev else [sys.executable, "-m", "avbench.cli", *args]
            r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
            if r.returncode != 0:
                print(r.stderr[-2000:])
            digests.append((tree_hash(sub / "results"), tree_hash(lbroot, (".lock",))))
        # re-scoring in place, without a fixed date: the files stay byte-identical
        sub = wd / "run0" / "noisy"
        before = (tree_hash(sub / "results"), tree_hash(wd / "run0" / "lb", (".lock",)))
        env = dict(os.environ)
        env.pop("SOURCE_DATE_EPOCH", None)
        subprocess.run([sys.executable, "-m", "avbench.cli", "score", str(sub), "--update-leaderboard",
                        "--leaderboards", str(wd / "run0" / "lb"), "--quiet"], env=env, check=True, timeout=1800)
        again = (tree_hash(sub / "results"), tree_hash(wd / "run0" / "lb", (".lock",)))
    distinct = len(set(digests))
    ok = figure("scorings (hash seeds 0/12345/random/777, listing reversed or not, 1-3 processes)",
                len(digests), "4", len(digests) == 4)
    ok &= figure("distinct result + leaderboard byte sets", distinct, "1", distinct == 1)
    ok &= figure("re-scoring in place changes bytes", int(before != again), "0", before == again)
    print(f"  ({time.time() - t0:.0f} s)")
    return ok


# ============================================================================ tamper evidence
def tamper(n: int = 100, seed: int = 0) -> bool:
    """Flip one byte of a scored submission (or of its board): ``leaderboard verify`` must fail."""
    from avbench import leaderboard as lb
    from avbench.scoring import score, scores_path
    from avbench.submission import validate

    ck, tasks = _setup()
    rng = random.Random(seed)
    t0 = time.time()
    with tempfile.TemporaryDirectory() as wd:
        wd = Path(wd)
        subs = [ck.base(wd / "cls", tasks["classification"]), _noisy_submission(ck, tasks["separation"], wd / "sep")]
        lbroot = wd / "lb"
        for s in subs:
            r = score(s, workers=1, progress=False)[0]
            lb.add_entry(lbroot, lb.entry_from(r, validate(s).meta), scores_path(s, f"{r.task}@{r.version}"))
        clean, _ = lb.verify(lbroot, subs)
        detected = false_alarm = 0
        board_detected = 0
        for i in range(n):
            s = rng.choice(subs)
            files = sorted(p for p in s.rglob("*") if p.is_file() and "results" not in p.relative_to(s).parts)
            f = rng.choice(files)
            data = bytearray(f.read_bytes())
            pos = rng.randrange(len(data))
            data[pos] ^= 1 << rng.randrange(8)
            orig = f.read_bytes()
            f.write_bytes(bytes(data))
            probs, _ = lb.verify(lbroot, subs)
            detected += bool(probs)
            if not probs:
                print(f"  not detected: bit flip at byte {pos} of {f.relative_to(s)}")
            f.write_bytes(orig)
            # the same flip in one of the board's own files
            bf = rng.choice(sorted(p for p in lbroot.rglob("*") if p.is_file() and not p.name.startswith(".")))
            b = bytearray(bf.read_bytes())
            borig = bytes(b)
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
            bf.write_bytes(bytes(b))
            probs, _ = lb.verify(lbroot, subs)
            board_detected += bool(probs)
            bf.write_bytes(borig)
            if i % 10 == 9:
                false_alarm += bool(lb.verify(lbroot, subs)[0])
    ok = figure("verify on untouched submissions", "clean" if not clean else clean[:3], "clean", not clean)
    ok &= figure("byte flips in scored submissions detected", f"{detected}/{n}", f"{n}/{n}", detected == n)
    ok &= figure("byte flips in leaderboard files detected", f"{board_detected}/{n}", f"{n}/{n}", board_detected == n)
    ok &= figure("false alarms after restoring", false_alarm, "0", false_alarm == 0)
    print(f"  ({time.time() - t0:.0f} s)")
    return ok


# ============================================================================ trust boundaries
def _ok_refusal(e: Exception, allowed: set) -> bool:
    from avbench.errors import SubmissionError

    return isinstance(e, SubmissionError) and {p.code for p in e.problems} <= allowed


def trust(n: int = 40, seed: int = 0) -> bool:
    """Generated attacks on what scoring and verification trust, five classes of ``n``
    variants each: resume-state forgery, link and content swaps after validation,
    non-finite score injection, board-folder tampering (links at the task or version
    folder and the lock, forgeries only the task can tell included), and report writes
    through links a submission ships; and a sixth of ``n // 4`` near-copies of the
    references (:func:`near_copies`).  An attack is *accepted*
    when it changes a score or passes ``leaderboard verify``; the target is 0."""
    from avbench import leaderboard as lb
    from avbench.scoring import score, scores_path
    from avbench.submission import content_sha256, validate

    ck, tasks = _setup()
    t = tasks["separation"]
    key = t.spec.key
    rng = random.Random(seed)
    t0 = time.time()
    ok = True
    with tempfile.TemporaryDirectory() as wd:
        wd = Path(wd)
        clean_sub = _noisy_submission(ck, t, wd / "clean")
        other = _noisy_submission(ck, t, wd / "other")  # different estimates to swap in
        ck.edit_meta(other, name="other")
        for item in t.items:  # other's estimates: the mixture for every slot
            d = other / t.spec.name / "estimates" / item.id
            ref = t.reference(item)
            mix = ref.sum(0)
            from avbench.audio import write_wav

            for p in d.iterdir():
                p.unlink()
            for s_ in t.spec.slots:
                write_wav(d / f"{s_}.wav", mix, t.spec.sample_rate)
        clean = score(clean_sub, workers=1, progress=False)[0]
        shutil.rmtree(clean_sub / "results")
        base_sdr, base_n = clean.scores["sdr"].mean, clean.scores["sdr"].n

        def fresh(tag: str) -> Path:
            d = wd / "runs" / tag
            shutil.copytree(clean_sub, d)
            return d

        # 1. resume-state forgery: planted chunks, results, journals
        accepted = 0
        for i in range(n):
            s = fresh(f"forge{i}")
            rdir = s / "results" / key
            rdir.mkdir(parents=True)
            victim = wd / f"victim{i}.txt"
            victim.write_text("intact")
            kind = rng.choice(["chunks-content-sha", "chunks-random-name", "scores-and-summary", "journal-outside",
                               "journal-rename"])
            if kind.startswith("chunks"):
                name = content_sha256(s)[:16] if kind == "chunks-content-sha" else f"{rng.getrandbits(64):016x}"
                part = rdir / f".partial-{name}"
                part.mkdir()
                ids = [it.id for it in t.items]
                for k in range(0, len(ids), 8):
                    rows = [{"item": it, "slot": t.spec.slots[0], "group": "g", "n_sources": 2, "bucket": "sdr",
                             "flag": "", **{m: rng.uniform(20, 60) for m in ("sdr", "sir", "sar", "si_sdr", "sd_sdr",
                                                                             "sdr_in", "si_sdr_in", "sdri", "si_sdri")},
                             "pes": np.nan, "eps": np.nan} for it in ids[k:k + 8]]
                    _pd().DataFrame(rows).to_parquet(part / f"chunk-{k // 8:05d}.parquet", index=False)
            elif kind == "scores-and-summary":
                (rdir / "scores.parquet").write_bytes(b"PAR1 forged")
                (rdir / "summary.json").write_text(json.dumps({"scores": {"sdr": {"mean": 99}}}))
            elif kind == "journal-outside":
                (rdir / ".journal.json").write_text(json.dumps({"ops": [[os.path.relpath(victim, rdir), None, None]]}))
            else:
                (rdir / ".x.forged.tmp").write_text("{}")
                (rdir / ".journal.json").write_text(json.dumps({"ops": [["summary.json", ".x.forged.tmp", None]]}))
            try:
                r = score(s, workers=1, progress=False)[0]
                changed = abs(r.scores["sdr"].mean - base_sdr) > 1e-9 or r.scores["sdr"].n != base_n
            except Exception as e:  # noqa: BLE001 - anything but a clean result or refusal counts
                changed = not _ok_refusal(e, {"AVB470"})
            changed |= victim.read_text() != "intact"
            accepted += changed
            if changed:
                print(f"  accepted: resume forgery {kind}")
        ok &= figure(f"trust: resume-state forgeries accepted ({n} variants)", accepted, "0", accepted == 0)

        # 2. link and content swaps after validation
        accepted = 0
        for i in range(n):
            s = fresh(f"swap{i}")
            sub = validate(s)
            item = rng.choice(t.items)
            d = s / t.spec.name / "estimates" / item.id
            src = other / t.spec.name / "estimates" / item.id
            kind = rng.choice(["item-folder-link", "file-link", "file-content", "task-folder-link", "estimates-link"])
            if kind == "item-folder-link":
                shutil.rmtree(d)
                os.symlink(src, d)
            elif kind == "file-link":
                f = rng.choice(sorted(d.iterdir()))
                f.unlink()
                os.symlink(src / (f.stem + ".wav"), f)
            elif kind == "file-content":
                f = rng.choice(sorted(d.iterdir()))
                f.write_bytes((src / (f.stem + ".wav")).read_bytes()[:f.stat().st_size].ljust(f.stat().st_size, b"\0"))
            elif kind == "task-folder-link":
                shutil.rmtree(s / t.spec.name)
                os.symlink(other / t.spec.name, s / t.spec.name)
            else:
                shutil.rmtree(s / t.spec.name / "estimates")
                os.symlink(other / t.spec.name / "estimates", s / t.spec.name / "estimates")
            try:
                r = score(sub, workers=1, progress=False)[0]
                changed = abs(r.scores["sdr"].mean - base_sdr) > 1e-9
            except Exception as e:  # noqa: BLE001
                changed = not _ok_refusal(e, {"AVB472"})
                if changed:
                    print(f"  {type(e).__name__}: {str(e)[:200]}")
            accepted += changed
            if changed:
                print(f"  accepted: swap {kind}")
        ok &= figure(f"trust: link/content swaps after validation accepted ({n} variants)", accepted, "0",
                     accepted == 0)

        # 3. non-finite score injection
        accepted = 0
        for i in range(n):
            s = fresh(f"nonfinite{i}")
            frac = rng.choice([0.25, 0.5, 0.75, 1.0])
            factor = rng.choice([1e200, 1e300, 1e160, 1e7, 1e5, 1e-90, 1e-160, 1e-200, 1e-300, 1e-320])
            items = rng.sample(t.items, max(1, int(frac * len(t.items))))
            for item in items:
                ref = t.reference(item)
                d = s / t.spec.name / "estimates" / item.id
                for k, s_ in enumerate(t.spec.slots):
                    if ref[k].any():
                        f = d / f"{s_}.wav"
                        from avbench.audio import read_audio

                        x = read_audio(f, "float64")[0]
                        f.unlink()
                        np.save(d / f"{s_}.npy", x * factor)
            try:
                r = score(s, workers=1, progress=False)[0]
                st = r.scores["sdr"]
                changed = st.n != base_n or st.n_posinf or st.n_neginf or st.mean is None or st.mean > base_sdr + 1e-6
            except Exception as e:  # noqa: BLE001
                changed = not _ok_refusal(e, {"AVB471", "AVB473", "AVB424"})
            accepted += changed
            if changed:
                print(f"  accepted: non-finite injection x{factor:g} on {frac:.0%}")
        ok &= figure(f"trust: non-finite score injections accepted ({n} variants)", accepted, "0", accepted == 0)

        # 4. board-folder tampering
        lbroot = wd / "lb"
        subs = {}
        for name, s in (("clean", fresh("board-clean")), ("cls", ck.base(wd / "cls", tasks["classification"]))):
            r = score(s, workers=1, progress=False)[0]
            lb.add_entry(lbroot, lb.entry_from(r, validate(s).meta), scores_path(s, f"{r.task}@{r.version}"))
            subs[name] = s
        clean_board = wd / "lb-clean"
        shutil.copytree(lbroot, clean_board)
        assert not lb.verify(lbroot, list(subs.values()))[0]
        secret = wd / "secret.txt"
        secret.write_text("TOPSECRET")
        accepted = 0
        for i in range(n):
            shutil.rmtree(lbroot)
            shutil.copytree(clean_board, lbroot)
            boards = sorted(p.parent for p in lbroot.glob("*/*/entries"))
            d = rng.choice(boards)
            ent = sorted((d / "entries").glob("*.json"))[0]
            kind = rng.choice(["link-secret", "link-zero", "link-entry", "dot-entry", "foreign-top", "fifo",
                               "oracle-flip", "drop-warnings", "score-edit", "forge-consistent", "model-edit",
                               "params-edit", "version-folder-link", "task-folder-link", "lock-link",
                               "forge-items-dropped", "forge-one-work-per-item", "forge-labels", "forge-breakdown"])
            if kind in ("version-folder-link", "task-folder-link"):  # the board is elsewhere, reached by a link
                real = d if kind == "version-folder-link" else d.parent
                moved = wd / f"elsewhere{i}"
                shutil.rmtree(moved, ignore_errors=True)
                shutil.move(str(real), moved)
                os.symlink(moved, real, target_is_directory=True)
            elif kind == "lock-link":
                (d / ".lock").unlink(missing_ok=True)
                os.symlink(secret, d / ".lock")
            elif kind.startswith("forge-") and kind != "forge-consistent":
                _forge_from_task(ent, kind)
            elif kind == "link-secret":
                os.symlink(secret, d / "entries" / "leak.json")
            elif kind == "link-zero":
                os.symlink("/dev/zero", d / "entries" / "zero.scores.parquet")
            elif kind == "link-entry":
                ent.rename(ent.with_suffix(".bak0"))
                os.symlink(ent.with_suffix(".bak0").name, ent)
            elif kind == "dot-entry":
                shutil.copy(ent, d / "entries" / ".sota.json")
            elif kind == "foreign-top":
                (d / "notes.json").write_text("{}")
            elif kind == "fifo":
                os.mkfifo(d / "entries" / "pipe.json")
            else:
                raw = json.loads(ent.read_text())
                if kind == "oracle-flip":
                    raw["oracle"] = not raw["oracle"]
                elif kind == "drop-warnings":
                    raw["warnings"] = {}
                    raw["scores"][raw["main_score"]]["mean"] += 0.5
                elif kind == "score-edit":
                    m = rng.choice(sorted(raw["scores"]))
                    if raw["scores"][m]["mean"] is None:
                        m = raw["main_score"]
                    raw["scores"][m]["mean"] += 0.01
                elif kind == "forge-consistent":
                    pq = ent.with_name(ent.stem + ".scores.parquet")
                    df = _pd().read_parquet(pq)
                    m = raw["main_score"]
                    df[m] = df[m] + 1.0
                    df.to_parquet(pq, index=False)
                    from avbench.results import Stat

                    raw["scores"][m] = Stat.of(df[m].to_numpy(), df["group"].to_numpy(), ci=True).model_dump()
                elif kind == "model-edit":
                    raw["model"] = raw["model"] + " (best)"
                else:
                    raw["n_parameters"] = 123
                ent.write_text(json.dumps(raw))
            try:  # the forger accepts the change (or rewrites SHA256SUMS)
                lb.build(lbroot, adopt=True)
            except Exception:  # noqa: BLE001 - refused at build: the board is not accepted either
                pass
            try:
                with deadline(60):
                    probs, _ = lb.verify(lbroot, list(subs.values()), rescore=kind == "forge-consistent")
            except Exception as e:  # noqa: BLE001
                probs = [f"{type(e).__name__}"]
            leaked = any("TOPSECRET" in p for p in probs)
            bad = not probs or leaked
            accepted += bad
            if bad:
                print(f"  accepted: board tampering {kind}{' (secret printed)' if leaked else ''}")
        ok &= figure(f"trust: board tamperings accepted by verify ({n} variants)", accepted, "0", accepted == 0)

        # 5. writes through links a submission ships (report's folder and files)
        from avbench.cli import main as cli

        scored = fresh("report-base")
        score(scored, workers=1, progress=False)
        accepted = 0
        for i in range(n):
            s = wd / "runs" / f"report{i}"
            shutil.copytree(scored, s, symlinks=True)
            outside = wd / f"outside{i}"
            outside.mkdir()
            victim = outside / "victim.csv"
            victim.write_text("intact")
            rd = s / "results" / key
            kind = rng.choice(["report-folder", "report-csv", "report-png", "report-svg", "task-results-folder"])
            if kind == "report-folder":
                os.symlink(outside, rd / "report", target_is_directory=True)
            elif kind == "task-results-folder":
                moved = wd / f"moved{i}"
                shutil.move(str(rd), moved)
                os.symlink(moved, rd, target_is_directory=True)
                os.symlink(outside, moved / "report", target_is_directory=True)
            else:
                (rd / "report").mkdir()
                name = {"report-csv": "breakdown.csv", "report-png": "sdr_per_instrument.png",
                        "report-svg": "sdr_per_instrument.svg"}[kind]
                os.symlink(victim, rd / "report" / name)
            try:
                code = cli(["report", str(s), "--task", key, "--quiet"])
            except Exception as e:  # noqa: BLE001 - a traceback is not a refusal
                print(f"  {type(e).__name__}: {str(e)[:200]}")
                code = 1
            bad = victim.read_text() != "intact" or sorted(p.name for p in outside.iterdir()) != ["victim.csv"] \
                or code not in (0, 2)
            accepted += bad
            if bad:
                print(f"  accepted: report through a shipped link ({kind})")
        ok &= figure(f"trust: report writes through shipped links ({n} variants)", accepted, "0", accepted == 0)
        ok &= near_copies(ck, t, wd / "near", max(4, n // 4), rng)
    print(f"  ({time.time() - t0:.0f} s)")
    return ok


def _degraded(rng: random.Random, ref: np.ndarray, sr: int, kind: str) -> np.ndarray:
    """A copy of one reference degraded as a forger would, to stay under the 60 dB copy rule."""
    g = np.random.default_rng(rng.randrange(1 << 30))
    if kind == "noise":  # reference plus white noise at 40-59 dB below it
        snr = rng.uniform(40, 59)
        return ref + g.standard_normal(ref.size) * np.sqrt(np.mean(ref ** 2) / 10 ** (snr / 10))
    if kind == "lowpass":  # an FFT brick-wall low-pass at 6-10 kHz
        spec = np.fft.rfft(ref)
        spec[int(rng.uniform(6000, 10000) / (sr / 2) * (spec.size - 1)):] = 0
        return np.fft.irfft(spec, ref.size)
    if kind == "scaled-noise":  # another gain, and noise at 45 dB
        return rng.uniform(0.5, 2.0) * ref + g.standard_normal(ref.size) * np.sqrt(np.mean(ref ** 2) / 10 ** 4.5)
    return np.concatenate([np.zeros(1), ref[:-1]])  # delayed by one sample


def near_copies(ck, t, wd: Path, n: int, rng: random.Random) -> bool:
    """Class 6: near-copies of the references below the 60 dB copy rule (noise at 40-59 dB,
    a low-passed, rescaled or one-sample-delayed copy), scored onto a board beside the ideal
    masks.  Accepted: a variant better than every oracle row on most works that the board
    ranks.  A variant degraded until it scores below the oracles cannot be told from a model
    by its scores (docs/protocol.md, "What cannot be caught"); it is counted, not accepted."""
    from avbench import leaderboard as lb
    from avbench.audio import write_wav
    from avbench.cli import _baselines
    from avbench.scoring import score, scores_path
    from avbench.submission import validate

    key = t.spec.key
    lbroot = wd / "lb"
    reg = _baselines()
    for o in ("oracle-ibm", "oracle-irm"):
        sub = validate(reg[o](key, wd / o, progress=False))
        for r in score(sub, workers=1, progress=False):
            lb.add_entry(lbroot, lb.entry_from(r, sub.meta), scores=scores_path(sub.root, key))
    accepted = below = 0
    for i in range(n):
        kind = rng.choice(["noise", "lowpass", "scaled-noise", "delay"])
        name = f"copy{i}"
        sub = _noisy_submission(ck, t, wd / name)
        ck.edit_meta(sub, name=name)
        for item in t.items:
            ref = t.reference(item)
            d = sub / t.spec.name / "estimates" / item.id
            for k, s in enumerate(t.spec.slots):
                if ref[k].any():
                    write_wav(d / f"{s}.wav", _degraded(rng, ref[k].astype(np.float64), t.spec.sample_rate, kind)
                              .astype(np.float32), t.spec.sample_rate)
        try:
            v = validate(sub)
            r = score(v, workers=1, progress=False)[0]
        except Exception as e:  # noqa: BLE001 - refused (AVB474 and the like): not accepted
            print(f"  refused: near-copy {kind} ({type(e).__name__})")
            continue
        lb.add_entry(lbroot, lb.entry_from(r, v.meta), scores=scores_path(sub, key))
        rows = {x["name"]: x for x in json.loads((lb.board_dir(lbroot, t.spec.name, t.spec.version)
                                                  / "leaderboard.json").read_text())["rows"]}
        row = rows[name]
        if row.get("exceeds_oracle_bounds"):
            if row["rank"] is not None:
                accepted += 1
                print(f"  accepted: near-copy {kind} ranked although it exceeds the oracle bounds")
        elif row["rank"] is not None:
            below += 1
            print(f"  below the bounds (not catchable by scores): near-copy {kind}, SDR {r.main_value:.1f} dB")
    print(f"  near-copies below the oracle bounds, ranked as any model: {below} of {n}")
    return figure(f"trust: near-copies above the oracle bounds that are ranked ({n} variants)", accepted, "0",
                  accepted == 0)


def _pd():
    import pandas as pd

    return pd


def _forge_from_task(ent: Path, kind: str) -> None:
    """A forgery consistent with the entry's own parquet, that only the task can tell:
    the worst half of the items dropped, one work per item, labels set to the predictions
    (classification; on a separation board: the breakdown edited instead)."""
    pq = ent.with_name(ent.stem + ".scores.parquet")
    df = _pd().read_parquet(pq)
    raw = json.loads(ent.read_text())
    m = raw["main_score"]
    sep = "slot" in df
    if kind == "forge-items-dropped":
        worst = df.groupby("item")[m].mean().sort_values().index[: df["item"].nunique() // 2]
        df = df[~df["item"].isin(worst)].reset_index(drop=True)
    elif kind == "forge-one-work-per-item":
        df = df.assign(group=df["item"])
    elif kind == "forge-labels" and not sep:
        df = df.assign(label=df["pred"], **{"hit@1": 1.0, "hit@3": 1.0})
    if kind == "forge-breakdown" or (kind == "forge-labels" and sep):
        if sep:
            first = next(iter(raw["breakdown"]["instrument"].values()))
            first[m]["mean"] = (first[m]["mean"] or 0.0) + 5.0
        else:
            raw["scores"][m]["mean"] += 0.01
        ent.write_text(json.dumps(raw))
        return
    df.to_parquet(pq, index=False)
    restate(raw, df)
    ent.write_text(json.dumps(raw))


def restate(raw: dict, df) -> None:
    """Make an entry's JSON (``raw``, edited in place) claim exactly what the per-item
    frame ``df`` gives: scores, intervals, counts and breakdown, as a careful forger would."""
    from avbench.results import Stat
    from avbench.scoring import set_stats, summarize_separation
    from avbench.tasks import synth

    if "slot" in df:
        scores, breakdown, counts = summarize_separation(df, [k for k in raw["scores"] if k in df])
        raw["scores"].update({k: v.model_dump() for k, v in scores.items()})
        raw["breakdown"] = {b: {k: {x: v.model_dump() for x, v in g2.items()} for k, g2 in g.items()}
                            for b, g in breakdown.items()}
        raw["counts"] = {k: counts.get(k, 0) for k in raw["counts"]}
    else:
        for k in ("hit@1", "hit@3"):
            raw["scores"][k] = Stat.of(df[k].to_numpy(), df["group"].to_numpy(), ci=True).model_dump()
        raw["scores"].update({k: v.model_dump() for k, v in set_stats(df, list(synth.CLASSES)).items()})


@contextlib.contextmanager
def deadline(seconds: int):
    """Raise ``TimeoutError`` in the block after ``seconds`` (a FIFO read would block forever)."""
    def boom(*_):
        raise TimeoutError

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# ============================================================================ CLI
CI = {"loaders": {"n": 100_000}, "parsers": {"n": 20_000}, "folders": {"n": 300},
      "concurrency": {"writers": (8, 16), "per": 12}, "kill": {"n": 200}, "tamper": {"n": 100}, "trust": {"n": 12}}
FULL = {"loaders": {"n": 1_000_000}, "parsers": {"n": 1_000_000}, "folders": {"n": 1000},
        "concurrency": {"writers": (8, 16), "per": 25}, "kill": {"n": 200}, "tamper": {"n": 100},
        "trust": {"n": 100}}


def run_all(sizes: dict) -> bool:
    ok = loaders(**sizes["loaders"])
    ok &= parsers(**sizes["parsers"])
    ok &= folders(**sizes["folders"])
    ok &= concurrency(**sizes["concurrency"])
    ok &= kill(**sizes["kill"])
    ok &= io_faults()
    ok &= determinism()
    ok &= tamper(**sizes["tamper"])
    ok &= trust(**sizes["trust"])
    print("ALL TARGETS MET" if ok else "SOME TARGETS MISSED")
    return ok


def main(argv=None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "_loader-worker":
        print(json.dumps(_loader_worker(int(argv[1]), int(argv[2]), int(argv[3]))))
        return 0
    if argv and argv[0] == "_atheris":
        _atheris_worker(argv[1], int(argv[2]), int(argv[3]), argv[4])
        return 0
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sp = p.add_subparsers(dest="cmd", required=True)
    sp.add_parser("all")
    sp.add_parser("ci")
    a = sp.add_parser("loaders")
    a.add_argument("--n", type=int, default=100_000)
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--workers", type=int, default=2)
    a = sp.add_parser("parsers")
    a.add_argument("--n", type=int, default=1_000_000)
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--only", nargs="*", default=["csv", "meta", "npy"])
    a = sp.add_parser("folders")
    a.add_argument("--n", type=int, default=1000)
    a.add_argument("--seed", type=int, default=0)
    a = sp.add_parser("concurrency")
    a.add_argument("--writers", type=int, nargs="+", default=[8, 16])
    a.add_argument("--per", type=int, default=25)
    a = sp.add_parser("kill")
    a.add_argument("--n", type=int, default=200)
    a.add_argument("--seed", type=int, default=0)
    sp.add_parser("io")
    sp.add_parser("determinism")
    a = sp.add_parser("tamper")
    a.add_argument("--n", type=int, default=100)
    a.add_argument("--seed", type=int, default=0)
    a = sp.add_parser("trust")
    a.add_argument("--n", type=int, default=100)
    a.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.cmd in ("all", "ci"):
        ok = run_all(FULL if args.cmd == "all" else CI)
    elif args.cmd == "loaders":
        ok = loaders(args.n, args.seed, args.workers)
    elif args.cmd == "parsers":
        ok = parsers(args.n, args.seed, tuple(args.only))
    elif args.cmd == "folders":
        ok = folders(args.n, args.seed)
    elif args.cmd == "concurrency":
        ok = concurrency(tuple(args.writers), args.per)
    elif args.cmd == "kill":
        ok = kill(args.n, args.seed)
    elif args.cmd == "io":
        ok = io_faults()
    elif args.cmd == "determinism":
        ok = determinism()
    elif args.cmd == "trust":
        ok = trust(args.n, args.seed)
    else:
        ok = tamper(args.n, args.seed)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
