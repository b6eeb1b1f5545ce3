"""Basemaps and offline assets of pilotzone's maps.

:func:`tile_layers` turns a basemap name or template into folium tile layers and
the CRS they draw in. :func:`use_local_assets` and :func:`offline_page` put
local copies of folium's CDN assets (Leaflet, its CSS, jQuery) in place of
their URLs and drop its icon assets, and tell what a page would still fetch
from the network (see "Offline" in :mod:`pilotzone.maps`).
"""

from __future__ import annotations

import base64
import copy
import functools
import importlib
import re
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import folium
from branca.element import Element, Figure, Link
from folium.elements import JSCSSMixin

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


def tile_layers(spec: Any) -> tuple[list[folium.TileLayer], str]:
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
    """Folium's CDN URLs with a local copy (and that copy's ``data:`` URI), and its icon URLs."""
    assets = [*folium.Map.default_js, *folium.Map.default_css]
    local = {url: _data_uri(name) for name, url in assets if name in _LOCAL_ASSETS}
    return local, {url for name, url in assets if name in _ICON_ASSETS}


def use_local_assets(m: folium.Map) -> None:
    """Give ``m`` its own asset lists with local copies, leaving folium's class lists alone."""
    m.default_js = _offline_assets(m.default_js)
    m.default_css = _offline_assets(m.default_css)


def offline_page(m: folium.Map) -> tuple[str, list[str]]:
    r"""Render ``m`` with local copies of folium's CDN assets and without its icon assets.

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
    element with ``<`` written as ``\u003c``, can hold no tag. ``folium.Icon``
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
