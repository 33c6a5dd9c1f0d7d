"""One HamJi run at a time per output folder.

Two runs writing the same folders would interleave their files, so every
stage holds an exclusive lock on each folder it writes (``.hamji.lock``, an
``flock`` the system releases when the process ends, however it ends). A
second run is refused with the holder's process id, or waits with
``wait=True``. Locks are re-entrant within a process, so ``build`` can hold
them across all its stages while each stage takes them again. A run
removes the lock file, and the folders, it made once it is done with them
(the folders only if empty): a command that fails early leaves a folder as
it found it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from geo.errors import BusyError, OutputError
from geo.io import ensure_writable

LOCK_FILE = ".hamji.lock"


@dataclass
class _Held:
    """A lock this process holds: its descriptor, how many times it is taken, and what taking it created."""

    fd: int
    depth: int
    #: The lock file did not exist before: it goes when the lock is released.
    made_file: bool
    #: Folders that did not exist before, deepest first: removed when released if nothing else is in them.
    made_folders: list[Path] = field(default_factory=list)


#: Folder -> the lock this process holds on it.
_HELD: dict[Path, _Held] = {}


def _holder(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode().strip() or 0) or None
    except (OSError, ValueError):
        return None


def _open_lock(path: Path) -> tuple[int, bool] | None:
    """The lock file, opened without following a link, and only if it is a regular file; and whether it was made.

    None if its folder is gone (the run this one waited for made it, and removed it empty).

    A folder from a zip or a clone can carry ``.hamji.lock`` as a link to any
    file; following it would truncate that file and write a process id into it.
    """
    flags = os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        while True:  # again only if the file went between the two calls (its holder removed it)
            try:
                fd, made = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o666), True
                break
            except FileExistsError:  # also a link: O_EXCL never follows one, and the next open refuses it
                pass
            except FileNotFoundError:
                return None
            try:
                fd, made = os.open(path, flags), False
                break
            except FileNotFoundError:
                continue
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputError(
                f"{path} is a link, not HamJi's lock file; remove it (HamJi never writes through it) and run again"
            ) from None
        raise OutputError(f"cannot open the lock file {path} ({exc.strerror}); remove it and run again") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OutputError(f"{path} is not a regular file, so not HamJi's lock file; remove it and run again")
    return fd, made


def _is_at(fd: int, path: Path) -> bool:
    """Whether ``fd`` is still the file at ``path`` (the run that held it may have removed it since it was opened)."""
    try:
        here = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and its parents that do not exist yet, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _acquire(folder: Path, wait: bool) -> None:
    if folder in _HELD:
        _HELD[folder].depth += 1
        return
    made_folders = _missing_folders(folder)
    while True:
        ensure_writable(folder)  # again when the run this one waited for removed the folder it had made
        opened = _open_lock(folder / LOCK_FILE)
        if opened is None:
            continue
        fd, made = opened
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            pid = _holder(fd)
            os.close(fd)
            raise BusyError(folder, pid) from None
        if _is_at(fd, folder / LOCK_FILE):
            break
        os.close(fd)  # locked a file its holder removed on release: lock the one there now
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    _HELD[folder] = _Held(fd, 1, made, made_folders)


def _release(folder: Path) -> None:
    """Release a lock; the last release removes the lock file and the empty folders that taking it created.

    The file is removed while still locked, so a run waiting on it sees that
    it is gone (:func:`_is_at`) and locks a new one: never two at once.
    A command that failed early leaves the folder as it found it.
    """
    held = _HELD[folder]
    held.depth -= 1
    if held.depth:
        return
    del _HELD[folder]
    if held.made_file and _is_at(held.fd, folder / LOCK_FILE):
        os.unlink(folder / LOCK_FILE)
    os.close(held.fd)  # closing the descriptor releases the flock
    for made in held.made_folders:
        try:
            made.rmdir()  # only if empty: what the run wrote stays
        except OSError:
            break


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
