"""The files an auditor keeps: a verification result written to one folder.

:func:`write_report` writes, into ``out_dir``:

``facilities.geojson``
    Every input row with its result, WGS-84 points (``null`` geometry where a
    row has none).
``findings.csv``, ``findings.xlsx``
    :func:`pilotzone.verify.findings`: one row per (row, rule). The CSV is
    UTF-8 with a byte order mark, so Excel opens Chinese text correctly.
``summary.json``
    Counts by status, zone and rule, one entry per operator, the pilotzone
    version, the zone data's and the input's SHA-256, the audit date, and
    ``renamed_columns``: the filed columns kept under another name because
    verify writes columns of theirs (``{"status": "filed_status"}``).
``map.html``
    :func:`pilotzone.maps.explore`, saved offline.
``report.html``
    A printable audit report: inputs and their SHA-256, counts, one table per
    operator with its findings, and the map, embedded as an ``<iframe
    srcdoc>`` (linked instead when it is larger than
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
or was edited. :func:`check_folder` tells which, and ``pilotzone diff`` and
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

import csv
import datetime as dt
import decimal
import errno
import hashlib
import html
import io
import json
import logging
import math
import os
import re
import secrets
import shutil
import stat
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pilotzone.errors import CRSError, InputError, OutputError, Problem
from pilotzone.rules import RULES, cite, describe
from pilotzone.verify import STATUSES, findings, summarize

__all__ = [
    "CHANGE_FILES",
    "FILES",
    "MANIFEST",
    "MAX_EMBEDDED_MAP_CHARS",
    "MAX_FINDINGS_PER_OPERATOR",
    "SITE_FILES",
    "OutputRun",
    "check_folder",
    "write_changes",
    "write_report",
    "write_sample",
    "write_sites",
]

log = logging.getLogger(__name__)

Lang = Literal["en", "zh"]

#: The manifest of a ``verify --out`` folder: written last, naming the run's files.
MANIFEST = "manifest.json"
#: The files :func:`write_report` writes, in the order it writes them (the manifest last).
FILES = (
    "facilities.geojson",
    "findings.csv",
    "findings.xlsx",
    "summary.json",
    "map.html",
    "report.html",
    MANIFEST,
)
#: The files :func:`write_changes` writes, in the order it writes them (the manifest last).
CHANGE_FILES = ("changes.csv", "changes.json", "changes_map.html", "changes_manifest.json")
#: The files :func:`write_sites` writes, in the order it writes them (the manifest last).
SITE_FILES = ("sites.csv", "feasible_area.geojson", "sites_map.html", "sites_manifest.json")
#: At most this many findings of one operator are listed in report.html
#: (all of them are in findings.csv and findings.xlsx).
MAX_FINDINGS_PER_OPERATOR = 200
#: A map page longer than this (characters) is linked from report.html, not embedded:
#: the report would double its size and print no better.
MAX_EMBEDDED_MAP_CHARS = 10_000_000

#: How large a manifest may be read (a Dask run lists one entry per partition file).
_MAX_MANIFEST_BYTES = 64 * 1024 * 1024
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.(?P<pid>[0-9]+)\.[0-9a-f]{8}\.tmp")
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_SHA256 = re.compile(r"[0-9a-f]{64}")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FOLIUM_ID = re.compile(r"(?<=_)[0-9a-f]{32}(?![0-9A-Za-z])")
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_OUTSIDE = "(outside every zone)"
_UNCHECKED = "(not checked)"

_TEXT = {
    "en": {
        "title": "Pilot zone compliance report",
        "subtitle": "MIIT Gong Xin Bu Tong Han [2024] No. 107: value-added telecom opening pilot",
        "as_of": "Audit date", "input": "Input file", "sha256": "SHA-256",
        "version": "pilotzone version", "generated": "Generated", "zone_data": "Zone data",
        "zone": "Zone", "boundaries": "Boundary data", "override": "Boundaries supplied",
        "summary": "Summary", "rows": "Rows", "status": "Status", "count": "Count",
        "rules": "Findings by rule", "rule": "Rule", "article": "Article",
        "severity": "Severity", "operators": "Operators", "operator": "Operator",
        "registration_zone": "Registration zone", "eligible": "Eligible", "yes": "yes",
        "no": "no", "facility": "Facility", "message": "Message",
        "no_findings": "No findings.", "more": "more findings, listed in findings.csv",
        "map": "Map", "map_link": "Open the map on its own (map.html)",
        "map_too_large": "The map is too large to embed here: open map.html beside this file.",
        "by_zone": "Rows by zone", "none": "none",
        "compliant": "compliant", "violation": "violation", "review": "review",
        "invalid": "invalid",
        "active": "active", "suspended": "suspended", "terminated": "terminated",
        "not_yet_effective": "not yet effective", "expired": "expired",
        _OUTSIDE: "outside every zone", _UNCHECKED: "not checked (invalid rows)",
        "note": "Boundaries are screening data, not legal lines: a facility closer to a border "
        "than the boundary's accuracy is listed for review, not judged.",
    },
    "zh": {
        "title": "试点地区合规核查报告",
        "subtitle": "工信部通函〔2024〕107号：增值电信业务扩大对外开放试点",
        "as_of": "核查日期", "input": "输入文件", "sha256": "SHA-256",
        "version": "pilotzone 版本", "generated": "生成时间", "zone_data": "地区数据",
        "zone": "地区", "boundaries": "边界数据", "override": "用户提供的边界",
        "summary": "汇总", "rows": "行数", "status": "状态", "count": "数量",
        "rules": "按规则统计的问题", "rule": "规则", "article": "条款",
        "severity": "严重程度", "operators": "运营者", "operator": "运营者",
        "registration_zone": "注册地区", "eligible": "符合条件", "yes": "是",
        "no": "否", "facility": "设施", "message": "说明",
        "no_findings": "无问题。", "more": "条问题未列出，见 findings.csv",
        "map": "地图", "map_link": "单独打开地图（map.html）",
        "map_too_large": "地图过大，未嵌入本报告：请打开同一文件夹中的 map.html。",
        "by_zone": "按地区统计的行数", "none": "无",
        "compliant": "合规", "violation": "违规", "review": "需复核", "invalid": "无效",
        "active": "有效", "suspended": "暂停", "terminated": "终止",
        "not_yet_effective": "尚未生效", "expired": "已到期",
        _OUTSIDE: "不在任何试点地区", _UNCHECKED: "未核查（无效行）",
        "note": "边界为筛查数据，并非法定界线：距边界小于边界精度的设施列为需复核，不作判定。",
    },
}  # fmt: skip
#: Column headers of the tables written as CSV / Excel, in Chinese (English keeps the codes).
_HEADERS_ZH = {
    "row": "行号", "operator_id": "运营者", "facility_id": "设施编号", "name": "名称",
    "kind": "类型", "tenure": "使用方式", "zone_id": "所在地区", "registration_zone": "注册地区",
    "border_distance_m": "距边界（米）", "rule": "规则代码", "severity": "严重程度",
    "article": "条款", "title": "问题", "message": "说明", "change": "变化代码",
    "old_status": "原状态", "new_status": "新状态", "old_eligible": "原是否符合条件",
    "new_eligible": "现是否符合条件", "moved_m": "移动距离（米）", "old_lon": "原经度",
    "old_lat": "原纬度", "new_lon": "新经度", "new_lat": "新纬度", "description": "变化说明",
    "stratum": "抽样层", "eligible": "符合条件", "rows": "行数", "violation": "违规",
    "review": "需复核", "invalid": "无效",
}  # fmt: skip


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
    if lang not in _TEXT:
        raise ValueError(f"lang must be 'en' or 'zh', not {lang!r}")
    if result.crs is None:
        raise CRSError("result has no CRS; pass what pilotzone.verify returns (WGS-84, EPSG:4326)")
    folder = Path(out_dir)
    if zones is None:
        from pilotzone.zones import load_zones

        zones = load_zones(
            as_of=result.attrs.get("as_of"), boundaries=result.attrs.get("zones_source")
        )
    generated_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    stamp = generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    table = findings(result)
    if lang != "en":
        table["title"] = [describe(code, lang) for code in table["rule"]]
    summary = _summary(result, zones, stamp)
    run = OutputRun(folder, writer="write_report")
    geojson = run.write("facilities.geojson", lambda f: _write_geojson(result, f))
    paths = {"facilities.geojson": geojson}
    shown = _localised(table, lang)
    paths["findings.csv"] = run.write("findings.csv", lambda f: _write_csv(shown, f))
    paths["findings.xlsx"] = run.write("findings.xlsx", _xlsx_bytes(shown, summary["as_of"]))
    paths["summary.json"] = run.write("summary.json", _json_bytes(summary))
    page = _map_page(result, zones, folder, basemap, lang)
    paths["map.html"] = run.write("map.html", page.encode("utf-8"))
    report = _report_html(result, table, summary, zones, page, lang)
    paths["report.html"] = run.write("report.html", report.encode("utf-8"))
    paths[MANIFEST] = run.finish()
    log.info("report written to %s (%d files)", folder, len(paths))
    return paths


# --------------------------------------------------------------------------- writing


def _temporary(path: Path) -> Path:
    # Hidden, in the same folder (os.replace is atomic only within a file system),
    # and unique, so two runs writing the same folder never share a temporary file.
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def _write_atomic(path: Path, content: bytes | Callable[[IO[bytes]], Any]) -> dict[str, Any]:
    """Write ``path`` through a temporary file in its folder, then :func:`os.replace` it.

    ``content`` is the bytes, or a function that writes them to a binary file.
    On any exception, KeyboardInterrupt included, the temporary file is removed
    and ``path`` is left as it was; a full disk raises :class:`OutputError`.
    Returns the file's manifest entry: its ``sha256`` and size in ``bytes``.
    """
    temporary = _temporary(path)
    try:
        with open(temporary, "xb") as file:
            if isinstance(content, bytes):
                file.write(content)
            else:
                content(file)
            file.flush()
            os.fsync(file.fileno())
        entry = {"sha256": _sha256(temporary), "bytes": temporary.stat().st_size}
        os.replace(temporary, path)
    except OSError as error:
        written = temporary.stat().st_size if temporary.exists() else 0
        temporary.unlink(missing_ok=True)
        if error.errno in _DISK_FULL:
            needed = len(content) if isinstance(content, bytes) else None
            raise _disk_full(path, error, needed, written) from error
        raise
    except BaseException:
        temporary.unlink(missing_ok=True)
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


def _sweep(folder: Path, names: set[str]) -> None:
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
        _sweep(self.folder, {*FILES, *CHANGE_FILES, *SITE_FILES})

    def write(self, name: str, content: bytes | Callable[[IO[bytes]], Any]) -> Path:
        """Write the file ``name`` of the folder atomically: the bytes, or what a function writes
        to the binary file it is given."""
        path = self.folder / name
        self.files[name] = _write_atomic(path, content)
        return path

    def add(self, name: str) -> None:
        """Enter a file written by others (a Dask worker) in the manifest.

        ``name`` is its path relative to the folder, ``/``-separated."""
        path = self.folder / name
        self.files[name] = {"sha256": _sha256(path), "bytes": path.stat().st_size}

    def finish(self) -> Path:
        """Write the manifest, last. Returns its path."""
        from pilotzone._version import __version__

        record = {
            "manifest": 1,
            "run_id": self.run_id,
            "writer": self.writer,
            "pilotzone_version": __version__,
            "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "files": self.files,
        }
        _write_atomic(self.manifest, _json_bytes(record))
        return self.manifest


def check_folder(
    folder: str | os.PathLike[str], *, required: tuple[str, ...] = (), manifest: str = MANIFEST
) -> dict[str, Any]:
    """Check that a folder holds one whole run: its manifest, and every file it names unchanged.

    Parameters
    ----------
    folder : str or os.PathLike
        A folder written by :func:`write_report` (or another writer with an
        :class:`OutputRun`).
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
        raise refuse(path, "missing: the run that wrote this folder did not finish (or a "
                     "pilotzone without manifests wrote it); write the folder again") from None
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
        if not same or _sha256(target) != digest:
            raise refuse(target, f"differs from the file {manifest} names (SHA-256): the folder "
                         "mixes runs or was edited; write it again")
    return record


# --------------------------------------------------------------------------- values


def _plain(value: Any) -> Any:
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


def _neutralised(value: Any) -> Any:
    """A spreadsheet cell: text that a spreadsheet would run as a formula gets a leading '."""
    value = _plain(value)
    # A lone "-" (a common "none") cannot be a formula; it stays readable.
    if isinstance(value, str) and value.startswith(_FORMULA_START) and value != "-":
        return "'" + value
    return value


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False) + "\n").encode("utf-8")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------- facilities.geojson


def _properties(result: gpd.GeoDataFrame) -> tuple[list[str], list[list[Any]]]:
    """Column names and JSON values, result column order; columns JSON cannot hold are dropped."""
    names: list[str] = []
    columns: list[list[Any]] = []
    for label in result.columns:
        if label == result.geometry.name:
            continue
        try:
            values = _json_column(result[label])
        except TypeError as error:
            log.warning("facilities.geojson: column %r left out (%s)", label, error)
            continue
        names.append(str(label))
        columns.append(values)
    return names, columns


def _json_column(column: pd.Series) -> list[Any]:
    """JSON values of a column: whole-column conversions for the usual dtypes, else per cell."""
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype) and not column.hasnans:
        return [bool(v) for v in column.to_numpy()]
    if pd.api.types.is_integer_dtype(dtype) and not column.hasnans:
        return [int(v) for v in column.to_numpy()]
    if pd.api.types.is_float_dtype(dtype):
        numbers = column.to_numpy(dtype=np.float64, na_value=np.nan)
        values = numbers.astype(object)
        values[~np.isfinite(numbers)] = None
        return values.tolist()
    if pd.api.types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        cells = column.astype(object)
        texts = cells.where(cells.notna(), None).tolist()
        if all(v is None or isinstance(v, str) for v in texts):
            return texts
    return [_plain(v) for v in column.astype(object).tolist()]


def _write_geojson(result: gpd.GeoDataFrame, file: IO[bytes]) -> None:
    frame = result if result.crs.equals("EPSG:4326") else result.to_crs("EPSG:4326")
    names, columns = _properties(frame)
    shapes = np.asarray(frame.geometry.values, dtype=object)
    missing = shapely.is_missing(shapes) | shapely.is_empty(shapes)
    points = ~missing & (shapely.get_type_id(shapes) == 0)
    x, y = shapely.get_x(shapes), shapely.get_y(shapes)
    dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
    file.write(b'{\n"type": "FeatureCollection",\n"features": [\n')
    for i in range(len(frame)):
        if missing[i]:
            geometry = None
        elif points[i]:  # the usual case, without a round trip through GeoJSON text
            geometry = {"type": "Point", "coordinates": [float(x[i]), float(y[i])]}
        else:
            geometry = json.loads(shapely.to_geojson(shapes[i]))
        properties = dict(zip(names, (column[i] for column in columns), strict=True))
        feature = {"type": "Feature", "properties": properties, "geometry": geometry}
        file.write(dumps(feature).encode("utf-8") + (b",\n" if i < len(frame) - 1 else b"\n"))
    file.write(b"]\n}\n")


# --------------------------------------------------------------------------- findings


def _rows(table: pd.DataFrame) -> Iterator[list[Any]]:
    """The findings' cells, neutralised, row by row."""
    for row in table.itertuples(index=False, name=None):
        yield [_neutralised(v) for v in row]


def _write_csv(table: pd.DataFrame, file: IO[bytes]) -> None:
    text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="", write_through=True)
    try:
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow([_neutralised(str(c)) for c in table.columns])
        for row in _rows(table):
            writer.writerow(["" if v is None else v for v in row])
        text.flush()
    finally:
        text.detach()  # the caller closes the file


def _xlsx_bytes(table: pd.DataFrame, as_of: str | None) -> bytes:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("findings")
    widths = {"message": 80, "title": 50, "name": 24, "rule": 30, "article": 16}
    widths |= {_HEADERS_ZH[c]: w for c, w in widths.items()}
    for position, column in enumerate(table.columns, start=1):
        letter = openpyxl.utils.get_column_letter(position)
        sheet.column_dimensions[letter].width = widths.get(column, 14)
    sheet.freeze_panes = "A2"
    sheet.append([str(c) for c in table.columns])
    for row in _rows(table):
        sheet.append([_XLSX_ILLEGAL.sub("\ufffd", v) if isinstance(v, str) else v for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return _stable_zip(buffer.getvalue(), as_of)


def _stable_zip(data: bytes, as_of: str | None) -> bytes:
    """The same workbook with fixed zip entry times and document dates.

    openpyxl stamps the zip entries and ``docProps/core.xml`` with the time of
    saving; the document dates become the audit date instead.
    """
    day = as_of or "2024-04-08"
    stamp = f"{day}T00:00:00Z".encode()
    core = re.compile(rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename == "docProps/core.xml":
                content = core.sub(lambda m: m.group(1) + stamp + m.group(3), content)
            info = zipfile.ZipInfo(entry.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            target.writestr(info, content)
    return out.getvalue()


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
            "sha256": _sha256(path) if path.is_file() else None,
        }
    return info


def _zone_key(zone: Any, status: str) -> str:
    if isinstance(zone, str) and zone:
        return zone
    return _UNCHECKED if status == "invalid" else _OUTSIDE


def _summary(result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, stamp: str) -> dict[str, Any]:
    from pilotzone._version import __version__

    status = result["status"].astype(str)
    by_status = {s: int((status == s).sum()) for s in STATUSES}
    keys = [
        _zone_key(z, s) for z, s in zip(result["zone_id"].tolist(), status.tolist(), strict=True)
    ]
    counted = pd.Series(keys, dtype=object).value_counts()
    order = [*zones["zone_id"].tolist(), _OUTSIDE, _UNCHECKED]
    order += sorted(set(counted.index) - set(order))
    by_zone = {key: int(counted.get(key, 0)) for key in order}
    codes = result["reasons"].str.split(";").explode()
    by_rule_counts = codes[codes != ""].value_counts()
    by_rule = {code: int(by_rule_counts.get(code, 0)) for code in RULES}
    operators = []
    for operator_id, row in summarize(result).iterrows():
        operators.append(
            {
                "operator_id": _plain(operator_id),
                "registration_zone": _plain(row["registration_zone"]),
                "eligible": bool(row["eligible"]),
                "needs_review": bool(row["needs_review"]),
                "rows": int(row["rows"]),
                **{s: int(row[s]) for s in STATUSES},
            }
        )
    return {
        "generated_at": stamp,
        "pilotzone_version": __version__,
        "input": {
            "file": result.attrs.get("source"),
            "sha256": result.attrs.get("source_sha256"),
        },
        "as_of": result.attrs.get("as_of") or zones.attrs.get("as_of"),
        "zone_data": _zone_data(zones),
        "renamed_columns": result.attrs.get("renamed_columns", {}),
        "rows": len(result),
        "all_compliant": by_status["compliant"] == len(result),
        "by_status": by_status,
        "by_zone": by_zone,
        "by_rule": by_rule,
        "operators": operators,
    }


# --------------------------------------------------------------------------- map.html


def _stable_ids(page: str, ids: set[str]) -> str:
    """Renumber folium's random element ids (``map_<32 hex>``) in order of first appearance.

    Only ``ids``, those of the map's elements, are renumbered: the same pattern
    in the map's data (a facility named ``x_<32 hex>``) is text and stays as it is.
    """
    seen: dict[str, str] = {}

    def renumbered(match: re.Match[str]) -> str:
        found = match.group(0)
        return seen.setdefault(found, f"{len(seen):032x}") if found in ids else found

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
    rendered = _temporary(folder / name)
    try:
        save_map(m, rendered, offline=True)
        page = rendered.read_text(encoding="utf-8")
    finally:
        rendered.unlink(missing_ok=True)
    return _stable_ids(page, _element_ids(m.get_root()))


# --------------------------------------------------------------------------- report.html

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Microsoft YaHei",
sans-serif;color:#111;margin:2em auto;max-width:1100px;padding:0 1em}
h1{font-size:1.6em;margin:0 0 .1em}h2{font-size:1.25em;margin:1.6em 0 .4em;
border-bottom:2px solid #1f5fbf}h3{font-size:1.05em;margin:1.2em 0 .3em}
.subtitle{color:#555;margin:0 0 1em}
table{border-collapse:collapse;margin:.3em 0 1em;width:100%}
th,td{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eef2f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
table.meta{width:auto}table.meta th{width:12em}
code,.hash{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85em;word-break:break-all}
.violation{color:#b00}.review{color:#b35900}.invalid{color:#555}.compliant{color:#1a7a1a}
.note{color:#555;font-size:.9em}
iframe.map{width:100%;height:640px;border:1px solid #bbb}
@media print{
body{margin:0;max-width:none;font-size:10pt}
h2{break-after:avoid}h3{break-after:avoid}tr{break-inside:avoid}
section.operator{break-inside:avoid-page}
section.map{break-before:page}
iframe.map{height:17cm}
a{color:inherit;text-decoration:none}
}
"""


def _e(value: Any) -> str:
    """Escaped text of a value (empty for missing values)."""
    value = _plain(value) if not isinstance(value, str) else value
    return "" if value is None else html.escape(str(value), quote=True)


def _number(value: Any) -> str:
    return f'<td class="n">{_e(value)}</td>'


def _zone_names(zones: gpd.GeoDataFrame, lang: Lang) -> dict[str, str]:
    column = f"short_name_{lang}"
    return {str(z): str(n) for z, n in zip(zones["zone_id"], zones[column], strict=True)}


def _report_html(
    result: gpd.GeoDataFrame,
    table: pd.DataFrame,
    summary: dict[str, Any],
    zones: gpd.GeoDataFrame,
    page: str,
    lang: Lang,
) -> str:
    t = _TEXT[lang]
    names = _zone_names(zones, lang)
    parts: list[str] = []
    add = parts.append
    add("<!DOCTYPE html>")
    add(f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">')
    add('<meta name="viewport" content="width=device-width, initial-scale=1">')
    add(f"<title>{_e(t['title'])}: {_e(summary['input']['file'])}</title>")
    add(f"<style>{_CSS}</style></head><body>")
    add(f'<h1>{_e(t["title"])}</h1><p class="subtitle">{_e(t["subtitle"])}</p>')

    zone_data = summary["zone_data"]
    add('<table class="meta">')
    add(f"<tr><th>{_e(t['as_of'])}</th><td>{_e(summary['as_of'])}</td></tr>")
    add(f"<tr><th>{_e(t['input'])}</th><td>{_e(summary['input']['file'])}</td></tr>")
    add(
        f"<tr><th>{_e(t['input'])} {_e(t['sha256'])}</th>"
        f'<td class="hash">{_e(summary["input"]["sha256"])}</td></tr>'
    )
    add(f"<tr><th>{_e(t['version'])}</th><td>{_e(summary['pilotzone_version'])}</td></tr>")
    add(
        f"<tr><th>{_e(t['generated'])}</th>"
        f'<td><span id="generated-at">{_e(summary["generated_at"])}</span></td></tr>'
    )
    add("</table>")

    add(
        f"<h2>{_e(t['zone_data'])}</h2><table><tr><th>{_e(t['zone'])}</th>"
        f"<th>{_e(t['status'])}</th><th>{_e(t['sha256'])}</th></tr>"
    )
    status_of = dict(zip(zones["zone_id"], zones["status"], strict=True))
    for zone_id, sha in zone_data["zones"].items():
        label = f"{names.get(zone_id, zone_id)} ({zone_id})"
        add(
            f"<tr><td>{_e(label)}</td><td>{_e(t.get(status_of.get(zone_id), ''))}</td>"
            f'<td class="hash">{_e(sha)}</td></tr>'
        )
    add("</table>")
    override = zone_data.get("override")
    if override:
        add(
            f"<p>{_e(t['override'])}: {_e(override['file'])} "
            f'<span class="hash">{_e(override["sha256"])}</span></p>'
        )
    add(f'<p class="note">{_e(t["note"])}</p>')

    add(
        f"<h2>{_e(t['summary'])}</h2><table><tr><th>{_e(t['status'])}</th>"
        f"<th>{_e(t['rows'])}</th></tr>"
    )
    for status, count in summary["by_status"].items():
        add(f'<tr><td class="{status}">{_e(t[status])}</td>{_number(count)}</tr>')
    add(f"<tr><th>{_e(t['rows'])}</th>{_number(summary['rows'])}</tr></table>")

    add(
        f"<h3>{_e(t['by_zone'])}</h3><table><tr><th>{_e(t['zone'])}</th>"
        f"<th>{_e(t['rows'])}</th></tr>"
    )
    for zone_id, count in summary["by_zone"].items():
        shown = t[zone_id] if zone_id in (_OUTSIDE, _UNCHECKED) else names.get(zone_id, zone_id)
        add(f"<tr><td>{_e(shown)}</td>{_number(count)}</tr>")
    add("</table>")

    add(
        f"<h3>{_e(t['rules'])}</h3><table><tr><th>{_e(t['rule'])}</th>"
        f"<th>{_e(t['article'])}</th><th>{_e(t['severity'])}</th><th>{_e(t['count'])}</th></tr>"
    )
    for code, count in summary["by_rule"].items():
        if count:
            rule = RULES[code]
            add(
                f"<tr><td>{_e(describe(code, lang))} <code>{_e(code)}</code></td>"
                f'<td>{_e(cite(code, lang))}</td><td class="{rule.severity}">{_e(t[rule.severity])}'
                f"</td>{_number(count)}</tr>"
            )
    if not any(summary["by_rule"].values()):
        add(f'<tr><td colspan="4">{_e(t["no_findings"])}</td></tr>')
    add("</table>")

    add(
        f"<h2>{_e(t['operators'])}</h2><table><tr><th>{_e(t['operator'])}</th>"
        f"<th>{_e(t['registration_zone'])}</th><th>{_e(t['eligible'])}</th>"
        f"<th>{_e(t['rows'])}</th>" + "".join(f"<th>{_e(t[s])}</th>" for s in STATUSES) + "</tr>"
    )
    for op in summary["operators"]:
        zone = op["registration_zone"]
        add(
            f"<tr><td>{_e(op['operator_id'])}</td>"
            f"<td>{_e(names.get(zone, zone) if zone else t['none'])}</td>"
            f'<td class="{"compliant" if op["eligible"] else "violation"}">'
            f"{_e(t['yes'] if op['eligible'] else t['no'])}</td>{_number(op['rows'])}"
            + "".join(_number(op[s]) for s in STATUSES)
            + "</tr>"
        )
    add("</table>")

    grouped = dict(tuple(table.groupby("operator_id", sort=False))) if len(table) else {}
    for op in summary["operators"]:
        operator_id = op["operator_id"]
        add(f'<section class="operator"><h3>{_e(t["operator"])} {_e(operator_id)}</h3>')
        rows = grouped.get(operator_id)
        if rows is None or rows.empty:
            add(f"<p>{_e(t['no_findings'])}</p></section>")
            continue
        add(
            f"<table><tr><th>{_e(t['rule'])}</th><th>{_e(t['article'])}</th>"
            f"<th>{_e(t['severity'])}</th><th>{_e(t['facility'])}</th>"
            f"<th>{_e(t['message'])}</th></tr>"
        )
        for finding in rows.head(MAX_FINDINGS_PER_OPERATOR).itertuples(index=False):
            facility = (
                f"{finding.facility_id} · {finding.name}" if finding.name else finding.facility_id
            )
            title = _e(describe(finding.rule, lang))
            add(
                f"<tr><td>{title}<br><code>{_e(finding.rule)}</code></td>"
                f'<td>{_e(cite(finding.rule, lang))}</td><td class="{_e(finding.severity)}">'
                f"{_e(t.get(finding.severity, finding.severity))}</td>"
                f"<td>{_e(facility)}</td><td>{_e(finding.message)}</td></tr>"
            )
        add("</table>")
        hidden = len(rows) - MAX_FINDINGS_PER_OPERATOR
        if hidden > 0:
            add(f'<p class="note">… {hidden} {_e(t["more"])}</p>')
        add("</section>")

    add(f'<section class="map"><h2>{_e(t["map"])}</h2>')
    add(f'<p><a href="map.html">{_e(t["map_link"])}</a></p>')
    if len(page) <= MAX_EMBEDDED_MAP_CHARS:
        # srcdoc is an attribute: the whole page is attribute-escaped, quotes included.
        add(
            f'<iframe class="map" title="{_e(t["map"])}" sandbox="allow-scripts" '
            f'srcdoc="{html.escape(page, quote=True)}"></iframe>'
        )
    else:
        add(f'<p class="note">{_e(t["map_too_large"])}</p>')
    add("</section>")
    add("</body></html>\n")
    return "\n".join(parts)


# --------------------------------------------------------------------------- audit workflow


def _localised(table: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """A table as written for readers of ``lang``: headers, severities, statuses and articles.

    Codes (rule, change) stay as they are: scripts and audit comparisons rely on them.
    """
    if lang == "en":
        return table
    t = _TEXT[lang]
    out = table.copy()
    for column in ("severity", "old_status", "new_status"):
        if column in out:
            out[column] = out[column].map(lambda v: t.get(v, v) if isinstance(v, str) else v)
    if "article" in out and "rule" in out:
        out["article"] = [cite(code, lang) for code in out["rule"]]
    return out.rename(columns=_HEADERS_ZH)


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
    if lang not in _TEXT:
        raise ValueError(f"lang must be 'en' or 'zh', not {lang!r}")
    from pilotzone.maps import explore_changes

    record = changes.attrs.get("compare", {})
    if zones is None:
        from pilotzone.zones import load_zones

        zones = load_zones(as_of=(record.get("new") or {}).get("as_of"))
    table, json_file, map_file, manifest = CHANGE_FILES
    run = OutputRun(out_dir, writer="write_changes", manifest=manifest)
    paths = {table: run.write(table, lambda f: _write_csv(_localised(changes, lang), f))}
    paths[json_file] = run.write(json_file, _json_bytes(record))
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
    operators = [{str(k): _plain(v) for k, v in row.items()} for row in drawn.to_dict("records")]
    record = {**drawn.attrs.get("sample", {}), "operators": operators}
    json_path = target.with_suffix(".json")
    _sweep(target.parent, {target.name, json_path.name})
    if suffix == ".json":
        _write_atomic(target, _json_bytes(record))
        return [target]
    json_path.unlink(missing_ok=True)  # the record names the CSV: until it is written, none
    entry = _write_atomic(target, lambda f: _write_csv(_localised(drawn, lang), f))
    _write_atomic(json_path, _json_bytes({**record, "files": {target.name: entry}}))
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
    written = [run.write(table, lambda f: _write_csv(ranked, f))]
    geojson = feasible.to_json(drop_id=True, to_wgs84=True, ensure_ascii=False)
    written.append(run.write(area, geojson.encode("utf-8")))
    m = explore_sites(sites, feasible, zones=zones, basemap=basemap, lang=lang)
    html = _rendered(m, run.folder, page)
    written.append(run.write(page, html.encode("utf-8")))
    written.append(run.finish())
    return written
