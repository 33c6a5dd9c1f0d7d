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
runs. A command writing two folders (``layers/`` and ``maps/``) writes the
journal of the second first and that of the first last: the first one's
journal is the decision. A run killed before it was written leaves a
journal that is not decided, which the next run discards (nothing was
replaced); once it is written, whichever folder is locked next finishes
the commit in both. The journals are removed only when both folders are
done, the decision last, so a journal naming a decision that is gone was
never decided.

A link in the folder is staged as a link and replaced by a file when the
stage writes that output, never written through; a linked ``scenarios/``
is staged as a real folder holding links to what it lists. Any other
sub-folder (or link to one) is the user's: it is not staged at all.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
import signal
import tempfile
import threading
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
#: The one sub-folder HamJi writes into, in ``layers/`` and ``maps/`` (the scenarios' outputs).
SUBFOLDER = "scenarios"
#: How deep linked sub-folders are followed when staging (a link loop stops here).
_MAX_DEPTH = 8
#: The most of a commit journal read (a real one lists a few dozen moves).
_JOURNAL_MAX_BYTES = 1 << 24


#: What HamJi's own files are called by (a folder so named stands where a stage reads or writes a file).
_FILE_SUFFIXES = (".gpkg", ".csv", ".md", ".svg", ".html", ".json", ".geojson")


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
    """Put in ``staged`` a link to every file of ``source`` and below its ``scenarios/``.

    HamJi's own bookkeeping and temporaries aside. Of the sub-folders only
    ``scenarios/`` is HamJi's (no stage writes any other): a user's own
    folder beside the outputs, or a link to one (``data -> /big/disk``), is
    never staged, so never copied, replaced or read.
    """
    staged.mkdir(exist_ok=True)
    for entry in os.scandir(source):
        if not _staged_entry(entry.name):
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False) or (entry.is_symlink() and path.is_dir()):
            if entry.name.lower().endswith(_FILE_SUFFIXES):
                raise OutputError(f"{path} is a folder where HamJi keeps a file; move it away and run again")
            if depth < _MAX_DEPTH and (depth > 0 or entry.name == SUBFOLDER):
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
    try:
        os.replace(staged, destination)  # over a link, the link is replaced, never written through
    except FileNotFoundError:
        pass  # moved meanwhile by the run finishing the same commit from the other folder


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


def _read_journal(journal: Path) -> dict | None:
    """The record of a commit journal; None if there is none, {} if it is not one HamJi wrote.

    Read without following a link or blocking on a FIFO (see :func:`io.read_record`).
    """
    if not (journal.exists() or journal.is_symlink()):
        return None
    data = io.read_record(journal, _JOURNAL_MAX_BYTES)
    try:
        record = json.loads(data) if data is not None else {}
    except ValueError:  # UnicodeDecodeError included
        return {}
    return record if isinstance(record, dict) else {}


def _decision(journal: Path, record: dict) -> tuple[Path, dict] | None:
    """The deciding journal of ``record``'s commit and its record; None if the commit was never decided."""
    decision = record.get("decided_by")
    if decision is None:
        return journal, record  # the deciding journal itself (or the only one)
    if not isinstance(decision, str) or not decision.startswith("/"):
        return None
    other = _read_journal(Path(decision))
    return (Path(decision), other) if other and other.get("commit") == record.get("commit") else None


def _finish(folder: Path, record: dict) -> None:
    _apply(folder, list(record.get("moves") or []), list(record.get("removals") or []))


def recover(folder: Path) -> bool:
    """Finish a commit that a killed run left half done in ``folder``, or discard one never decided.

    Returns True if there was a journal. Call with the folder's lock held (no
    other run is committing there). A decided commit is finished in every
    folder it wrote, the deciding one last, so that it is never put in place
    in one folder and discarded in the other.
    """
    journal = Path(folder) / JOURNAL
    record = _read_journal(journal)
    if record is None:
        return False
    decided = _decision(journal, record)
    if decided is not None:
        decision, main = decided
        for other in main.get("also") or []:
            if not isinstance(other, str) or not other.startswith("/"):
                continue
            theirs = _read_journal(Path(other) / JOURNAL)
            if theirs and theirs.get("commit") == main.get("commit") and theirs.get("decided_by") == str(decision):
                _finish(Path(other), theirs)
                (Path(other) / JOURNAL).unlink(missing_ok=True)
        _finish(decision.parent, main)
        decision.unlink(missing_ok=True)
    journal.unlink(missing_ok=True)
    return True


#: The signals that came while the command ran (:func:`interrupt_handler`). Python drops the
#: KeyboardInterrupt a Ctrl-C raises while a finaliser (``__del__``) or a weakref callback runs; the
#: run would then go on and replace its outputs. A commit checks this record, not only the exception.
_INTERRUPTED: list[int] = []


def interrupt_handler(signum: int, frame) -> None:
    """The command's SIGINT handler: note the signal, then raise KeyboardInterrupt as Python's own does."""
    _INTERRUPTED.append(signum)
    raise KeyboardInterrupt


@contextmanager
def interrupts_noted() -> Iterator[None]:
    """For the block, Ctrl-C is noted for :meth:`Transaction.commit` as well as raised (main thread only).

    The record lasts the block: a later transaction in the same process (a notebook) commits as usual.
    """
    _INTERRUPTED.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, interrupt_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _INTERRUPTED.clear()


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
        except OutputError:  # a folder where a HamJi file belongs: nothing staged stays behind
            self.abort()
            raise
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
        """Put every staged output in place; returns the files put in place.

        Nothing is put in place once the user has pressed Ctrl-C, even if Python dropped the interrupt.
        """
        if _INTERRUPTED:
            self.abort()
            raise KeyboardInterrupt
        plans = [(stage.target, stage.plan()) for stage in self._stages.values()]
        pending = [(folder, plan) for folder, plan in plans if plan.moves or plan.removals]
        self._write_journals(pending)  # a kill after this is finished by recover()
        with _signals_held():
            for folder, plan in pending:
                _apply(folder, [list(m) for m in plan.moves], plan.removals)
                self.committed += [folder / target for _, target in plan.moves]
            # Every journal stays until every folder is done, so that whichever folder is locked
            # after a kill finishes the whole commit; the decision goes last.
            for folder, _ in [*pending[1:], *pending[:1]]:
                (folder / JOURNAL).unlink(missing_ok=True)
        self.abort()
        return self.committed

    def _write_journals(self, pending: list[tuple[Path, _Plan]]) -> None:
        """Every folder's journal, the deciding one (the first folder's) last; none if one cannot be written."""
        commit = secrets.token_hex(8)
        decision = (pending[0][0].resolve() / JOURNAL) if pending else None
        written: list[Path] = []
        try:
            for folder, plan in reversed(pending):
                record = {"pid": os.getpid(), "commit": commit, "moves": plan.moves, "removals": plan.removals}
                if folder.resolve() / JOURNAL == decision:
                    record["also"] = [str(f.resolve()) for f, _ in pending[1:]]
                else:
                    record["decided_by"] = str(decision)
                written.append(io.write_json(record, folder / JOURNAL))
        except OutputError as exc:
            for journal in written:
                journal.unlink(missing_ok=True)
            self.abort()
            full = "disk is full" in str(exc)
            raise OutputError(
                ("the disk is full: " if full else f"{exc}: ")
                + "the new outputs could not be put in place, and every earlier output is unchanged"
                + ("; free some space and run again" if full else "")
            ) from None

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
