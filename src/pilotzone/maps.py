"""Interactive maps of a verification result; the only module that imports folium.

:func:`explore` draws the pilot zones, the review band along their borders,
every located facility coloured by status, and a line from each operator's
registration to each of its violations. :func:`save_map` writes the map as one
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
written as ``\\u`` escapes), attached to the page without a template, and one
constant script builds them with DOM nodes and ``textContent``. folium draws
the map itself, its tiles and its assets.

Display only
------------
Zone outlines are simplified (about 50 m) and, over a GCJ-02 basemap (AMap /
Gaode), every overlay is shifted into GCJ-02 so it lands where the tiles draw
it. Both are for display: the check itself used the full WGS-84 geometry, and
reports keep WGS-84 coordinates.
"""

from __future__ import annotations

import base64
import copy
import functools
import importlib
import json
import logging
import os
import re
import secrets
from collections import Counter, OrderedDict
from collections.abc import Iterator, Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, Link, MacroElement
from folium.elements import JSCSSMixin
from numpy.typing import NDArray

from pilotzone._codes import CHANGES
from pilotzone.crs import from_wgs84, geometry_from_wgs84, to_wgs84
from pilotzone.errors import CRSError, InputError, PilotzoneError, Problem
from pilotzone.rules import describe

__all__ = ["explore", "explore_changes", "explore_sites", "save_map"]

Lang = Literal["en", "zh"]

log = logging.getLogger(__name__)

#: Display tolerance of zone outlines, degrees (about 50 m).
SIMPLIFY_DEG = 0.0005
#: At most this many operators get a layer of their own in the layer control.
MAX_OPERATOR_LAYERS = 200

_COLUMNS = (
    "operator_id", "facility_id", "name", "address", "kind", "tenure", "zone_id",
    "registration_zone", "border_distance_m", "near_border", "status", "reasons", "message",
)  # fmt: skip
_STATUS_COLORS = {
    "violation": "#d62728",
    "review": "#ff7f0e",
    "invalid": "#7f7f7f",
    "compliant": "#2ca02c",
}
_DRAW_ORDER = {"compliant": 0, "invalid": 1, "review": 2, "violation": 3}
_ZONE_COLOR = "#1f5fbf"
_SITE_COLUMNS = (
    "target_zone", "zone_id", "compliant", "margin_m", "near_border", "nearest_lon", "nearest_lat",
    "distance_to_zone_m",
)  # fmt: skip
_SITE_COLORS = {"compliant": "#2ca02c", "band": "#ff7f0e", "outside": "#d62728"}
_PERMANENT_LABELS = 30  # up to this many candidates show their margin without hovering
#: A map fitted to less than this many degrees (about 1 km) each way is widened to it.
_MIN_EXTENT_DEG = 0.01
_BAND_COLOR = "#ff7f0e"
_TEXT = {
    "en": {
        "violation": "Violation", "review": "Needs review", "invalid": "Invalid",
        "compliant": "Compliant", "status": "Status", "operator": "Operator",
        "facility": "Facility", "address": "Address", "kind": "Kind", "tenure": "Tenure",
        "zone": "Zone", "registration_zone": "Registration zone", "distance": "Distance to border",
        "beyond_band": "> review band", "reasons": "Reasons", "none": "none",
        "title": "pilotzone check", "registration": "Registration address (large ring)",
        "line": "Registration → violating facility",
        "zones": "Pilot zones (outline simplified ~50 m for display; "
        "the check used the full boundary)",
        "zones_short": "Pilot zones (display simplified; check used full boundary)",
        "band": "Review band (± boundary accuracy along each border)",
        "approximate": "approximate stretches up to",
        "inactive": "not active", "unlocated": "Rows without a location (not drawn)",
        "capped": "Operators without a layer of their own (layer limit)",
        "gcj02": "Overlays shifted to GCJ-02 to match the AMap tiles (display only; the check "
        "and all reports use WGS-84).",
    },
    "zh": {
        "violation": "违规", "review": "需复核", "invalid": "无效", "compliant": "合规",
        "status": "状态", "operator": "运营者", "facility": "设施", "address": "地址",
        "kind": "类型", "tenure": "使用方式", "zone": "所在地区", "registration_zone": "注册地区",
        "distance": "距边界", "beyond_band": "> 复核带", "reasons": "原因", "none": "无",
        "title": "pilotzone 核查", "registration": "注册地址（大圆环）",
        "line": "注册地址 → 违规设施",
        "zones": "试点地区（显示时简化约50米；核查使用完整边界）",
        "zones_short": "试点地区（显示简化；核查用完整边界）",
        "band": "复核带（各边界两侧 ± 边界精度）",
        "approximate": "近似边界段最大",
        "inactive": "未生效", "unlocated": "无位置的行（未绘制）",
        "capped": "未单独分层的运营者（图层数量上限）",
        "gcj02": "叠加图层已转换为GCJ-02坐标以匹配高德底图（仅用于显示；核查与报告均使用WGS-84）。",
        # Codes from the filing, shown in words (English shows the codes as filed).
        "registration_kind": "注册地址", "idc": "互联网数据中心（IDC）", "cdn": "CDN节点",
        "isp": "ISP服务点", "server": "服务器机房", "other": "其他设施",
        "owned": "自有", "rented": "租用", "purchased": "购买",
    },
}  # fmt: skip

_CHANGE_COLORS = {
    "new_finding": "#d62728", "resolved_finding": "#2ca02c", "unchanged_finding": "#7f7f7f",
    "facility_added": "#1f77b4", "facility_removed": "#222222", "facility_moved": "#9467bd",
    "eligibility_changed": "#ff7f0e",
}  # fmt: skip
_CHANGE_TEXT = {
    "en": {
        "title": "pilotzone audit comparison", "new_finding": "New findings",
        "resolved_finding": "Resolved findings", "unchanged_finding": "Unchanged findings",
        "facility_added": "Facilities added", "facility_removed": "Facilities removed",
        "facility_moved": "Facilities moved (line: old → new position)",
        "eligibility_changed": "Eligibility changed (at the registration)",
        "old": "Old position", "unlocated": "Changes without a location (not drawn)",
        "operator": "Operator", "facility": "Facility", "rule": "Rule", "status": "Status",
        "moved": "Moved", "none": "-",
    },
    "zh": {
        "title": "pilotzone 核查比对", "new_finding": "新增问题", "resolved_finding": "已整改问题",
        "unchanged_finding": "仍存在的问题", "facility_added": "新增设施",
        "facility_removed": "已撤销设施",
        "facility_moved": "位置变动的设施（连线：原位置 → 新位置）",
        "eligibility_changed": "试点资格变化（标于注册地址）", "old": "原位置",
        "unlocated": "无位置的变化（未绘制）", "operator": "运营者", "facility": "设施",
        "rule": "规则", "status": "状态", "moved": "移动距离", "none": "-",
    },
}  # fmt: skip

_SITE_TEXT = {
    "en": {
        "title": "pilotzone siting", "compliant": "Compliant", "band": "In the review band",
        "outside": "Outside the zone", "verdict": "Verdict", "margin": "Margin to the border",
        "located": "Lies in zone", "nearest": "Nearest admissible point",
        "move": "Move to the nearest admissible point", "zone": "Target zone",
        "band_area": "Review band inside the zone",
        "approximate": "approximate stretches", "feasible": "Feasible area (zone less band)",
        "unlocated": "Candidates without a location (not drawn)",
    },
    "zh": {
        "title": "pilotzone 选址", "compliant": "合规", "band": "位于复核带", "outside": "区域外",
        "verdict": "结论", "margin": "距边界", "located": "所在地区", "nearest": "最近可选位置",
        "move": "移至最近可选位置", "zone": "目标地区", "band_area": "区域内复核带",
        "approximate": "近似边界段", "feasible": "可选区域（扣除复核带）",
        "unlocated": "无位置的候选点（未绘制）",
    },
}  # fmt: skip

_GAODE = (
    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
    "&x={x}&y={y}&z={z}"
)
_TIANDITU = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)
# folium.Map.default_js / default_css names: those served from local copies,
# and those only folium.Icon markers need (no offline copy; dropped when unused).
_LOCAL_ASSETS = {
    "leaflet": ("leaflet", "leaflet.js"),
    "jquery": ("jquery", "jquery.min.js"),
    "leaflet_css": ("leaflet", "leaflet.css"),
}
_ICON_ASSETS = frozenset({
    "bootstrap", "awesome_markers", "bootstrap_css", "glyphicons_css",
    "awesome_markers_font_css", "awesome_markers_css", "awesome_rotate_css",
})  # fmt: skip


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
        short_name_zh, active, accuracy_m`` and polygon geometry; by default
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
    Markers are Leaflet circle markers, drawn on canvas on the maps this
    function creates, so tens of thousands pan smoothly. The layer control
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
    text = _TEXT[lang]
    tiles, display_crs = _basemap(basemap)
    result = _checked(result, "result")
    missing = [c for c in _COLUMNS if c not in result.columns]
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
    drawing = _Drawing(tiles)
    band = drawing.overlay(text["band"])
    drawing.shape(band, _band_shape(zones, display_crs), _BAND_KIND)
    _draw_zones(drawing, zones, display_crs, lang)
    names = dict(zip(zones["zone_id"], zones[f"short_name_{lang}"], strict=True))
    capped = _draw_facilities(drawing, result, located, lat, lon, text, lang, names)
    drawing.collapsed = len(drawing.switches) > 8
    drawing.legend = _legend_rows(result, located, zones, capped, display_crs, text, lang)
    m.add_child(drawing)
    if located.any():
        _fit(m, lat[located].min(), lon[located].min(), lat[located].max(), lon[located].max())
    else:
        shapes = geometry_from_wgs84(np.asarray(zones.geometry.values), display_crs)
        west, south, east, north = shapely.total_bounds(shapes)
        _fit(m, south, west, north, east)
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
        page, needs = _offline_page(m)
        if needs:
            raise OfflineError(
                f"the map would not work offline: it needs {len(needs)} asset(s) from the "
                f"network with no local copy: {'; '.join(needs)}. Leave out the folium plugins "
                "or icons they come from (draw CircleMarkers), or save with offline=False."
            )
    else:
        page = m.get_root().render()
    # Not tempfile.mkstemp: its files are private (0600); this one gets the usual mode.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "x", encoding="utf-8") as file:
            file.write(page)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    log.info("map written to %s (%d bytes)", path, len(page.encode()))
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
        nearest_lon, nearest_lat, distance_to_zone_m``; a ``name`` column is
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
    text = _SITE_TEXT[lang]
    tiles, display_crs = _basemap(basemap)
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
    drawing = _Drawing(tiles)
    label = _str(zone.get(f"short_name_{lang}")) or zone_id
    zone_kind = _shape_kind({"color": _ZONE_COLOR, "weight": 2, "fill": False})
    drawing.shape(drawing.overlay(f"{label}: {text['zone']}"), _geometry(outline, display_crs),
                  zone_kind)  # fmt: skip
    drawing.shape(drawing.overlay(text["band_area"]), _geometry(band, display_crs), _BAND_KIND)
    green = _STATUS_COLORS["compliant"]
    area_kind = _shape_kind({"color": green, "weight": 1, "fillColor": green, "fillOpacity": 0.12})
    drawing.shape(drawing.overlay(text["feasible"]), _geometry(area, display_crs), area_kind)

    lon, lat = shapely.get_x(sites.geometry.values), shapely.get_y(sites.geometry.values)
    located = np.isfinite(lon) & np.isfinite(lat)
    lon, lat = np.round(from_wgs84(lon, lat, display_crs), 6)
    nearest = np.column_stack(
        from_wgs84(
            sites["nearest_lon"].to_numpy(float), sites["nearest_lat"].to_numpy(float), display_crs
        )
    ).round(6)
    compliant = sites["compliant"].to_numpy(bool)
    inside = sites["margin_m"].to_numpy(float) >= 0  # in the target zone
    verdict = np.where(compliant, "compliant", np.where(inside, "band", "outside"))
    moves = drawing.overlay(text["move"])
    groups = {v: drawing.overlay(text[v]) for v in ("compliant", "band", "outside")}
    permanent = bool(located.sum() <= _PERMANENT_LABELS)
    label_tip = {"permanent": True, "direction": "right", "offset": [8, 0]}
    names = sites["name"] if "name" in sites.columns else pd.Series(sites.index, index=sites.index)
    nearest_kind = _marker_kind(4, _STATUS_COLORS["compliant"], 2, "#ffffff", 1.0)
    for k in np.flatnonzero(located):
        row = sites.iloc[k]
        color = _SITE_COLORS[verdict[k]]
        margin = f"{float(row['margin_m']):+,.0f} m"
        name = _str(names.iloc[k])
        lines: list[_Line] = [
            [(name, "b")],
            [f"{text['verdict']}: ", (text[verdict[k]], color)],
            [f"{text['margin']} ({label}): {margin}"],
            [f"{text['located']}: {_str(row['zone_id']) or '-'}"],
        ]
        if np.isfinite(nearest[k]).all():
            move = f"{float(row['distance_to_zone_m']):,.0f} m"
            lines.append(
                [f"{text['nearest']}: {row['nearest_lon']:.6f}, {row['nearest_lat']:.6f} ({move})"]
            )
            drawing.line(moves, [[lat[k], lon[k]], [nearest[k, 1], nearest[k, 0]]],
                         _line_kind(color, 0.8))  # fmt: skip
            drawing.marker(moves, nearest[k, 1], nearest[k, 0], nearest_kind,
                           tooltip=f"{text['nearest']} · {move}")  # fmt: skip
        kind = _marker_kind(7, "#222222", 1, color, 0.9, label_tip if permanent else None)
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
    _fit(m, south, west, north, east)
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
    text = _CHANGE_TEXT[lang]
    tiles, display_crs = _basemap(basemap)
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
    drawing = _Drawing(tiles)
    _draw_zones(drawing, zones, display_crs, lang)

    def shown(lon: pd.Series, lat: pd.Series) -> NDArray[np.float64]:
        x, y = from_wgs84(lon.to_numpy(float), lat.to_numpy(float), display_crs)
        return np.round(np.column_stack([y, x]), 6)  # Leaflet's (lat, lon)

    gone = changes["change"].isin(["resolved_finding", "facility_removed"]).to_numpy()
    new_at = shown(changes["new_lon"], changes["new_lat"])
    old_at = shown(changes["old_lon"], changes["old_lat"])
    at = np.where(gone[:, None] | ~np.isfinite(new_at), old_at, new_at)
    keys = ["change", "operator_id", "facility_id"]
    numbered = changes.assign(_row=np.arange(len(changes)))
    marks = numbered.groupby(keys, sort=False, dropna=False)["_row"]
    located = [
        (change, operator, facility, rows.to_numpy(), int(rows.iloc[0]))
        for (change, operator, facility), rows in marks
        if np.isfinite(at[int(rows.iloc[0])]).all()
    ]
    unlocated, points = marks.ngroups - len(located), []
    drawn = Counter(change for change, *_ in located)
    layers = {c: drawing.overlay(f"{text[c]} ({drawn[c]})") for c in CHANGES if drawn[c]}
    for change, operator, facility, rows, first in located:
        color = _CHANGE_COLORS[change]
        record = changes.iloc[first]
        facility_text = _str(facility)
        lines: list[_Line] = [[(_str(record["name"]), "b")]] if _str(record["name"]) else []
        lines.append([
            f"{text['operator']}: {_str(operator)} · "
            f"{text['facility']}: {facility_text or text['none']}"
        ])  # fmt: skip
        described = changes["description"].to_numpy()[rows]
        lines += [[(_str(d), color)] for d in described]
        if _str(record["message"]):
            lines.append([(_str(record["message"]), "i")])
        if change == "facility_moved" and np.isfinite(old_at[first]).all():
            drawing.line(layers[change], [old_at[first], new_at[first]], _line_kind(color, 0.9))
            drawing.marker(
                layers[change], *old_at[first], _marker_kind(5, color, 2, "#ffffff", 1.0),
                tooltip=f"{text['old']} · {facility_text}",
            )  # fmt: skip
            points.append(old_at[first])
        drawing.marker(
            layers[change], *at[first], _marker_kind(7, "#222222", 1, color, 0.9),
            tooltip=f"{facility_text or _str(operator)} · {text[change]}", popup=lines,
        )  # fmt: skip
        points.append(at[first])

    legend: list[_Row] = [(None, [(text["title"], "b")])]
    legend += [(_dot(_CHANGE_COLORS[c]), [f"{text[c]} ({drawn[c]})"]) for c in CHANGES]
    if unlocated:
        legend.append((None, [f"{text['unlocated']}: {unlocated}"]))
    if display_crs == "gcj02":
        legend.append((None, [(_TEXT[lang]["gcj02"], "#b00")]))
    drawing.legend = legend
    m.add_child(drawing)
    if points:
        (south, west), (north, east) = np.min(points, axis=0), np.max(points, axis=0)
    else:
        west, south, east, north = shapely.total_bounds(
            geometry_from_wgs84(np.asarray(zones.geometry.values), display_crs)
        )
    _fit(m, south, west, north, east)
    log.info("change map: %d markers, %d changes without location", sum(drawn.values()), unlocated)
    return m


def _sites_legend(
    verdict: NDArray[np.str_],
    unlocated: int,
    label: str,
    feasible: gpd.GeoDataFrame,
    display_crs: str,
    lang: Lang,
) -> list[_Row]:
    text = _SITE_TEXT[lang]
    rows: list[_Row] = [(None, [(f"{text['title']}: {label}", "b")])]
    rows += [
        (_dot(_SITE_COLORS[v]), [f"{text[v]} ({int((verdict == v).sum())})"])
        for v in ("compliant", "band", "outside")
    ]
    band, widest = float(feasible["band_m"].iloc[0]), float(feasible["widest_band_m"].iloc[0])
    wider = f"; {text['approximate']} ±{widest:g} m" if widest > band else ""
    green = _SITE_COLORS["compliant"]
    rows += [
        (f"border-top:2px dashed {_SITE_COLORS['outside']};height:0", [text["move"]]),
        (f"border:2px solid {_ZONE_COLOR}", [text["zone"]]),
        (f"background:{_BAND_COLOR};opacity:.5", [f"{text['band_area']} ±{band:g} m{wider}"]),
        (f"background:{green}33;border:1px solid {green}", [text["feasible"]]),
    ]
    if unlocated:
        rows.append((None, [f"{text['unlocated']}: {unlocated}"]))
    if display_crs == "gcj02":
        rows.append((None, [(_TEXT[lang]["gcj02"], "#b00")]))
    return rows


def _dot(color: str) -> str:
    """The legend swatch of a circle marker filled with ``color``."""
    return f"border-radius:50%;background:{color};border:1px solid #222"


def _fit(m: folium.Map, south: float, west: float, north: float, east: float) -> None:
    """Fit ``m`` to a box, widened about its centre to at least ``_MIN_EXTENT_DEG`` each way.

    A box of one point (a single facility, or all at one place) would make
    Leaflet zoom to infinity and place the map at NaN.
    """
    grow_lat = max(_MIN_EXTENT_DEG - (north - south), 0.0) / 2
    grow_lon = max(_MIN_EXTENT_DEG - (east - west), 0.0) / 2
    corners = [[south - grow_lat, west - grow_lon], [north + grow_lat, east + grow_lon]]
    m.fit_bounds([[round(float(v), 6) for v in corner] for corner in corners])


def _base_map(m: folium.Map | None, tiles: list[folium.TileLayer], offline: bool) -> folium.Map:
    """``m``, or a new canvas-rendered map, with local assets when offline and the tiles added."""
    if m is None:
        m = folium.Map(tiles=None, prefer_canvas=True, control_scale=True)
    if offline:
        _use_local_assets(m)
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


def _basemap(spec: Any) -> tuple[list[folium.TileLayer], str]:
    """The tile layers for ``spec`` and the coordinate system they draw in."""
    if spec is None:
        return [], "wgs84"
    if isinstance(spec, tuple):
        template, attribution = spec
        spec = {"tiles": template, "attribution": attribution}
    if isinstance(spec, Mapping) and "tiles" in spec:
        crs = spec.get("crs", "wgs84")
        if not spec.get("attribution"):
            raise ValueError(f"basemap {spec['tiles']!r} needs a non-empty attribution")
        if crs not in ("wgs84", "gcj02"):
            raise ValueError(f"basemap crs must be 'wgs84' or 'gcj02', not {crs!r}")
        layer = folium.TileLayer(spec["tiles"], attr=spec["attribution"], name="Basemap 底图")
        return [layer], crs
    name = spec.get("name") if isinstance(spec, Mapping) else spec
    if not isinstance(name, str):
        raise TypeError(f"basemap must be a name, template or dict, not {spec!r}")
    if "{" in name:
        raise ValueError(
            f"basemap {name!r} needs an attribution: pass (template, attribution) "
            "or {'tiles': template, 'attribution': ...}"
        )
    name = name.lower()
    if name == "osm":
        return [folium.TileLayer("OpenStreetMap", name="OpenStreetMap")], "wgs84"
    if name in ("gaode", "amap"):
        layer = folium.TileLayer(
            _GAODE, attr="&copy; AutoNavi 高德地图 (GCJ-02)", name="AMap 高德", subdomains="1234",
            max_zoom=18,
        )  # fmt: skip
        return [layer], "gcj02"
    if name == "tianditu":
        key = spec.get("key") if isinstance(spec, Mapping) else None
        if not key or not re.fullmatch(r"[0-9A-Za-z]+", str(key)):
            raise ValueError(
                "basemap 'tianditu' needs your TianDiTu key (letters and digits): "
                "basemap={'name': 'tianditu', 'key': '...'}"
            )
        attribution = "&copy; 天地图 TianDiTu (CGCS2000)"
        vector = folium.TileLayer(
            _TIANDITU.format(layer="vec", key=key), attr=attribution, name="TianDiTu 天地图",
            subdomains="01234567", max_zoom=18,
        )  # fmt: skip
        labels = folium.TileLayer(
            _TIANDITU.format(layer="cva", key=key), attr=attribution, name="TianDiTu labels",
            subdomains="01234567", max_zoom=18, overlay=True, control=False,
        )  # fmt: skip
        return [vector, labels], "wgs84"
    raise ValueError(
        f"unknown basemap {spec!r}: use None, 'osm', 'gaode', 'amap', "
        "{'name': 'tianditu', 'key': ...} or (xyz_template, attribution)"
    )


def _str(value: Any) -> str:
    """A value from the data as text ("" where it is missing)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value)


def _draw_zones(drawing: _Drawing, zones: gpd.GeoDataFrame, display_crs: str, lang: Lang) -> None:
    """Each zone's outline with its name as a permanent label, and a popup with its full name."""
    layer = drawing.overlay(_TEXT[lang]["zones_short"])
    shapes = shapely.simplify(
        np.asarray(zones.geometry.values), SIMPLIFY_DEG, preserve_topology=True
    )
    for zone, shape in zip(zones.itertuples(index=False), shapes, strict=True):
        active = bool(zone.active)
        color = _ZONE_COLOR if active else "#666666"
        style: dict[str, Any] = {"color": color, "weight": 2, "fillColor": color,
                                 "fillOpacity": 0.06}  # fmt: skip
        label = _str(getattr(zone, f"short_name_{lang}")) or _str(zone.zone_id)
        if not active:
            style["dashArray"] = "6 4"
            label += f" ({_TEXT[lang]['inactive']})"
        kind = _shape_kind(style, tooltip=_ZONE_LABEL)
        popup: list[_Line] = [[(label, "b")], [_str(getattr(zone, f"name_{lang}"))]]
        drawing.shape(layer, _geometry(shape, display_crs), kind, label=label, popup=popup)


def _band_shape(zones: gpd.GeoDataFrame, display_crs: str) -> dict[str, Any]:
    """Everything within a border's accuracy of it, as :func:`pilotzone.locate` flags it.

    That is the ring within the zone's ``accuracy_m`` of its border, plus the
    wider strip along each of its ``approximate_borders`` stretches, built in
    metres in a projection centred on the zone and drawn to a tenth of its width.
    """
    bands = []
    pieces = zones["approximate_borders"] if "approximate_borders" in zones else [()] * len(zones)
    for shape, accuracy, stretches in zip(
        zones.geometry.values, zones["accuracy_m"], pieces, strict=True
    ):
        centre = shape.centroid
        local = f"+proj=aeqd +lat_0={centre.y:.6f} +lon_0={centre.x:.6f} +datum=WGS84 +units=m"
        metric = shapely.simplify(geometry_from_wgs84(shape, local), accuracy / 10)
        parts = [metric.buffer(accuracy).difference(metric.buffer(-accuracy))]
        parts += [geometry_from_wgs84(p.geometry, local).buffer(p.accuracy_m) for p in stretches]
        band = shapely.simplify(shapely.union_all(parts), accuracy / 10, preserve_topology=True)
        bands.append(shapely.transform(band, functools.partial(_to_wgs84_xy, crs=local)))
    return _geometry(shapely.union_all(bands), display_crs)


def _geometry(shape: Any, display_crs: str) -> dict[str, Any]:
    """A GeoJSON geometry of a WGS-84 shape in the display CRS, to 6 decimals (0.1 m)."""
    shown = shapely.transform(
        geometry_from_wgs84(shape, display_crs), functools.partial(np.round, decimals=6)
    )
    return dict(shown.__geo_interface__)


def _to_wgs84_xy(xy: NDArray[np.float64], crs: str) -> NDArray[np.float64]:
    return np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], crs))


def _popup(row: Any, text: dict[str, str], lang: Lang, names: dict[str, str]) -> list[_Line]:
    distance = row.border_distance_m
    shown = text["beyond_band"] if pd.isna(distance) else f"{float(distance):,.0f} m"
    codes = [c for c in row.reasons.split(";") if c] if isinstance(row.reasons, str) else []
    reasons: list[_Line] = [[f"• {describe(c, lang)}"] for c in codes] or [[text["none"]]]
    color = _STATUS_COLORS.get(str(row.status), "#7f7f7f")
    zone = _str(_zone_name(row.zone_id, names, lang)) or "-"
    registration = _str(_zone_name(row.registration_zone, names, lang)) or "-"
    lines: list[_Line] = [
        [(_str(row.name), "b")],
        [f"{text['operator']}: {_str(row.operator_id)} · {text['facility']}: "
         f"{_str(row.facility_id)}"],
        [f"{text['address']}: {_str(row.address)}"],
        [f"{text['kind']}: {_str(_word(row.kind, text))} · "
         f"{text['tenure']}: {_str(_word(row.tenure, text))}"],
        [f"{text['zone']}: {zone} · {text['registration_zone']}: {registration}"],
        [f"{text['distance']}: {shown}"],
        [f"{text['status']}: ", (_str(text.get(row.status, row.status)), color)],
        [f"{text['reasons']}:"],
        *reasons,
    ]  # fmt: skip
    if _str(row.message):
        lines.append([(_str(row.message), "i")])
    return lines


def _word(code: Any, text: dict[str, str]) -> Any:
    """A kind or tenure code from the filing in words, where the language has them."""
    if not isinstance(code, str):
        return code
    return text.get("registration_kind" if code == "registration" else code, code)


def _zone_name(zone: Any, names: dict[str, str], lang: Lang) -> Any:
    """A zone id as popups show it: in English the id (as reported), in Chinese the name."""
    return names.get(zone, zone) if lang == "zh" and isinstance(zone, str) else zone


def _legend_rows(
    result: gpd.GeoDataFrame,
    located: np.ndarray,
    zones: gpd.GeoDataFrame,
    capped: int,
    display_crs: str,
    text: dict[str, str],
    lang: Lang,
) -> list[_Row]:
    counts = result["status"][located].astype(str).value_counts()
    rows: list[_Row] = [(None, [(text["title"], "b")])]
    rows += [
        (_dot(color), [f"{text[status]} ({counts.get(status, 0)})"])
        for status, color in _STATUS_COLORS.items()
    ]
    rows += [
        ("border-radius:50%;border:3px solid #222;width:10px;height:10px", [text["registration"]]),
        (f"border-top:2px dashed {_STATUS_COLORS['violation']};height:0", [text["line"]]),
        (f"border:2px solid {_ZONE_COLOR};background:{_ZONE_COLOR}22", [text["zones"]]),
        (f"background:{_BAND_COLOR};opacity:.5", [text["band"]]),
    ]
    for zone in zones.itertuples(index=False):
        wider = [p.accuracy_m for p in getattr(zone, "approximate_borders", ())]
        note = f"; {text['approximate']} ±{max(wider):g} m" if wider else ""
        name = _str(getattr(zone, f"short_name_{lang}")) or _str(zone.zone_id)
        rows.append((None, [(f"{name} ±{float(zone.accuracy_m):g} m{note}", "s")]))
    if (~located).any():
        rows.append((None, [f"{text['unlocated']}: {(~located).sum()}"]))
    if capped:
        rows.append((None, [f"{text['capped']}: {capped}"]))
    if display_crs == "gcj02":
        rows.append((None, [(text["gcj02"], "#b00")]))
    return rows


def _draw_facilities(
    drawing: _Drawing,
    result: gpd.GeoDataFrame,
    located: NDArray[np.bool_],
    lat: NDArray[np.float64],
    lon: NDArray[np.float64],
    text: dict[str, str],
    lang: Lang,
    names: dict[str, str],
) -> int:
    """Every located facility as a circle marker, and the violation lines.

    The layer control has one layer per status and one per operator (the
    :data:`MAX_OPERATOR_LAYERS` operators with most findings). A facility is
    shown while both are on: the page's script puts its marker in a group per
    (status, operator) inside the status layer, and the operator layers are
    switches that move those groups in and out of their status layers.

    Returns the number of operators left without a layer of their own.
    """
    frame = pd.DataFrame({c: result[c].to_numpy() for c in _COLUMNS})
    frame["lat"], frame["lon"] = lat, lon
    frame["operator_id"] = frame["operator_id"].map(_str)
    frame["status"] = frame["status"].astype(str)
    frame["registration"] = frame["kind"].astype(str).eq("registration")
    frame = frame[located]

    statuses = [s for s in _STATUS_COLORS if (frame["status"] == s).any()]
    statuses += sorted(set(frame["status"]) - set(statuses))
    counts = frame["status"].value_counts()
    layers = {s: drawing.overlay(f"{text.get(s, s)} ({counts[s]})") for s in statuses}

    findings = (frame["status"] != "compliant").groupby(frame["operator_id"]).sum()
    ranked = sorted(findings.index, key=lambda op: (-findings[op], op))
    operators = sorted(ranked[:MAX_OPERATOR_LAYERS])
    capped = len(ranked) - len(operators)
    if capped:
        log.info(
            "%d operators have no layer of their own (limit %d; those with most findings kept)",
            capped, MAX_OPERATOR_LAYERS,
        )  # fmt: skip
    sizes = frame["operator_id"].value_counts()
    switches = {op: drawing.switch(f"{text['operator']} {op} ({sizes[op]})") for op in operators}

    registrations = frame[frame["registration"]].groupby("operator_id")
    home = {op: (g["lat"].iat[0], g["lon"].iat[0]) for op, g in registrations if len(g) == 1}
    # Drawn in this order: violations last, on top.
    frame = frame.assign(_rank=frame["status"].map(_DRAW_ORDER).fillna(1))
    for row in frame.sort_values(["_rank", "registration"], kind="stable").itertuples():
        color = _STATUS_COLORS.get(row.status, _STATUS_COLORS["invalid"])
        layer, switch = layers[row.status], switches.get(row.operator_id, -1)
        kind = _marker_kind(8 if row.registration else 5, "#222222",
                            3 if row.registration else 1, color, 0.85)  # fmt: skip
        tooltip = f"{_str(row.name)} · {text.get(row.status, row.status)}"
        popup = _popup(row, text, lang, names)
        drawing.marker(layer, row.lat, row.lon, kind, tooltip=tooltip, popup=popup, switch=switch)
    for row in frame[frame["status"].eq("violation") & ~frame["registration"]].itertuples():
        if row.operator_id in home:
            path = [home[row.operator_id], (row.lat, row.lon)]
            drawing.line(layers[row.status], path, _line_kind(_STATUS_COLORS["violation"], 0.8),
                         switch=switches.get(row.operator_id, -1))  # fmt: skip
    return capped


# --------------------------------------------------------------------------- the page's data

#: Text of a popup or legend line: plain pieces, and (text, format) pieces, format "b" bold,
#: "i" italic, "s" small or a "#rgb" colour (bold in that colour).
_Line = list[str | tuple[str, str]]
#: A legend row: the CSS of its swatch (None: no swatch), and its text.
_Row = tuple[str | None, _Line]

_ZONE_LABEL = {"permanent": True, "direction": "top", "offset": [0, -8],
               "className": "pilotzone-zone"}  # fmt: skip
_IDENTIFIER = re.compile(r"[a-z0-9_]+")
# Characters that could end the data's <script> element or that JavaScript once read as
# line ends; JSON lets every one of them be written as a \u escape.
_JSON_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def _marker_kind(
    radius: int,
    color: str,
    weight: int,
    fill: str,
    opacity: float,
    tooltip: dict[str, Any] | None = None,
) -> dict[str, Any]:
    options = {"radius": radius, "color": color, "weight": weight, "fillColor": fill,
               "fillOpacity": opacity}  # fmt: skip
    return {"type": "marker", "options": options, "tooltip": tooltip or {"sticky": True}}


def _line_kind(color: str, opacity: float) -> dict[str, Any]:
    options = {"color": color, "weight": 2, "opacity": opacity, "dashArray": "6 4",
               "interactive": False}  # fmt: skip
    return {"type": "line", "options": options}


def _shape_kind(style: dict[str, Any], tooltip: dict[str, Any] | None = None) -> dict[str, Any]:
    options = style if tooltip else {**style, "interactive": False}
    return {"type": "shape", "options": options, "tooltip": tooltip}


_BAND_KIND = _shape_kind({"stroke": False, "fillColor": _BAND_COLOR, "fillOpacity": 0.35})


def _json_for_html(data: Any) -> str:
    """JSON that can stand inside an HTML ``<script>`` element: no ``<``, ``>``, ``&``, U+2028/9."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.translate(_JSON_ESCAPES)


class _Raw(Element):
    """Text put into the page as it is: never compiled or rendered as a template."""

    def __init__(self, text: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class _Drawing(MacroElement):
    """Everything pilotzone draws on a map, carried into the page as data.

    folium renders an element's output a second time as a Jinja2 template
    (``MacroElement.render`` wraps it in ``Element(text)``), so text from a
    filing or a boundary file must never be part of a folium element. Here it
    is JSON in a ``<script type="application/json">`` element, attached to the
    page by :class:`_Raw` elements, and :data:`_SCRIPT`, which holds no data,
    builds the layers, popups, tooltips, labels, legend and layer control from
    it with DOM nodes and ``textContent``.

    Items are drawn in the order they were added. Each goes into an overlay
    (a layer of the layer control) and optionally a switch (an operator
    layer: the item shows while both its overlay and its switch are on).
    """

    def __init__(self, tiles: list[folium.TileLayer]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "PilotzoneData"
        self.overlays: list[str] = []
        self.switches: list[str] = []
        self.kinds: list[dict[str, Any]] = []
        self.items: list[list[Any]] = []
        self.legend: list[_Row] = []
        self.collapsed = False
        self._tiles = tiles
        self._kind_index: dict[str, int] = {}

    def overlay(self, name: str) -> int:
        self.overlays.append(name)
        return len(self.overlays) - 1

    def switch(self, name: str) -> int:
        self.switches.append(name)
        return len(self.switches) - 1

    def marker(
        self,
        overlay: int,
        lat: float,
        lon: float,
        kind: dict[str, Any],
        *,
        tooltip: str,
        popup: list[_Line] | None = None,
        switch: int = -1,
    ) -> None:
        self._add(kind, overlay, switch, [float(lat), float(lon)], tooltip, popup)

    def line(
        self, overlay: int, path: Any, kind: dict[str, Any], *, switch: int = -1
    ) -> None:
        self._add(kind, overlay, switch, [[float(lat), float(lon)] for lat, lon in path])

    def shape(
        self,
        overlay: int,
        geometry: dict[str, Any],
        kind: dict[str, Any],
        *,
        label: str | None = None,
        popup: list[_Line] | None = None,
    ) -> None:
        self._add(kind, overlay, -1, geometry, label, popup)

    def _add(self, kind: dict[str, Any], *item: Any) -> None:
        key = json.dumps(kind, sort_keys=True)
        index = self._kind_index.setdefault(key, len(self.kinds))
        if index == len(self.kinds):
            self.kinds.append(kind)
        while item[-1] is None:
            item = item[:-1]
        self.items.append([index, *item])

    def data(self) -> dict[str, Any]:
        """What the page's script reads."""
        tiles = [[t.get_name(), t.layer_name, bool(t.overlay)] for t in self._tiles if t.control]
        return {
            "tiles": tiles, "overlays": self.overlays, "switches": self.switches,
            "collapsed": self.collapsed, "kinds": self.kinds, "items": self.items,
            "legend": [[swatch, line] for swatch, line in self.legend],
        }  # fmt: skip

    def render(self, **kwargs: Any) -> None:
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError("a pilotzone drawing renders only on a folium map in a figure")
        data_id, map_id = self.get_name(), self._parent.get_name()
        names = [data_id, map_id, *(t.get_name() for t in self._tiles)]
        wrong = [name for name in names if not _IDENTIFIER.fullmatch(name)]
        if wrong:
            raise ValueError(f"element names must be [a-z0-9_]: {wrong}")
        payload = _json_for_html(self.data())
        figure.header.add_child(_Raw(_STYLE), name="pilotzone_style")
        figure.header.add_child(_Raw(f"<script>{_SCRIPT}</script>"), name="pilotzone_script")
        figure.html.add_child(
            _Raw(f'<script type="application/json" id="{data_id}">{payload}</script>'),
            name=data_id,
        )
        figure.script.add_child(_Raw(f'pilotzone_draw({map_id}, "{data_id}");'), name=data_id)


_STYLE = """<style>.pilotzone-legend{background:#fff;padding:6px 8px;font:12px/1.5 sans-serif;
max-width:340px;border-radius:4px;box-shadow:0 0 6px rgba(0,0,0,.3)}
.leaflet-tooltip.pilotzone-zone{background:none;border:none;box-shadow:none;
color:#1f5fbf;font-weight:bold;text-shadow:0 0 3px #fff,0 0 3px #fff}
.leaflet-tooltip.pilotzone-zone:before{display:none}</style>"""

# Constant: the page's data reaches the DOM only as text nodes and textContent.
_SCRIPT = """
function pilotzone_draw(map, id) {
    "use strict";
    var data = JSON.parse(document.getElementById(id).textContent);
    function write(parent, line) {
        line.forEach(function (piece) {
            if (typeof piece === "string") {
                parent.appendChild(document.createTextNode(piece));
                return;
            }
            var format = piece[1];
            var tag = {i: "i", s: "small"}[format] || "b";
            var node = parent.appendChild(document.createElement(tag));
            node.textContent = piece[0];
            if (format.charAt(0) === "#") { node.style.color = format; }
        });
    }
    function box(lines) {
        var div = document.createElement("div");
        lines.forEach(function (line, i) {
            if (i) { div.appendChild(document.createElement("br")); }
            write(div, line);
        });
        return div;
    }
    function label(text) {
        var span = document.createElement("span");
        span.textContent = text;
        return span;
    }
    var Layers = L.Control.Layers.extend({
        _addItem: function (entry) {
            var item = L.Control.Layers.prototype._addItem.call(
                this, {layer: entry.layer, overlay: entry.overlay, name: ""});
            item.firstChild.lastChild.textContent = " " + entry.name;
            return item;
        }
    });
    var control = map.pilotzoneLayers;
    if (!control) {
        control = map.pilotzoneLayers = new Layers({}, {}, {collapsed: data.collapsed});
        control.addTo(map);
    }
    data.tiles.forEach(function (tile) {
        var layer = window[tile[0]];
        if (tile[2]) { control.addOverlay(layer, tile[1]); }
        else { control.addBaseLayer(layer, tile[1]); }
    });
    var overlays = data.overlays.map(function (name) {
        var layer = L.featureGroup().addTo(map);
        control.addOverlay(layer, name);
        return layer;
    });
    var switches = data.switches.map(function (name) {
        var layer = L.featureGroup().addTo(map);
        control.addOverlay(layer, name);
        return layer;
    });
    var pairs = {};
    function group(o, s) {
        if (s < 0) { return overlays[o]; }
        var key = o + "/" + s;
        return pairs[key] || (pairs[key] = L.featureGroup().addTo(overlays[o]));
    }
    data.items.forEach(function (item) {
        var kind = data.kinds[item[0]], layer;
        if (kind.type === "marker") { layer = L.circleMarker(item[3], kind.options); }
        else if (kind.type === "line") { layer = L.polyline(item[3], kind.options); }
        else { layer = L.geoJSON(item[3], L.extend({style: kind.options}, kind.options)); }
        var tooltip = item[4], popup = item[5];
        if (typeof tooltip === "string") {
            layer.bindTooltip(function () { return label(tooltip); }, kind.tooltip);
        }
        if (popup) {
            layer.bindPopup(function () { return box(popup); }, {maxWidth: 320});
        }
        layer.addTo(group(item[1], item[2]));
    });
    map.on("overlayadd overlayremove", function (e) {
        var s = switches.indexOf(e.layer);
        if (s < 0) { return; }
        overlays.forEach(function (layer, o) {
            var pair = pairs[o + "/" + s];
            if (pair && e.type === "overlayadd") { layer.addLayer(pair); }
            if (pair && e.type === "overlayremove") { layer.removeLayer(pair); }
        });
    });
    var legend = L.control({position: "bottomleft"});
    legend.onAdd = function () {
        var div = L.DomUtil.create("div", "pilotzone-legend");
        data.legend.forEach(function (row, i) {
            if (i) { div.appendChild(document.createElement("br")); }
            if (row[0] !== null) {
                var swatch = div.appendChild(document.createElement("span"));
                swatch.style.cssText = "display:inline-block;width:12px;height:12px;" + row[0];
                div.appendChild(document.createTextNode(" "));
            }
            write(div, row[1]);
        });
        L.DomEvent.disableClickPropagation(div);
        return div;
    };
    legend.addTo(map);
}
"""


@functools.cache
def _data_uri(name: str) -> str:
    """A ``data:`` URI of one of folium's assets from its xstatic package."""
    package, filename = _LOCAL_ASSETS[name]
    folder = Path(importlib.import_module(f"xstatic.pkg.{package}").BASE_DIR)
    content = (folder / filename).read_bytes()
    if filename.endswith(".css"):
        # Leaflet's CSS points at images/*.png; a data: stylesheet has no folder.
        def image(match: re.Match[bytes]) -> bytes:
            png = (folder / "images" / match.group(1).decode()).read_bytes()
            return b"url(data:image/png;base64," + base64.b64encode(png) + b")"

        content = re.sub(rb"url\(images/([\w.-]+\.png)\)", image, content)
        return "data:text/css;base64," + base64.b64encode(content).decode()
    return "data:text/javascript;base64," + base64.b64encode(content).decode()


def _offline_assets(assets: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """An asset list (``default_js``/``default_css``) as it is saved offline.

    Each of folium's CDN assets that has a local copy becomes that copy's ``data:`` URI, each
    icon asset is dropped, anything else is kept. Assets are matched by URL, so another
    version of Leaflet under the same name stays what it is.
    """
    local, icons = _cdn_assets()
    return [(name, local.get(url, url)) for name, url in assets if url not in icons]


def _cdn_assets() -> tuple[dict[str, str], set[str]]:
    """folium's CDN URLs with a local copy (and that copy's ``data:`` URI), and its icon URLs."""
    assets = [*folium.Map.default_js, *folium.Map.default_css]
    local = {url: _data_uri(name) for name, url in assets if name in _LOCAL_ASSETS}
    return local, {url for name, url in assets if name in _ICON_ASSETS}


def _use_local_assets(m: folium.Map) -> None:
    """Give ``m`` its own asset lists with local copies, leaving folium's class lists alone."""
    m.default_js = _offline_assets(m.default_js)
    m.default_css = _offline_assets(m.default_css)


def _offline_page(m: folium.Map) -> tuple[str, list[str]]:
    """Render ``m`` with local copies of folium's CDN assets and without its icon assets.

    Returns the page and what it would still need from the network.

    Notes
    -----
    Only asset elements are changed, never the page's text: for this render
    every element of the map that lists assets (folium's ``JSCSSMixin``) gets
    its lists through :func:`_offline_assets`, and the figure's header, which
    keeps the asset links of earlier renders and any a caller added, gets the
    same treatment of its links. Both are restored afterwards. Text from a
    filing, JSON data in the page, is never searched or rewritten, so a name
    equal to an asset's URL stays as filed.

    What still needs the network is read from the rendered markup: an HTML
    parser sees the URLs of script, stylesheet, image and frame tags, while
    the page's data, the raw text of a ``<script type="application/json">``
    element with ``<`` written as ``\\u003c``, can hold no tag. ``folium.Icon``
    markers are found as elements of the map, also those a ``GeoJson`` layer
    draws its points with.
    """
    figure = m.get_root()
    if not isinstance(figure, Figure):
        raise TypeError("only a folium map in a figure can be saved")
    elements = list({id(e): e for e in _elements(figure)}.values())  # each once
    listing = [e for e in elements if isinstance(e, JSCSSMixin)]
    own = [{k: vars(e)[k] for k in ("default_js", "default_css") if k in vars(e)} for e in listing]
    header = figure.header._children
    links: dict[str, Element] = {}
    for name, child in header.items():
        if isinstance(child, Link):
            kept = _offline_assets([(name, child.url)])
            if not kept:
                continue
            child = copy.copy(child)
            child.url = kept[0][1]
        links[name] = child
    try:
        for element in listing:
            element.default_js = _offline_assets(element.default_js)
            element.default_css = _offline_assets(element.default_css)
        figure.header._children = OrderedDict(links)
        page = figure.render()
    finally:
        figure.header._children = header
        for element, lists in zip(listing, own, strict=True):
            for key in ("default_js", "default_css"):
                if key in lists:
                    setattr(element, key, lists[key])
                else:
                    delattr(element, key)
    needs = _remote_assets(page)
    if any(isinstance(e, folium.Icon) for e in elements):
        needs.append("folium.Icon markers (Bootstrap, awesome-markers and Font Awesome)")
    return page, needs


def _elements(element: Element) -> Iterator[Element]:
    """An element and every element under it, with the marker a ``GeoJson`` draws points with."""
    yield element
    marker = getattr(element, "marker", None)
    for child in [*element._children.values(), *([marker] if isinstance(marker, Element) else [])]:
        yield from _elements(child)


class _AssetFinder(HTMLParser):
    """Collect the URLs of scripts, stylesheets, images and frames in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attribute = {"script": "src", "link": "href", "img": "src", "iframe": "src"}.get(tag)
        url = dict(attrs).get(attribute or "") or ""
        if attribute and url:
            self.urls.append(url)


def _remote_assets(page: str) -> list[str]:
    """Asset URLs in a page that a browser would fetch from the network."""
    finder = _AssetFinder()
    finder.feed(page)
    return [u for u in finder.urls if re.match(r"\s*(https?:)?//", u, re.IGNORECASE)]
