"""Crash-safe file writing shared by every layer.

* :func:`atomic_write`: temporary file beside the target, ``fsync``, atomic
  ``os.replace``, directory ``fsync``: a reader sees the old or the new file, never half.
* :func:`commit`: several files of one folder replaced as one transaction.  New
  contents are staged as temporary files; the old files are kept as hard-linked
  backups; a journal written atomically is the commit point; the renames follow.  An
  I/O failure at any step restores the backups (old state, :class:`WriteError`); a
  process killed after the commit point is rolled forward by :func:`recover` (new
  state); temporary files left by a kill before it are swept by :func:`recover`.

Every OS call that writes goes through one :class:`Ops` object; :func:`write_hook`
routes them through a wrapper for a while, which is how tests inject ``ENOSPC``/``EIO``
or a kill at each step.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path
from typing import Callable, Iterator

from .errors import WriteError

JOURNAL = ".journal.json"
_TMP_SUFFIXES = (".tmp", ".bak")


class Ops:
    """The writing primitives, every step of a write (one place to inject faults): a
    wrapper given to :func:`write_hook` has these five methods."""

    def write(self, path: Path, data: bytes) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        finally:
            os.close(fd)

    def replace(self, src: Path, dst: Path) -> None:
        os.replace(src, dst)

    def link(self, src: Path, dst: Path) -> None:
        os.link(src, dst)

    def unlink(self, path: Path) -> None:
        os.unlink(path)

    def fsync_dir(self, path: Path) -> None:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


_ops: Ops = Ops()
#: the same primitives, never replaced: undoing a failed commit must not meet the injected fault again
_plain = Ops()


@contextlib.contextmanager
def write_hook(wrap: Callable[[Ops], Ops]) -> Iterator[Ops]:
    """Route every write step of :func:`atomic_write` and :func:`commit` through
    ``wrap(current)`` (an object with the methods of :class:`Ops`, usually calling the
    current one) until the block ends; yields that object.  For fault injection: fail
    step *k* with ``ENOSPC``, or kill the process there.  Undoing a failed commit uses
    the plain primitives, never the hook."""
    global _ops
    old = _ops
    _ops = wrap(old)
    try:
        yield _ops
    finally:
        _ops = old


def _tmp_name(path: Path, tag: str, kind: str = "tmp") -> Path:
    return path.with_name(f".{path.name}.{tag}.{kind}")


def _quiet_unlink(p: Path) -> None:
    try:
        os.unlink(p)
    except OSError:
        pass


def plain_dirs(root: str | Path, rel: str, refuse: Callable[[str, str], Exception]) -> Path:
    """``root / rel``, every component of ``rel`` made or checked to be a real folder: a
    link (which would send the writes elsewhere), a file or a special file on the way
    raises ``refuse(component, what)``.  ``root`` itself is the caller's choice and trusted."""
    import stat as st_

    d = Path(root)
    for part in [p for p in Path(rel).parts if p not in ("", ".")]:
        d = d / part
        try:
            m = os.lstat(d).st_mode
        except FileNotFoundError:
            os.mkdir(d)
            continue
        if not st_.S_ISDIR(m):
            raise refuse(str(d), "a symbolic link" if st_.S_ISLNK(m) else "a file" if st_.S_ISREG(m)
                         else "a special file")
    return d


def write_nofollow(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` in a folder :func:`plain_dirs` checked: through a new
    temporary file (``O_EXCL | O_NOFOLLOW``) renamed over the name, so that a link left at
    the name is replaced, never written through."""
    path = Path(path)
    tmp = _tmp_name(path, f"{os.getpid()}-{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        _quiet_unlink(tmp)
        raise


def atomic_write(path: str | Path, text: str | bytes) -> None:
    """Write ``text`` (str or bytes) to ``path`` atomically and durably."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    tmp = _tmp_name(path, f"{os.getpid()}-{secrets.token_hex(4)}")
    try:
        _ops.write(tmp, data)
        _ops.replace(tmp, path)
        _ops.fsync_dir(path.parent)
    except OSError as e:
        _quiet_unlink(tmp)
        raise WriteError(f"cannot write ({e.strerror or e}); the previous file is intact", path=path,
                         fix="free disk space or fix the file system, then run the command again") from e


def commit(root: str | Path, writes: dict[str, bytes | None]) -> None:
    """Replace (bytes) or delete (``None``) files under ``root`` as one transaction.

    Keys are paths relative to ``root``.  Call under the folder's lock, after
    :func:`recover`.  Raises :class:`WriteError` with the old files intact on any
    I/O failure.
    """
    root = Path(root)
    tag = f"{os.getpid()}-{secrets.token_hex(4)}"
    staged: dict[str, Path] = {}
    backups: dict[str, Path] = {}
    plan = sorted(writes)
    journal = root / JOURNAL
    committed = False
    try:
        for rel in plan:
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if writes[rel] is not None:
                staged[rel] = _tmp_name(target, tag)
                _ops.write(staged[rel], writes[rel])
            if target.exists():
                backups[rel] = _tmp_name(target, tag, "bak")
                _ops.link(target, backups[rel])
        for d in sorted({(root / rel).parent for rel in plan} | {root}):
            _ops.fsync_dir(d)
        ops = [[rel, staged[rel].name if rel in staged else None, backups[rel].name if rel in backups else None]
               for rel in plan]
        jtmp = _tmp_name(journal, tag)
        _ops.write(jtmp, json.dumps({"ops": ops}).encode())
        _ops.replace(jtmp, journal)
        committed = True  # the journal is in place: from here a failure is undone, a kill is completed
        _ops.fsync_dir(root)
        _roll_forward(root, ops)
        _ops.unlink(journal)
        _ops.fsync_dir(root)
    except OSError as e:
        if committed:
            _roll_back(root, plan, staged, backups)
            _quiet_unlink(journal)
        for p in list(staged.values()) + list(backups.values()) + [_tmp_name(journal, tag)]:
            _quiet_unlink(p)
        raise WriteError(f"cannot update ({e.strerror or e}); the previous files are intact", path=root,
                         fix="free disk space or fix the file system, then run the command again") from e
    for p in backups.values():
        _quiet_unlink(p)


def _roll_forward(root: Path, ops: list) -> None:
    dirs = {root}
    for rel, tmp, _ in ops:
        target = root / rel
        dirs.add(target.parent)
        if tmp is not None:
            src = target.with_name(tmp)
            if src.exists():
                _ops.replace(src, target)
        elif target.exists() and (tmp is None):
            _ops.unlink(target)
    for d in sorted(dirs):
        _ops.fsync_dir(d)


def _roll_back(root: Path, plan: list[str], staged: dict[str, Path], backups: dict[str, Path]) -> None:
    """Undo a half-applied commit in this process."""
    for rel in plan:
        target = root / rel
        if rel in backups and backups[rel].exists():
            _plain.replace(backups[rel], target)
        elif rel not in backups and target.exists():
            _plain.unlink(target)
    for d in sorted({(root / rel).parent for rel in plan} | {root}):
        try:
            _plain.fsync_dir(d)
        except OSError:
            pass


def _journal_ops(journal: Path) -> list | None:
    """The operations of a journal, or ``None`` when it is not one :func:`commit` wrote:
    a link or special file, over 1 MiB, or any operation naming a path outside its
    folder or a temporary file that is not of the commit's own form.  A journal found in
    a folder someone else can write (a submission's ``results/``) is never obeyed beyond that."""
    from .safeio import read_regular

    try:
        ops = json.loads(read_regular(journal, 1 << 20))["ops"]
    except (ValueError, KeyError, TypeError, OSError):
        return None
    if not isinstance(ops, list):
        return None
    for op in ops:
        if not (isinstance(op, list) and len(op) == 3 and isinstance(op[0], str)):
            return None
        rel, tmp, bak = op
        parts = rel.split("/")
        if rel.startswith("/") or "\\" in rel or "\0" in rel or any(p in ("", ".", "..") for p in parts):
            return None
        base = parts[-1]
        for name, kind in ((tmp, "tmp"), (bak, "bak")):
            if name is not None and not (isinstance(name, str) and "/" not in name
                                         and name.startswith(f".{base}.") and name.endswith(f".{kind}")):
                return None
    return ops


def recover(root: str | Path) -> list[str]:
    """Finish an update a killed process had committed, and sweep orphaned temporary
    files.  Call under the folder's lock.  Returns what was done."""
    root = Path(root)
    done = []
    journal = root / JOURNAL
    if os.path.lexists(journal):
        ops = _journal_ops(journal)
        if ops is not None:
            _roll_forward(root, ops)
            done.append(f"completed an interrupted update of {len(ops)} file(s)")
        os.unlink(journal)
    if root.is_dir() and not root.is_symlink():
        for dirpath, _, names in os.walk(root):  # never descends into a linked folder
            for n in names:
                if n.startswith(".") and n.endswith(_TMP_SUFFIXES):
                    os.unlink(os.path.join(dirpath, n))
                    done.append(f"removed {os.path.relpath(os.path.join(dirpath, n), root)}")
    return done
