"""Run pilotzone on a Dask cluster when one machine is not enough.

:func:`pilotzone.verify` and :func:`pilotzone.locate` hand Dask collections to
this module (it is the only one that imports dask; ``pip install
pilotzone[dask]``). Each function returns a lazy collection whose computed
values equal those of the in-memory function on the computed input:

* :func:`locate_dask` maps :func:`pilotzone.locate.locate` over the partitions of
  two aligned Dask Series.
* :func:`read_facilities_dask` validates every partition with
  :func:`pilotzone.read_facilities`; rows with problems are kept and marked.
  ``source_row`` counts across partitions (so it equals the in-memory
  reader's), which costs one pass over the data to learn partition lengths.
* :func:`verify_dask` first computes the small table of every operator's
  registration rows and a hash of every row's ids (one pass, which validates
  only the registration rows of a raw filing), then checks each partition
  together with the registration rows of the operators it holds, so an
  operator's registration and facilities may sit in different partitions.
  A raw filing is validated once, partition by partition, in that check.

The zone table (and the registration table) enter the graph once, as one
delayed object each: every worker receives one copy and builds its zone index
once (pilotzone caches it per zone set).

Differences from the in-memory path
-----------------------------------
None in what is found: a duplicate ``(operator_id, facility_id)`` pair is
marked on every later row, wherever its first row lies, as
:func:`pilotzone.read_facilities` marks it in one file (:func:`verify_dask`
compares a 128-bit hash of every row's pair in its first pass; a collision is
beyond any filing's size). ``source_row`` counts rows across partitions in the
collection's order (for a file read in memory and handed over with
``dd.from_pandas``, the file's own numbers stay); :func:`verify_files` records
in ``summary.json`` the first row of each file, so a row's number leads to its
file and feature. ``attrs`` (input name, audit date) do not
travel through Dask: :func:`verify_files` records them in ``summary.json``.
"""

from __future__ import annotations

import functools
import glob
import logging
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import dask
import dask.dataframe as dd
import dask_geopandas
import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from dask.dataframe.utils import clear_known_categories
from numpy.typing import NDArray

from pilotzone._codes import ELIGIBILITY, ELIGIBILITY_REASONS
from pilotzone._columns import (
    COLUMN_BY_KEY,
    KIND_BY_KEY,
    cell_text,
    distinct_cells,
    match_key,
    text_column,
)
from pilotzone._files import OutputRun, json_bytes, sha256
from pilotzone._messages import PROBLEMS
from pilotzone._validate import describe, duplicate_reason
from pilotzone.errors import InputError, Problem
from pilotzone.facilities import read_facilities
from pilotzone.locate import COORDINATE_ISSUES, component_ids, locate
from pilotzone.report import build_summary, tally
from pilotzone.rules import eligibility_words
from pilotzone.verify import STATUSES, filed_names, findings, keep_filed, summarize, verify
from pilotzone.zones import load_zones

__all__ = ["locate_dask", "read_facilities_dask", "verify_dask", "verify_files"]

log = logging.getLogger(__name__)

_TEXT_DTYPE = pd.StringDtype(na_value=np.nan)  # what pandas gives a column of str and None
_PARTS = ("facilities", "findings")  # the folders of verify_files' Parquet output
_PART = re.compile(r"part\.[0-9]+\.parquet")  # how Dask names the files it writes there
# Two keys of 16 bytes: two independent 64-bit hashes of each (operator_id, facility_id) pair.
_HASH_KEYS = ("pilotzone-pair-1", "pilotzone-pair-2")


def locate_dask(
    lon: dd.Series,
    lat: dd.Series,
    *,
    crs: Any,
    zones: gpd.GeoDataFrame | None = None,
    distance_limit_m: float | None = None,
) -> dd.DataFrame:
    """:func:`pilotzone.locate` over Dask Series, partition by partition.

    Parameters
    ----------
    lon, lat : dask.dataframe.Series
        Longitude and latitude (x first) in ``crs``, partitioned alike (two
        columns of one Dask DataFrame, or ``geometry.x`` and ``geometry.y``
        of a dask-geopandas GeoDataFrame).
    crs, zones, distance_limit_m
        As for :func:`pilotzone.locate`.

    Returns
    -------
    dask.dataframe.DataFrame
        Lazy; the index of ``lon`` and the columns of :func:`pilotzone.locate`.

    Examples
    --------
    >>> where = pz.locate(points["lon"], points["lat"], crs="gcj02")  # doctest: +SKIP
    >>> where["zone_id"].value_counts().compute()  # doctest: +SKIP
    """
    zones = load_zones() if zones is None else zones
    meta = pd.DataFrame(
        {
            "zone_id": pd.Categorical([], categories=[str(z) for z in zones["zone_id"]]),
            "component": pd.Categorical([], categories=component_ids(zones)),
            "border_distance_m": pd.Series([], dtype="float64"),
            "near_border": pd.Series([], dtype="bool"),
            "coordinate_issue": pd.Categorical([], categories=COORDINATE_ISSUES),
        },
        index=lon._meta.index,
    )
    return dd.map_partitions(
        _locate_partition,
        lon,
        lat,
        _once(zones),
        crs=crs,
        distance_limit_m=distance_limit_m,
        meta=meta,
    )


def _locate_partition(
    lon: pd.Series,
    lat: pd.Series,
    zones: gpd.GeoDataFrame,
    *,
    crs: Any,
    distance_limit_m: float | None,
) -> pd.DataFrame:
    return locate(lon, lat, crs=crs, zones=zones, distance_limit_m=distance_limit_m)


def _once(value: Any) -> Any:
    """``value`` as one node of the graph, so that it is shipped to each worker once."""
    return dask.delayed(value, pure=True, traverse=False)


def read_facilities_dask(data: dd.DataFrame, *, crs: Any = None) -> dask_geopandas.GeoDataFrame:
    """:func:`pilotzone.read_facilities` for every partition of a Dask (Geo)DataFrame.

    Parameters
    ----------
    data : dask.dataframe.DataFrame or dask_geopandas.GeoDataFrame
        A filing's columns (``lon``/``lat`` and ``crs``, or a point geometry
        with a CRS), in any number of partitions.
    crs : str, int or pyproj.CRS, optional
        As for :func:`pilotzone.read_facilities`.

    Returns
    -------
    dask_geopandas.GeoDataFrame
        Lazy; the columns of :func:`pilotzone.read_facilities`, the input's
        index, ``source_row`` counted across partitions.

    Raises
    ------
    InputError
        At once, for whole-input problems (a missing column, no coordinate
        system), found on the input's columns.
    """
    return _read_lazily(data, crs, _offsets(data))


def _offsets(data: dd.DataFrame) -> list[int]:
    """How many rows come before each partition (one pass, which Parquet metadata may spare)."""
    lengths = data.map_partitions(len, meta=(None, "int64")).compute()
    return np.r_[0, np.cumsum(np.asarray(lengths, dtype=np.int64))[:-1]].tolist()


def _read_lazily(data: dd.DataFrame, crs: Any, offsets: list[int]) -> dask_geopandas.GeoDataFrame:
    """:func:`read_facilities_dask` once the partitions' offsets are known."""
    meta = _unknown_categories(_read_partition(data._meta_nonempty, crs=crs, offsets=[0]).iloc[:0])
    return data.map_partitions(_read_partition, crs=crs, offsets=offsets, meta=meta)


def _read_partition(
    part: pd.DataFrame,
    *,
    crs: Any,
    offsets: Sequence[int],
    partition_info: dict[str, Any] | None = None,
) -> gpd.GeoDataFrame:
    """One partition read as a filing whose rows are numbered from the partition's offset."""
    offset = offsets[partition_info["number"]] if partition_info else 0
    if len(part) == 0:  # read_facilities refuses an empty filing; an empty partition is no error
        return _read_partition(part.iloc[:0].reindex([0]), crs=crs, offsets=[0]).iloc[:0]
    return read_facilities(part, crs=crs, first_row=offset + 1)


def verify_dask(
    facilities: dd.DataFrame,
    *,
    operators: Any = None,
    as_of: Any = None,
    zones: gpd.GeoDataFrame | None = None,
    lang: Literal["en", "zh"] = "en",
    crs: Any = None,
) -> dask_geopandas.GeoDataFrame:
    """:func:`pilotzone.verify` over a Dask (Geo)DataFrame.

    Parameters
    ----------
    facilities : dask.dataframe.DataFrame or dask_geopandas.GeoDataFrame
        A filing, raw (read here with :func:`read_facilities_dask`) or already
        read. Persist a read filing to spare the second reading.
    operators : DataFrame or path, optional
        As for :func:`pilotzone.verify`; a file is read here, on the client.
    as_of, zones, lang
        As for :func:`pilotzone.verify`.
    crs : optional
        As for :func:`pilotzone.read_facilities`, for a raw filing.

    Returns
    -------
    dask_geopandas.GeoDataFrame
        Lazy; computed, it equals ``pilotzone.verify(facilities.compute())``
        (see the module docstring for duplicate ids across partitions).

    Notes
    -----
    Computes, on being called, every operator's registration rows and a hash
    of every row's ids: one pass over the data, whose result is one row per
    registration and 24 bytes per row. A raw filing is read (validated) once,
    in the lazy result: the first pass validates only its registration rows.
    """
    zones = load_zones(as_of=as_of) if zones is None else zones
    read = _is_read(facilities)
    offsets = [] if read else _offsets(facilities)
    sites = facilities if read else _read_lazily(facilities, crs, offsets)
    label = "facility_id" if read else _column_label(facilities.columns, "facility_id")
    sites, renamed = keep_filed(sites)  # renamed here, once, so no partition needs to
    table = None
    if operators is not None:
        table = (
            operators if isinstance(operators, pd.DataFrame) else pd.read_csv(operators, dtype=str)
        )
    # On the sample frame first: a wrong ``lang`` is refused before the pass over the data.
    sample = verify(_sample(sites._meta_nonempty), operators=table, zones=zones, lang=lang)
    meta = _unknown_categories(sample.iloc[:0])
    # One pass: the registration rows and every row's pair of ids.
    if read:
        registrations, keys = dask.compute(
            sites[(sites["kind"] == "registration") & (sites["problems"] == "")],
            sites.map_partitions(_pair_keys, meta=_pair_keys(sites._meta)),
        )
    else:
        labels = {c: _column_label(facilities.columns, c) for c in ("operator_id", "kind")}
        first = dask.delayed(_first_pass, pure=True)
        found = dask.compute(
            *(
                first(part, offset, crs, label, labels)
                for part, offset in zip(facilities.to_delayed(), offsets, strict=True)
            )
        )
        frames = [r for r, _ in found if r is not None]
        registrations = (
            functools.reduce(_concat, frames)
            if frames
            else _read_partition(facilities._meta, crs=crs, offsets=[0])
        ).rename(columns=renamed)
        keys = pd.concat([k for _, k in found], ignore_index=True)
    repeats = _repeats(keys)
    registrations = _without_attrs(registrations)
    registrations = registrations[~registrations["source_row"].isin(repeats.index)]
    log.debug(
        "%d registration rows resolved and %d repeated ids found across %d partitions",
        len(registrations),
        len(repeats),
        sites.npartitions,
    )
    return sites.map_partitions(
        _verify_partition,
        _once(registrations),
        _once(zones),
        _once(table),
        lang,
        _once(repeats),
        label,
        meta=meta,
    )


def _sample(meta: pd.DataFrame) -> pd.DataFrame:
    """Dask's sample rows of a read filing, with no missing text.

    A read filing's text is never missing, but Dask's sample (``_meta_nonempty``) of a
    ``string`` column is a text and ``<NA>``, on which ``problems == ""`` is neither true nor
    false: each takes the text of its first row.
    """
    frame = _without_attrs(meta)
    for column, dtype in frame.dtypes.items():
        if isinstance(dtype, pd.StringDtype) and len(frame):
            frame[column] = frame[column].fillna(frame[column].iloc[0])
    return frame


def _column_label(columns: Sequence[Any], meaning: str) -> str | None:
    """The header of a raw filing's column of ``meaning`` (``facility_id``...), if it has one."""
    return next((str(c) for c in columns if COLUMN_BY_KEY.get(match_key(c)) == meaning), None)


def _first_pass(
    part: pd.DataFrame,
    offset: int,
    crs: Any,
    facility: str | None,
    labels: dict[str, str | None],
) -> tuple[gpd.GeoDataFrame | None, pd.DataFrame]:
    """A raw partition's registration rows, read (None if none), and every row's ids hashed.

    Only the rows whose ``kind`` reads as a registration are validated: a row's
    problems depend on no other row but for repeated ids, which :func:`_repeats`
    finds across the whole filing. Their ``source_row`` (and the ``facility_id``
    a row without one takes from it) are those of the whole filing.
    """
    n = len(part)
    rows = np.arange(offset + 1, offset + n + 1, dtype=np.int64)
    facility_ids = text_column(part[facility]) if facility else pa.nulls(n, pa.large_string())
    blank = pc.fill_null(pc.equal(facility_ids, ""), True).to_numpy(zero_copy_only=False)
    ids = pd.Series(facility_ids.to_pylist() if n else [], dtype=object)
    ids[blank] = rows[blank].astype(str)
    operators = pd.Series(text_column(part[labels["operator_id"]]).to_pylist(), dtype=object)
    keys = _hashed(operators, ids, rows)
    cell, cells = distinct_cells(part[labels["kind"]])
    registered = np.array(
        [KIND_BY_KEY.get(match_key(cell_text(v))) == "registration" for v in cells] + [False]
    )[cell]
    chosen = np.flatnonzero(registered)
    if not len(chosen):
        return None, keys
    found = read_facilities(part.iloc[chosen], crs=crs)
    found["source_row"] = rows[chosen]
    found["facility_id"] = pd.array(ids.to_numpy()[chosen], dtype=found["facility_id"].dtype)
    return found[found["problems"] == ""], keys


def _pair_keys(part: pd.DataFrame) -> pd.DataFrame:
    """Each row's (operator_id, facility_id) as two 64-bit hashes, with its ``source_row``."""
    return _hashed(
        part["operator_id"].astype(object),
        part["facility_id"].astype(object),
        part["source_row"].to_numpy(dtype=np.int64),
    )


def _hashed(operators: pd.Series, facilities: pd.Series, rows: NDArray[np.int64]) -> pd.DataFrame:
    """Read ids as two independent 64-bit hashes of each pair, with the rows' numbers.

    Rows without an operator id take no part, as in :func:`pilotzone.read_facilities`.
    """
    has = (operators.fillna("") != "").to_numpy(dtype=bool)
    # One text per pair, the operator id's length first so that no two pairs give one text:
    # hashing one column costs half of hashing two.
    pairs = np.array(
        [
            f"{len(o)}:{o}{f}"
            for o, f in zip(operators.to_numpy()[has], facilities.to_numpy()[has], strict=True)
        ],
        dtype=object,
    )
    first, second = (pd.util.hash_array(pairs, hash_key=k, categorize=False) for k in _HASH_KEYS)
    return pd.DataFrame({"first": first, "second": second, "row": rows[has]})


def _repeats(keys: pd.DataFrame) -> pd.Series:
    """The first row of each repeated pair, indexed by the row (``source_row``) that repeats it."""
    keys = keys[keys.duplicated(["first", "second"], keep=False)]
    first = keys.groupby(["first", "second"], sort=False)["row"].transform("min")
    later = (keys["row"] != first).to_numpy()
    return pd.Series(first.to_numpy()[later], index=keys["row"].to_numpy()[later], dtype=np.int64)


def _mark_repeats(
    part: pd.DataFrame, repeats: pd.Series, label: str | None, zh: dict[str, str]
) -> pd.DataFrame:
    """``part`` with every row that repeats an earlier row's ids marked, unless it already is.

    The problem is worded and placed (last) as :func:`pilotzone.read_facilities` words it;
    ``zh``, the Chinese of each ``problems`` text, gains the texts this adds.
    """
    hit = np.flatnonzero(part["source_row"].isin(repeats.index).to_numpy())
    if not len(hit):
        return part
    join = PROBLEMS["zh"]["join"]
    problems = part["problems"].tolist()
    first = repeats.reindex(part["source_row"].to_numpy()[hit]).to_numpy(dtype=np.int64)
    for i, row in zip(hit.tolist(), first.tolist(), strict=True):
        reason = duplicate_reason(row)
        if reason in problems[i]:  # found within the partition when it was read
            continue
        column = label or "facility_id"
        problem = Problem("", None, column, part["facility_id"].iat[i], reason)
        found, found_zh = describe(problem), describe(problem, "zh")
        before = problems[i]
        problems[i] = f"{before}; {found}" if before else found
        zh[problems[i]] = f"{zh.get(before, before)}{join}{found_zh}" if before else found_zh
    part = part.copy(deep=False)
    part["problems"] = pd.Series(problems, index=part.index, dtype=part["problems"].dtype)
    return part


def _unknown_categories(meta: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``meta`` with the categories Dask cannot know before computing marked unknown.

    Every partition has the same categories of zone_id, registration_zone, status and
    address_check, but kind, tenure and crs add the unknown values they hold, and the other
    text columns (reasons, message, the address columns) hold each partition's own texts.
    Computed, the partitions' categories are joined.
    """
    fixed = {"zone_id", "registration_zone", "status", "address_check"}
    varying = [
        column
        for column, dtype in meta.dtypes.items()
        if isinstance(dtype, pd.CategoricalDtype) and column not in fixed
    ]
    return clear_known_categories(meta, cols=varying, index=False)


def _is_read(data: dd.DataFrame) -> bool:
    return {"problems", "source_row", "crs"} <= set(data.columns) and isinstance(
        data._meta, gpd.GeoDataFrame
    )


def _without_attrs(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` without ``attrs``.

    dask-geopandas keeps a GeoSeries there, which pandas cannot compare.
    """
    frame = frame.copy(deep=False)
    frame.attrs = {}
    return frame


def _verify_partition(
    part: gpd.GeoDataFrame,
    registrations: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    operators: pd.DataFrame | None,
    lang: Literal["en", "zh"],
    repeats: pd.Series,
    label: str | None,
) -> gpd.GeoDataFrame:
    """Verify one partition with its operators' registration rows from every partition appended.

    Its rows that repeat the ids of an earlier row (``repeats``, from every partition) are
    marked first.

    A row's verdict depends only on itself and on its operator's registration
    rows, and a registration row counted twice changes nothing (its zone, its
    services and its nearness to a border are the same), so the partition's
    rows come out as they would from the whole filing.
    """
    zh = dict(part.attrs.get("problems_zh") or {})  # the reader's Chinese, before attrs go
    part = _mark_repeats(_without_attrs(part), repeats, label, zh)
    theirs = registrations[registrations["operator_id"].isin(part["operator_id"].unique())]
    both = _concat(part, theirs) if len(theirs) else part
    both.attrs["problems_zh"] = zh
    return verify(both, operators=operators, zones=zones, lang=lang).iloc[: len(part)]


def _concat(first: gpd.GeoDataFrame, second: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``pd.concat`` of two frames whose categorical columns stay categorical.

    pandas would make text of a column whose categories differ; here such a column keeps the
    categories of both.
    """
    first, second = first.copy(deep=False), second.copy(deep=False)
    for column in first.columns:
        one, two = first[column], second[column]
        if isinstance(one.dtype, pd.CategoricalDtype) and isinstance(
            two.dtype, pd.CategoricalDtype
        ):
            categories = one.cat.categories.union(two.cat.categories, sort=False)
            first[column] = one.cat.set_categories(categories)
            second[column] = two.cat.set_categories(categories)
    return pd.concat([first, second])


def verify_files(
    pattern: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    crs: Any = None,
    operators: Any = None,
    zones: gpd.GeoDataFrame | None = None,
    lang: Literal["en", "zh"] = "en",
) -> dict[str, Any]:
    """Verify a partitioned (Geo)Parquet filing on a Dask cluster and write the results.

    Parameters
    ----------
    pattern : str or path-like
        A folder of ``.parquet`` files, or a glob such as ``filings/*.parquet``.
        GeoParquet (a point geometry with its CRS) or plain Parquet with
        ``lon``/``lat`` and ``crs`` columns.
    out : str or path-like
        Folder for ``facilities/`` (the result, one GeoParquet file per
        partition), ``findings/`` (:func:`pilotzone.findings` per partition,
        Parquet), ``summary.json`` and, written last, ``manifest.json``
        naming every one of those files with its SHA-256
        (:class:`pilotzone.report.OutputRun`); on a remote cluster, a folder
        every worker can write (a shared file system). The previous
        manifest, the previous run's ``part.<n>.parquet`` files in
        ``facilities/`` and ``findings/`` and a killed run's scratch folder
        ``.validated/`` are removed first.
    scheduler : str, optional
        Address of a running Dask scheduler, e.g. ``tcp://host:8786``.
    workers : int, optional
        Without ``scheduler``: start a local cluster of this many
        single-threaded worker processes (default: one per core).
    crs, operators
        As for :func:`pilotzone.read_facilities` and :func:`pilotzone.verify`.
    zones : GeoDataFrame, optional
        Zones from :func:`pilotzone.load_zones`; default those in force today.
    lang : {"en", "zh"}, default "en"
        Language of the result's messages.

    Returns
    -------
    dict
        The content of ``summary.json``: counts by status, zone and rule, and
        one entry per operator, as :func:`pilotzone.write_report` writes it,
        built from per-partition tallies (the result is never collected).
    """
    from distributed import Client, LocalCluster

    files = _parquet_files(pattern)
    zones = load_zones() if zones is None else zones
    run = OutputRun(out, writer="verify_files")
    folder = run.folder
    # The scratch copy earlier versions validated into, left by a killed run.
    shutil.rmtree(folder / ".validated", ignore_errors=True)
    _remove_parts(folder)
    if scheduler is not None:
        cluster = None
        client = Client(scheduler)
    else:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    try:
        # Client() returns connected, so its scheduler is set (distributed types it optional)
        rpc = client.scheduler
        address = rpc.address if rpc is not None else None
        log.info("verifying %d files on %s", len(files), address)
        # Every row is validated once, where it is verified and written; the first pass
        # validates only the registration rows (see verify_dask).
        data = _read_parquet(files)
        result = verify_dask(data, operators=operators, zones=zones, lang=lang, crs=crs)
        found = result.map_partitions(_findings, meta=_findings(result._meta))
        _, _, counts, per_operator = dask.compute(
            result.to_parquet(
                folder / "facilities",
                compute=False,
                write_index=True,
                schema=_dictionaries(result._meta),
            ),
            found.to_parquet(
                folder / "findings",
                compute=False,
                write_index=False,
                schema=_dictionaries(found._meta),
            ),
            result.map_partitions(tally, meta=tally(result._meta)),
            result.map_partitions(summarize, meta=summarize(result._meta)),
        )
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    summary = _summary(counts, per_operator, zones, files, filed_names(data.columns), lang)
    for part in _PARTS:
        for path in sorted((folder / part).iterdir(), key=lambda p: p.name):
            run.add(f"{part}/{path.name}")
    run.write("summary.json", json_bytes(summary))
    run.finish()
    return summary


def _remove_parts(folder: Path) -> None:
    """Remove the Parquet files an earlier run wrote in ``folder``'s output folders.

    Dask names them ``part.<n>.parquet`` and leaves those of a run with more
    partitions beside the new ones, which readers of the folder would take in.
    """
    for part in _PARTS:
        if (folder / part).is_dir():
            for entry in os.scandir(folder / part):
                if _PART.fullmatch(entry.name) and not entry.is_dir(follow_symlinks=False):
                    os.unlink(entry.path)


def _parquet_files(pattern: str | os.PathLike[str]) -> list[str]:
    path = Path(pattern)
    found = (
        sorted(str(p) for p in path.glob("*.parquet"))
        if path.is_dir()
        else sorted(glob.glob(str(pattern)))
    )
    if not found:
        raise InputError(Problem(str(pattern), None, None, None, "no Parquet files match"))
    return found


def _dictionaries(meta: pd.DataFrame) -> dict[str, pa.DataType]:
    """Parquet types for the categorical columns: dictionaries with 32-bit indices.

    Dask writes every partition with the types of the first; pandas numbers up to 127
    categories in 8 bits, so a later partition with more (its own messages, unknown kinds)
    would not fit.
    """
    return {
        str(column): pa.dictionary(pa.int32(), pa.large_string())
        for column, dtype in meta.dtypes.items()
        if isinstance(dtype, pd.CategoricalDtype)
    }


def _read_parquet(files: list[str]) -> dd.DataFrame:
    """GeoParquet through dask-geopandas, else plain Parquet.

    Through dask-geopandas, its point geometry is the coordinates.
    """
    import pyarrow.parquet as pq

    if b"geo" in (pq.read_schema(files[0]).metadata or {}):
        return dask_geopandas.read_parquet(files)
    return dd.read_parquet(files)


def _findings(result: gpd.GeoDataFrame) -> pd.DataFrame:
    """:func:`pilotzone.findings` with text columns typed alike in every partition, found or not."""
    return findings(result).astype(
        {
            c: _TEXT_DTYPE
            for c in ("rule", "severity", "article", "title", "crs", "district", "message")
        }
    )


def _file_rows(files: list[str]) -> list[dict[str, Any]]:
    """Each file's name, SHA-256, rows and the ``source_row`` of its first row.

    Rows are numbered across the files in order, so row ``r`` is feature
    ``r - first_row + 1`` of the last file whose ``first_row`` is at most ``r``.
    """
    import pyarrow.parquet as pq

    entries, first = [], 1
    for f in files:
        rows = pq.read_metadata(f).num_rows
        entries.append({"file": Path(f).name, "sha256": sha256(Path(f)), "rows": rows,
                        "first_row": first})  # fmt: skip
        first += rows
    return entries


def _summary(
    counts: pd.DataFrame,
    per_operator: pd.DataFrame,
    zones: gpd.GeoDataFrame,
    files: list[str],
    renamed: dict[str, str],
    lang: str = "en",
) -> dict[str, Any]:
    """``summary.json`` (see :mod:`pilotzone.report`) from the partitions' tallies."""
    import datetime as dt

    operators = per_operator.groupby(level=0, sort=True).agg(
        registration_zone=("registration_zone", "first"),
        rows=("rows", "sum"),
        **{s: (s, "sum") for s in STATUSES},
        eligible=("eligible", "all"),
        needs_review=("needs_review", "any"),
    )
    # An operator's rows may lie in several partitions: the worst eligibility wins, with the
    # reasons of that eligibility that any partition found.
    rank = per_operator["eligibility"].map(ELIGIBILITY.index).groupby(level=0, sort=True).min()
    found = per_operator["eligibility_reasons"].str.split(";").groupby(level=0, sort=True).sum()
    operators["eligibility"] = [ELIGIBILITY[r] for r in rank]
    operators["eligibility_reasons"] = [
        ";".join(c for c in ELIGIBILITY_REASONS[state] if c in codes)
        for state, codes in zip(
            operators["eligibility"], found.reindex(operators.index), strict=True
        )
    ]
    operators["eligibility_reason"] = [
        eligibility_words(c, lang) for c in operators["eligibility_reasons"]
    ]
    source = {
        "file": ", ".join(Path(f).name for f in files),
        "sha256": None,
        "files": _file_rows(files),
    }
    return build_summary(
        counts,
        operators,
        zones,
        generated_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        source=source,
        as_of=zones.attrs.get("as_of"),
        renamed=renamed,
    )
