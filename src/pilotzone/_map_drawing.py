"""What pilotzone draws on a folium map, as data, and the geometry it draws.

:class:`Drawing` carries every layer, popup, tooltip, label and legend row
into the page as JSON that a constant script builds with DOM nodes and
``textContent`` (see "Filing text is data" in :mod:`pilotzone.maps`); the
kinds of item (:func:`marker_kind`, :func:`line_kind`, :func:`shape_kind`),
the colours, and the shapes in the display CRS (:func:`geometry`,
:func:`band_shape`) are its vocabulary.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from branca.element import Element, Figure, MacroElement
from numpy.typing import NDArray

from pilotzone import _geodesy as geodesy
from pilotzone._map_points import POINTS_SCRIPT
from pilotzone.crs import geometry_from_wgs84, to_wgs84

STATUS_COLORS = {
    "violation": "#d62728",
    "review": "#ff7f0e",
    "invalid": "#7f7f7f",
    "compliant": "#2ca02c",
}
ZONE_COLOR = "#1f5fbf"
BAND_COLOR = "#ff7f0e"
#: A map fitted to less than this many degrees (about 1 km) each way is widened to it.
_MIN_EXTENT_DEG = 0.01
#: Text of a popup or legend line: plain pieces, and (text, format) pieces, format "b" bold,
#: "i" italic, "s" small or a "#rgb" colour (bold in that colour).
Line = list[str | tuple[str, str]]
#: A legend row: the CSS of its swatch (None: no swatch), and its text.
Row = tuple[str | None, Line]
ZONE_LABEL = {"permanent": True, "direction": "top", "offset": [0, -8],
              "className": "pilotzone-zone"}  # fmt: skip
_IDENTIFIER = re.compile(r"[a-z0-9_]+")
# Characters that could end the data's <script> element or that JavaScript once read as
# line ends; JSON lets every one of them be written as a \u escape.
#: What JSON inside an HTML ``<script>`` element must not hold, and its JSON escape instead.
_JSON_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def marker_kind(
    radius: int,
    color: str,
    weight: int,
    fill: str,
    opacity: float,
    tooltip: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The kind of a circle marker: its style and its tooltip's options."""
    options = {"radius": radius, "color": color, "weight": weight, "fillColor": fill,
               "fillOpacity": opacity}  # fmt: skip
    return {"type": "marker", "options": options, "tooltip": tooltip or {"sticky": True}}


def line_kind(color: str, opacity: float) -> dict[str, Any]:
    """The kind of a dashed line that takes no clicks."""
    options = {"color": color, "weight": 2, "opacity": opacity, "dashArray": "6 4",
               "interactive": False}  # fmt: skip
    return {"type": "line", "options": options}


def shape_kind(style: dict[str, Any], tooltip: dict[str, Any] | None = None) -> dict[str, Any]:
    """The kind of a polygon: clickable only with a tooltip (a zone's label)."""
    options = style if tooltip else {**style, "interactive": False}
    return {"type": "shape", "options": options, "tooltip": tooltip}


def json_for_html(data: Any) -> str:
    """JSON that can stand inside an HTML ``<script>`` element: no ``<``, ``>``, ``&``, U+2028/9."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    # One str.replace per character (a C search each) rather than str.translate, which maps
    # the map's 13 MB of data character by character in Python (0.8 s).
    for character, escape in _JSON_ESCAPES:
        text = text.replace(character, escape)
    return text


class Raw(Element):
    """Text put into the page as it is: never compiled or rendered as a template."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class Drawing(MacroElement):
    """Everything pilotzone draws on a map, carried into the page as data.

    folium renders an element's output a second time as a Jinja2 template
    (``MacroElement.render`` wraps it in ``Element(text)``), so text from a
    filing or a boundary file must never be part of a folium element. Here it
    is JSON in a ``<script type="application/json">`` element, attached to the
    page by :class:`Raw` elements, and :data:`_SCRIPT`, which holds no data,
    builds the layers, popups, tooltips, labels, legend and layer control from
    it with DOM nodes and ``textContent``.

    Items are drawn in the order they were added. Each goes into an overlay
    (a layer of the layer control) and optionally a switch (an operator
    layer: the item shows while both its overlay and its switch are on).
    ``points``, when set, is a table of facilities from
    :func:`pilotzone._map_points.pack` with what its canvas layer needs to
    draw it (see :data:`pilotzone._map_points.POINTS_SCRIPT`).
    """

    def __init__(self, tiles: list[folium.TileLayer]) -> None:
        super().__init__()
        self._name = "PilotzoneData"
        self.overlays: list[str] = []
        self.switches: list[str] = []
        self.kinds: list[dict[str, Any]] = []
        self.items: list[list[Any]] = []
        self.legend: list[Row] = []
        self.points: dict[str, Any] | None = None
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
        popup: list[Line] | None = None,
        switch: int = -1,
    ) -> None:
        self._add(kind, overlay, switch, [float(lat), float(lon)], tooltip, popup)

    def line(self, overlay: int, path: Any, kind: dict[str, Any], *, switch: int = -1) -> None:
        self._add(kind, overlay, switch, [[float(lat), float(lon)] for lat, lon in path])

    def shape(
        self,
        overlay: int,
        geometry: dict[str, Any],
        kind: dict[str, Any],
        *,
        label: str | None = None,
        popup: list[Line] | None = None,
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
            "legend": [[swatch, line] for swatch, line in self.legend], "points": self.points,
        }  # fmt: skip

    def payload(self) -> str:
        """:meth:`data` as JSON for the page (:func:`json_for_html`).

        The facilities' block, base64 (nothing in it for JSON or HTML to escape),
        goes in as it is after the rest is made JSON: 14 MB of a 1M-row map
        neither encoded nor searched for ``<>&`` (0.1 s).
        """
        data = self.data()
        if self.points is None:
            return json_for_html(data)
        table = self.points["table"]
        empty = {**data, "points": {**self.points, "table": {**table, "data": ""}}}
        text = json_for_html(empty)
        # "points" is a key of the top level only, and the table's keys come before any
        # text (a quote inside a string is escaped): its empty "data" is the first after it.
        at = text.index('"data":""', text.index('"points":{"table":{')) + len('"data":"')
        return text[:at] + table["data"] + text[at:]

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # MacroElement's gives None
        figure = self.get_root()
        # without a parent a drawing is its own root, not a Figure: the second test adds nothing
        if not isinstance(figure, Figure) or self._parent is None:
            raise TypeError("a pilotzone drawing renders only on a folium map in a figure")
        data_id, map_id = self.get_name(), self._parent.get_name()
        names = [data_id, map_id, *(t.get_name() for t in self._tiles)]
        wrong = [name for name in names if not _IDENTIFIER.fullmatch(name)]
        if wrong:
            raise ValueError(f"element names must be [a-z0-9_]: {wrong}")
        payload = self.payload()
        figure.header.add_child(Raw(_STYLE), name="pilotzone_style")
        figure.header.add_child(Raw(f"<script>{_SCRIPT}</script>"), name="pilotzone_script")
        if self.points is not None:
            figure.header.add_child(Raw(f"<script>{POINTS_SCRIPT}</script>"),
                                    name="pilotzone_points_script")  # fmt: skip
        figure.html.add_child(
            Raw(f'<script type="application/json" id="{data_id}">{payload}</script>'),
            name=data_id,
        )
        figure.script.add_child(Raw(f'pilotzone_draw({map_id}, "{data_id}");'), name=data_id)


_STYLE = """<style>.pilotzone-legend,.pilotzone-lines-hidden{background:#fff;padding:6px 8px;
font:12px/1.5 sans-serif;max-width:340px;border-radius:4px;box-shadow:0 0 6px rgba(0,0,0,.3)}
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
    // A new control goes on the map once its layers are in: on the map, it rebuilds its whole
    // list for each layer added (hundreds of operator layers took seconds).
    var control = map.pilotzoneLayers, fresh = !control;
    if (fresh) {
        control = map.pilotzoneLayers = new Layers({}, {}, {collapsed: data.collapsed});
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
    if (data.points) {
        var loaded = pilotzone_points(map, data.points, overlays, switches, box, label);
        (map.pilotzoneLoaded = map.pilotzoneLoaded || []).push(loaded.catch(function (error) {
            console.error("pilotzone: the facilities could not be drawn: " + error);
        }));
    }
    if (fresh) { control.addTo(map); }
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


def dot(color: str) -> str:
    """The legend swatch of a circle marker filled with ``color``."""
    return f"border-radius:50%;background:{color};border:1px solid #222"


def fit(m: folium.Map, south: float, west: float, north: float, east: float) -> None:
    """Fit ``m`` to a box, widened about its centre to at least ``_MIN_EXTENT_DEG`` each way.

    A box of one point (a single facility, or all at one place) would make
    Leaflet zoom to infinity and place the map at NaN.
    """
    grow_lat = max(_MIN_EXTENT_DEG - (north - south), 0.0) / 2
    grow_lon = max(_MIN_EXTENT_DEG - (east - west), 0.0) / 2
    corners = [[south - grow_lat, west - grow_lon], [north + grow_lat, east + grow_lon]]
    m.fit_bounds([[round(float(v), 6) for v in corner] for corner in corners])


def as_text(value: Any) -> str:
    """A value from the data as text ("" where it is missing)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value)


def as_texts(values: pd.Index) -> list[str] | pa.Array:
    """:func:`as_text` of every value; a string column's all at once, as an Arrow array.

    Its values are ``str`` or missing, so the text is the value or "": no Python
    object per value, which a column of distinct ids or names would make a million of
    (:func:`pilotzone._map_points.pack` writes such an array's JSON without them).
    """
    if isinstance(values.dtype, pd.StringDtype):
        texts = pc.fill_null(pa.array(values.array), "")  # chunked, from some arrays
        return texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
    return [as_text(value) for value in values.tolist()]


def _round_6(xy: NDArray[np.float64]) -> NDArray[np.float64]:
    """Coordinates rounded to 6 decimals."""
    return np.round(xy, decimals=6)


def geometry(shape: Any, display_crs: str) -> dict[str, Any]:
    """A GeoJSON geometry of a WGS-84 shape in the display CRS, to 6 decimals (0.1 m)."""
    shown = shapely.transform(geometry_from_wgs84(shape, display_crs), _round_6)
    return dict(shown.__geo_interface__)


def band_shape(zones: gpd.GeoDataFrame, display_crs: str) -> dict[str, Any]:
    """Everything within a border's accuracy of it, as :func:`pilotzone.locate` flags it.

    That is the strip within the zone's ``accuracy_m`` of the border no stretch
    holds, plus the strip along each of its ``approximate_borders`` stretches
    (a coast's on the sea side only), built in metres in a projection centred
    on the zone and drawn to a tenth of its width.
    """
    bands = []
    pieces = zones["approximate_borders"] if "approximate_borders" in zones else [()] * len(zones)
    for shape, accuracy, stretches in zip(
        zones.geometry.values, zones["accuracy_m"], pieces, strict=True
    ):
        centre = shape.centroid
        local = f"+proj=aeqd +lat_0={centre.y:.6f} +lon_0={centre.x:.6f} +datum=WGS84 +units=m"
        strips = [geodesy.stretch(p) for p in stretches]
        # the zone in metres, only where a coast's strip is cut to the sea side by it
        metric = (
            shapely.simplify(geometry_from_wgs84(shape, local), accuracy / 10)
            if any(coast for *_, coast in strips)
            else None
        )
        held = shapely.buffer(shapely.union_all([p.geometry for p in stretches]), 1e-6)
        rest = geometry_from_wgs84(shapely.difference(shape.boundary, held), local)
        parts = [rest.buffer(accuracy)]
        for line, width, coast in strips:
            strip = geometry_from_wgs84(line, local).buffer(width)
            parts.append(strip.difference(metric) if coast else strip)
        band = shapely.simplify(shapely.union_all(parts), accuracy / 10, preserve_topology=True)
        bands.append(shapely.transform(band, functools.partial(_to_wgs84_xy, crs=local)))
    return geometry(shapely.union_all(bands), display_crs)


def _to_wgs84_xy(xy: NDArray[np.float64], crs: str) -> NDArray[np.float64]:
    return np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], crs))
