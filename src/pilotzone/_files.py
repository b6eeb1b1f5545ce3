"""Shared file helpers: atomic writing of a file and of a folder run, SHA-256, JSON bytes.

A run's folder is written as one unit (:class:`OutputRun`): the previous
manifest is removed first, each file is written atomically
(:func:`write_atomic`: a temporary file in the same folder moved over its
name), and the manifest naming every file with its SHA-256 is written last.
:func:`check_folder` reads a folder back and tells whether it holds one whole
run. :mod:`pilotzone.report` describes the guarantees and the files.
"""

from __future__ import annotations

import datetime as dt
import decimal
import errno
import hashlib
import json
import logging
import math
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import IO, Any

import numpy as np
import pandas as pd

from pilotzone._version import __version__
from pilotzone.errors import InputError, OutputError, Problem

__all__ = [
    "CHANGE_FILES",
    "FILES",
    "MANIFEST",
    "SITE_FILES",
    "OutputRun",
    "check_folder",
    "json_bytes",
    "plain",
    "sha256",
    "sweep",
    "temporary",
    "write_atomic",
]

log = logging.getLogger(__name__)

#: The manifest of a ``verify --out`` folder: written last, naming the run's files.
MANIFEST = "manifest.json"
#: The files :func:`pilotzone.report.write_report` writes, in order (the manifest last).
FILES = (
    "facilities.parquet",
    "facilities.csv",
    "findings.csv",
    "facilities.geojson",
    "facilities.xlsx",
    "findings.xlsx",
    "summary.json",
    "map.html",
    "report.html",
    MANIFEST,
)
#: The files :func:`pilotzone.report.write_changes` writes, in order (the manifest last).
CHANGE_FILES = ("changes.csv", "changes.json", "changes_map.html", "changes_manifest.json")
#: The files :func:`pilotzone.report.write_sites` writes, in order (the manifest last).
SITE_FILES = ("sites.csv", "feasible_area.geojson", "sites_map.html", "sites_manifest.json")

#: How large a manifest may be read (a Dask run lists one entry per partition file).
_MAX_MANIFEST_BYTES = 64 * 1024 * 1024
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.(?P<pid>[0-9]+)\.[0-9a-f]{8}\.tmp")
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_SHA256 = re.compile(r"[0-9a-f]{64}")


def temporary(path: Path) -> Path:
    """A temporary name for ``path``: ``.<name>.<pid>.<random>.tmp`` beside it."""
    # Hidden, in the same folder (os.replace is atomic only within a file system),
    # and unique, so two runs writing the same folder never share a temporary file.
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def write_atomic(path: Path, content: bytes | Callable[[IO[bytes]], Any]) -> dict[str, Any]:
    """Write ``path`` through a temporary file in its folder, then :func:`os.replace` it.

    ``content`` is the bytes, or a function that writes them to a binary file.
    On any exception, KeyboardInterrupt included, the temporary file is removed
    and ``path`` is left as it was; a full disk raises :class:`OutputError`.
    Returns the file's manifest entry: its ``sha256`` and size in ``bytes``.
    """
    scratch = temporary(path)
    try:
        with open(scratch, "xb") as file:
            if isinstance(content, bytes):
                file.write(content)
            else:
                content(file)
            file.flush()
            os.fsync(file.fileno())
        entry = {"sha256": sha256(scratch), "bytes": scratch.stat().st_size}
        os.replace(scratch, path)
    except OSError as error:
        written = scratch.stat().st_size if scratch.exists() else 0
        scratch.unlink(missing_ok=True)
        if error.errno in _DISK_FULL:
            needed = len(content) if isinstance(content, bytes) else None
            raise _disk_full(path, error, needed, written) from error
        raise
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise
    return entry


def _disk_full(path: Path, error: OSError, needed: int | None, written: int) -> OutputError:
    try:
        free = f"{shutil.disk_usage(path.parent).free:,} bytes free"
    except OSError:
        free = "free space unknown"
    size = f"{needed:,} bytes to write" if needed is not None else f"{written:,} bytes written"
    reason = error.strerror or os.strerror(error.errno or errno.ENOSPC)
    full = OutputError(error.errno, f"cannot write {path}: {reason} ({size}, {free})")
    full.filename = str(path)
    return full


def sweep(folder: Path, names: set[str]) -> None:
    """Remove the temporary files of ``names`` that runs no longer running left in ``folder``."""
    for entry in os.scandir(folder):
        found = _TEMPORARY.fullmatch(entry.name)
        if found is None or found["name"] not in names or entry.is_dir(follow_symlinks=False):
            continue
        if not _alive(int(found["pid"]), entry):
            log.info("removing %s, left by a run that did not finish", entry.path)
            Path(entry.path).unlink(missing_ok=True)


def _alive(pid: int, entry: os.DirEntry[str]) -> bool:
    """Whether the process that made a temporary file may still be writing it."""
    if pid == os.getpid():
        return True
    if os.name != "posix":  # no harmless way to ask: a day-old temporary file is abandoned
        return time.time() - entry.stat(follow_symlinks=False).st_mtime < 86_400
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class OutputRun:
    """One run's files in a folder, written as one unit under a manifest written last.

    Creating it creates the folder, removes the previous manifest (so a run
    that stops half way leaves no manifest, and readers can tell) and the
    temporary files of pilotzone's output names that killed runs left. Each
    :meth:`write` is atomic; :meth:`finish` writes the manifest::

        {"manifest": 1, "run_id": "...", "writer": "write_report",
         "pilotzone_version": "...", "generated_at": "2025-01-01T00:00:00Z",
         "files": {"facilities.geojson": {"sha256": "...", "bytes": 1234}, ...}}

    ``files`` maps each file's path relative to the folder (``/``-separated)
    to its SHA-256 and size, in the order written. :func:`check_folder`
    checks a folder against it.

    Parameters
    ----------
    folder : str or os.PathLike
        The folder; created if missing. Other files in it are left alone.
    writer : str
        What writes the run, recorded in the manifest.
    manifest : str, default :data:`MANIFEST`
        The manifest's name in the folder.
    """

    def __init__(
        self, folder: str | os.PathLike[str], *, writer: str, manifest: str = MANIFEST
    ) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.manifest = self.folder / manifest
        self.writer = writer
        self.run_id = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{secrets.token_hex(6)}"
        self.files: dict[str, dict[str, Any]] = {}
        self.manifest.unlink(missing_ok=True)
        sweep(self.folder, {*FILES, *CHANGE_FILES, *SITE_FILES})

    def write(self, name: str, content: bytes | Callable[[IO[bytes]], Any]) -> Path:
        """Write the file ``name`` of the folder atomically.

        The bytes, or what a function writes to the binary file it is given.
        """
        path = self.folder / name
        self.files[name] = write_atomic(path, content)
        return path

    def add(self, name: str) -> None:
        """Enter a file written by others (a Dask worker) in the manifest.

        ``name`` is its path relative to the folder, ``/``-separated.
        """
        path = self.folder / name
        self.files[name] = {"sha256": sha256(path), "bytes": path.stat().st_size}

    def finish(self) -> Path:
        """Write the manifest, last. Returns its path."""
        record = {
            "manifest": 1,
            "run_id": self.run_id,
            "writer": self.writer,
            "pilotzone_version": __version__,
            "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "files": self.files,
        }
        write_atomic(self.manifest, json_bytes(record))
        return self.manifest


def check_folder(
    folder: str | os.PathLike[str], *, required: tuple[str, ...] = (), manifest: str = MANIFEST
) -> dict[str, Any]:
    """Check that a folder holds one whole run: its manifest, and every file it names unchanged.

    Parameters
    ----------
    folder : str or os.PathLike
        A folder written by :func:`pilotzone.report.write_report` (or another
        writer with an :class:`OutputRun`).
    required : tuple of str
        Files the manifest must name.
    manifest : str, default :data:`MANIFEST`
        The manifest's name.

    Returns
    -------
    dict
        The manifest (see :class:`OutputRun`).

    Raises
    ------
    pilotzone.errors.InputError
        Naming the file: the manifest missing (the run did not finish, or an
        older pilotzone wrote the folder), unreadable or malformed; a
        required file not in it; a file it names missing, not a regular file,
        or whose SHA-256 differs (the folder mixes runs or was edited).
    """
    root = Path(folder)
    path = root / manifest

    def refuse(where: Path, reason: str) -> InputError:
        return InputError(Problem(str(where), None, None, None, reason))

    try:
        with open(path, "rb") as file:
            raw = file.read(_MAX_MANIFEST_BYTES + 1)
    except FileNotFoundError:
        raise refuse(
            path,
            "missing: the run that wrote this folder did not finish (or a "
            "pilotzone without manifests wrote it); write the folder again",
        ) from None
    except OSError as error:
        raise refuse(path, f"unreadable: {error}") from error
    if len(raw) > _MAX_MANIFEST_BYTES:
        raise refuse(path, f"larger than {_MAX_MANIFEST_BYTES:,} bytes: not a pilotzone manifest")
    try:
        record = json.loads(raw)
        files = record["files"]
        entries = [(str(name), str(e["sha256"]), e["bytes"]) for name, e in files.items()]
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise refuse(path, f"not a pilotzone manifest ({type(error).__name__}: {error})") from None
    for name in required:
        if name not in files:
            raise refuse(root / name, f"not named in {manifest}: the folder is not one run")
    for name, digest, size in entries:
        relative = PurePosixPath(name)
        if relative.is_absolute() or not relative.parts or {"..", "."} & set(relative.parts):
            raise refuse(path, f"names a file outside the folder: {name!r}")
        target = root.joinpath(*relative.parts)
        try:
            mode = os.lstat(target).st_mode
        except OSError:
            reason = f"missing, though {manifest} names it: the run is incomplete"
            raise refuse(target, reason) from None
        if not stat.S_ISREG(mode):
            raise refuse(target, "not a regular file: the folder was altered after the run")
        same = _SHA256.fullmatch(digest) and os.lstat(target).st_size == size
        if not same or sha256(target) != digest:
            raise refuse(
                target,
                f"differs from the file {manifest} names (SHA-256): the folder "
                "mixes runs or was edited; write it again",
            )
    return record


# --------------------------------------------------------------------------- values


# --------------------------------------------------------------------------- values


def plain(value: Any) -> Any:
    """A JSON value for a cell; TypeError for what JSON cannot hold."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return value
    if isinstance(value, (dt.date, dt.time)):  # datetime and Timestamp too
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value) if value.is_finite() else None
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def json_bytes(data: Any) -> bytes:
    """``data`` as pilotzone writes JSON files: UTF-8, indented, no NaN, a final newline."""
    return (json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False) + "\n").encode("utf-8")


def sha256(path: Path) -> str:
    """The SHA-256 of the file at ``path``, in hex, read in blocks of 1 MiB."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
