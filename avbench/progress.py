"""Progress bars that read well in a terminal and in a log.

:func:`bar` is ``tqdm`` when stderr is a terminal.  Otherwise (CI logs, ``nohup``, a pipe)
it writes one plain line at the start, at most one line every :data:`LOG_EVERY` seconds,
and one at the end.  Such a line looks like ``[generate synth-ensembles] render:
120/240 rec (50%, 31 s)``, with no carriage returns and no bar characters.  Every bar
names its step.
"""
from __future__ import annotations

import os
import sys
import time

LOG_EVERY = float(os.environ.get("AVBENCH_PROGRESS_EVERY", "30"))


class _Lines:
    def __init__(self, iterable=None, total=None, desc="", unit="it", initial=0, disable=False, **_):
        self.iterable, self.total, self.desc, self.unit = iterable, total, desc, unit
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            self.total = len(iterable)
        self.n, self.disable = initial, disable
        self.t0 = self.last = time.monotonic()
        self._closed = False
        self._say("start")

    def _say(self, what: str = "") -> None:
        if self.disable:
            return
        tot = f"/{self.total}" if self.total is not None else ""
        pct = f"{100 * self.n / self.total:.0f}%, " if self.total else ""
        extra = f"; {what}" if what else ""
        print(f"{self.desc}: {self.n}{tot} {self.unit} ({pct}{time.monotonic() - self.t0:.0f} s{extra})",
              file=sys.stderr, flush=True)

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if now - self.last >= LOG_EVERY:
            self.last = now
            self._say()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._say("done")

    def __iter__(self):
        for x in self.iterable:
            yield x
            self.update()
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def bar(iterable=None, **kw):
    """A progress bar over ``iterable`` (or one updated by hand): ``tqdm`` on a terminal,
    plain periodic lines otherwise.  Takes tqdm's ``total``, ``desc``, ``unit``,
    ``initial`` and ``disable``."""
    if sys.stderr.isatty():
        from tqdm import tqdm

        return tqdm(iterable, **kw)
    return _Lines(iterable, **kw)
