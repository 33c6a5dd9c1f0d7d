"""One HamJi run at a time per output folder.

Two runs writing the same folders would interleave their files, so every
stage holds an exclusive lock on each folder it writes (``.hamji.lock``, an
``flock`` the system releases when the process ends, however it ends). A
second run is refused with the holder's process id, or waits with
``wait=True``. Locks are re-entrant within a process, so ``build`` can hold
them across all its stages while each stage takes them again.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from geo.errors import BusyError, OutputError
from geo.io import ensure_writable

LOCK_FILE = ".hamji.lock"
#: Folder -> (file descriptor, depth) of the locks this process holds.
_HELD: dict[Path, list[int]] = {}


def _holder(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode().strip() or 0) or None
    except (OSError, ValueError):
        return None


def _open_lock(path: Path) -> int:
    """The lock file, opened without following a link, and only if it is a regular file.

    A folder from a zip or a clone can carry ``.hamji.lock`` as a link to any
    file; following it would truncate that file and write a process id into it.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputError(
                f"{path} is a link, not HamJi's lock file; remove it (HamJi never writes through it) and run again"
            ) from None
        raise OutputError(f"cannot open the lock file {path} ({exc.strerror}); remove it and run again") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OutputError(f"{path} is not a regular file, so not HamJi's lock file; remove it and run again")
    return fd


def _acquire(folder: Path, wait: bool) -> None:
    if folder in _HELD:
        _HELD[folder][1] += 1
        return
    ensure_writable(folder)
    fd = _open_lock(folder / LOCK_FILE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        pid = _holder(fd)
        os.close(fd)
        raise BusyError(folder, pid) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    _HELD[folder] = [fd, 1]


def _release(folder: Path) -> None:
    entry = _HELD[folder]
    entry[1] -= 1
    if entry[1] == 0:
        del _HELD[folder]
        os.close(entry[0])  # closing the descriptor releases the flock


@contextmanager
def hold(*folders: Path | None, wait: bool = False) -> Iterator[None]:
    """Hold the lock of every folder in ``folders`` (``None`` entries are skipped).

    Parameters
    ----------
    folders
        Output folders this run writes; created if missing.
    wait
        Wait for another run to finish instead of raising :class:`BusyError`.
    """
    taken: list[Path] = []
    try:
        # Always in the same order, so two waiting runs cannot deadlock.
        for folder in sorted({Path(f).resolve() for f in folders if f is not None}):
            _acquire(folder, wait)
            taken.append(folder)
        yield
    finally:
        for folder in reversed(taken):
            _release(folder)
