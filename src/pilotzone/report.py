"""The files an auditor keeps: a verification result written to one folder.

:func:`write_report` writes, into ``out_dir``:

``facilities.parquet``
    Every input row with its result (GeoParquet, WGS-84 points), at any size.
``facilities.csv``, ``facilities.xlsx``
    Every input row with its status, reasons and message, its row number
    first (``row``, as :func:`pilotzone.verify.row_numbers`), no geometry:
    the filed coordinates and ``crs`` are among the columns.
``facilities.geojson``
    Every input row with its result, WGS-84 points (``null`` geometry where a
    row has none).
``findings.csv``, ``findings.xlsx``
    :func:`pilotzone.verify.findings`: one row per (row, rule), each with its
    own rule's message, district and filed coordinates.

The CSV files are UTF-8 with a byte order mark, so Excel opens Chinese text
correctly, and are written in chunks. ``facilities.geojson`` and the
workbooks are written up to a row limit
(:data:`pilotzone._tables.MAX_GEOJSON_ROWS`,
:data:`pilotzone._tables.MAX_XLSX_ROWS`: 100,000 and 50,000 rows); above it the
file is not written, and ``summary.json`` lists it under ``skipped`` (its
rows, the limit, and the file holding the same rows) with
``outputs_limited: true``. Every table written reads back with
:func:`pilotzone.read_facilities`; with ``lang="zh"`` its headers and coded
values (kind, tenure, status, severity, zones) are in Chinese.
``summary.json``
    Counts by status, zone and rule, one entry per operator, the pilotzone
    version, the zone data's and the input's SHA-256, the audit date, the
    ``readings`` of the zones' contested components (component id to
    ``include``, ``exclude`` or ``review``, as :func:`pilotzone.load_zones`
    takes them, so the audit can be repeated), and ``renamed_columns``: the
    filed columns kept under another name because verify writes columns of
    theirs (``{"status": "filed_status"}``).
``map.html``
    :func:`pilotzone.maps.explore`, saved offline.
``report.html``
    A printable audit report (A4) of bounded size: inputs and their SHA-256,
    counts by status, zone, rule and operator, a static overview map (one SVG
    inset per zone), the most serious findings (at most
    :data:`MAX_FINDINGS_LISTED`, :data:`MAX_FINDINGS_PER_OPERATOR` per
    operator, of the :data:`MAX_OPERATORS_LISTED` most serious operators; the
    rest counted), and on screen the interactive map, embedded as an
    ``<iframe srcdoc>`` (linked instead when it is larger than
    :data:`MAX_EMBEDDED_MAP_CHARS`).

``manifest.json``
    Written last: the run's id and every file above with its SHA-256 and
    size (see "One unit" below).

Guarantees
----------
*Atomic.* Each file is written to a temporary file in the same folder and
moved over its name with :func:`os.replace`: a crash or Ctrl-C leaves the old
file or the new one, never half of one, and no temporary file.

*One unit.* A folder is written as one run: the previous manifest is removed
first, the files are written, and the manifest naming them with their SHA-256
is written last. A folder without its manifest is from a run that did not
finish; a file whose SHA-256 differs from the manifest's is from another run
or was edited. :func:`pilotzone.audit.check_folder` tells which, and ``pilotzone diff`` and
:func:`pilotzone.compare` refuse such a folder. Temporary files that a killed
run left (hidden, named ``.<file>.<pid>.<random>.tmp`` after one of the output
names, from a process that no longer runs) are removed at the start of the
next run; no other file in the folder is touched. A full disk (``ENOSPC``,
``EDQUOT``) raises :class:`pilotzone.errors.OutputError` naming the file, the
bytes it needed when known and the bytes free.

*Reproducible.* The same result gives byte-identical files, except one
timestamp, ``generated_at``: a key of ``summary.json`` and the text of the
element ``<span id="generated-at">`` in ``report.html``; and ``manifest.json``,
which records the run. folium's random
element ids are renumbered in order of first appearance, GeoJSON properties
keep the result's column order, and the workbook's zip entries and document
dates are fixed (to the audit date).

*Safe.* Every text from the input is HTML-escaped in the report. Spreadsheet
cells whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return get a leading ``'`` so that Excel and LibreOffice never run them as
formulas (OWASP, "CSV injection"); numbers stay numbers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd

from pilotzone._codes import NOT_CHECKED, OUTSIDE_ZONES
from pilotzone._columns import label_column
from pilotzone._files import (
    CHANGE_FILES,
    FILES,
    MANIFEST,
    SITE_FILES,
    OutputRun,
    json_bytes,
    plain,
    sha256,
    sweep,
    temporary,
    write_atomic,
)
from pilotzone._messages import REPORT, check_lang
from pilotzone._report_html import report_html, zone_key
from pilotzone._results import rule_counts
from pilotzone._tables import (
    MAX_GEOJSON_ROWS,
    MAX_XLSX_ROWS,
    facilities_table,
    localised,
    write_csv,
    write_geojson,
    write_parquet,
    write_xlsx,
)
from pilotzone._version import __version__
from pilotzone.errors import CRSError
from pilotzone.rules import RULES, describe
from pilotzone.verify import STATUSES, findings, summarize

__all__ = [
    "CHANGE_FILES",
    "FILES",
    "MANIFEST",
    "MAX_EMBEDDED_MAP_CHARS",
    "MAX_FINDINGS_LISTED",
    "MAX_FINDINGS_PER_OPERATOR",
    "MAX_OPERATORS_LISTED",
    "SITE_FILES",
    "OutputRun",
    "build_summary",
    "tally",
    "write_changes",
    "write_report",
    "write_sample",
    "write_sites",
]

log = logging.getLogger(__name__)

Lang = Literal["en", "zh"]

#: At most this many findings are listed in report.html, the most serious first, and at
#: most :data:`MAX_FINDINGS_PER_OPERATOR` of one operator; the rest are counted (all of
#: them are in findings.csv and findings.xlsx).
MAX_FINDINGS_LISTED = 200
#: At most this many findings of one operator are listed in report.html.
MAX_FINDINGS_PER_OPERATOR = 20
#: At most this many operators are listed in report.html, the most serious first (all of
#: them are in summary.json).
MAX_OPERATORS_LISTED = 100
#: A map page longer than this (characters) is linked from report.html, not embedded:
#: the report stays under 5 MB at any size, and prints its overview map instead.
MAX_EMBEDDED_MAP_CHARS = 2_000_000

#: Where the rows of a table left unwritten (above its row limit) are.
_INSTEAD = {
    "facilities.geojson": "facilities.parquet",
    "facilities.xlsx": "facilities.csv",
    "findings.xlsx": "findings.csv",
}
# An id after its "_": the pattern starts with that "_", which the regex engine finds by a
# fast search (a look-behind made it try all 15 M places of the 1M-row page: 0.09 s).
_FOLIUM_ID = re.compile(r"_([0-9a-f]{32})(?![0-9A-Za-z])")


def write_report(
    result: gpd.GeoDataFrame,
    out_dir: str | os.PathLike[str],
    *,
    zones: gpd.GeoDataFrame | None = None,
    lang: Lang = "en",
    basemap: Any = None,
) -> dict[str, Path]:
    """Write the report files of a verification result into a folder.

    Parameters
    ----------
    result : geopandas.GeoDataFrame
        What :func:`pilotzone.verify.verify` returns; ``attrs`` supply the
        input's name and SHA-256, the audit date and the zone data's folder.
    out_dir : str or os.PathLike
        The folder; created if missing. Files of the same names in it are
        replaced, each atomically, and ``manifest.json`` is written last
        (removed first): see "One unit" in the module docstring. Other files
        are left alone.
    zones : geopandas.GeoDataFrame, optional
        The zones the result was checked against, for the map and the zone
        names; by default reloaded from ``result.attrs`` (audit date and zone
        data folder).
    lang : {"en", "zh"}, default "en"
        Language of the report's headings, rule titles, articles, zone names,
        the findings files' column headers and severities, and the map.
        Messages are written by :func:`pilotzone.verify.verify`: pass it the
        same ``lang``.
    basemap : optional
        Passed to :func:`pilotzone.maps.explore`: ``None`` (no tiles),
        ``"osm"``, ``"gaode"``, ``{"name": "tianditu", "key": ...}`` or
        ``(xyz_template, attribution)``.

    Returns
    -------
    dict of str to pathlib.Path
        File name (see :data:`FILES`) to the path written.

    Raises
    ------
    pilotzone.errors.CRSError
        If ``result`` has no CRS.
    pilotzone.maps.OfflineError
        If the map would need network assets (then ``map.html``,
        ``report.html`` and the manifest are not written).
    pilotzone.errors.OutputError
        If the disk is full: names the file, the bytes it needed when known
        and the bytes free. No manifest is written.
    OSError
        If the folder cannot be created or written.

    Notes
    -----
    See the module docstring for what "atomic", "reproducible" and "safe"
    mean here. The timestamp ``generated_at`` (UTC, to the second) is the only
    content that differs between two runs over the same result.

    Examples
    --------
    >>> paths = write_report(pz.verify(sites), "audit-2025")  # doctest: +SKIP
    >>> paths["report.html"]  # doctest: +SKIP
    PosixPath('audit-2025/report.html')
    """
    check_lang(lang)
    if result.crs is None:
        raise CRSError("result has no CRS; pass what pilotzone.verify returns (WGS-84, EPSG:4326)")
    folder = Path(out_dir)
    if zones is None:
        from pilotzone.zones import load_zones

        zones = load_zones(
            as_of=result.attrs.get("as_of"),
            boundaries=result.attrs.get("zones_source"),
            readings=result.attrs.get("readings") or None,
        )
    generated_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    stamp = generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    run = OutputRun(folder, writer="write_report")
    # The map is drawn (Python, holding the GIL) on a thread while the findings are made and
    # the tables written (much of it pyarrow, GEOS and zlib, which let go of it); it is written
    # after them, as before. Leaving the block waits for the drawing, even where one fails.
    with ThreadPoolExecutor(1) as drawing:
        drawn = drawing.submit(_map_page, result, zones, folder, basemap, lang)
        table = findings(result, zones)
        if lang != "en":  # each rule's title in the language, once per rule
            which, rules = table["rule"].factorize()
            table["title"] = label_column([describe(rule, lang) for rule in rules], which)
        summary = build_summary(
            tally(result),
            summarize(result, lang),
            zones,
            generated_at=stamp,
            source={
                "file": result.attrs.get("source"),
                "sha256": result.attrs.get("source_sha256"),
            },
            as_of=result.attrs.get("as_of") or zones.attrs.get("as_of"),
            renamed=result.attrs.get("renamed_columns", {}),
        )
        names = dict(zip(zones["zone_id"], zones[f"short_name_{lang}"], strict=True))
        paths = _write_tables(run, result, table, summary, lang, names)
        page = drawn.result()
    paths["map.html"] = run.write("map.html", page.encode("utf-8"))
    report = report_html(
        result,
        table,
        summary,
        zones,
        page,
        lang,
        text=REPORT[lang],
        max_findings=MAX_FINDINGS_LISTED,
        max_findings_per_operator=MAX_FINDINGS_PER_OPERATOR,
        max_operators=MAX_OPERATORS_LISTED,
        max_map_chars=MAX_EMBEDDED_MAP_CHARS,
    )
    paths["report.html"] = run.write("report.html", report.encode("utf-8"))
    paths[MANIFEST] = run.finish()
    log.info("report written to %s (%d files)", folder, len(paths))
    return paths


def _write_tables(
    run: OutputRun,
    result: gpd.GeoDataFrame,
    table: pd.DataFrame,
    summary: dict[str, Any],
    lang: Lang,
    names: dict[str, str],
) -> dict[str, Path]:
    """The tables of an audit folder and summary.json, written; files too large are skipped.

    Those skipped are listed in ``summary`` (``skipped``, ``outputs_limited``) before it is
    written.
    """
    folder = run.folder
    paths = {"facilities.parquet": run.write("facilities.parquet", partial(write_parquet, result))}
    shown = localised(facilities_table(result), lang, names)
    paths["facilities.csv"] = run.write("facilities.csv", partial(write_csv, shown))
    found = localised(table, lang, names)
    paths["findings.csv"] = run.write("findings.csv", partial(write_csv, found))
    as_of = summary["as_of"]
    bounded = (
        ("facilities.geojson", len(result), MAX_GEOJSON_ROWS, partial(write_geojson, result)),
        (
            "facilities.xlsx",
            len(shown),
            MAX_XLSX_ROWS,
            partial(write_xlsx, shown, as_of, "facilities"),
        ),
        ("findings.xlsx", len(found), MAX_XLSX_ROWS, partial(write_xlsx, found, as_of, "findings")),
    )
    summary["skipped"] = []
    for name, count, limit, content in bounded:
        if count <= limit:
            paths[name] = run.write(name, content)
            continue
        (folder / name).unlink(missing_ok=True)  # no file of an earlier run passes for this one's
        summary["skipped"].append(
            {"file": name, "rows": count, "limit": limit, "instead": _INSTEAD[name]}
        )
        log.warning("%s not written: %d rows, more than its limit of %d", name, count, limit)
    summary["outputs_limited"] = bool(summary["skipped"])
    paths["summary.json"] = run.write("summary.json", json_bytes(summary))
    return paths


# --------------------------------------------------------------------------- summary.json


def _zone_data(zones: gpd.GeoDataFrame) -> dict[str, Any]:
    """Where the zone data came from and the SHA-256 of each zone file, from its manifest."""
    folder = zones.attrs.get("boundaries_path")
    info: dict[str, Any] = {"boundaries_path": folder, "manifest_sha256": None, "zones": {}}
    if folder:
        manifest_path = Path(folder) / "manifest.json"
        try:
            raw = manifest_path.read_bytes()
            manifest = json.loads(raw)
            info["manifest_sha256"] = hashlib.sha256(raw).hexdigest()
            info["zones"] = {z["zone_id"]: z.get("sha256") for z in manifest.get("zones", [])}
        except (OSError, ValueError, TypeError, KeyError) as error:
            log.warning("cannot read the zone manifest %s: %s", manifest_path, error)
    override = zones.attrs.get("boundaries_override")
    if override:
        path = Path(override)
        info["override"] = {
            "file": path.name if path.is_file() else override,
            "sha256": sha256(path) if path.is_file() else None,
        }
    return info


def tally(result: gpd.GeoDataFrame) -> pd.DataFrame:
    """Rows by status, by zone (as ``summary.json`` keys them) and by rule, in one long table.

    Parameters
    ----------
    result : geopandas.GeoDataFrame
        What :func:`pilotzone.verify` returns, or one partition of it.

    Returns
    -------
    pandas.DataFrame
        Columns ``what`` (``"status"``, ``"zone"`` or ``"rule"``), ``key`` and
        ``count``. Tallies of parts add up to the tally of the whole.
    """
    status = result["status"].astype(object)
    by_zone: dict[str, int] = {}
    pairs = pd.DataFrame({"zone": result["zone_id"].astype(object), "status": status})
    found = pairs.value_counts(dropna=False, sort=False)
    for (zone, state), rows in zip(found.index.tolist(), found.tolist(), strict=True):
        key = zone_key(zone, state)  # once per distinct (zone, status), not per row
        by_zone[key] = by_zone.get(key, 0) + int(rows)
    tables = {
        "status": status.value_counts(sort=False).to_dict(),
        "zone": by_zone,
        "rule": rule_counts(result),
    }
    counted = pd.DataFrame(
        [
            (what, key, rows)
            for what, found in tables.items()
            for key, rows in found.items()
            if rows
        ],
        columns=["what", "key", "count"],
    )
    counted = counted.sort_values(["what", "key"], kind="stable", ignore_index=True)
    return counted.astype({"what": object, "key": object, "count": "int64"})


def build_summary(
    counts: pd.DataFrame,
    operators: pd.DataFrame,
    zones: gpd.GeoDataFrame,
    *,
    generated_at: str,
    source: dict[str, Any],
    as_of: Any,
    renamed: dict[str, str],
) -> dict[str, Any]:
    """The content of ``summary.json``.

    Parameters
    ----------
    counts : pandas.DataFrame
        :func:`tally` of the result, or the tallies of its parts concatenated.
    operators : pandas.DataFrame
        :func:`pilotzone.summarize` of the result: one row per operator.
    zones : geopandas.GeoDataFrame
        The zones the result was checked against (their order and data files).
    generated_at : str
        The run's time, UTC, ``YYYY-MM-DDTHH:MM:SSZ``.
    source : dict
        The input: ``file`` and ``sha256``, and ``files`` for several.
    as_of : str or None
        The audit date.
    renamed : dict of str to str
        The filed columns kept under another name.

    Returns
    -------
    dict
        Counts by status, zone and rule, one entry per operator, the
        pilotzone version, the zone data and the input (see the module docstring).
    """
    total = counts.groupby(["what", "key"])["count"].sum()

    def count(what: str) -> dict[str, int]:
        found = what in total.index.get_level_values(0)
        return {k: int(v) for k, v in total[what].items()} if found else {}

    by_status = {s: count("status").get(s, 0) for s in STATUSES}
    zone_counts = count("zone")
    order = [*zones["zone_id"].tolist(), OUTSIDE_ZONES, NOT_CHECKED]
    order += sorted(set(zone_counts) - set(order))
    rule_counts = count("rule")
    rows = sum(by_status.values())
    return {
        "generated_at": generated_at,
        "pilotzone_version": __version__,
        "input": source,
        "as_of": as_of,
        "readings": dict(zones.attrs.get("readings") or {}),
        "zone_data": _zone_data(zones),
        "renamed_columns": renamed,
        "rows": rows,
        "all_compliant": by_status["compliant"] == rows,
        "by_status": by_status,
        "by_zone": {key: zone_counts.get(key, 0) for key in order},
        "by_rule": {code: rule_counts.get(code, 0) for code in RULES},
        "operators": [
            {
                "operator_id": plain(operator_id),
                "registration_zone": plain(row["registration_zone"]),
                "eligibility": str(row["eligibility"]),
                "eligibility_reasons": str(row["eligibility_reasons"]),
                "eligibility_reason": str(row["eligibility_reason"]),
                "eligible": bool(row["eligible"]),
                "needs_review": bool(row["needs_review"]),
                "rows": int(row["rows"]),
                **{s: int(row[s]) for s in STATUSES},
            }
            for operator_id, row in zip(operators.index, operators.to_dict("records"), strict=True)
        ],
    }


# --------------------------------------------------------------------------- map.html


def _stable_ids(page: str, ids: set[str]) -> str:
    """Renumber folium's random element ids (``map_<32 hex>``) in order of first appearance.

    Only ``ids``, those of the map's elements, are renumbered: the same pattern
    in the map's data (a facility named ``x_<32 hex>``) is text and stays as it is.
    """
    seen: dict[str, str] = {}

    def renumbered(match: re.Match[str]) -> str:
        found = match.group(1)
        return "_" + seen.setdefault(found, f"{len(seen):032x}") if found in ids else match[0]

    return _FOLIUM_ID.sub(renumbered, page)


def _element_ids(element: Any) -> set[str]:
    """The ids of a branca element and of every element under it."""
    ids = {element._id}
    for child in element._children.values():
        ids |= _element_ids(child)
    return ids


def _map_page(
    result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, folder: Path, basemap: Any, lang: Lang
) -> str:
    """The offline map page, with deterministic element ids."""
    from pilotzone.maps import explore

    return _rendered(explore(result, zones=zones, basemap=basemap, lang=lang), folder, "map.html")


def _rendered(m: Any, folder: Path, name: str) -> str:
    """A folium map as an offline page with deterministic element ids."""
    from pilotzone.maps import save_map

    # save_map does the offline work (local assets, the network check); render through it.
    rendered = temporary(folder / name)
    try:
        save_map(m, rendered, offline=True)
        page = rendered.read_text(encoding="utf-8")
    finally:
        rendered.unlink(missing_ok=True)
    return _stable_ids(page, _element_ids(m.get_root()))


# --------------------------------------------------------------------------- audit workflow


def write_changes(
    changes: pd.DataFrame,
    out_dir: str | os.PathLike[str],
    *,
    zones: gpd.GeoDataFrame | None = None,
    lang: Lang = "en",
    basemap: Any = None,
) -> dict[str, Path]:
    """Write the comparison of two audits into a folder, each file atomically.

    Parameters
    ----------
    changes : pandas.DataFrame
        What :func:`pilotzone.compare` returns.
    out_dir : str or os.PathLike
        The folder; created if missing.
    zones : geopandas.GeoDataFrame, optional
        Zones drawn on the map; by default the shipped zones on the new
        audit's date.
    lang : {"en", "zh"}, default "en"
        Language of the column headers, statuses and severities of
        ``changes.csv`` and of the map. ``description`` is written by
        :func:`pilotzone.compare` (pass it the same ``lang``).
    basemap : optional
        As for :func:`write_report`.

    Returns
    -------
    dict of str to pathlib.Path
        ``changes.csv`` (one row per change, UTF-8 with BOM, formula-safe
        cells), ``changes.json`` (the inputs' records and counts),
        ``changes_map.html`` (:func:`pilotzone.maps.explore_changes`, offline)
        and ``changes_manifest.json``, written last, naming the three with
        their SHA-256 (:class:`OutputRun`; removed first, so a run that stops
        half way leaves none).
    """
    check_lang(lang)
    from pilotzone.maps import explore_changes

    record = changes.attrs.get("compare", {})
    if zones is None:
        from pilotzone.zones import load_zones

        zones = load_zones(as_of=(record.get("new") or {}).get("as_of"))
    table, json_file, map_file, manifest = CHANGE_FILES
    run = OutputRun(out_dir, writer="write_changes", manifest=manifest)
    paths = {table: run.write(table, lambda f: write_csv(localised(changes, lang), f))}
    paths[json_file] = run.write(json_file, json_bytes(record))
    m = explore_changes(changes, zones=zones, basemap=basemap, lang=lang)
    page = _rendered(m, run.folder, map_file)
    paths[map_file] = run.write(map_file, page.encode("utf-8"))
    paths[manifest] = run.finish()
    log.info("comparison written to %s", run.folder)
    return paths


def write_sample(
    drawn: pd.DataFrame, path: str | os.PathLike[str], *, lang: Lang = "en"
) -> list[Path]:
    """Write an inspection sample and the record of its draw, each file atomically.

    Parameters
    ----------
    drawn : pandas.DataFrame
        What :func:`pilotzone.sample` returns.
    path : str or os.PathLike
        ``.json``: one file, the record of the draw with the operators drawn
        under ``"operators"``. ``.csv``: the operators (UTF-8 with BOM), and
        the same JSON record beside it, with the suffix ``.json``, written
        after the CSV (and removed before it), whose ``"files"`` names the
        CSV with its SHA-256 and size: the record is the pair's manifest.
    lang : {"en", "zh"}, default "en"
        Language of the CSV's column headers.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    ValueError
        If ``path`` ends neither in ``.json`` nor in ``.csv``.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise ValueError(f"a sample is written as .json or .csv, not {target.name!r}")
    operators = [{str(k): plain(v) for k, v in row.items()} for row in drawn.to_dict("records")]
    record = {**drawn.attrs.get("sample", {}), "operators": operators}
    json_path = target.with_suffix(".json")
    sweep(target.parent, {target.name, json_path.name})
    if suffix == ".json":
        write_atomic(target, json_bytes(record))
        return [target]
    json_path.unlink(missing_ok=True)  # the record names the CSV: until it is written, none
    entry = write_atomic(target, lambda f: write_csv(localised(drawn, lang), f))
    write_atomic(json_path, json_bytes({**record, "files": {target.name: entry}}))
    return [target, json_path]


def write_sites(
    ranked: pd.DataFrame,
    sites: gpd.GeoDataFrame,
    feasible: gpd.GeoDataFrame,
    out_dir: str | os.PathLike[str],
    *,
    zones: gpd.GeoDataFrame,
    lang: Lang = "en",
    basemap: Any = None,
) -> list[Path]:
    """Write a siting result into a folder, each file atomically.

    Parameters
    ----------
    ranked : pandas.DataFrame
        The candidates as ``sites.csv`` should list them (ranked, no geometry).
    sites : geopandas.GeoDataFrame
        What :func:`pilotzone.site` returns, for the map.
    feasible : geopandas.GeoDataFrame
        What :func:`pilotzone.feasible_area` returns.
    out_dir : str or os.PathLike
        The folder; created if missing.
    zones : geopandas.GeoDataFrame
        Zones drawn on the map.
    lang : {"en", "zh"}, default "en"
        Language of the map.
    basemap : optional
        As for :func:`write_report`.

    Returns
    -------
    list of pathlib.Path
        :data:`SITE_FILES` in ``out_dir``: the table (UTF-8 with BOM,
        formula-safe cells), the feasible area (GeoJSON, WGS-84), the map
        (:func:`pilotzone.maps.explore_sites`, offline) and
        ``sites_manifest.json``, written last, naming the three with their
        SHA-256 (:class:`OutputRun`; removed first, so a run that stops half
        way leaves none).
    """
    from pilotzone.maps import explore_sites

    table, area, page, manifest = SITE_FILES
    run = OutputRun(out_dir, writer="write_sites", manifest=manifest)
    written = [run.write(table, lambda f: write_csv(ranked, f))]
    geojson = feasible.to_json(drop_id=True, to_wgs84=True, ensure_ascii=False)
    written.append(run.write(area, geojson.encode("utf-8")))
    m = explore_sites(sites, feasible, zones=zones, basemap=basemap, lang=lang)
    html = _rendered(m, run.folder, page)
    written.append(run.write(page, html.encode("utf-8")))
    written.append(run.finish())
    return written
