r"""Interactive maps of a verification result; the only module that imports folium.

:func:`explore` draws the pilot zones, the review band along their borders,
the zones' components that are contested or not read as included (with the
reading applied and the readings offered), every located facility coloured by
status, and a line from each operator's registration to each of its
violations. :func:`save_map` writes the map as one
self-contained HTML file. :func:`explore_sites` draws what
:func:`pilotzone.site` found: the target zone, its review band and feasible
area, the candidates coloured by verdict with their margins, and a line from
each candidate that is not compliant to its nearest admissible point.
:func:`explore_changes` draws what :func:`pilotzone.compare` found between two
audits: new, resolved and unchanged findings, facilities added, removed and
moved (a line from the old position to the new), and eligibility changes.

Offline
-------
Regulators often work without internet, and folium's HTML loads Leaflet,
jQuery, Bootstrap and Font Awesome from CDNs. With ``offline=True``:

* :func:`explore` gives the map its own asset lists (an instance attribute;
  folium's class-level ``default_js``/``default_css`` are never touched):
  Leaflet, its CSS (with its images) and jQuery, which folium's popups need,
  become ``data:`` URIs read from the installed ``xstatic-leaflet`` and
  ``xstatic-jquery`` packages; Bootstrap, awesome-markers and Font Awesome are
  dropped, as the map draws canvas circle markers and needs no icons. The map
  then also works when displayed in an air-gapped notebook.
* :func:`save_map` renders the page with every asset list of the map's
  elements, and every asset link in its header, treated the same way (for
  that render only), and raises :class:`OfflineError` naming every script or
  stylesheet that would still be fetched from the network, and
  ``folium.Icon`` markers, which need the dropped icon assets. It changes
  asset elements, never the page's text: a name in the map's data that equals
  an asset's URL, or mentions ``L.AwesomeMarkers``, is saved as it is.

The facilities' table is inflated by the browser's own ``DecompressionStream``
(Chrome and Edge 80, Firefox 113, Safari 16.4 and later).

Basemap tiles are images requested while the map is viewed, not page assets:
a map with a basemap saves offline but shows tiles only where their server is
reachable.

Filing text is data
-------------------
folium renders each element's output a second time as a Jinja2 template, so a
name such as ``NAME{{7*7}}END`` would be evaluated there. No text from a filing
or a boundary file is ever given to folium: each map's layers, popups,
tooltips, labels, legend and layer names are JSON inside a ``<script
type="application/json">`` element (``<``, ``>``, ``&``, U+2028 and U+2029
written as ``\u`` escapes), attached to the page without a template, and one
constant script builds them with DOM nodes and ``textContent``. The
facilities' own text (names, operators, addresses, messages) is in that JSON
too, as the dictionaries of their compressed table, and reaches the page the
same way. folium draws the map itself, its tiles and its assets.

Display only
------------
Zone outlines are simplified (about 50 m) and, over a GCJ-02 basemap (AMap /
Gaode), every overlay is shifted into GCJ-02 so it lands where the tiles draw
it. Both are for display: the check itself used the full WGS-84 geometry, and
reports keep WGS-84 coordinates.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from pilotzone._codes import CHANGES
from pilotzone._files import write_atomic
from pilotzone._map_assets import offline_page, tile_layers, use_local_assets
from pilotzone._map_drawing import (
    BAND_COLOR,
    STATUS_COLORS,
    ZONE_COLOR,
    ZONE_LABEL,
    Drawing,
    Line,
    Row,
    as_text,
    band_shape,
    dot,
    fit,
    geometry,
    line_kind,
    marker_kind,
    shape_kind,
)
from pilotzone._map_facilities import (
    COLUMNS,
    MAX_OPERATOR_LAYERS,
    draw_facilities,
    legend_rows,
)
from pilotzone._messages import MAP, MAP_CHANGES, MAP_SITES
from pilotzone.crs import from_wgs84, geometry_from_wgs84
from pilotzone.errors import CRSError, InputError, PilotzoneError, Problem

__all__ = ["explore", "explore_changes", "explore_sites", "save_map"]

Lang = Literal["en", "zh"]

log = logging.getLogger(__name__)

#: Display tolerance of zone outlines, degrees (about 50 m).
SIMPLIFY_DEG = 0.0005

_SITE_COLUMNS = (
    "target_zone", "zone_id", "compliant", "margin_m", "near_border", "nearest_lon", "nearest_lat",
    "nearest_lon_wgs84", "nearest_lat_wgs84", "distance_to_zone_m",
)  # fmt: skip
_SITE_COLORS = {"compliant": "#2ca02c", "band": "#ff7f0e", "outside": "#d62728"}
_PERMANENT_LABELS = 30  # up to this many candidates show their margin without hovering

_CHANGE_COLORS = {
    "new_finding": "#d62728", "resolved_finding": "#2ca02c", "unchanged_finding": "#7f7f7f",
    "facility_added": "#1f77b4", "facility_removed": "#222222", "facility_moved": "#9467bd",
    "eligibility_changed": "#ff7f0e",
}  # fmt: skip


class OfflineError(PilotzoneError, RuntimeError):
    """A map that would fetch scripts or stylesheets from the network."""


def explore(
    result: gpd.GeoDataFrame,
    *,
    zones: gpd.GeoDataFrame | None = None,
    m: folium.Map | None = None,
    basemap: str | tuple[str, str] | Mapping[str, str] | None = None,
    offline: bool = True,
    lang: Lang = "en",
) -> folium.Map:
    """Draw a verification result on an interactive Leaflet map.

    Parameters
    ----------
    result : geopandas.GeoDataFrame
        What :func:`pilotzone.verify` returns: point geometry (WGS-84
        longitude/latitude; another known CRS is reprojected, a missing one is
        an error) and the columns ``operator_id, facility_id, name, address,
        kind, tenure, zone_id, registration_zone, border_distance_m,
        near_border, status, reasons, message``. Rows without a location are
        counted in the legend, not drawn.
    zones : geopandas.GeoDataFrame, optional
        Zone table with ``zone_id, name_en, name_zh, short_name_en,
        short_name_zh, active, accuracy_m`` and polygon geometry, optionally
        ``components`` (see :func:`pilotzone.zones.load_zones`); by default
        :func:`pilotzone.zones.load_zones`.
    m : folium.Map, optional
        Add the layers to this map instead of a new one.
    basemap : str, tuple or dict, optional
        ``None`` (no tiles, fully offline); ``"osm"``; ``"tianditu"`` given as
        ``{"name": "tianditu", "key": "<TianDiTu key>"}``; ``"gaode"`` or
        ``"amap"`` (GCJ-02 tiles: the overlays are shifted to GCJ-02 for
        display); or an XYZ template such as an intranet tile server's, with
        its attribution: ``(template, attribution)`` or ``{"tiles": template,
        "attribution": ..., "crs": "wgs84" | "gcj02"}``. Tiles are fetched when
        the map is viewed, so their server must be reachable then.
    offline : bool, default True
        Make the map's own page assets local (``data:`` URIs from the
        installed xstatic packages) so it also renders in an air-gapped
        notebook; see the module notes.
    lang : {"en", "zh"}, default "en"
        Language of zone names, layer names, legend and popups.

    Returns
    -------
    folium.Map
        ``m`` if given, otherwise a new canvas-rendered map fitted to the data.

    Raises
    ------
    pilotzone.errors.CRSError
        If ``result`` or ``zones`` has no CRS.
    pilotzone.errors.InputError
        If ``result`` lacks columns.
    ValueError
        For an unknown basemap, a template without attribution, or TianDiTu
        without a key.

    Notes
    -----
    Every located facility is drawn on its own, as a point of one compact
    binary table (13 MB in all for a million rows of the benchmark's
    synthetic filing: see :mod:`pilotzone._map_points`) that one canvas layer
    of the page draws: a click opens the popup of the nearest point on
    screen (row number, operator, facility, address, kind, tenure, zones,
    distance to the border, status, reasons, message), hovering shows its
    name (or id) and status. Positions are kept to a millionth of a degree
    (under 8 cm).
    Where ``result`` has a ``component`` column (as :func:`pilotzone.verify`
    gives), the popup names the zone component the facility lies in.
    Each zone component with an outline that is contested or not read
    ``include`` is drawn dashed on a layer of its own ("Zone components"),
    filled when read ``review``, an outline only when read ``exclude``; its
    tooltip names it and the reading applied, its popup its standing, the
    readings offered and the default.
    Violations are drawn last, on top, with a dashed line from their
    operator's registration where it has exactly one. The layer control
    has one layer per status and one per operator (the
    :data:`MAX_OPERATOR_LAYERS` operators with most findings); a facility is
    shown when both its status and its operator layer are on. The control is
    pilotzone's own, shared by everything pilotzone draws on ``m``; a
    ``folium.LayerControl`` lists only folium's layers. One facility, or all
    at one point, is shown in a box of at least 0.01° each way.

    Text from the data never passes through a template engine: it is JSON in
    the page and the page's script writes it with ``textContent`` (see the
    module notes).

    Examples
    --------
    >>> m = explore(result, zones=zones)  # doctest: +SKIP
    >>> save_map(m, "out/map.html")  # doctest: +SKIP
    """
    text = MAP[lang]
    tiles, display_crs = tile_layers(basemap)
    result = _checked(result, "result")
    missing = [c for c in COLUMNS if c not in result.columns]
    if missing:
        raise InputError([
            Problem("result", None, c, None, "column missing; pass what pilotzone.verify returns")
            for c in missing
        ])  # fmt: skip
    zones = _checked(_zones_or_shipped(zones), "zones")

    lon, lat = shapely.get_x(result.geometry.values), shapely.get_y(result.geometry.values)
    located = np.isfinite(lon) & np.isfinite(lat)
    lon, lat = from_wgs84(lon, lat, display_crs)
    lat, lon = np.round(lat, 6), np.round(lon, 6)

    m = _base_map(m, tiles, offline)
    drawing = Drawing(tiles)
    band = drawing.overlay(text["band"])
    drawing.shape(band, band_shape(zones, display_crs), _BAND_KIND)
    _draw_zones(drawing, zones, display_crs, lang)
    component_rows = _draw_components(drawing, zones, display_crs, text)
    names = dict(zip(zones["zone_id"], zones[f"short_name_{lang}"], strict=True))
    capped = draw_facilities(drawing, result, located, lat, lon, text, lang, names)
    if capped:
        log.info(
            "%d operators have no layer of their own (limit %d; those with most findings kept)",
            capped, MAX_OPERATOR_LAYERS,
        )  # fmt: skip
    drawing.collapsed = len(drawing.switches) > 8
    drawing.legend = legend_rows(
        result, located, zones, capped, display_crs, text, lang, component_rows
    )
    m.add_child(drawing)
    if located.any():
        fit(m, lat[located].min(), lon[located].min(), lat[located].max(), lon[located].max())
    else:
        shapes = geometry_from_wgs84(np.asarray(zones.geometry.values), display_crs)
        west, south, east, north = shapely.total_bounds(shapes)
        fit(m, south, west, north, east)
    log.info(
        "map: %d facilities drawn, %d without location, %d zones",
        located.sum(), (~located).sum(), len(zones),
    )  # fmt: skip
    return m


def save_map(m: folium.Map, path: str | os.PathLike[str], *, offline: bool = True) -> Path:
    """Write a map as one HTML file, atomically.

    Parameters
    ----------
    m : folium.Map
        The map, from :func:`explore` or elsewhere; it is not modified.
    path : str or os.PathLike
        The HTML file to write; its folder must exist.
    offline : bool, default True
        Make the page self-contained: Leaflet, its CSS and jQuery are inlined
        as ``data:`` URIs from the installed xstatic packages, and folium's
        icon assets (Bootstrap, awesome-markers, Font Awesome) are dropped.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    OfflineError
        With ``offline=True``, if a script or stylesheet would still be loaded
        from the network (a folium plugin's) or the map uses ``folium.Icon``
        markers; nothing is written then. Basemap tile URLs are not page
        assets and do not count.

    Notes
    -----
    The page is written to a temporary file in the same folder and moved over
    ``path`` with :func:`os.replace`, so a reader never sees half a map.
    """
    path = Path(path)
    if offline:
        page, needs = offline_page(m)
        if needs:
            raise OfflineError(
                f"the map would not work offline: it needs {len(needs)} asset(s) from the "
                f"network with no local copy: {'; '.join(needs)}. Leave out the folium plugins "
                "or icons they come from (draw CircleMarkers), or save with offline=False."
            )
    else:
        page = m.get_root().render()
    data = page.encode("utf-8")
    write_atomic(path, data)
    log.info("map written to %s (%d bytes)", path, len(data))
    return path


def explore_sites(
    sites: gpd.GeoDataFrame,
    feasible: gpd.GeoDataFrame,
    *,
    zones: gpd.GeoDataFrame | None = None,
    m: folium.Map | None = None,
    basemap: str | tuple[str, str] | Mapping[str, str] | None = None,
    offline: bool = True,
    lang: Lang = "en",
) -> folium.Map:
    """Draw candidate sites against their target zone on an interactive Leaflet map.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        What :func:`pilotzone.site` returns: WGS-84 points (another known CRS
        is reprojected, a missing one is an error) with the columns
        ``target_zone, zone_id, compliant, margin_m, near_border,
        nearest_lon, nearest_lat, nearest_lon_wgs84, nearest_lat_wgs84,
        distance_to_zone_m``; a ``name`` column is
        shown where there is one. Rows without a location are counted in the
        legend, not drawn.
    feasible : geopandas.GeoDataFrame
        What :func:`pilotzone.feasible_area` returns for the target zone.
    zones : geopandas.GeoDataFrame, optional
        Zone table holding the target zone; by default
        :func:`pilotzone.zones.load_zones`.
    m : folium.Map, optional
        Add the layers to this map instead of a new one.
    basemap : str, tuple or dict, optional
        As for :func:`explore`; ``None`` draws no tiles.
    offline : bool, default True
        Make the map's own page assets local, as for :func:`explore`.
    lang : {"en", "zh"}, default "en"
        Language of layer names, legend and popups.

    Returns
    -------
    folium.Map
        ``m`` if given, otherwise a new canvas-rendered map fitted to the
        candidates and their nearest admissible points.

    Raises
    ------
    pilotzone.errors.CRSError
        If ``sites``, ``feasible`` or ``zones`` has no CRS.
    pilotzone.errors.InputError
        If ``sites`` lacks columns, or the target zone is not in ``zones``.

    Notes
    -----
    A candidate is green where compliant, orange inside the zone but in the
    review band, red outside the zone. The band is drawn inside the zone
    only (outside it nothing is admissible anyway), as the zone less its
    feasible area, both simplified to a tenth of the band for display.

    Examples
    --------
    >>> sites = pz.site(candidates, zone="shenzhen", crs="gcj02")  # doctest: +SKIP
    >>> m = explore_sites(sites, pz.feasible_area("shenzhen"))  # doctest: +SKIP
    >>> save_map(m, "out/sites.html")  # doctest: +SKIP
    """
    text = MAP_SITES[lang]
    tiles, display_crs = tile_layers(basemap)
    sites = _checked(sites, "sites")
    feasible = _checked(feasible, "feasible")
    missing = [c for c in _SITE_COLUMNS if c not in sites.columns]
    if missing:
        raise InputError([
            Problem("sites", None, c, None, "column missing; pass what pilotzone.site returns")
            for c in missing
        ])  # fmt: skip
    zones = _checked(_zones_or_shipped(zones), "zones")
    zone_id = str(feasible["zone_id"].iloc[0])
    if zone_id not in set(zones["zone_id"].astype(str)):
        raise InputError(
            Problem("zones", None, "zone_id", zone_id, "the target zone is not in zones")
        )
    zone = zones[zones["zone_id"].astype(str) == zone_id].iloc[0]

    band_m = float(feasible["band_m"].iloc[0]) or float(zone["accuracy_m"])
    tolerance = min(SIMPLIFY_DEG, band_m / 10 / 111_320.0)  # display only
    outline = shapely.simplify(zone.geometry, tolerance, preserve_topology=True)
    area = shapely.simplify(feasible.geometry.iloc[0], tolerance, preserve_topology=True)
    band = shapely.difference(outline, area)

    m = _base_map(m, tiles, offline)
    drawing = Drawing(tiles)
    label = as_text(zone.get(f"short_name_{lang}")) or zone_id
    zone_kind = shape_kind({"color": ZONE_COLOR, "weight": 2, "fill": False})
    drawing.shape(drawing.overlay(f"{label}: {text['zone']}"), geometry(outline, display_crs),
                  zone_kind)  # fmt: skip
    drawing.shape(drawing.overlay(text["band_area"]), geometry(band, display_crs), _BAND_KIND)
    green = STATUS_COLORS["compliant"]
    area_kind = shape_kind({"color": green, "weight": 1, "fillColor": green, "fillOpacity": 0.12})
    drawing.shape(drawing.overlay(text["feasible"]), geometry(area, display_crs), area_kind)

    lon, lat = shapely.get_x(sites.geometry.values), shapely.get_y(sites.geometry.values)
    located = np.isfinite(lon) & np.isfinite(lat)
    lon, lat = np.round(from_wgs84(lon, lat, display_crs), 6)
    nearest = np.column_stack(
        from_wgs84(
            sites["nearest_lon_wgs84"].to_numpy(float),
            sites["nearest_lat_wgs84"].to_numpy(float),
            display_crs,
        )
    ).round(6)
    compliant = sites["compliant"].to_numpy(bool)
    review = sites["near_border"].to_numpy(bool)  # in the band, on either side: as locate says
    verdict = np.where(compliant, "compliant", np.where(review, "band", "outside"))
    moves = drawing.overlay(text["move"])
    groups = {v: drawing.overlay(text[v]) for v in ("compliant", "band", "outside")}
    permanent = bool(located.sum() <= _PERMANENT_LABELS)
    label_tip = {"permanent": True, "direction": "right", "offset": [8, 0]}
    names = sites["name"] if "name" in sites.columns else pd.Series(sites.index, index=sites.index)
    nearest_kind = marker_kind(4, STATUS_COLORS["compliant"], 2, "#ffffff", 1.0)
    for k in np.flatnonzero(located):
        row = sites.iloc[k]
        color = _SITE_COLORS[verdict[k]]
        margin = f"{float(row['margin_m']):+,.0f} m"
        name = as_text(names.iloc[k])
        lines: list[Line] = [
            [(name, "b")],
            [f"{text['verdict']}: ", (text[verdict[k]], color)],
            [f"{text['margin']} ({label}): {margin}"],
            [f"{text['located']}: {as_text(row['zone_id']) or '-'}"],
        ]
        if np.isfinite(nearest[k]).all():
            move = f"{float(row['distance_to_zone_m']):,.0f} m"
            lines.append(
                [f"{text['nearest']}: {row['nearest_lon']:.6f}, {row['nearest_lat']:.6f} ({move})"]
            )
            drawing.line(moves, [[lat[k], lon[k]], [nearest[k, 1], nearest[k, 0]]],
                         line_kind(color, 0.8))  # fmt: skip
            drawing.marker(moves, nearest[k, 1], nearest[k, 0], nearest_kind,
                           tooltip=f"{text['nearest']} · {move}")  # fmt: skip
        kind = marker_kind(7, "#222222", 1, color, 0.9, label_tip if permanent else None)
        drawing.marker(groups[verdict[k]], lat[k], lon[k], kind, tooltip=f"{name} · {margin}",
                       popup=lines)  # fmt: skip
    drawing.legend = _sites_legend(
        verdict[located], int((~located).sum()), label, feasible, display_crs, lang
    )
    m.add_child(drawing)

    points = [np.column_stack([lat[located], lon[located]])]
    points.append(nearest[np.isfinite(nearest).all(axis=1)][:, ::-1])
    stacked = np.concatenate(points)
    if len(stacked):
        (south, west), (north, east) = stacked.min(axis=0), stacked.max(axis=0)
    else:
        west, south, east, north = geometry_from_wgs84(outline, display_crs).bounds
    fit(m, south, west, north, east)
    log.info("site map: %d candidates drawn, %d without location", located.sum(), (~located).sum())
    return m


def explore_changes(
    changes: pd.DataFrame,
    *,
    zones: gpd.GeoDataFrame | None = None,
    m: folium.Map | None = None,
    basemap: str | tuple[str, str] | Mapping[str, str] | None = None,
    offline: bool = True,
    lang: Lang = "en",
) -> folium.Map:
    """Draw the comparison of two audits on an interactive Leaflet map.

    Parameters
    ----------
    changes : pandas.DataFrame
        What :func:`pilotzone.compare` returns: ``change``, ``operator_id``,
        ``facility_id``, ``name``, ``old_lon``, ``old_lat``, ``new_lon``,
        ``new_lat`` (WGS-84), ``moved_m``, ``message`` and ``description``.
    zones : geopandas.GeoDataFrame, optional
        Zones drawn beneath; by default :func:`pilotzone.zones.load_zones`.
    m : folium.Map, optional
        Add the layers to this map instead of a new one.
    basemap : str, tuple or dict, optional
        As for :func:`explore`; ``None`` draws no tiles.
    offline : bool, default True
        Make the map's own page assets local, as for :func:`explore`.
    lang : {"en", "zh"}, default "en"
        Language of zone names, layer names, legend and popups.

    Returns
    -------
    folium.Map
        ``m`` if given, otherwise a new canvas-rendered map fitted to the
        changes.

    Raises
    ------
    pilotzone.errors.InputError
        If ``changes`` lacks columns.
    pilotzone.errors.CRSError
        If ``zones`` has no CRS.

    Notes
    -----
    One marker per (change, operator, facility), listing every rule of that
    facility that changed the same way, in a layer per kind of change: a
    finding where the facility is now (or was, when resolved or removed), a
    move as a line from the old position to the new one with a hollow
    marker at the old, an eligibility change at the operator's
    registration. Changes without a position are counted in the legend.

    Examples
    --------
    >>> m = explore_changes(pz.compare("audit-2024/", "audit-2025/"))  # doctest: +SKIP
    >>> save_map(m, "out/changes_map.html")  # doctest: +SKIP
    """
    text = MAP_CHANGES[lang]
    tiles, display_crs = tile_layers(basemap)
    needed = ("change", "operator_id", "facility_id", "name", "old_lon", "old_lat", "new_lon",
              "new_lat", "moved_m", "message", "description")  # fmt: skip
    missing = [c for c in needed if c not in changes.columns]
    if missing:
        raise InputError([
            Problem("changes", None, c, None, "column missing; pass what pilotzone.compare returns")
            for c in missing
        ])  # fmt: skip
    zones = _checked(_zones_or_shipped(zones), "zones")
    m = _base_map(m, tiles, offline)
    drawing = Drawing(tiles)
    _draw_zones(drawing, zones, display_crs, lang)

    def shown(lon: pd.Series, lat: pd.Series) -> NDArray[np.float64]:
        x, y = from_wgs84(lon.to_numpy(float), lat.to_numpy(float), display_crs)
        return np.column_stack([y, x]).round(6)  # Leaflet's (lat, lon)

    gone = changes["change"].isin(["resolved_finding", "facility_removed"]).to_numpy()
    new_at = shown(changes["new_lon"], changes["new_lat"])
    old_at = shown(changes["old_lon"], changes["old_lat"])
    at = np.where(gone[:, None] | ~np.isfinite(new_at), old_at, new_at)
    keys = ["change", "operator_id", "facility_id"]
    numbered = changes.assign(_row=np.arange(len(changes)))
    marks = numbered.groupby(keys, sort=False, dropna=False)["_row"]
    located = [
        (str(change), operator, facility, rows.to_numpy(), int(rows.iloc[0]))
        for (change, operator, facility), rows in marks
        if np.isfinite(at[int(rows.iloc[0])]).all()
    ]
    unlocated, points = marks.ngroups - len(located), []
    drawn = Counter(change for change, *_ in located)
    layers = {c: drawing.overlay(f"{text[c]} ({drawn[c]})") for c in CHANGES if drawn[c]}
    for change, operator, facility, rows, first in located:
        color = _CHANGE_COLORS[change]
        record = changes.iloc[first]
        facility_text = as_text(facility)
        lines: list[Line] = [[(as_text(record["name"]), "b")]] if as_text(record["name"]) else []
        lines.append([
            f"{text['operator']}: {as_text(operator)} · "
            f"{text['facility']}: {facility_text or text['none']}"
        ])  # fmt: skip
        described = changes["description"].to_numpy()[rows]
        lines += [[(as_text(d), color)] for d in described]
        if as_text(record["message"]):
            lines.append([(as_text(record["message"]), "i")])
        if change == "facility_moved" and np.isfinite(old_at[first]).all():
            drawing.line(layers[change], [old_at[first], new_at[first]], line_kind(color, 0.9))
            old_lat, old_lon = old_at[first]
            drawing.marker(
                layers[change], old_lat, old_lon, marker_kind(5, color, 2, "#ffffff", 1.0),
                tooltip=f"{text['old']} · {facility_text}",
            )  # fmt: skip
            points.append(old_at[first])
        lat, lon = at[first]
        drawing.marker(
            layers[change], lat, lon, marker_kind(7, "#222222", 1, color, 0.9),
            tooltip=f"{facility_text or as_text(operator)} · {text[change]}", popup=lines,
        )  # fmt: skip
        points.append(at[first])

    legend: list[Row] = [(None, [(text["title"], "b")])]
    legend += [(dot(_CHANGE_COLORS[c]), [f"{text[c]} ({drawn[c]})"]) for c in CHANGES]
    if unlocated:
        legend.append((None, [f"{text['unlocated']}: {unlocated}"]))
    if display_crs == "gcj02":
        legend.append((None, [(MAP[lang]["gcj02"], "#b00")]))
    drawing.legend = legend
    m.add_child(drawing)
    if points:
        (south, west), (north, east) = np.min(points, axis=0), np.max(points, axis=0)
    else:
        west, south, east, north = shapely.total_bounds(
            geometry_from_wgs84(np.asarray(zones.geometry.values), display_crs)
        )
    fit(m, south, west, north, east)
    log.info("change map: %d markers, %d changes without location", sum(drawn.values()), unlocated)
    return m


def _sites_legend(
    verdict: NDArray[np.str_],
    unlocated: int,
    label: str,
    feasible: gpd.GeoDataFrame,
    display_crs: str,
    lang: Lang,
) -> list[Row]:
    text = MAP_SITES[lang]
    rows: list[Row] = [(None, [(f"{text['title']}: {label}", "b")])]
    rows += [
        (dot(_SITE_COLORS[v]), [f"{text[v]} ({int((verdict == v).sum())})"])
        for v in ("compliant", "band", "outside")
    ]
    band, widest = float(feasible["band_m"].iloc[0]), float(feasible["widest_band_m"].iloc[0])
    wider = f"; {text['approximate']} ±{widest:g} m" if widest > band else ""
    green = _SITE_COLORS["compliant"]
    rows += [
        (f"border-top:2px dashed {_SITE_COLORS['outside']};height:0", [text["move"]]),
        (f"border:2px solid {ZONE_COLOR}", [text["zone"]]),
        (f"background:{BAND_COLOR};opacity:.5", [f"{text['band_area']} ±{band:g} m{wider}"]),
        (f"background:{green}33;border:1px solid {green}", [text["feasible"]]),
    ]
    if unlocated:
        rows.append((None, [f"{text['unlocated']}: {unlocated}"]))
    if display_crs == "gcj02":
        rows.append((None, [(MAP[lang]["gcj02"], "#b00")]))
    return rows


def _base_map(m: folium.Map | None, tiles: list[folium.TileLayer], offline: bool) -> folium.Map:
    """``m``, or a new canvas-rendered map, with local assets when offline and the tiles added."""
    if m is None:
        m = folium.Map(tiles=None, prefer_canvas=True, control_scale=True)
    if offline:
        use_local_assets(m)
    for tile in tiles:
        tile.add_to(m)
    return m


def _zones_or_shipped(zones: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    if zones is not None:
        return zones
    from pilotzone.zones import load_zones

    return load_zones()


def _checked(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise CRSError(
            f"{what} has no CRS; set the one its coordinates are in, e.g. "
            f"{what}.set_crs('EPSG:4326') for WGS-84 longitude/latitude"
        )
    return frame if frame.crs.equals("EPSG:4326") else frame.to_crs("EPSG:4326")


def _draw_zones(drawing: Drawing, zones: gpd.GeoDataFrame, display_crs: str, lang: Lang) -> None:
    """Each zone's outline with its name as a permanent label, and a popup with its full name."""
    layer = drawing.overlay(MAP[lang]["zones_short"])
    shapes = shapely.simplify(
        np.asarray(zones.geometry.values), SIMPLIFY_DEG, preserve_topology=True
    )
    for zone, shape in zip(zones.itertuples(index=False), shapes, strict=True):
        active = bool(zone.active)
        color = ZONE_COLOR if active else "#666666"
        style: dict[str, Any] = {"color": color, "weight": 2, "fillColor": color,
                                 "fillOpacity": 0.06}  # fmt: skip
        label = as_text(getattr(zone, f"short_name_{lang}")) or as_text(zone.zone_id)
        if not active:
            style["dashArray"] = "6 4"
            label += f" ({MAP[lang]['inactive']})"
        kind = shape_kind(style, tooltip=ZONE_LABEL)
        popup: list[Line] = [[(label, "b")], [as_text(getattr(zone, f"name_{lang}"))]]
        drawing.shape(layer, geometry(shape, display_crs), kind, label=label, popup=popup)


def _draw_components(
    drawing: Drawing, zones: gpd.GeoDataFrame, display_crs: str, text: dict[str, str]
) -> list[Row]:
    """The components an auditor must see, on a layer of their own; their legend rows.

    A component with an outline is drawn when it is contested or not read
    ``include``: dashed, filled when read ``review``, an outline only when read
    ``exclude`` (it is not part of the zone). Its tooltip names it and the
    reading applied; its popup gives its standing and the readings offered.
    """
    shown = [
        c
        for components in zones.get("components", ())
        for c in components
        if c.geometry is not None and (c.standing == "contested" or c.reading != "include")
    ]
    if not shown:
        return []
    layer = drawing.overlay(text["components"])
    shapes = shapely.simplify([c.geometry for c in shown], SIMPLIFY_DEG, preserve_topology=True)
    for component, shape in zip(shown, shapes, strict=True):
        kind = shape_kind(_COMPONENT_STYLES[component.reading], tooltip={"sticky": True})
        label = (
            f"{component.component_id}: {component.name} ({text['reading']} {component.reading})"
        )
        popup: list[Line] = [
            [(component.component_id, "b")],
            [component.name],
            [f"{text['standing']}: {text.get(component.standing, component.standing)}"],
            [f"{text['reading']}: ", (component.reading, "b")],
            [f"{text['readings_offered']}: {', '.join(component.readings)}"],
            [f"{text['default']}: {component.default}"],
        ]
        drawing.shape(layer, geometry(shape, display_crs), kind, label=label, popup=popup)
    return [
        (_swatch(_COMPONENT_STYLES[r]), [text[f"component_{r}"]])
        for r in ("include", "review", "exclude")
        if any(c.reading == r for c in shown)
    ]


def _swatch(style: dict[str, Any]) -> str:
    """The legend swatch of a component's style: its dashed border and fill."""
    fill = style["fillColor"] + f"{round(style['fillOpacity'] * 255):02x}"
    return f"border:2px dashed {style['color']};background:{fill}"


# --------------------------------------------------------------------------- the page's data


#: A zone component's style by the reading applied: dashed; filled only when read review.
_COMPONENT_STYLES: dict[str, dict[str, Any]] = {
    reading: {"color": color, "weight": 2, "dashArray": dash, "fillColor": color,
              "fillOpacity": opacity}
    for reading, color, dash, opacity in (
        ("include", "#9467bd", "6 4", 0.0),
        ("review", "#9467bd", "6 4", 0.2),
        ("exclude", "#8c564b", "2 5", 0.0),  # brown: not the grey of a zone not active
    )
}  # fmt: skip
_BAND_KIND = shape_kind({"stroke": False, "fillColor": BAND_COLOR, "fillOpacity": 0.35})
