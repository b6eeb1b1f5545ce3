"""Shipped and supplied data folders: where they are, their ``manifest.json``, their files.

The one place a ``manifest.json`` (of the zone boundaries, of the divisions
table) is read and parsed, and where a file it lists is read and checked
against the manifest's SHA-256.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pilotzone.errors import BoundaryDataError

#: A boundary file larger than this is refused before it is parsed: even as
#: GeoJSON, :data:`pilotzone.zones.MAX_VERTICES` vertices fit in a tenth of it.
MAX_BOUNDARY_BYTES = 512 * 1024 * 1024


def shipped_folder(package: Path, checkout: Path, what: str, script: str) -> Path:
    """The folder of shipped data: the installed wheel's copy, else the source checkout's.

    Parameters
    ----------
    package, checkout : pathlib.Path
        The folder inside the installed package (``pilotzone/_data/<name>``)
        and in a source checkout (``data/<name>``); the first holding a
        ``manifest.json`` wins.
    what : str
        What the data is, for the error message (``"zone data"``).
    script : str
        The script that builds it, for the error message.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    BoundaryDataError
        If neither folder holds a ``manifest.json``.
    """
    for folder in (package, checkout):
        if (folder / "manifest.json").is_file():
            return folder
    raise BoundaryDataError(
        f"pilotzone's {what} is missing: no manifest.json in the installed package "
        f"({package}) nor in a source checkout ({checkout}). Reinstall pilotzone, "
        f"or rebuild the data with {script}."
    )


def manifest_bytes(folder: Path, needed: str) -> bytes:
    """The bytes of ``folder / "manifest.json"``.

    Parameters
    ----------
    folder : pathlib.Path
        The data folder.
    needed : str
        What the folder needs, said where the manifest is missing.

    Returns
    -------
    bytes

    Raises
    ------
    BoundaryDataError
        If the manifest is missing or cannot be read.
    """
    path = folder / "manifest.json"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise BoundaryDataError(f"no manifest.json in {folder}: {needed}") from None
    except OSError as error:
        raise BoundaryDataError(f"cannot read {path}: {error}") from error


def parse_manifest(raw: bytes, path: Path) -> Any:
    """The JSON value of a manifest's bytes ``raw``, read from ``path``.

    Raises
    ------
    BoundaryDataError
        If ``raw`` is not UTF-8 JSON.
    """
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BoundaryDataError(f"{path} is not valid JSON: {error}") from error


def read_manifest(folder: Path, needed: str) -> Any:
    """The parsed ``manifest.json`` of ``folder``; see :func:`manifest_bytes`."""
    return parse_manifest(manifest_bytes(folder, needed), folder / "manifest.json")


def verified_bytes(
    folder: Path, name: str, expected: str, script: str = "scripts/build_boundaries.py"
) -> bytes:
    """The bytes of ``folder / name``, refused unless their SHA-256 is ``expected``.

    Parameters
    ----------
    folder : pathlib.Path
        The folder holding the file and its ``manifest.json``.
    name : str
        The file name, as the manifest lists it.
    expected : str
        The manifest's SHA-256 of the file (64 lower-case hex digits).
    script : str, optional
        The script that builds the folder, named in the error message.

    Returns
    -------
    bytes

    Raises
    ------
    BoundaryDataError
        If the file cannot be read or its hash differs.
    """
    path = folder / name
    try:
        size = path.stat().st_size
        if size > MAX_BOUNDARY_BYTES:
            raise BoundaryDataError(
                f"{path}: {size:,} bytes, more than {MAX_BOUNDARY_BYTES:,}; not read"
            )
        data = path.read_bytes()
    except OSError as error:
        raise BoundaryDataError(
            f"{name}, listed in {folder / 'manifest.json'}, cannot be read: {error}"
        ) from error
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise BoundaryDataError(
            f"{path}: its sha256 is {actual} but manifest.json says {expected}. The data was "
            f"changed outside {script}: restore the file or rebuild the "
            "folder with that script."
        )
    return data
