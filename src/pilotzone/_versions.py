"""The version report, as ``pilotzone --show-versions`` prints it and a bug report quotes it.

Pilotzone's version, Python's, the platform's, the geospatial libraries' and the zone data's (its
folder and each zone's sha256).
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
import sys
from pathlib import Path

from pilotzone._version import __version__
from pilotzone.errors import PilotzoneError
from pilotzone.zones import load_zones

__all__ = ["LIBRARIES", "versions"]

#: The libraries whose installed version the report names, in order.
LIBRARIES = (
    "shapely",
    "pyproj",
    "geopandas",
    "pandas",
    "numpy",
    "folium",
    "pyogrio",
    "openpyxl",
    "python-calamine",
)


def versions() -> list[tuple[str, str]]:
    """What a bug report needs to know about this installation.

    Returns
    -------
    list of (str, str)
        (name, value) pairs: pilotzone, Python (and its executable), the
        platform, GEOS, PROJ, each of :data:`LIBRARIES` (``"not installed"``
        when missing), then the shipped zone data's folder and each zone's
        sha256 from its manifest, indented; or one ``zone data`` row saying
        why the zone data is unusable.
    """
    import pyproj
    import shapely

    rows = [
        ("pilotzone", __version__),
        ("Python", f"{platform.python_version()} ({sys.executable})"),
        ("platform", platform.platform()),
        ("GEOS", shapely.geos_version_string),
        ("PROJ", pyproj.proj_version_str),
    ]
    rows += [(name, _installed(name)) for name in LIBRARIES]
    try:
        zones = load_zones()
    except (PilotzoneError, OSError) as error:
        rows.append(("zone data", f"unusable: {error}"))
        return rows
    folder = Path(zones.attrs["boundaries_path"])
    rows.append(("zone data", str(folder)))
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for zone in manifest.get("zones", []):
        rows.append((f"  {zone.get('zone_id')}", f"sha256 {zone.get('sha256')}"))
    return rows


def _installed(name: str) -> str:
    """The installed version of distribution ``name``, or ``"not installed"``."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"
