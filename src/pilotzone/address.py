"""Whether the district an address names holds the coordinate filed with it.

A filing gives each registration and facility an address and a coordinate. A
coordinate picked on the wrong map, in the wrong coordinate system, or an
address naming another district makes the two disagree, and a wrong
coordinate can turn a violation into a pass. :func:`address_check` reads the
province, city and district named in the address, finds the county polygon
the coordinate lies in, and says whether they agree.

Reading an address
------------------
Chinese addresses run from the largest unit down (上海市浦东新区..., 深圳市南山区...),
so the parser reads a chain from the start of the text: an optional province,
an optional city, an optional county or district, each by its full name or
its short name (浦东, 深圳), each constrained by the units before it. A short
province or city name counts only when a finer unit follows it, so that a
street such as 南京西路 is not read as the city of Nanjing. Text is NFKC
normalised first (full-width letters, digits and brackets). A district name
shared by several provinces (朝阳区: Beijing and Changchun) without the
province or city that decides between them is ``ambiguous``; a district that
is not in the province or city named is ``inconsistent``.

English addresses are read from the romanised names the divisions table
carries (the divisions of Beijing, Shanghai, Shenzhen and Hainan only), and
only together with their city or province (``Nanshan District, Shenzhen``):
the same pinyin names other districts elsewhere (Longhua is in Shenzhen and
in Haikou; Nanshan in Shenzhen and in Hegang).

Deciding
--------
The coordinate's county is found exactly (``shapely.STRtree`` with the
``intersects`` predicate: a point on a shared border takes the first county
in adcode order). The address agrees when that county is, or lies in, the
unit the address names. When it does not, the point's distance to the named
unit is measured; closer than the divisions' accuracy (the larger of the two
counties'), the check says ``near_district_border`` and decides nothing.

The zone implied by the address is given where the named unit lies wholly in
one zone (every Beijing and Shenzhen district, Pudong) or wholly outside every
zone. Where a zone covers only part of it (Fengxian, Minhang and Shengsi, whose
Lingang parts lie outside Pudong), the zone cannot be decided from the
district alone and ``address_zone_status`` says ``partial``.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pilotzone._codes import ADDRESS_CHECKS
from pilotzone._columns import category
from pilotzone._geodesy import to_local, to_local_geometry
from pilotzone._manifest import read_manifest, shipped_folder, verified_bytes
from pilotzone._messages import ADDRESS, check_lang
from pilotzone._paths import DIVISIONS_FOLDERS
from pilotzone.crs import to_wgs84
from pilotzone.errors import BoundaryDataError, InputError, Problem
from pilotzone.zones import load_zones

__all__ = ["ADDRESS_CHECKS", "ADDRESS_COLUMNS", "address_check", "district_of"]

log = logging.getLogger(__name__)

_CHECK = {name: np.int8(i) for i, name in enumerate(ADDRESS_CHECKS)} | {
    "found": np.int8(len(ADDRESS_CHECKS))
}
_FOUND = _CHECK[
    "found"
]  # the address names a unit: agrees, mismatch or near_district_border once located
#: Columns :func:`address_check` adds, in order.
ADDRESS_COLUMNS = (
    "address_province",
    "address_city",
    "address_district",
    "address_adcode",
    "coordinate_district",
    "coordinate_adcode",
    "address_check",
    "address_agrees",
    "address_distance_m",
    "address_zone",
    "address_zone_status",
    "address_message",
)
#: Share of a unit's area a zone must cover to imply that zone, or stay under to rule it
#: out; in between the zone covers part of it. The margins absorb the slivers that
#: simplified county polygons leave along a zone's border.
_WHOLE, _NONE = 0.99, 0.01
_PACKAGE, _CHECKOUT = DIVISIONS_FOLDERS
_SCRIPT = "scripts/build_divisions.py"
_LEVELS = ("province", "city", "county")
_PREFIX = re.compile(r"^(?:中华人民共和国|中国)")
_SEPARATORS = " \t,，、;；:：()（）-_/"
_GENERIC_EN = re.compile(
    r"\s+(?:new area|district|county|li autonomous county|li and miao autonomous county)$"
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_PARSED: dict[str, _Divisions] = {}


@dataclass(frozen=True)
class _Named:
    """What an address names: a check outcome and the candidate rows of its finest unit."""

    outcome: str  # "found", "ambiguous", "inconsistent", "not_found"
    rows: tuple[int, ...] = ()


class _Divisions:
    """The divisions table, its county index and its name lookups."""

    def __init__(self, table: gpd.GeoDataFrame) -> None:
        self.table = table.reset_index(drop=True)
        self.level = self.table["level"].to_numpy()
        self.adcode = self.table["adcode"].to_numpy()
        self.province = self.table["province_adcode"].to_numpy()
        self.city = self.table["city_adcode"].to_numpy()
        self.names = {
            column: self.table[column].to_numpy(dtype=object, na_value=None)
            for column in ("province_name", "city_name", "name")
        }
        self.counties = np.flatnonzero(self.level == "county")
        self.geometry = self.table.geometry.to_numpy()
        self.tree = shapely.STRtree(self.geometry[self.counties])
        # Each point is tested against its candidate counties, prepared: GEOS builds a
        # prepared polygon's index on first use, which is not safe from two threads at once.
        shapely.prepare(self.tree.geometries)
        self.tree_lock = threading.Lock()
        self.accuracy = self.table["accuracy_m"].to_numpy()
        self.full: dict[str, dict[str, list[int]]] = {level: {} for level in _LEVELS}
        self.short: dict[str, dict[str, list[int]]] = {level: {} for level in _LEVELS}
        for row, (level, name, short) in enumerate(
            zip(self.level, self.table["name"], self.table["short_name"], strict=True)
        ):
            self.full[level].setdefault(name, []).append(row)
            if short != name:
                self.short[level].setdefault(short, []).append(row)
        self.longest = int(self.table["name"].str.len().max())
        english = self.table["name_en"].notna().to_numpy()
        self.english = [
            (row, _GENERIC_EN.sub("", _fold_en(name)), _fold_en(name))
            for row, name in zip(
                np.flatnonzero(english).tolist(), self.table.loc[english, "name_en"], strict=True
            )
        ]
        self.full_names = np.array(
            [
                "".join(dict.fromkeys(part for part in parts if part))
                for parts in zip(*self.names.values(), strict=True)
            ],
            dtype=object,
        )
        self._members: dict[int, np.ndarray] = {}

    def members(self, row: int) -> np.ndarray:
        """Positions (into ``self.counties``) of the counties a unit is made of."""
        if row not in self._members:
            if self.level[row] == "county":
                own = self.adcode[self.counties] == self.adcode[row]
            elif self.level[row] == "city":
                own = self.city[self.counties] == self.adcode[row]
            else:
                own = self.province[self.counties] == self.adcode[row]
            self._members[row] = np.flatnonzero(own)
        return self._members[row]

    def polygon(self, row: int) -> Any:
        geometries = self.geometry[self.counties[self.members(row)]]
        return geometries[0] if len(geometries) == 1 else shapely.coverage_union_all(geometries)

    # ----------------------------------------------------------------- Chinese addresses

    def parse(self, text: str) -> _Named:
        text = _PREFIX.sub("", text.strip(_SEPARATORS))
        pos = 0
        found: dict[str, list[int]] = {}
        for index, level in enumerate(_LEVELS):
            pos = _skip(text, pos)
            match = self._match(text, pos, level, found)
            if match is None:
                continue
            end, rows, short = match
            if (
                short
                and level != "county"
                and not self._finer_follows(text, _skip(text, end), index, rows)
            ):
                continue
            found[level], pos = rows, end
        if not found:
            return self._parse_english(text) if not _CJK.search(text) else _Named("not_found")
        finest = found.get("county") or found.get("city") or found["province"]
        if "county" not in found:
            outcome = self._inconsistent(text, pos, found)
            if outcome is not None:
                return outcome
        return self._named(finest)

    def _named(self, rows: list[int]) -> _Named:
        if len(rows) == 1 and self.level[rows[0]] != "county":
            members = self.members(rows[0])
            if len(members) == 1:  # a city that is one county (Dongguan, Hainan's counties)
                rows = [int(self.counties[members[0]])]
        return _Named("found" if len(rows) == 1 else "ambiguous", tuple(rows))

    def _match(
        self, text: str, pos: int, level: str, found: dict[str, list[int]]
    ) -> tuple[int, list[int], bool] | None:
        """The longest full name, else short name, of ``level`` at ``pos`` within ``found``."""
        for names, short in ((self.full[level], False), (self.short[level], True)):
            for length in range(min(self.longest, len(text) - pos), 1, -1):
                rows = names.get(text[pos : pos + length])
                if rows:
                    inside = [r for r in rows if self._within(r, found)]
                    if inside:
                        return pos + length, inside, short
        return None

    def _within(self, row: int, found: dict[str, list[int]]) -> bool:
        provinces = {self.adcode[r] for r in found.get("province", [])}
        cities = {self.adcode[r] for r in found.get("city", [])}
        return (not provinces or self.province[row] in provinces) and (
            not cities or self.city[row] in cities
        )

    def _finer_follows(self, text: str, pos: int, index: int, rows: list[int]) -> bool:
        found = {_LEVELS[index]: rows}
        return any(self._match(text, pos, level, found) for level in _LEVELS[index + 1 :])

    def _inconsistent(self, text: str, pos: int, found: dict[str, list[int]]) -> _Named | None:
        """A district right after the named province or city that is not in it."""
        for level in ("city", "county"):
            if level in found:
                continue
            match = self._match(text, pos, level, {})
            if match is not None and not match[2]:
                return _Named("inconsistent", tuple(match[1]))
        return None

    # ----------------------------------------------------------------- English addresses

    def _parse_english(self, text: str) -> _Named:
        folded = _fold_en(text)
        named = [
            (row, bool(re.search(rf"\b{re.escape(full)}\b", folded)))
            for row, base, full in self.english
            if re.search(rf"\b{re.escape(base)}\b", folded)
        ]
        context = {self.adcode[row] for row, _ in named if self.level[row] != "county"}
        counties = [
            (row, generic)
            for row, generic in named
            if self.level[row] == "county"
            and (self.city[row] in context or self.province[row] in context)
        ]
        if any(generic for _, generic in counties):
            counties = [(row, generic) for row, generic in counties if generic]
        if counties:
            return self._named([row for row, _ in counties])
        cities = [row for row, _ in named if self.level[row] == "city"]
        if cities:
            return self._named(cities)
        provinces = [row for row, _ in named if self.level[row] == "province"]
        return self._named(provinces) if provinces else _Named("not_found")


def _fold_en(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"['’`-]", "", text.lower())).strip()


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _SEPARATORS:
        pos += 1
    return pos


def _load() -> _Divisions:
    """The shipped divisions table, checked against its manifest's sha256 on every call."""
    folder = shipped_folder(_PACKAGE, _CHECKOUT, "divisions table", _SCRIPT)
    needed = f"the divisions table needs the manifest that {_SCRIPT} writes"
    manifest = read_manifest(folder, needed)
    try:
        name, sha256 = manifest["file"], manifest["sha256"]
    except (KeyError, TypeError) as error:
        raise BoundaryDataError(
            f"{folder / 'manifest.json'} is not a divisions manifest: {error}"
        ) from error
    data = verified_bytes(folder, name, sha256, _SCRIPT)
    if sha256 not in _PARSED:
        _PARSED.clear()
        _PARSED[sha256] = _Divisions(gpd.read_parquet(io.BytesIO(data)))
        log.debug("read the divisions table from %s", folder)
    return _PARSED[sha256]


def address_check(
    facilities: pd.DataFrame,
    *,
    crs: Any = None,
    zones: gpd.GeoDataFrame | None = None,
    lang: Literal["en", "zh"] = "en",
) -> pd.DataFrame:
    """Compare the district each address names with the district its coordinate lies in.

    Parameters
    ----------
    facilities : DataFrame or GeoDataFrame
        Rows with an ``address`` column and a coordinate: either a point
        geometry with a CRS (as :func:`pilotzone.read_facilities` and
        :func:`pilotzone.verify` return, WGS-84), or ``lon`` and ``lat``
        columns in the system of a ``crs`` column or of ``crs=``.
    crs : str or pyproj CRS input, optional
        The coordinates' system where there is no geometry and no ``crs``
        column: ``"wgs84"``, ``"gcj02"``, ``"bd09"`` or any pyproj CRS.
    zones : GeoDataFrame, optional
        Zones from :func:`pilotzone.load_zones`, for the zone an address
        implies; default the shipped zones.
    lang : {"en", "zh"}, default "en"
        Language of ``address_message``.

    Returns
    -------
    pandas.DataFrame
        The input's index, and the columns of :data:`ADDRESS_COLUMNS`; the
        text columns are categorical, each distinct text stored once:

        - ``address_province``, ``address_city``, ``address_district``
          (text or missing): the units the address names, as the divisions
          table spells them;
        - ``address_adcode`` (text or missing): the finest unit named, when
          exactly one;
        - ``coordinate_district``, ``coordinate_adcode`` (text or missing): the
          county the coordinate lies in (``北京市朝阳区``), for rows with an
          address;
        - ``address_check`` (categorical, :data:`ADDRESS_CHECKS`);
        - ``address_agrees`` (nullable boolean): True or False, missing where
          it cannot be decided;
        - ``address_distance_m`` (float): for a coordinate outside the
          named unit, its distance to it in metres;
        - ``address_zone`` (text or missing): the zone wholly holding the named
          unit; ``address_zone_status``: ``inside``, ``outside`` (no zone
          touches it), ``partial`` (a zone covers part of it: undecidable
          from the address) or missing;
        - ``address_message`` (text): one sentence a regulator can read.

    Raises
    ------
    InputError
        If there is no ``address`` column, or no coordinates with a
        coordinate system.
    BoundaryDataError
        If the shipped divisions table is missing or fails its hash check.

    Examples
    --------
    >>> import pandas as pd, pilotzone as pz
    >>> rows = pd.DataFrame({"address": ["上海市浦东新区世纪大道100号"],
    ...                      "lon": [121.4737], "lat": [31.2304], "crs": ["wgs84"]})
    >>> pz.address_check(rows)["address_check"].tolist()
    ['mismatch']
    """
    check_lang(lang)
    if "address" not in facilities.columns:
        raise InputError(
            Problem("<facilities>", None, "address", None, "required column is missing")
        )
    divisions = _load()
    n = len(facilities)
    # Each distinct address is normalised and parsed once, then spread to its rows.
    raw, raw_values = pd.factorize(facilities["address"], use_na_sentinel=True)
    normalized = np.array(
        [_normalize(a) for a in raw_values] + [""], dtype=str
    )  # the last one for missing
    unique, back = np.unique(normalized, return_inverse=True)
    inverse = back.ravel()[raw]
    parsed = [divisions.parse(t) if t else _Named("no_address") for t in unique]
    outcome = np.array([_CHECK[x.outcome] for x in parsed], dtype=np.int8)
    found = np.array([x.rows[0] if x.outcome == "found" else -1 for x in parsed], dtype=int)
    common = np.array(
        [_common(divisions, x.rows if x.outcome in ("found", "ambiguous") else ()) for x in parsed],
        dtype=object,
    ).reshape(-1, 3)
    either = ADDRESS[lang]["or"]
    said = np.array([either.join(divisions.full_names[list(x.rows)]) for x in parsed], dtype=object)

    county = np.full(n, -1)
    written = np.flatnonzero(
        (unique != "")[inverse]
    )  # a row without an address is not located: nothing to compare
    lon, lat = np.full(n, np.nan), np.full(n, np.nan)
    lon[written], lat[written] = _wgs84(
        facilities.iloc[written] if len(written) < n else facilities, crs
    )
    county[written] = _county_rows(divisions, lon[written], lat[written])
    unit = found[inverse]
    out = pd.DataFrame(index=facilities.index)
    for i, column in enumerate(("address_province", "address_city", "address_district")):
        out[column] = category(common[:, i], inverse)
    out["address_adcode"] = category(divisions.adcode, unit)
    located = county >= 0
    out["coordinate_district"] = category(divisions.full_names, county)
    out["coordinate_adcode"] = category(divisions.adcode, county)

    check = outcome[inverse]
    decided = (check == _FOUND) & located
    check[(check == _FOUND) & ~located] = _CHECK["not_located"]
    agrees = np.zeros(n, dtype=bool)
    rows = np.flatnonzero(decided)
    agrees[rows] = _contains(divisions, unit[rows], county[rows])
    distance = np.full(n, np.nan)
    check[decided & agrees] = _CHECK["agrees"]
    wrong = np.flatnonzero(decided & ~agrees)
    distance[wrong] = _distance_m(divisions, unit[wrong], lon[wrong], lat[wrong])
    band = np.array(
        [_band(divisions, u, c) for u, c in zip(unit[wrong], county[wrong], strict=True)]
    )
    check[wrong] = np.where(
        distance[wrong] <= band, _CHECK["near_district_border"], _CHECK["mismatch"]
    )
    out["address_check"] = pd.Categorical.from_codes(check, categories=pd.Index(ADDRESS_CHECKS))
    agreed = pd.array(check == _CHECK["agrees"], dtype="boolean")
    agreed[(check != _CHECK["agrees"]) & (check != _CHECK["mismatch"])] = pd.NA
    out["address_agrees"] = agreed
    out["address_distance_m"] = distance

    zones = load_zones() if zones is None else zones
    zone, status = _implied_zones(divisions, found, zones)  # per distinct address
    out["address_zone"] = category(zone, inverse)
    out["address_zone_status"] = category(status, inverse)
    names = dict(
        zip(zones["zone_id"], zones.get(f"short_name_{lang}", zones["zone_id"]), strict=True)
    )
    bands = np.full(n, np.nan)
    bands[wrong] = band
    # One message per distinct (address, county), and per row where a distance is quoted.
    key = inverse.astype(np.int64) * (len(divisions.adcode) + 1) + county + 1
    key[wrong] = -1 - np.arange(len(wrong))
    _, first, situation = np.unique(key, return_index=True, return_inverse=True)
    messages = [
        _message(
            ADDRESS_CHECKS[check[r]],
            said[inverse[r]],
            divisions.full_names[county[r]] if county[r] >= 0 else None,
            distance[r],
            bands[r],
            status[inverse[r]],
            names.get(zone[inverse[r]], zone[inverse[r]]),
            lang=lang,
        )
        for r in first
    ]
    out["address_message"] = category(np.array(messages, dtype=object), situation.ravel())
    return out


def district_of(lon: np.ndarray, lat: np.ndarray) -> pd.Series:
    """The county or district each WGS-84 point lies in, from the shipped divisions table.

    Parameters
    ----------
    lon, lat : numpy.ndarray
        WGS-84 degrees; NaN for a point that has none.

    Returns
    -------
    pandas.Series
        Categorical, one entry per point: the unit's full name as
        :func:`address_check`'s ``coordinate_district`` gives it
        (``北京市朝阳区``), missing for a point in no unit.

    Raises
    ------
    BoundaryDataError
        If the shipped divisions table is missing or fails its hash check.
    """
    divisions = _load()
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return pd.Series(category(divisions.full_names, _county_rows(divisions, lon, lat)))


def _normalize(address: Any) -> str:
    if not isinstance(address, str):
        return ""
    return unicodedata.normalize("NFKC", address).strip()


def _wgs84(facilities: pd.DataFrame, crs: Any) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 lon/lat per row (NaN where there is none), by each row's own system."""
    n = len(facilities)
    if isinstance(facilities, gpd.GeoDataFrame) and facilities.geometry.name in facilities.columns:
        geometry = facilities.geometry
        if geometry.crs is None:
            raise InputError(
                Problem(
                    "<facilities>",
                    None,
                    "geometry",
                    None,
                    "has no CRS: set one, or pass lon/lat columns with a crs",
                )
            )
        points = geometry.to_crs("EPSG:4326").to_numpy()
        usable = shapely.get_type_id(points) == 0
        lon, lat = np.full(n, np.nan), np.full(n, np.nan)
        lon[usable], lat[usable] = shapely.get_x(points[usable]), shapely.get_y(points[usable])
        return lon, lat
    missing = {"lon", "lat"} - set(facilities.columns)
    if missing or ("crs" not in facilities.columns and crs is None):
        column = ", ".join(sorted(missing)) or "crs"
        raise InputError(
            Problem(
                "<facilities>",
                None,
                column,
                None,
                "coordinates need lon, lat and a coordinate system (crs column or crs=)",
            )
        )
    x = pd.to_numeric(facilities["lon"], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(facilities["lat"], errors="coerce").to_numpy(dtype=float)
    systems = (
        facilities["crs"].to_numpy(dtype=object)
        if "crs" in facilities.columns
        else np.full(n, crs, dtype=object)
    )
    lon, lat = np.full(n, np.nan), np.full(n, np.nan)
    for system in pd.unique(systems[pd.notna(systems)]):
        rows = np.flatnonzero((systems == system) & np.isfinite(x) & np.isfinite(y))
        if len(rows):
            lon[rows], lat[rows] = to_wgs84(x[rows], y[rows], system)
    return lon, lat


def _county_rows(divisions: _Divisions, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Row of the county holding each point (covers: a border point belongs), or -1.

    The index gives each point the counties whose box holds it; each is then tested
    against the county's prepared polygon (an indexed point-in-area test, where the
    index's own predicate would walk the polygon's every edge). The first county in
    table (adcode) order wins a shared border.
    """
    county = np.full(len(lon), -1)
    finite = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
    x, y = lon[finite], lat[finite]
    with divisions.tree_lock:
        point, hit = divisions.tree.query(shapely.points(x, y))
        inside = shapely.intersects_xy(divisions.tree.geometries[hit], x[point], y[point])
    point, hit = point[inside], hit[inside]
    first = np.full(len(finite), len(divisions.counties))
    np.minimum.at(first, point, hit)
    found = first < len(divisions.counties)
    county[finite[found]] = divisions.counties[first[found]]
    return county


def _contains(divisions: _Divisions, unit: np.ndarray, county: np.ndarray) -> np.ndarray:
    level = divisions.level[unit]
    return np.where(
        level == "county",
        divisions.adcode[county] == divisions.adcode[unit],
        np.where(
            level == "city",
            divisions.city[county] == divisions.adcode[unit],
            divisions.province[county] == divisions.adcode[unit],
        ),
    )


def _distance_m(
    divisions: _Divisions, unit: np.ndarray, lon: np.ndarray, lat: np.ndarray
) -> np.ndarray:
    """Metres from each point to its named unit, in an azimuthal equidistant plane on the unit."""
    distance = np.full(len(unit), np.nan)
    for row in np.unique(unit):
        rows = np.flatnonzero(unit == row)
        polygon = divisions.polygon(int(row))
        centroid = shapely.centroid(polygon)
        centre = (centroid.x, centroid.y)
        local = to_local_geometry(centre, polygon)
        x, y = to_local(centre, lon[rows], lat[rows])
        distance[rows] = shapely.distance(local, shapely.points(x, y))
    return distance


def _band(divisions: _Divisions, unit: int, county: int) -> float:
    """The divisions' accuracy at a line between a named unit and a county, in metres."""
    members = divisions.counties[divisions.members(int(unit))]
    return float(max(np.nanmax(divisions.accuracy[members]), divisions.accuracy[county]))


def _implied_zones(
    divisions: _Divisions, unit: np.ndarray, zones: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """The zone wholly holding each unit (None elsewhere), and where the unit lies.

    Where it lies is ``inside``, ``outside`` or ``partial``.
    """
    zone = np.full(len(unit), None, dtype=object)
    status = np.full(len(unit), None, dtype=object)
    geometries = zones.geometry.to_numpy()
    shapely.prepare(geometries)
    for row in np.unique(unit[unit >= 0]):
        polygon = divisions.polygon(int(row))
        share = np.zeros(len(geometries))
        touching = shapely.intersects(polygon, geometries)
        share[touching] = shapely.area(
            shapely.intersection(polygon, geometries[touching])
        ) / shapely.area(polygon)
        rows = unit == row
        if share.max(initial=0.0) >= _WHOLE:
            zone[rows], status[rows] = zones["zone_id"].to_numpy()[int(np.argmax(share))], "inside"
        elif share.max(initial=0.0) <= _NONE:
            status[rows] = "outside"
        else:
            status[rows] = "partial"
    return zone, status


def _common(
    divisions: _Divisions, rows: tuple[int, ...]
) -> tuple[str | None, str | None, str | None]:
    """Province, city and county name shared by every candidate row (None where they differ)."""

    def same(column: str) -> str | None:
        values = {divisions.names[column][r] for r in rows}
        return values.pop() if len(values) == 1 else None

    counties = bool(rows) and all(divisions.level[r] == "county" for r in rows)
    return same("province_name"), same("city_name"), same("name") if counties else None


def _message(
    check: str,
    said: str,
    lies: str | None,
    distance: float,
    band: float,
    zone_status: Any,
    zone: Any,
    *,
    lang: str,
) -> str:
    """One sentence on a row: ``said`` is what the address names, ``lies`` where the point is."""
    text = ADDRESS[lang]
    zone_note = (
        text[zone_status].format(zone=zone)
        if zone_status in ("inside", "outside", "partial")
        else ""
    )
    sentence = text.get(check, text["not_found"]).format(
        said=said, lies=lies, distance=distance, band=band
    )
    return (
        sentence + zone_note
        if check in ("agrees", "mismatch", "near_district_border")
        else sentence
    )
