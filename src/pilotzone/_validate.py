"""Row validation of a filing: columns matched to their meaning, every cell checked.

:func:`build` turns a :class:`~pilotzone._raw.Raw` into the validated
GeoDataFrame :func:`pilotzone.facilities.read_facilities` returns: whole-input
problems raise, row problems mark the row.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import math
import os
from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from numpy.typing import NDArray

from pilotzone._codes import TENURES
from pilotzone._columns import (
    COLUMN_ALIASES,
    COLUMN_BY_KEY,
    EMPTY_TEXT,
    KIND_BY_KEY,
    KINDS,
    RESERVED_KEYS,
    SERVICE_BY_KEY,
    SERVICES,
    TENURE_BY_KEY,
    canonical_services,
    category,
    cell_number,
    cell_numbers,
    cell_text,
    distinct_cells,
    is_blank,
    label_column,
    match_key,
    pandas_text,
    service_names,
    text_column,
    unknown_value,
)
from pilotzone._messages import PROBLEMS, Reason, reason_text
from pilotzone._raw import Points, Raw
from pilotzone.crs import is_lonlat, normalize_crs, to_wgs84
from pilotzone.errors import InputError, Problem

logger = logging.getLogger(__name__)


@dataclass
class _CRSInfo:
    name: str | None  # normalised, or None where unknown
    lonlat: bool = False
    reason: str | None = None


def _crs_info(value: str) -> _CRSInfo:
    try:
        # No name search in PROJ's database for a file's cells: a junk value would cost up to a
        # second.
        name = normalize_crs(value, search_names=False)
        return _CRSInfo(name, is_lonlat(name))
    except (ValueError, RuntimeError):  # CRSError, or pyproj failing on an odd CRS
        return _CRSInfo(
            None,
            reason=Reason("unknown_crs"),
        )


def _match_columns(raw: Raw) -> tuple[dict[str, int], list[int], list[Problem]]:
    """Canonical name -> column position, extra column positions, whole-input problems."""
    labels = list(raw.frame.columns)
    canonical: dict[str, int] = {}
    extras: list[int] = []
    problems: list[Problem] = []
    for position, label in enumerate(labels):
        key = match_key(label)
        meaning = COLUMN_BY_KEY.get(key)
        if key in RESERVED_KEYS:
            problems.append(
                Problem(
                    raw.name,
                    None,
                    str(label),
                    None,
                    f"{RESERVED_KEYS[key]!r} is a column pilotzone writes; rename or remove it",
                )
            )
        elif meaning is None:
            extras.append(position)
        elif meaning in canonical:
            first = labels[canonical[meaning]]
            problems.append(
                Problem(
                    raw.name,
                    None,
                    str(label),
                    None,
                    Reason(
                        "both_mean", {"first": str(first), "second": str(label), "meaning": meaning}
                    ),
                )
            )
        else:
            canonical[meaning] = position
    counts = Counter(labels[i] for i in extras)
    for label, count in counts.items():
        if count > 1:
            problems.append(
                Problem(raw.name, None, str(label), None, Reason("name_repeated", {"count": count}))
            )

    def require(column: str) -> None:
        accepted = ", ".join(dict.fromkeys(COLUMN_ALIASES[column]))
        found = ", ".join(repr(str(label)) for label in labels) or "none"
        problems.append(
            Problem(
                raw.name,
                None,
                column,
                None,
                Reason("missing_column", {"accepted": accepted, "found": found}),
            )
        )

    for column in ("operator_id", "kind"):
        if column not in canonical:
            require(column)
    has_lon, has_lat = "lon" in canonical, "lat" in canonical
    if has_lon != has_lat or (not has_lon and raw.points is None):
        for column in ("lon", "lat"):
            if column not in canonical:
                require(column)
    return canonical, extras, problems


def build(
    raw: Raw, crs_argument: str | None, errors: str, first_row: int, max_crs: int
) -> gpd.GeoDataFrame:
    """The validated GeoDataFrame of :func:`pilotzone.facilities.read_facilities` from ``raw``."""
    columns, extras, whole = _match_columns(raw)
    name = raw.name
    if len(raw.frame) == 0:
        whole.append(Problem(name, None, None, None, Reason("no_rows")))
    file_crs: str | None = None
    if raw.file_crs is not None:
        try:
            file_crs = normalize_crs(raw.file_crs)
        except ValueError as error:
            whole.append(Problem(name, None, None, None, f"the file's coordinate system: {error}"))
    if "crs" not in columns and crs_argument is None and raw.file_crs is None:
        whole.append(
            Problem(
                name,
                None,
                "crs",
                None,
                Reason("no_crs"),
            )
        )
    if whole:
        raise InputError(whole)
    if crs_argument is not None and file_crs not in (None, crs_argument) and not raw.crs_implied:
        logger.warning("%s declares %s; crs=%r is used instead", name, file_crs, crs_argument)
    default_crs = crs_argument or file_crs

    frame = raw.frame
    n = len(frame)
    # The number the user's program shows for each row: a CSV's line, a worksheet's row, a
    # feature's number (from first_row: a Dask partition's position in the whole).
    numbers = raw.numbers
    if isinstance(numbers, range):  # np.asarray would count through it one by one
        rows = np.arange(numbers.start, numbers.stop, numbers.step, dtype=np.int64)
    elif numbers is not None:
        rows = np.asarray(numbers, dtype=np.int64)
    else:
        rows = np.arange(first_row, first_row + n, dtype=np.int64)
    label = {c: str(frame.columns[i]) for c, i in columns.items()}

    def column(name: str) -> pd.Series:
        if name in columns:
            return frame.iloc[:, columns[name]]
        return pd.Series(np.full(n, None, dtype=object), copy=False, dtype=object)

    problems: dict[int, list[Problem]] = {}

    def mark(position: int, column: str | None, value: Any, reason: str) -> None:
        problems.setdefault(position, []).append(
            Problem(name, int(rows[position]), column, value, reason)
        )

    for position, reason in raw.broken_rows.items():
        mark(position, None, None, reason)

    operator_ids = text_column(column("operator_id"))
    no_operator = np.flatnonzero(pc.equal(operator_ids, EMPTY_TEXT).to_numpy(zero_copy_only=False))
    for i in no_operator.tolist():
        mark(i, label["operator_id"], None, Reason("missing"))
    facility_ids = text_column(column("facility_id"))
    no_id = pc.equal(facility_ids, EMPTY_TEXT)
    numbered = pc.sum(no_id).as_py() or 0  # rows whose facility_id is their row number
    if numbered:
        facility_ids = pc.replace_with_mask(
            facility_ids,
            no_id,
            pa.array(
                rows[no_id.to_numpy(zero_copy_only=False)].astype(str), type=pa.large_string()
            ),
        )
    # The duplicate check hashes every id in pyarrow, which lets go of the GIL: it runs on a
    # thread of its own while the other columns are checked.
    background = ThreadPoolExecutor(1)
    repeats = background.submit(_repeats, operator_ids, facility_ids)
    background.shutdown(wait=False)  # the thread ends with its one task
    names = text_column(column("name"), fold=False)
    addresses = text_column(column("address"), fold=False)
    kinds, _ = _coded(column("kind"), KIND_BY_KEY, None, "kind", KINDS, label["kind"], mark)
    tenures, blank_tenures = _coded(
        column("tenure"),
        TENURE_BY_KEY,
        "owned",
        "tenure",
        TENURES,
        label.get("tenure", "tenure"),
        mark,
    )
    defaulted = blank_tenures if "tenure" in columns else n  # rows taken as the default
    services = _services(column("services"), label.get("services", "services"), mark)

    lon, lat, usable = _coordinates(raw, columns, label, column, mark)
    where = raw.points.label if raw.points is not None else "lon"
    lon_label, lat_label = label.get("lon", where), label.get("lat", where)
    crs_code, crs_names, lonlat = _row_crs(
        column("crs"), default_crs, label.get("crs", "crs"), usable, mark, (name, max_crs)
    )
    with np.errstate(invalid="ignore"):
        bad_lat = lonlat & (np.abs(lat) > 90.0)
        bad_lon = lonlat & (np.abs(lon) > 180.0)
    for i in np.flatnonzero(bad_lat).tolist():
        swapped = abs(lat[i]) <= 180.0 and abs(lon[i]) <= 90.0
        mark(i, lat_label, float(lat[i]), Reason("lat_swapped" if swapped else "lat_range"))
    for i in np.flatnonzero(bad_lon).tolist():
        mark(i, lon_label, float(lon[i]), Reason("lon_range"))
    usable &= ~(bad_lat | bad_lon)
    geometry = _wgs84_points(lon, lat, crs_code, crs_names, usable, lon_label, mark)

    for i, first in repeats.result():
        mark(
            i,
            label.get("facility_id", "facility_id"),
            facility_ids[i].as_py(),
            duplicate_reason(int(rows[first])),
        )

    for i in _blank_rows(frame, raw.points, no_operator):
        problems[i] = [Problem(name, int(rows[i]), None, None, Reason("empty_row"))]
        geometry[i] = None

    marked = sorted(problems)
    if errors == "raise":
        found = [p for i in marked for p in problems[i]]
        if found:
            raise InputError(found)
    described = np.zeros(n, dtype=np.intp)
    described[marked] = np.arange(1, len(marked) + 1)
    texts = [PROBLEMS["en"]["join"].join(describe(p) for p in problems[i]) for i in marked]

    data: dict[Hashable, Any] = {
        "operator_id": pandas_text(operator_ids),
        "facility_id": pandas_text(facility_ids),
        "name": pandas_text(names),
        "address": pandas_text(addresses),
        "kind": kinds,
        "tenure": tenures,
        "services": services,
        "lon": lon,
        "lat": lat,
        "crs": category(crs_names, crs_code),
        "source_row": rows,
        "problems": label_column(["", *texts], described),
    }
    for position in extras:
        data[frame.columns[position]] = frame.iloc[:, position].array
    result = pd.DataFrame(data, index=raw.index)
    # Points made here need no check of their type: from_shapely is the cheap way in.
    result["geometry"] = gpd.array.from_shapely(geometry, crs="EPSG:4326")
    out = gpd.GeoDataFrame(result, geometry="geometry")
    out.attrs["source"] = name
    out.attrs["source_sha256"] = raw.sha256
    out.attrs["header_row"] = raw.header_row
    if marked:  # verify(lang="zh") words the rows' problems in Chinese
        out.attrs["problems_zh"] = ProblemsZh(
            (text, PROBLEMS["zh"]["join"].join(describe(p, "zh") for p in problems[i]))
            for text, i in zip(texts, marked, strict=True)
        )
    if raw.header_row > 1:
        logger.warning(
            "%s: the column names were read from row %d (the rows above are taken as titles)",
            name,
            raw.header_row,
        )
    out.attrs["defaulted"] = {}
    if numbered:
        out.attrs["defaulted"]["facility_id"] = {"default": "row number", "rows": numbered}
        logger.warning(
            "%s: column %r %s: %d row(s) take their row number as facility_id",
            name,
            label.get("facility_id", "facility_id"),
            "is blank" if "facility_id" in columns else "is missing",
            numbered,
        )
    if defaulted:
        column_name = label.get("tenure", "tenure")
        out.attrs["defaulted"]["tenure"] = {"default": "owned", "rows": defaulted}
        logger.warning(
            "%s: column %r %s: %d row(s) taken as tenure 'owned'",
            name,
            column_name,
            "is blank" if "tenure" in columns else "is missing",
            defaulted,
        )
    logger.debug("%s: %d rows, %d with problems", name, n, len(marked))
    return out


class ProblemsZh(dict[str, str]):
    """The Chinese of each ``problems`` cell, by its English: kept in a filing's ``attrs``.

    pandas deep-copies ``attrs`` into every frame derived from the filing; the texts never
    change, so the copy is the mapping itself.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> ProblemsZh:
        """The mapping itself: its texts never change."""
        return self


def duplicate_reason(first: int) -> str:
    """Why a row repeats the (operator_id, facility_id) pair of row ``first``."""
    return Reason("duplicate", {"first": first})


def describe(problem: Problem, lang: str = "en") -> str:
    """A row problem as the ``problems`` column words it: column, reason, value.

    Parameters
    ----------
    problem : Problem
        A problem of one row.
    lang : {"en", "zh"}, optional
        The language (:data:`pilotzone._messages.PROBLEMS`); a reason that is plain text
        stays as it is.

    Returns
    -------
    str
        ``column 'lat': <reason> (<value>)``, without the parts that are absent.
    """
    words = PROBLEMS[lang]
    value = problem.value
    blank = value is None or (isinstance(value, str) and not value)
    shown = "" if blank else words["with_value"].format(value=value)
    reason = reason_text(problem.reason, lang)
    if problem.column is None:
        return f"{reason}{shown}"
    return f"{words['in_column'].format(column=problem.column, reason=reason)}{shown}"


_Mark = Callable[[int, str | None, Any, str], None]


def _coded(
    values: pd.Series,
    by_key: dict[str, str],
    default: str | None,
    what: str,
    accepted: Sequence[str],
    column: str,
    mark: _Mark,
) -> tuple[Any, int]:
    """Coded cells (kind, tenure) as canonical values, and the number of blank cells.

    Unknown values keep their text; blank cells take ``default`` where there is one.
    """
    cell, cells = distinct_cells(values)
    coded: list[str] = []
    unknown: list[str | None] = []  # the text of an unknown value, None for a known one
    for value in cells:
        text = cell_text(value)
        known = by_key.get(match_key(text)) if text else default
        coded.append(known if known is not None else text)
        unknown.append(None if known is not None else text)
    bad = np.array([u is not None for u in unknown] + [False], dtype=bool)
    for i in np.flatnonzero(bad[cell]).tolist():
        text = unknown[cell[i]]
        if text == "":
            mark(i, column, None, "missing")
        else:
            mark(i, column, text, unknown_value(text, what, accepted, by_key))
    blank = np.array([is_blank(v) for v in cells] + [False])[cell]
    return category(coded, cell, accepted), int(np.count_nonzero(blank))


def _services(values: pd.Series, column: str, mark: _Mark) -> Any:
    """Each row's services, canonical names joined by ';'.

    A name pilotzone does not know marks the row, naming the value, the known names and
    the closest one.
    """
    cell, cells = distinct_cells(values)
    unknown = [service_names(value)[1] for value in cells]
    for i in np.flatnonzero(np.array([bool(u) for u in unknown] + [False])[cell]).tolist():
        for name in unknown[cell[i]]:
            mark(i, column, name, unknown_value(name, "service", SERVICES, SERVICE_BY_KEY))
    return label_column([canonical_services(v) for v in cells], cell)


def _coordinates(
    raw: Raw,
    columns: dict[str, int],
    label: dict[str, str],
    column: Callable[[str], pd.Series],
    mark: _Mark,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """lon, lat as filed and whether they are usable; geometry first, then columns."""
    n = len(raw.frame)
    usable = np.ones(n, dtype=bool)
    usable[list(raw.broken_rows)] = False
    has_columns = "lon" in columns
    points = raw.points
    if points is None:
        lon, lon_bad = cell_numbers(column("lon"))
        lat, lat_bad = cell_numbers(column("lat"))
        # A row's problems are listed lon first, then lat.
        for i, value, why, axis in sorted(
            [(i, v, r, 0) for i, v, r in lon_bad] + [(i, v, r, 1) for i, v, r in lat_bad],
            key=lambda found: (found[0], found[3]),
        ):
            mark(i, label["lon" if axis == 0 else "lat"], value, why)
            usable[i] = False
        return lon, lat, usable
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    column_x = column("lon").tolist() if has_columns else [None] * n
    column_y = column("lat").tolist() if has_columns else [None] * n
    for i in range(n):
        from_geometry = points.missing[i] is None
        if not from_geometry and not has_columns:
            mark(i, points.label, None, points.missing[i] or "no point")
            usable[i] = False
            continue
        if from_geometry:
            sources = ((points.x[i], points.label, 0), (points.y[i], points.label, 1))
        else:
            sources = ((column_x[i], label["lon"], 0), (column_y[i], label["lat"], 1))
        for value, name, axis in sources:
            number, reason = cell_number(value)
            (lon if axis == 0 else lat)[i] = number
            if reason is not None:
                mark(i, name, value, reason)
                usable[i] = False
        if from_geometry and has_columns and usable[i]:
            for value, name, filed in (
                (column_x[i], label["lon"], lon[i]),
                (column_y[i], label["lat"], lat[i]),
            ):
                number, reason = cell_number(value)
                if reason is None and not math.isclose(number, filed, rel_tol=1e-6, abs_tol=1e-6):
                    mark(i, name, value, Reason("geometry_differs", {"filed": float(filed)}))
                    usable[i] = False
    return lon, lat, usable


def _row_crs(
    values: pd.Series,
    default: str | None,
    column: str,
    usable: NDArray[np.bool_],
    mark: _Mark,
    limit: tuple[str, int],
) -> tuple[NDArray[np.intp], list[str], NDArray[np.bool_]]:
    """Each row's CRS, the list of normalised CRS names, and whether each row's CRS is lon/lat.

    A row's CRS is an index into that list: the row's value, else the default.

    ``limit`` is the file's name and the most distinct values allowed, checked before any
    value is parsed: PROJ takes 20-40 ms to build each new coordinate system.
    """
    cell, cells = distinct_cells(values)
    texts = {cell_text(value) for value in cells} - {""}
    file, max_crs = limit
    if len(texts) > max_crs:
        reason = (
            f"{len(texts):,} distinct coordinate systems, more than the limit of {max_crs:,} "
            "(a filing normally uses a handful, and each costs PROJ time to set up). Write one "
            "spelling per system, or raise the limit: read_facilities(..., max_crs=N), or "
            "pilotzone verify --max-crs N"
        )
        raise InputError(Problem(file, None, column, None, reason))
    cache: dict[str, _CRSInfo] = {}
    names: list[str] = []
    lonlat: list[bool] = []
    reasons: list[tuple[str | None, str] | None] = []  # (value, reason) of a cell that is no CRS
    for value in cells:
        text = cell_text(value)
        if not text:
            if default is None:
                names.append("")
                lonlat.append(False)
                reasons.append((None, Reason("no_row_crs")))
                continue
            text = default
        info = cache.get(text)
        if info is None:
            info = cache[text] = _crs_info(text)
        names.append(info.name or text)
        lonlat.append(info.name is not None and info.lonlat)
        if info.name is None:
            reasons.append((text, info.reason or Reason("unknown_crs")))
        else:
            reasons.append(None)
    bad = np.array([r is not None for r in reasons] + [False], dtype=bool)
    for i in np.flatnonzero(bad[cell]).tolist():
        value, reason = reasons[cell[i]]
        mark(i, column, value, reason)
        usable[i] = False
    return cell, names, np.array([*lonlat, False], dtype=bool)[cell]


#: Rows converted to WGS-84 points per task: large enough that a task's overhead is small,
#: small enough that a large filing's conversions share the cores.
_CONVERT_ROWS = 1 << 17


def _wgs84_points(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    crs_code: NDArray[np.intp],
    crs_names: list[str],
    usable: NDArray[np.bool_],
    column: str,
    mark: _Mark,
) -> NDArray[np.object_]:
    """WGS-84 points for usable rows, converted once per distinct CRS.

    A large filing's rows are converted in blocks on a thread per core: numpy and pyproj
    (which is thread-safe) release the GIL, so one thread converts a block while another makes
    the points of its own (shapely holds the GIL for that), and a point's conversion never
    depends on the other points. Problems are marked afterwards, in order.
    """
    geometry = np.full(len(lon), None, dtype=object)
    tasks = []
    for code in pd.unique(crs_code[usable]).tolist():  # in order of first appearance
        rows = np.flatnonzero(usable & (crs_code == code))
        tasks += [
            (crs_names[code], rows[i : i + _CONVERT_ROWS])
            for i in range(0, len(rows), _CONVERT_ROWS)
        ]

    def convert(task: tuple[str, NDArray[np.intp]]) -> tuple[Any, NDArray[np.bool_]] | Exception:
        crs_name, rows = task
        try:
            lon84, lat84 = to_wgs84(lon[rows], lat[rows], crs_name)
        except (ValueError, RuntimeError) as error:  # pyproj cannot build this transformation
            return error
        good = (
            np.isfinite(lon84)
            & np.isfinite(lat84)
            & (np.abs(lon84) <= 180.0)
            & (np.abs(lat84) <= 90.0)
        )
        return shapely.points(lon84[good], lat84[good]), good

    workers = min(len(tasks), os.cpu_count() or 1, 8)
    with _collector_paused():
        if workers > 1:
            with ThreadPoolExecutor(workers) as pool:
                done = list(pool.map(convert, tasks))
        else:
            done = [convert(task) for task in tasks]
    for (crs_name, rows), outcome in zip(tasks, done, strict=True):
        if isinstance(outcome, Exception):
            for i in rows:
                mark(
                    int(i),
                    column,
                    (float(lon[i]), float(lat[i])),
                    f"cannot convert from {crs_name} to WGS-84: {str(outcome).splitlines()[0]}",
                )
            continue
        points, good = outcome
        for i in rows[~good]:
            mark(
                int(i),
                column,
                (float(lon[i]), float(lat[i])),
                Reason("convert_area", {"crs": crs_name}),
            )
        geometry[rows[good]] = points
    return geometry


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause CPython's cyclic garbage collector while a block makes many objects that live on.

    Each shapely point is an object the collector tracks: making a million of them sets off
    its full passes again and again, each over every point made so far, which doubled the
    time of converting a large filing. None of them can be garbage, so nothing is lost by
    collecting after the block (as the collector then does on its own). A collector
    already paused by the caller stays paused.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _repeats(operator_ids: pa.Array, facility_ids: pa.Array) -> list[tuple[int, int]]:
    """(position, position of its first occurrence) of every repeated operator/facility id pair.

    Every repeated (operator_id, facility_id) pair after the first; rows without an operator id
    take no part.
    """
    has = np.flatnonzero(pc.not_equal(operator_ids, EMPTY_TEXT).to_numpy(zero_copy_only=False))
    if len(has) < len(operator_ids):
        operator_ids, facility_ids = operator_ids.take(has), facility_ids.take(has)
    facility = pc.dictionary_encode(facility_ids)
    if len(facility.dictionary) == len(has):  # every facility id differs
        return []
    operator = pc.dictionary_encode(operator_ids).indices.to_numpy()
    width = max(len(facility.dictionary), 1)
    pair, _ = pd.factorize(operator.astype(np.int64) * width + facility.indices.to_numpy())
    # factorize numbers pairs in order of first appearance: a pair is new where its number
    # exceeds every number before it.
    new = np.ones(len(pair), dtype=bool)
    new[1:] = pair[1:] > np.maximum.accumulate(pair)[:-1]
    first = has[new]  # position of the first occurrence of pair k is first[k]
    return [(int(has[j]), int(first[pair[j]])) for j in np.flatnonzero(~new).tolist()]


def _blank_rows(
    frame: pd.DataFrame, points: Points | None, candidates: NDArray[np.intp]
) -> list[int]:
    """Those of ``candidates`` whose cells are all blank and that have no point geometry."""
    rows = [i for i in candidates.tolist() if points is None or points.missing[i] is not None]
    for position in range(frame.shape[1]):
        if not rows:
            break
        column = frame.iloc[rows, position].tolist()
        rows = [i for i, value in zip(rows, column, strict=True) if is_blank(value)]
    return rows
