"""pilotzone: check telecom facilities against China's 2024 value-added telecom pilot zones.

The public API, in the order a coordinate travels::

    zones = pz.load_zones(as_of=None, boundaries=None)
    lon84, lat84 = pz.to_wgs84(x, y, crs="gcj02")
    where = pz.locate(lon, lat, crs="wgs84")
    sites = pz.read_facilities("filing.csv", crs="gcj02")
    result = pz.verify(sites, as_of="2025-01-01")
    checked = pz.address_check(result)
    m = pz.explore(result)
    sites = pz.site(candidates, zone="shanghai", crs="wgs84")
    area = pz.feasible_area("shanghai")
    drawn = pz.sample(result, 10, seed=2025, by="zone")
    changes = pz.compare("audit-2024/", "audit-2025/")
"""

from __future__ import annotations

from typing import Any, Literal

from pilotzone._compat import is_dask_collection as _is_dask
from pilotzone._version import __version__
from pilotzone.address import address_check
from pilotzone.audit import compare, sample
from pilotzone.crs import from_wgs84, normalize_crs, to_wgs84
from pilotzone.errors import BoundaryDataError, CRSError, InputError, PilotzoneError, Problem
from pilotzone.facilities import read_facilities
from pilotzone.locate import locate as _locate_in_memory
from pilotzone.report import write_report
from pilotzone.siting import feasible_area, site
from pilotzone.verify import findings, summarize
from pilotzone.verify import verify as _verify_in_memory
from pilotzone.zones import load_zones

__all__ = [
    "BoundaryDataError",
    "CRSError",
    "InputError",
    "PilotzoneError",
    "Problem",
    "__version__",
    "address_check",
    "compare",
    "explore",
    "feasible_area",
    "findings",
    "from_wgs84",
    "load_zones",
    "locate",
    "normalize_crs",
    "read_facilities",
    "sample",
    "save_map",
    "site",
    "summarize",
    "to_wgs84",
    "verify",
    "write_report",
]


def locate(
    lon: Any, lat: Any, *, crs: Any, zones: Any = None, distance_limit_m: float | None = None
) -> Any:
    """Find the zone of every point and its distance to the nearest zone border.

    Arrays and pandas Series go to the engine, :func:`pilotzone.locate.locate`,
    which documents the parameters and the result; Dask Series go to
    :func:`pilotzone.parallel.locate_dask` (``pip install pilotzone[dask]``), which
    gives the same columns lazily.

    Parameters
    ----------
    lon, lat : array_like, pandas.Series or dask.dataframe.Series
        Longitude and latitude (x first), in ``crs``.
    crs : str, int or pyproj.CRS
        Coordinate system of the points. Required: nothing is assumed.
    zones : GeoDataFrame, optional
        Zones as returned by :func:`load_zones`; default the shipped zones in force today.
    distance_limit_m : float, optional
        Distance horizon for ``border_distance_m``; by default each border's own review band.

    Returns
    -------
    pandas.DataFrame or dask.dataframe.DataFrame
        One row per point: ``zone_id``, ``border_distance_m``, ``near_border``
        and ``coordinate_issue``.

    Examples
    --------
    >>> import pilotzone as pz
    >>> pz.locate([116.3975, 121.4737], [39.9087, 31.2304], crs="wgs84")["zone_id"].tolist()
    ['beijing', nan]
    """
    if _is_dask(lon):
        from pilotzone import parallel

        return parallel.locate_dask(
            lon, lat, crs=crs, zones=zones, distance_limit_m=distance_limit_m
        )
    return _locate_in_memory(lon, lat, crs=crs, zones=zones, distance_limit_m=distance_limit_m)


def verify(
    facilities: Any,
    *,
    operators: Any = None,
    as_of: Any = None,
    zones: Any = None,
    lang: Literal["en", "zh"] = "en",
) -> Any:
    """Check every row of a filing against the pilot program's siting rules.

    Filings in memory (or paths) go to :func:`pilotzone.verify.verify`, which
    documents the parameters, the result and the rules; a Dask (Geo)DataFrame
    goes to :func:`pilotzone.parallel.verify_dask` (``pip install
    pilotzone[dask]``), which gives the same result lazily.

    Parameters
    ----------
    facilities : GeoDataFrame, DataFrame, path or dask.dataframe.DataFrame
        A filing as returned by :func:`read_facilities`; anything else is read
        with it first (so it must say its coordinate system).
    operators : DataFrame or path, optional
        One row per operator with ``operator_id`` and ``services``.
    as_of : str or datetime.date, optional
        Audit date; default today.
    zones : GeoDataFrame, optional
        Zones as returned by :func:`load_zones`; default those in force on ``as_of``.
    lang : {"en", "zh"}, default "en"
        Language of ``message``.

    Returns
    -------
    geopandas.GeoDataFrame or dask_geopandas.GeoDataFrame
        The filing with ``zone_id``, ``status``, ``reasons``, ``message`` and
        the other columns of :func:`pilotzone.verify.verify`.

    Examples
    --------
    >>> import pandas as pd, pilotzone as pz
    >>> filing = pd.DataFrame({
    ...     "operator_id": ["A", "A"], "kind": ["registration", "cdn"],
    ...     "lon": [121.5044, 114.0579], "lat": [31.2397, 22.5431], "crs": "wgs84"})
    >>> pz.verify(filing)["status"].tolist()
    ['compliant', 'violation']
    """
    if _is_dask(facilities):
        from pilotzone import parallel

        return parallel.verify_dask(
            facilities, operators=operators, as_of=as_of, zones=zones, lang=lang
        )
    return _verify_in_memory(facilities, operators=operators, as_of=as_of, zones=zones, lang=lang)


def __getattr__(name: str) -> Any:
    # Maps need folium, which is slow to import and only wanted by those who draw.
    if name in ("explore", "save_map"):
        from pilotzone import maps

        return getattr(maps, name)
    raise AttributeError(f"module 'pilotzone' has no attribute {name!r}")
