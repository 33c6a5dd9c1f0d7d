"""All or nothing: a command's outputs are staged, and put in place only when every stage has succeeded.

A command that writes a folder (``layers/``, ``maps/``) works in a staging
copy of it instead: ``FOLDER/.hamji-tmp-<pid>-<random>-stage/``, filled with
hard links to what the folder holds (so a stage that finds its outputs
current still skips, and reading costs nothing). The stages write there as
they would into the folder itself. Only when the whole command has
succeeded does :meth:`Transaction.commit` move what changed into the
folder; a failure, Ctrl-C, a kill or a full disk before that leaves every
earlier output byte for byte as it was, and the staging folder is removed
(or, after a kill, swept by the next run).

The commit itself is a handful of renames. It first writes a journal
(``FOLDER/.hamji-commit.json``) of what it will do, so that a run killed
in the middle of it is finished by the next run that locks the folder,
never left half old and half new; Ctrl-C and SIGTERM are held off while it
runs.

A link in the folder is staged as a link and replaced by a file when the
stage writes that output, never written through; a linked sub-folder is
staged as a real folder holding links to what it lists.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from geo import io
from geo.errors import OutputError

__all__ = ["JOURNAL", "Transaction", "recover", "transaction"]

#: The commit journal each written folder holds while a commit is under way.
JOURNAL = io.COMMIT_JOURNAL
#: What is never staged: the run lock, the journal, and temporary files of any run.
_NOT_STAGED = (".hamji.lock", JOURNAL)
#: How deep linked sub-folders are followed when staging (a link loop stops here).
_MAX_DEPTH = 8


def _staged_entry(name: str) -> bool:
    return name not in _NOT_STAGED and not name.startswith(io.TEMP_MARK)


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link to ``source`` (a link itself is linked, not followed), or a copy where links cannot be made."""
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EMLINK, errno.EACCES):
            raise
        shutil.copy2(source, target, follow_symlinks=False)  # a file system without hard links (FAT, some shares)


def _fill(source: Path, staged: Path, depth: int = 0) -> None:
    """Put in ``staged`` a link to every file below ``source`` (HamJi's own bookkeeping and temporaries aside)."""
    staged.mkdir(exist_ok=True)
    for entry in os.scandir(source):
        if not _staged_entry(entry.name):
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False) or (entry.is_symlink() and path.is_dir()):
            if depth < _MAX_DEPTH:
                _fill(path, staged / entry.name, depth + 1)
        else:
            _link_or_copy(path, staged / entry.name)


def _same_file(a: Path, b: Path) -> bool:
    try:
        first, second = os.lstat(a), os.lstat(b)
    except FileNotFoundError:
        return False
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


@dataclass
class _Plan:
    """What a commit does in one folder: entries to move in (staged -> target) and files to remove."""

    moves: list[tuple[str, str]] = field(default_factory=list)
    removals: list[str] = field(default_factory=list)


def _files_below(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_symlink() or not p.is_dir()}


@dataclass
class _Stage:
    target: Path
    staged: Path
    #: Relative paths staged from the folder, to tell a removed output from one never there.
    before: set[str] = field(default_factory=set)

    def plan(self) -> _Plan:
        plan, now = _Plan(), set[str]()
        self._walk(Path(), plan, now)
        plan.removals = sorted(r for r in self.before - now if _below_real_folders(self.target, Path(r)))
        return plan

    def _walk(self, relative: Path, plan: _Plan, now: set[str]) -> None:
        for entry in sorted(os.scandir(self.staged / relative), key=lambda e: e.name):
            inside, target = relative / entry.name, self.target / relative / entry.name
            source = str(Path(entry.path).relative_to(self.target))
            if entry.is_dir(follow_symlinks=False):
                if target.is_symlink() or (target.exists() and not target.is_dir()):
                    # A linked sub-folder: replaced by the real one staged for it, never written through.
                    plan.moves.append((source, str(inside)))
                    now.update(str(inside / p) for p in _files_below(Path(entry.path)))
                else:
                    self._walk(inside, plan, now)
                continue
            now.add(str(inside))
            if not _same_file(Path(entry.path), target):
                plan.moves.append((source, str(inside)))


def _below_real_folders(folder: Path, relative: Path) -> bool:
    """Whether every folder between ``folder`` and ``relative`` is a real folder, not a link to elsewhere."""
    return not any((folder / parent).is_symlink() for parent in list(relative.parents)[:-1])


def _relative_inside(text: object) -> Path | None:
    """A journal's path, if it is a relative path that stays inside its folder."""
    if not isinstance(text, str) or not text or text.startswith("/"):
        return None
    path = Path(text)
    return None if ".." in path.parts else path


def _move(folder: Path, source: Path, target: Path) -> None:
    staged, destination = folder / source, folder / target
    if not (staged.exists() or staged.is_symlink()):
        return  # done already (a commit finished by recover())
    if staged.is_dir() and not staged.is_symlink():
        if destination.is_symlink() or destination.is_file():
            destination.unlink()  # the link itself goes; what it pointed to is untouched
        elif destination.exists():
            return
    destination.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, destination)  # over a link, the link is replaced, never written through


def _apply(folder: Path, moves: list, removals: list) -> None:
    """Carry out a commit's moves and removals in ``folder`` (what is already done is passed over)."""
    for pair in moves:
        well_formed = isinstance(pair, list) and len(pair) == 2
        source, target = (_relative_inside(p) for p in pair) if well_formed else (None, None)
        if source is None or target is None or not source.parts[0].startswith(io.TEMP_MARK):
            continue  # not a journal HamJi wrote: do nothing it asks
        _move(folder, source, target)
    for text in removals:
        removal = _relative_inside(text)
        if removal is not None and _below_real_folders(folder, removal):
            if (folder / removal).is_file() or (folder / removal).is_symlink():
                (folder / removal).unlink()


def recover(folder: Path) -> bool:
    """Finish a commit that a killed run left half done in ``folder``; True if there was one.

    Call with the folder's lock held (no other run is committing there).
    """
    journal = Path(folder) / JOURNAL
    try:
        fd = os.open(journal, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return False
    except OSError:
        journal.unlink(missing_ok=True)  # a link or worse where the journal goes: not ours, never followed
        return False
    with os.fdopen(fd, encoding="utf-8") as handle:
        try:
            record = json.loads(handle.read(1 << 24))
        except (ValueError, UnicodeDecodeError):
            record = {}
    if isinstance(record, dict):
        _apply(Path(folder), list(record.get("moves") or []), list(record.get("removals") or []))
    journal.unlink(missing_ok=True)
    return True


@contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block ends (a kill cannot: the journal covers that)."""
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class Transaction:
    """The staging folders of one command, and the commit that puts them in place.

    Parameters
    ----------
    folders
        The folders the command writes (created if missing). Each is staged
        on :meth:`stage`.
    """

    def __init__(self, folders: list[Path]):
        self._stages: dict[Path, _Stage] = {}
        for folder in folders:
            self.stage(Path(folder))
        #: Files put in place by :meth:`commit`, as the user named them.
        self.committed: list[Path] = []

    def stage(self, folder: Path) -> Path:
        """The staging folder standing in for ``folder`` (made and filled on first call)."""
        key = Path(folder).resolve()
        if key in self._stages:
            return self._stages[key].staged
        io.ensure_writable(folder)
        if recover(folder):
            io.ensure_writable(folder)  # which now sweeps the finished commit's staging folder
        prefix, suffix = io.temporary_name("stage")
        try:
            staged = Path(tempfile.mkdtemp(dir=folder, prefix=prefix, suffix=suffix))
            stage = _Stage(Path(folder), staged)
            self._stages[key] = stage
            _fill(Path(folder), staged)
        except OSError as exc:
            self.abort()
            raise OutputError(
                f"cannot prepare the outputs of {folder} ({exc.strerror or exc}); nothing was changed"
            ) from None
        stage.before = _files_below(staged)
        return staged

    def staged_path(self, path: Path | None) -> Path | None:
        """``path`` with a staged folder in place of the folder it stands for (other paths unchanged)."""
        if path is None:
            return None
        resolved = Path(path).resolve()
        for key, stage in self._stages.items():
            if resolved == key or key in resolved.parents:
                return stage.staged / resolved.relative_to(key)
        return Path(path)

    def public(self, text: str) -> str:
        """``text`` (a message, a report) naming the folders the user gave instead of their staging folders."""
        for stage in self._stages.values():
            for form in (str(stage.staged.resolve()), str(stage.staged)):
                text = text.replace(form, str(stage.target))
        return text

    def commit(self) -> list[Path]:
        """Put every staged output in place; returns the files put in place."""
        plans = {stage.target: (stage, stage.plan()) for stage in self._stages.values()}
        pending = {folder: plan for folder, (_, plan) in plans.items() if plan.moves or plan.removals}
        for folder, plan in pending.items():  # every journal first: a kill after this is finished by recover()
            record = {"pid": os.getpid(), "moves": plan.moves, "removals": plan.removals}
            io.write_json(record, folder / JOURNAL)
        with _signals_held():
            for folder, plan in pending.items():
                _apply(folder, [list(m) for m in plan.moves], plan.removals)
                (folder / JOURNAL).unlink(missing_ok=True)
                self.committed += [folder / target for _, target in plan.moves]
        self.abort()
        return self.committed

    def abort(self) -> None:
        """Remove every staging folder (after a commit, what is left in them is links to unchanged files)."""
        for stage in self._stages.values():
            shutil.rmtree(stage.staged, ignore_errors=True)


@contextmanager
def transaction(folders: list[Path]) -> Iterator[Transaction]:
    """Stage ``folders`` for the block; commit if it ends normally, discard everything if it raises.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with transaction([folder]) as run:
    ...     _ = io.write_text("new", run.staged_path(folder / "a.txt"))
    ...     (folder / "a.txt").exists()
    False
    >>> (folder / "a.txt").read_text(), [p.name for p in folder.iterdir()]
    ('new', ['a.txt'])
    """
    run = Transaction(list(folders))
    try:
        yield run
    except BaseException:
        run.abort()
        raise
    run.commit()
