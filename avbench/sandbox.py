"""Run untrusted-input work (decoding, scoring) in child processes with limits.

:func:`map_limited` applies a function to a list of jobs in forked children whose
address space is capped (``RLIMIT_AS``: the parent's size plus ``mem_bytes``) and whose
every job must finish within ``timeout_s`` of wall-clock time.  A job that hangs, blows
the memory cap or kills its process (a decoder crash) becomes a result built by
``on_fail(job, reason)``; the child is replaced and the remaining jobs go on.  Nothing
the child does can take the parent down.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import time
import traceback
from multiprocessing.connection import wait
from typing import Any, Callable

from .errors import AvbenchError, SubmissionError


def _pack(e: AvbenchError) -> tuple:
    if isinstance(e, SubmissionError):
        return ("submission", e.problems, e.root)
    return (type(e).__name__, e.message, e.path, e.fix, e.code)


def _unpack(p: tuple) -> AvbenchError:
    """The child's error, raised again in the parent (exit 2 with its message, no traceback)."""
    from . import errors

    if p[0] == "submission":
        return SubmissionError(p[1], p[2])
    cls = getattr(errors, p[0], AvbenchError)
    if not (isinstance(cls, type) and issubclass(cls, AvbenchError)) or cls is SubmissionError:
        cls = AvbenchError
    return cls(p[1], path=p[2] or None, fix=p[3], code=p[4])


def default_timeout() -> float:
    """Seconds one decoding job may take (``AVBENCH_DECODE_TIMEOUT``, default 30)."""
    return float(os.environ.get("AVBENCH_DECODE_TIMEOUT", "30"))


def default_mem() -> int:
    """Bytes a decoding child may add to its address space (``AVBENCH_DECODE_MEM_GB``, default 2)."""
    return int(float(os.environ.get("AVBENCH_DECODE_MEM_GB", "2")) * (1 << 30))


def _vm_size() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _limit_memory(mem_bytes: int) -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return
    cur = _vm_size()
    if cur <= 0:
        return
    limit = cur + mem_bytes
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _child(fn: Callable, jobs: list, start: int, conn, mem_bytes: int, init: Callable | None) -> None:
    try:
        _limit_memory(mem_bytes)
        if init is not None:
            init()
        for i in range(start, len(jobs)):
            conn.send(("start", i, None))
            try:
                r = fn(jobs[i])
                conn.send(("done", i, r))
            except MemoryError:
                conn.send(("fail", i, "exceeded the memory limit"))
            except AvbenchError as e:  # the user's input, found by the child: the parent raises it
                conn.send(("user", i, _pack(e)))
            except Exception as e:  # noqa: BLE001 - reported to the parent, which decides
                conn.send(("error", i, "".join(traceback.format_exception(e))))
        conn.send(("end", None, None))
    finally:
        conn.close()
        os._exit(0)


class _Shard:
    def __init__(self, ctx, fn, jobs, offset, mem_bytes, init):
        self.jobs, self.fn, self.mem, self.init, self.ctx = jobs, fn, mem_bytes, init, ctx
        self.offset = offset  # position of this shard's first job in the whole list
        self.deadline: float | None = None
        self.current: int | None = None
        self.next = 0
        self.done = not jobs
        self.proc = self.conn = None
        if not self.done:
            self._spawn()

    def _spawn(self):
        recv, send = self.ctx.Pipe(duplex=False)
        self.proc = self.ctx.Process(target=_child, args=(self.fn, self.jobs, self.next, send, self.mem, self.init),
                                     daemon=True)
        self.proc.start()
        send.close()
        self.conn = recv

    def kill(self):
        if self.proc is not None and self.proc.is_alive():
            self.proc.kill()
        if self.proc is not None:
            self.proc.join()
        if self.conn is not None:
            self.conn.close()
        self.proc = self.conn = None

    def restart_after_failure(self):
        self.kill()
        self.next = (self.current if self.current is not None else self.next) + 1
        self.current = None
        if self.next >= len(self.jobs):
            self.done = True
        else:
            self._spawn()


def map_limited(fn: Callable[[Any], Any], jobs: list, on_fail: Callable[[Any, str], Any], *,
                workers: int = 1, timeout_s: float | None = None, mem_bytes: int | None = None,
                init: Callable | None = None) -> list:
    """``[fn(job) for job in jobs]`` in limited children; failures become ``on_fail(job, reason)``.

    Jobs are split into ``workers`` contiguous shards, one child each.  An exception
    raised by ``fn`` is a bug, not bad input: it is re-raised here with the child's
    traceback.  Results keep the order of ``jobs``.
    """
    timeout_s = default_timeout() if timeout_s is None else timeout_s
    mem_bytes = default_mem() if mem_bytes is None else mem_bytes
    n = len(jobs)
    out: list = [None] * n
    if n == 0:
        return out
    ctx = mp.get_context("fork")
    workers = max(1, min(workers, n))
    bounds = [round(k * n / workers) for k in range(workers + 1)]
    shards = []
    try:
        for k in range(workers):
            shards.append(_Shard(ctx, fn, jobs[bounds[k]:bounds[k + 1]], bounds[k], mem_bytes, init))
        while any(not s.done for s in shards):
            live = [s for s in shards if not s.done]
            now = time.monotonic()
            for s in live:
                if s.deadline is None:
                    s.deadline = now + timeout_s
            wait_s = max(0.0, min(s.deadline for s in live) - now)
            ready = wait([s.conn for s in live], timeout=wait_s)
            now = time.monotonic()
            for s in live:
                if s.conn in ready:
                    try:
                        kind, i, payload = s.conn.recv()
                    except (EOFError, OSError):
                        if s.proc is not None:
                            s.proc.join(5)
                        code = s.proc.exitcode if s.proc is not None else None
                        if s.current is None:  # died before announcing its next job
                            s.current = s.next
                        j = s.current
                        reason = (f"decoder process killed by signal {-code}" if code is not None and code < 0
                                  else "decoder process died (memory limit or crash)")
                        out[s.offset + j] = on_fail(s.jobs[j], reason)
                        s.restart_after_failure()
                        s.deadline = None
                        continue
                    if kind == "start":
                        s.current = i
                        s.deadline = now + timeout_s
                    elif kind == "done":
                        out[s.offset + i] = payload
                        s.next, s.current = i + 1, None
                    elif kind == "fail":
                        out[s.offset + i] = on_fail(s.jobs[i], payload)
                        s.next, s.current = i + 1, None
                    elif kind == "user":
                        raise _unpack(payload)
                    elif kind == "error":
                        raise RuntimeError(f"internal error in a child process:\n{payload}")
                    elif kind == "end":
                        s.kill()
                        s.done = True
                elif s.deadline is not None and now >= s.deadline:
                    j = s.current if s.current is not None else s.next
                    s.current = j
                    out[s.offset + j] = on_fail(s.jobs[j], f"timed out after {timeout_s:g} s")
                    s.restart_after_failure()
                    s.deadline = None
    finally:
        for s in shards:
            s.kill()
    return out
