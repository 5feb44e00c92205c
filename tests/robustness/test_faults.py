"""The robustness figures at CI size: each experiment of scripts/robustness.py must meet
its targets (fuzzed loaders and parsers, malformed folders, concurrent scorers, SIGKILLs,
ENOSPC/EIO, determinism, tamper evidence).  The full figures: ``python
scripts/robustness.py all``."""
import os
import signal
import time
from pathlib import Path

import pytest

import harness as R  # tests/robustness/harness.py (on the path: pytest adds this folder)
from avbench.errors import Problem
from avbench.safeio import read_estimate
from avbench.sandbox import map_limited

ROOT = Path(__file__).resolve().parents[2]
CI = R.CI


def test_loaders_fuzz_100k(mini):
    assert R.loaders(**CI["loaders"])


def test_parsers_fuzz(mini):
    pytest.importorskip("atheris")
    assert R.parsers(**CI["parsers"])


def test_malformed_folders(mini):
    assert R.folders(**CI["folders"])


def test_concurrent_scorers(mini):
    assert R.concurrency(**CI["concurrency"])


def test_sigkill_during_updates(mini):
    assert R.kill(**CI["kill"])


def test_enospc_and_eio_at_every_write(mini):
    assert R.io_faults()


def test_determinism(mini):
    assert R.determinism()


def test_tamper_evidence(mini):
    assert R.tamper(**CI["tamper"])


def test_trust_boundaries(mini):
    """Resume-state forgery, link swaps, non-finite injection, board tampering: 0 accepted."""
    assert R.trust(**CI["trust"])


# ---------------------------------------------------------------------------- regressions
def _replay(path: str) -> list:
    data = Path(path).read_bytes()
    name = Path(path).name
    if name.startswith(("csv-", "meta-", "npy-")):
        R._parser_target(name.split("-")[0])(data)
        return []
    return [p.code for p in read_estimate(data, f"x/{name}", R.SR, R.N_SAMPLES)[1]]


def test_fuzz_regressions_replay():
    files = sorted(str(p) for p in (ROOT / "tests" / "robustness" / "fuzz_regressions").glob("*")
                   if p.suffix != ".txt")
    assert files, "the regression corpus is empty"
    out = map_limited(_replay, files, lambda j, why: f"FAILED {why}", timeout_s=2.0, workers=1)
    assert not [o for o in out if isinstance(o, str)], out


# ---------------------------------------------------------------------------- the sandbox
def _job(j):
    if j == "hang":
        time.sleep(60)
    if j == "crash":
        import faulthandler

        faulthandler.disable()  # pytest's handler would print every thread's stack
        os.kill(os.getpid(), signal.SIGSEGV)
    if j == "explode":
        return len(bytearray(3 << 30))
    return j * 2


def test_sandbox_turns_hangs_crashes_and_memory_into_results():
    jobs = [1, "hang", 2, "crash", 3, "explode", 4]
    out = map_limited(_job, jobs, lambda j, why: ("failed", why), workers=2, timeout_s=2, mem_bytes=1 << 30)
    assert out[0] == 2 and out[2] == 4 and out[4] == 6 and out[6] == 8
    assert out[1][0] == "failed" and "timed out" in out[1][1]
    assert out[3][0] == "failed" and "signal 11" in out[3][1]
    assert out[5] == ("failed", "exceeded the memory limit")


def test_sandbox_reraises_bugs():
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        map_limited(lambda j: 1 / j, [1, 0], lambda j, why: None)


def test_decoder_timeout_names_the_file(tmp_path):
    from avbench.submission.checks import _decode_failed

    (p,) = _decode_failed(("/x", "t/estimates/a/00/violin.wav", 11025, 4), "timed out after 1 s")
    assert isinstance(p, Problem) and p.code == "AVB429" and p.path.endswith("violin.wav")
