"""Reading and writing stage outputs without ever leaving a half-written file."""

from __future__ import annotations

import errno
import glob
import hashlib
import json
import os
import re
import shutil
import sqlite3
import stat
import tempfile
import unicodedata
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geo import settings
from geo.errors import InputError, MissingStageError, OutputError, clip

PROVENANCE_KEY = "hamji_provenance"
#: The name QGIS shows for the default style of each layer (its layer_styles row).
STYLE_NAME = "HamJi Explorer"


#: (device, inode, size, mtime) -> digest: a stage's inputs are hashed once per process, however often asked.
_DIGESTS: dict[tuple[int, int, int, int], str] = {}


def file_digest(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes: the one digest of a file HamJi uses (cache keys, lineage, provenance)."""
    info = os.stat(path)
    key = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
    if key not in _DIGESTS:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _DIGESTS[key] = digest.hexdigest()
    return _DIGESTS[key]


def json_digest(values: object, length: int = 16) -> str:
    """SHA-256 (first ``length`` hex digits) of a JSON-able value, keys sorted: the digest of a record."""
    text = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


#: Every file this process has put in place, in order: what an interrupted run
#: says it wrote (everything else is as it was).
WRITTEN: list[Path] = []


def ensure_writable(folder: Path) -> Path:
    """Create ``folder`` if needed and prove a file can be written there."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"output folder {folder} is a file, not a folder; choose another folder or move it away")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _sweep(folder)  # what runs killed in this folder left behind
        prefix, suffix = temporary_name("write-test")
        fd, probe = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=suffix)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(
            f"cannot write to output folder {folder} ({exc.strerror}); choose another folder or fix its permissions"
        ) from None
    return folder


#: Every temporary file or folder HamJi makes starts with this marker, and the sweep removes nothing else.
TEMP_MARK = ".hamji-tmp-"


def temporary_name(name: str) -> tuple[str, str]:
    """The (prefix, suffix) of a temporary file for ``name``: ``.hamji-tmp-<pid>-<random>-<name>``.

    The writer's process id lets a sweep tell a live run's file from a dead
    one's; the marker, which no user file carries, keeps the sweep off
    everything else (a user's own ``.hamji_reach.csv-backup`` included).
    """
    return f"{TEMP_MARK}{os.getpid()}-", f"-{name}"


#: A commit under way (see :mod:`geo.staging`); while it is there, the sweep leaves the folder alone.
COMMIT_JOURNAL = ".hamji-commit.json"


def _sweep(folder: Path) -> None:
    """Remove the temporary files and folders that HamJi runs which have since died left in ``folder``.

    Nothing is swept while a killed run's commit journal is there: its staging folder is still to be
    moved in by the next run that stages the folder.
    """
    if (Path(folder) / COMMIT_JOURNAL).exists() or (Path(folder) / COMMIT_JOURNAL).is_symlink():
        return
    for stale in Path(folder).glob(f"{glob.escape(TEMP_MARK)}*"):
        pid = stale.name[len(TEMP_MARK) :].split("-", 1)[0]
        if not pid.isdigit() or process_alive(int(pid)):
            continue  # not in our format, or a live run's file (or our own): not ours to remove
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)  # rmtree never follows the links inside
        else:
            stale.unlink(missing_ok=True)  # a link is removed, never what it points to


def process_alive(pid: int) -> bool:
    """Whether a process with this id is running (on this machine)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _failed_write(path: Path, exc: OSError) -> OutputError:
    if exc.errno == errno.ENOSPC:
        return OutputError(
            f"the disk is full: {path} could not be written, and the previous {path.name} is "
            "unchanged; free some space and run again"
        )
    return OutputError(f"cannot write {path} ({exc.strerror or exc}); the previous {path.name} is unchanged")


def _check_target(path: Path) -> None:
    if path.is_dir():
        raise OutputError(
            f"{path} is a folder, where a file is to be written; move it away or choose another output folder"
        )


def _put_in_place(tmp: str, path: Path) -> None:
    os.replace(tmp, path)
    WRITTEN.append(path)


def write_gpkg(
    layers: dict[str, gpd.GeoDataFrame], path: Path, metadata: dict, styles: dict[str, str] | None = None
) -> Path:
    """Write every layer into one GeoPackage, atomically, with QGIS default ``styles`` (layer -> QML) if given.

    The layers go into a temporary file in the same folder, which replaces
    ``path`` only once complete, so an interrupted or failed build (a full
    disk included) leaves the previous GeoPackage untouched.
    """
    path = Path(path)
    ensure_writable(path.parent)
    _check_target(path)
    prefix, suffix = temporary_name(path.name)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=suffix)
    os.close(fd)
    os.unlink(tmp)  # GDAL refuses to create a GeoPackage over an existing empty file
    try:
        text = json.dumps(metadata, ensure_ascii=False, sort_keys=True)
        for name, frame in layers.items():
            frame.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio", layer_metadata={PROVENANCE_KEY: text})
        _add_layer_styles(tmp, styles or {})
        _put_in_place(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, pyogrio.errors.DataSourceError):
            # GDAL reports a full disk as its own error, not as an OSError.
            full = shutil.disk_usage(path.parent).free < 1 << 20 or "No space" in str(exc)
            exc = OSError(errno.ENOSPC, "No space left on device") if full else OSError(str(exc).splitlines()[0])
        if isinstance(exc, OSError):
            raise _failed_write(path, exc) from None
        raise
    return path


def _add_layer_styles(gpkg: str, styles: dict[str, str]) -> None:
    """Add QML ``styles`` (layer -> document) to ``gpkg``'s ``layer_styles`` table, each its layer's default.

    The table is laid out as QGIS creates it, so QGIS applies the style when it opens the layer.
    """
    if not styles:
        return
    with sqlite3.connect(gpkg) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256),"
            " f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30),"
            " styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),"
            " update_time DATETIME DEFAULT CURRENT_TIMESTAMP)"
        )
        # Registered as an attribute table, so GeoPackage readers see a valid file.
        db.execute(
            "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) "
            "VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS default styles (HamJi Explorer)')"
        )
        for layer, qml in styles.items():
            (geometry,) = db.execute(
                "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (layer,)
            ).fetchone()
            db.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                "styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, update_time) "
                # No time stamp: a rebuild from the same inputs gives the same file contents.
                "VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', '', NULL)",
                (layer, geometry, STYLE_NAME, qml, f"{layer}: the classes and colours of the HamJi Explorer maps"),
            )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def shareable(path: Path, folder: bool = False) -> None:
    """Give a file (or folder) made by ``mkstemp``/``mkdtemp`` (0600/0700) the permissions of any new one."""
    os.chmod(path, (0o777 if folder else 0o666) & ~_umask())


def write_text(text: str, path: Path) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8), readable as any new file would be."""
    return _write_atomically(path, lambda handle: handle.write(text.encode("utf-8")))


def copy_file(source: Path, path: Path) -> Path:
    """Copy ``source``'s bytes to ``path`` atomically (a run keeping a copy of an input it was made from)."""
    with open(source, "rb") as original:
        return _write_atomically(path, lambda handle: shutil.copyfileobj(original, handle, 1 << 20))


def _write_atomically(path: Path, fill) -> Path:
    """Fill a temporary file beside ``path`` with ``fill(handle)``, then rename it over ``path``."""
    path = Path(path)
    _check_target(path)
    prefix, suffix = temporary_name(path.name)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=suffix)
    except OSError as exc:
        raise _failed_write(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            fill(handle)
        shareable(Path(tmp))
        _put_in_place(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _failed_write(path, exc) from None
        raise
    return path


_FORMULA_START = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")


def csv_safe(value: object) -> object:
    r"""A text cell that cannot start a spreadsheet formula: a leading ``'`` is added where it could.

    Quoted: a cell whose first character, after any whitespace and invisible
    format characters (zero-width space, BOM), is ``= + - @`` or a
    full-width ``＝ ＋ － ＠``; and a cell starting with any control
    character (tab, carriage return, line feed …), which spreadsheets strip.

    Examples
    --------
    >>> csv_safe('=HYPERLINK("http://x")'), csv_safe("Hoeryong"), csv_safe(-1.5)
    ('\'=HYPERLINK("http://x")', 'Hoeryong', -1.5)
    >>> csv_safe("  =1+1"), csv_safe("\uff1d1"), csv_safe("\n=1"), csv_safe("a=b")
    ("'  =1+1", "'\uff1d1", "'\n=1", 'a=b')
    """
    if not isinstance(value, str) or not value:
        return value
    if unicodedata.category(value[0]) == "Cc":
        return "'" + value
    rest = value.lstrip()
    while rest and unicodedata.category(rest[0]) == "Cf":
        rest = rest[1:].lstrip()
    return "'" + value if rest[:1] in _FORMULA_START else value


def write_csv(frame: pd.DataFrame, path: Path, decimals: int = 4) -> Path:
    """Write a table as CSV atomically: text cells neutralised, numbers rounded once, no ``-0``."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_object_dtype(out[column]) or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(csv_safe)
        elif pd.api.types.is_float_dtype(out[column]):
            # Rounding can leave -0.0 (a tiny negative change), which prints as "-0.0000".
            out[column] = out[column].round(decimals) + 0.0
    return write_text(out.to_csv(index=False, float_format=f"%.{decimals}f"), path)


#: A line that Markdown would read as a link reference definition (``[x]: javascript:…``).
_LINK_DEFINITION = re.compile(r"^( {0,3})\[", re.MULTILINE)


def markdown_safe(text: str) -> str:
    r"""Markdown in which no text can be raw HTML, a link or an image (HamJi's own Markdown uses none of them).

    Scenario names, OSM names and file paths go into the Markdown summaries; a
    viewer that renders HTML inside Markdown would run a ``<script>`` or load
    an ``<img>`` from them, and a ``[x](javascript:…)`` link would be one click
    away. So every ``<`` becomes ``&lt;`` (shown as ``<``), ``](`` is broken
    with a backslash, and a line cannot open a link definition.

    Examples
    --------
    >>> markdown_safe("<img src=x onerror=alert(1)> [x](javascript:alert(1))")
    '&lt;img src=x onerror=alert(1)> [x]\\(javascript:alert(1))'
    >>> markdown_safe("[r]: https://example.com\n| a → b |")
    '\\[r]: https://example.com\n| a → b |'
    """
    text = text.replace("<", "&lt;").replace("](", "]\\(")
    return _LINK_DEFINITION.sub(lambda match: match.group(1) + "\\[", text)


#: Markdown's inline marks, escaped in :func:`markdown_literal` (``<`` and ``](`` are :func:`markdown_safe`'s,
#: for the whole document; block marks such as ``#`` and ``-`` act only at a line's start, which one line is not).
_MARKDOWN_MARKS = re.compile(r"([\\`*_\[\]|~])")


def markdown_literal(text: object) -> str:
    r"""Outside text (a file path, a scenario's name, an OSM date) shown in Markdown as it is: one line, its
    marks escaped, so ``*x*_y_`` is not emphasis and a ``# heading`` in a name starts no heading.

    Examples
    --------
    >>> markdown_literal("my *x*_y_ list.csv")
    'my \\*x\\*\\_y\\_ list.csv'
    >>> markdown_literal("a\n# b"), markdown_literal("2026-01-01")
    ('a # b', '2026-01-01')
    """
    return _MARKDOWN_MARKS.sub(r"\\\1", " ".join(str(text).split()))


def write_markdown(text: str, path: Path) -> Path:
    """Write a Markdown summary atomically, made :func:`markdown_safe` first."""
    return write_text(markdown_safe(text), path)


def write_json(data: dict, path: Path) -> Path:
    """Write ``data`` as JSON to ``path`` atomically."""
    return write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", path)


def replace_folder(staged: Path, target: Path) -> Path:
    """Put a fully written ``staged`` folder in place of ``target`` (which may exist).

    The old folder is moved aside first and removed only once the new one is
    in place, so an interruption leaves either the old or the new whole.
    """
    staged, target = Path(staged), Path(target)
    prefix, suffix = temporary_name(target.name)
    aside = target.with_name(f"{prefix}old{suffix}")
    if target.exists():
        os.replace(target, aside)
    os.replace(staged, target)
    WRITTEN.append(target)
    shutil.rmtree(aside, ignore_errors=True)
    return target


def remove_folder(folder: Path) -> None:
    """Remove a staging folder that will not be put in place (a failed or interrupted write)."""
    shutil.rmtree(folder, ignore_errors=True)


def staging_folder(parent: Path, name: str) -> Path:
    """A new folder in ``parent`` to fill before :func:`replace_folder` puts it in place of ``name``."""
    prefix, suffix = temporary_name(name)
    staged = Path(tempfile.mkdtemp(dir=parent, prefix=prefix, suffix=suffix))
    shareable(staged, folder=True)
    return staged


def check_input_file(path: Path, what: str, max_bytes: int | None = None, option: str | None = None) -> Path:
    """``path`` as a readable regular file, or an :class:`InputError` naming ``what`` it should be.

    A folder, a FIFO (which would hang the read), a device such as
    ``/dev/zero`` (which never ends) and an over-long name are refused before
    anything is opened. ``option`` names the parameter the path came from
    (see :class:`~geo.errors.HamjiError`).
    """
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError(f"{what} {clip(path, 120)} does not exist; check the path", option=option) from None
    except OSError as exc:
        raise InputError(f"{what} {clip(path, 120)} cannot be read ({exc.strerror}); check the path") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{what} {clip(path, 120)} is a folder; give the file itself")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{what} {clip(path, 120)} is not a regular file (a pipe or device?); give a file")
    if max_bytes is not None and info.st_size > max_bytes:
        raise InputError(
            f"{what} {clip(path, 120)} is {info.st_size:,} bytes, more than the {max_bytes:,} such a "
            "file can reasonably be; check that it is the right file"
        )
    if not os.access(path, os.R_OK):
        raise InputError(f"{what} {clip(path, 120)} cannot be read (permission denied); fix its permissions")
    return path


def read_text(path: Path, what: str, max_bytes: int = 1 << 20, option: str | None = None) -> str:
    """A small UTF-8 text input (scenario, speed table), with one-line errors."""
    path = check_input_file(path, what, max_bytes, option)
    try:
        return path.read_bytes().decode("utf-8")  # line endings as written: a lone CR stays a CR
    except UnicodeDecodeError:
        raise InputError(f"{what} {clip(path, 120)} is not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise InputError(f"{what} {clip(path, 120)} cannot be read ({exc.strerror})") from None


def read_record(path: Path, max_bytes: int) -> bytes | None:
    """The bytes of HamJi's own small bookkeeping file (cache record, commit journal), or None.

    None when it is missing, not a regular file (a link is not followed; a
    FIFO, which would block the read, is not opened for reading), or larger
    than ``max_bytes``: such a file is not one HamJi wrote.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = handle.read(max_bytes + 1)
    return data if len(data) <= max_bytes else None


def stage_of(path: Path) -> str:
    """The stage that writes ``path`` (by its file name), for messages."""
    return {
        settings.LAYERS_GPKG: "layers",
        settings.ROUTES_GPKG: "routes",
        settings.REACH_CSV: "reach",
        settings.REACH_MD: "reach",
    }.get(Path(path).name, "layers")


def check_stage_file(path: Path, why: str = "") -> Path:
    """``path`` if it is a file; otherwise the error naming the stage that writes it."""
    path = Path(path)
    if not path.exists():
        raise MissingStageError(path, stage_of(path), why)
    if not path.is_file():
        raise InputError(f"{path} is not a file (a folder?); move it away and run the {stage_of(path)} stage again")
    return path


def read_layer(path: Path, layer: str) -> gpd.GeoDataFrame:
    """Read one layer from a stage's GeoPackage, with a clear error if it is missing."""
    path = check_stage_file(path)
    try:
        return gpd.read_file(path, layer=layer, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(
            f"cannot read layer {layer!r} from {path} ({str(exc).splitlines()[0]}); rerun the {stage_of(path)} stage"
        ) from None


def read_provenance(path: Path, layer: str) -> dict:
    """The provenance record stored with a layer."""
    try:
        info = pyogrio.read_info(path, layer=layer)
        text = (info.get("layer_metadata") or {}).get(PROVENANCE_KEY)
        record = json.loads(text) if text else {}
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as exc:
        raise InputError(
            f"cannot read the provenance of layer {layer!r} in {path} ({str(exc).splitlines()[0]}); "
            f"rerun the {stage_of(path)} stage"
        ) from None
    return record if isinstance(record, dict) else {}


def layers_path(out_dir: Path | None = None) -> Path:
    """Where the layers stage writes its GeoPackage."""
    return Path(out_dir or settings.LAYERS_DIR) / settings.LAYERS_GPKG


# -- the record of a run's assumptions ------------------------------------------------
#: The layout of the ``routes`` record in a routes GeoPackage's provenance; older ones are refused.
ASSUMPTIONS_RECORD = 2


def assumptions_record(assumptions, network) -> dict:
    """The JSON form of a :class:`~geo.assumptions.RunAssumptions` and its network report.

    It is what the routes GeoPackage's provenance holds under ``routes``;
    :func:`read_assumptions` is its inverse.
    """
    supply, speeds = assumptions.supply, assumptions.speeds
    return {
        "record": ASSUMPTIONS_RECORD,
        "supply": {
            "model": supply.name,
            "provinces": list(supply.regions),
            "description": supply.description,
            "modes": sorted(supply.modes),
            "missing": list(network.missing_regions),
        },
        "speeds": {"source": speeds.source, "digest": speeds.digest, **speeds.layout()},
        "penalties_h": dict(assumptions.penalties_h),
        "default_penalty_h": assumptions.default_penalty_h,
        "as_of": assumptions.as_of,
        "unknown_crossings": assumptions.unknown_crossings,
        "people_areas": assumptions.people_areas,
        "network": {
            "bridges_left_to_crossings": network.bridges_left_to_crossings,
            **{country: vars(side) for country, side in network.sides().items()},
        },
    }


def read_assumptions(record: object, path: Path):
    """The (:class:`~geo.assumptions.RunAssumptions`, :class:`~geo.assumptions.NetworkReport`) of a record.

    A record missing, of another layout, or naming an unknown supply model
    fails in one line asking for the routes to be made again.
    """
    from geo.assumptions import NetworkReport, RunAssumptions, SideReport
    from geo.network import validate_speeds
    from geo.supply import supply_model

    again = f"run `hamji routes` again to remake {path}"
    if not isinstance(record, dict) or record.get("record") != ASSUMPTIONS_RECORD:
        raise InputError(
            f"{path} was made by another version of HamJi Explorer (no record of its assumptions); {again}"
        )
    try:
        speeds = record["speeds"]
        table = validate_speeds({c: speeds[c] for c in ("KP", "CN")}, str(speeds["source"]))
        assumptions = RunAssumptions(
            supply=supply_model(record["supply"]["model"]),
            speeds=table,
            penalties_h=record["penalties_h"],
            default_penalty_h=float(record["default_penalty_h"]),
            as_of=record["as_of"],
            people_areas=record["people_areas"],
            unknown_crossings=str(record.get("unknown_crossings", "closed")),
        )
        network = record["network"]
        report = NetworkReport(
            kp=SideReport(**network["KP"]),
            cn=SideReport(**network["CN"]),
            bridges_left_to_crossings=int(network["bridges_left_to_crossings"]),
            missing_regions=tuple(record["supply"]["missing"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"{path}: its record of assumptions is damaged ({clip(exc, 80)}); {again}") from None
    return assumptions, report
