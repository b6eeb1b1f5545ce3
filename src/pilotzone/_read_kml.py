"""The KML/KMZ reader: one row per Placemark, its Point as the coordinates; no DOCTYPE."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from typing import Any

import pandas as pd

from pilotzone._columns import COLUMN_BY_KEY, match_key
from pilotzone._raw import Points, Raw, whole

_MAX_KML_BYTES = 256 * 1024 * 1024


class _DoctypeForbidden(Exception):
    pass


class _NoDoctype(ET.TreeBuilder):
    """Tree builder that refuses DOCTYPE, so entities are never declared or expanded."""

    def doctype(self, name: str, pubid: str, system: str) -> None:
        raise _DoctypeForbidden(name)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def read_kml(data: bytes, name: str, *, zipped: bool) -> Raw:
    """A KML document (or the one inside a KMZ) -> Raw, one row per Placemark."""
    if zipped:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = [i for i in archive.infolist() if i.filename.lower().endswith(".kml")]
            if not entries:
                raise whole(name, "the KMZ holds no .kml document")
            entries.sort(key=lambda i: (i.filename.lower() != "doc.kml", i.filename.count("/")))
            if entries[0].file_size > _MAX_KML_BYTES:
                raise whole(name, "the KML inside the KMZ is too large")
            data = archive.read(entries[0])
    parser = ET.XMLParser(target=_NoDoctype())
    try:
        parser.feed(data)
        root = parser.close()
    except _DoctypeForbidden:
        raise whole(name, "the KML has a DOCTYPE, which pilotzone refuses to read") from None
    except ET.ParseError as error:
        raise whole(name, f"not well-formed XML (truncated?): {error}") from error
    except ValueError as error:  # expat reads UTF-8, UTF-16 and Latin-1 only
        declared = re.match(rb"\s*<\?xml[^>]*?encoding=[\"']([^\"']{1,40})", data)
        encoding = declared[1].decode("ascii", "replace") if declared else "unknown"
        raise whole(
            name,
            f"the KML is in the {encoding} encoding, which pilotzone does not read: KML is UTF-8. "
            f"Save it as UTF-8 (e.g. iconv -f {encoding} -t UTF-8) and change "
            f'encoding="{encoding}" to encoding="UTF-8" in its first line',
        ) from error
    placemarks: list[tuple[dict[str, str], dict[str, str]]] = []
    xs: list[Any] = []
    ys: list[Any] = []
    missing: list[str | None] = []
    for placemark in (e for e in root.iter() if _local(e.tag) == "Placemark"):
        own: dict[str, str] = {}
        extended: dict[str, str] = {}
        for child in placemark:
            if _local(child.tag) in ("name", "description"):
                own[_local(child.tag)] = (child.text or "").strip()
        for element in placemark.iter():
            tag, key = _local(element.tag), element.get("name")
            if tag == "Data" and key is not None:
                value = next((c.text for c in element if _local(c.tag) == "value"), None)
                extended[key] = (value or "").strip()
            elif tag == "SimpleData" and key is not None:
                extended[key] = (element.text or "").strip()
        placemarks.append((own, extended))
        x, y, why = _kml_point(placemark)
        xs.append(x)
        ys.append(y)
        missing.append(why)
    # <name>/<description> give way, as kml_name/kml_description, to ExtendedData meaning the same.
    meanings = {_meaning(k) for _, extended in placemarks for k in extended}
    rows: list[dict[str, str]] = []
    for own, extended in placemarks:
        row = {(f"kml_{k}" if _meaning(k) in meanings else k): v for k, v in own.items()}
        row.update(extended)
        rows.append(row)
    labels: list[str] = list(dict.fromkeys(k for row in rows for k in row))
    frame = pd.DataFrame([[row.get(k, "") for k in labels] for row in rows], columns=labels)
    points = Points("coordinates", xs, ys, missing)
    return Raw(name, None, frame, pd.RangeIndex(len(rows)), points, "wgs84", crs_implied=True)


def _meaning(label: str) -> str:
    key = match_key(label)
    return COLUMN_BY_KEY.get(key, key)


def _kml_point(placemark: ET.Element) -> tuple[Any, Any, str | None]:
    """x, y (as text) of a Placemark's single Point, or why there is none."""
    geometries = [
        _local(e.tag)
        for e in placemark.iter()
        if _local(e.tag)
        in ("MultiGeometry", "Point", "LineString", "LinearRing", "Polygon", "Model", "Track")
    ]
    if not geometries:
        return None, None, "the Placemark has no geometry: give it a <Point> with lon,lat"
    if geometries != ["Point"]:
        found = ", ".join(geometries)
        return (
            None,
            None,
            (
                f"the Placemark is not a single Point ({found}): give each facility a Placemark of "
                "its own, with one <Point>"
            ),
        )
    point = next(e for e in placemark.iter() if _local(e.tag) == "Point")
    element = next((e for e in point if _local(e.tag) == "coordinates"), None)
    text = re.sub(r"\s*,\s*", ",", (element.text or "") if element is not None else "").strip()
    parts = text.split(",")
    if not text or len(text.split()) != 1 or len(parts) not in (2, 3):
        return None, None, f"Point coordinates {text!r} are not 'lon,lat[,alt]'"
    return parts[0], parts[1], None
