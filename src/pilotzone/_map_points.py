"""A compact binary table of map points, and the canvas layer that draws it in the page.

:func:`pack` turns columns of integers and dictionary-encoded values into one
zlib-compressed, base64-encoded block of typed arrays with the dictionaries as
UTF-8 JSON at its end. Each column is stored byte-shuffled: the first byte of
every value (little-endian), then the second, and so on, so that the bytes
that barely change (the high bytes of coordinates, of row numbers, of the
codes of a column whose values are all distinct) compress to almost nothing.
The page inflates it with the browser's own ``DecompressionStream`` (no
library, no network) and :data:`POINTS_SCRIPT` draws every row as a point on
one canvas, with a tooltip on hover and a popup on click found by the nearest
point on screen; the popup's text is written with ``textContent``, as every
other text of pilotzone's maps (see "Filing text is data" in
:mod:`pilotzone.maps`).

Coordinates travel as ``int32`` millionths of a degree (:data:`SCALE`): a
point is at most half a millionth of a degree from where it was given, under
8 cm on the ground (5.6 cm north-south, as much or less east-west).
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

#: Coordinates are stored as ``round(degrees * SCALE)`` in ``int32``.
SCALE = 1_000_000
#: The integer types a column may have: those JavaScript has a typed array for.
_TYPES = ("int8", "uint8", "int16", "uint16", "int32", "uint32")
#: The characters JSON writes escaped in a string (RE2): a text without them is its own JSON.
_ESCAPED = r'[\x00-\x1f"\\]'


def degrees(values: NDArray[np.float64]) -> NDArray[np.int32]:
    """Degrees as ``int32`` millionths (:data:`SCALE`); every value must be finite."""
    return np.rint(np.asarray(values, dtype=np.float64) * SCALE).astype(np.int32)


def distinct(values: Any) -> tuple[NDArray[np.intp], pd.Index]:
    """A column as codes into its distinct values, in the order they first appear.

    Missing values (None, NaN, ``pd.NA``) are one more distinct value.
    """
    return pd.factorize(pd.Series(values), use_na_sentinel=False)


def coded(values: Any, show: Any) -> tuple[NDArray[np.integer], list[Any]]:
    """A column as dictionary codes and the dictionary, each distinct value shown by ``show``.

    Missing values (None, NaN, ``pd.NA``) are one more distinct value, given to
    ``show`` as they are.
    """
    codes, uniques = distinct(values)
    return codes, [show(value) for value in uniques.tolist()]


def _index_type(size: int) -> str:
    """The smallest unsigned type that numbers ``size`` dictionary entries."""
    return next(t for t in ("uint8", "uint16", "uint32") if size <= np.iinfo(t).max + 1)


def pack(
    numbers: Mapping[str, NDArray[np.integer]],
    dictionaries: Mapping[str, tuple[NDArray[np.integer], Sequence[Any] | pa.Array]],
) -> dict[str, Any]:
    """A table of equal-length columns as one compressed block, described for the page.

    Parameters
    ----------
    numbers : mapping of str to integer arrays
        Columns stored as they are; their type must be one of int8, uint8,
        int16, uint16, int32 or uint32.
    dictionaries : mapping of str to (codes, values)
        Columns stored as codes (in the smallest unsigned type that holds
        them) into a list of JSON values, or an Arrow array of strings.

    Returns
    -------
    dict
        ``rows``; ``columns``, a list of ``[name, type, byte offset]`` (each
        column's bytes shuffled: byte 0 of every value, then byte 1, ...);
        ``words``, the byte offset and length of the dictionaries' JSON
        (an object of name to list); ``data``, the block: zlib, then base64.

    Raises
    ------
    ValueError
        If the columns differ in length, a name is given twice, a type is not
        allowed, or a code is outside its dictionary.
    """
    columns: list[tuple[str, NDArray[np.integer]]] = list(numbers.items())
    words: dict[str, Sequence[Any] | pa.Array] = {}
    for name, (codes, values) in dictionaries.items():
        if name in numbers:
            raise ValueError(f"column {name!r} given twice")
        codes = np.asarray(codes)
        if len(codes) and (codes.min() < 0 or codes.max() >= len(values)):
            raise ValueError(f"column {name!r} has codes outside its dictionary")
        columns.append((name, codes.astype(_index_type(len(values)))))
        words[name] = values
    lengths = {len(column) for _, column in columns}
    if len(lengths) > 1:
        raise ValueError(f"columns differ in length: {sorted(lengths)}")
    block = bytearray()
    layout: list[list[Any]] = []
    for name, column in columns:
        kind = np.asarray(column).dtype.name
        if kind not in _TYPES:
            raise ValueError(f"column {name!r} is {kind}, not one of {', '.join(_TYPES)}")
        layout.append([name, kind, len(block)])
        array = np.ascontiguousarray(column, dtype=np.dtype(kind).newbyteorder("<"))
        block += array.view(np.uint8).reshape(len(array), array.itemsize).T.tobytes()
    encoded = b"{%b}" % b",".join(_json(name) + b":" + _json_list(v) for name, v in words.items())
    words_at = [len(block), len(encoded)]
    block += encoded
    # Level 1: on the 1M-row filing's 43 MB block, 10.4 MB in 0.25 s where level 6 gave 9.7 MB
    # in 0.94 s; the page inflates either as fast.
    data = base64.b64encode(zlib.compress(block, 1)).decode("ascii")
    return {"rows": lengths.pop() if lengths else 0, "columns": layout, "words": words_at,
            "data": data}  # fmt: skip


def _json(value: Any) -> bytes:
    """A value as compact JSON, UTF-8."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def _json_list(values: Sequence[Any] | pa.Array) -> bytes:
    """Values as a JSON list (:func:`_json` of the list), UTF-8.

    An Arrow array of strings, none missing and none with a character JSON
    escapes, is joined by Arrow: no Python object per value (a million
    distinct ids in 0.045 s instead of 0.13 s).
    """
    if not isinstance(values, pa.Array):
        return _json(list(values))
    plain = (
        (pa.types.is_string(values.type) or pa.types.is_large_string(values.type))
        and values.null_count == 0
        and len(values) > 0
        and not pc.any(pc.match_substring_regex(values, _ESCAPED)).as_py()
    )
    if not plain:
        return _json(values.to_pylist())
    lists = pa.LargeListArray if pa.types.is_large_string(values.type) else pa.ListArray
    joined = pc.binary_join(lists.from_arrays([0, len(values)], values),
                            pa.scalar('","', values.type))  # fmt: skip
    return b'["%b"]' % joined[0].as_buffer().to_pybytes()


# Constant: the table's text reaches the DOM only through the ``box`` and ``label`` functions
# that pilotzone_draw passes in (text nodes and textContent).
POINTS_SCRIPT = """
function pilotzone_points(map, points, overlays, switches, box, label) {
    "use strict";
    var TYPES = {int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array,
                 int32: Int32Array, uint32: Uint32Array};
    var table = points.table, binary = atob(table.data);
    var bytes = new Uint8Array(binary.length);
    for (var b = 0; b < binary.length; b++) { bytes[b] = binary.charCodeAt(b); }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer().then(function (buffer) {
        var n = table.rows, col = {}, block = new Uint8Array(buffer);
        var words = JSON.parse(new TextDecoder().decode(
            block.subarray(table.words[0], table.words[0] + table.words[1])));
        // Typed arrays are little-endian in every browser, as the shuffled bytes are.
        table.columns.forEach(function (c) {
            var values = new TYPES[c[1]](n), size = values.BYTES_PER_ELEMENT;
            var bytes = new Uint8Array(values.buffer);
            for (var b = 0; b < size; b++) {
                for (var i = 0, at = c[2] + b * n; i < n; i++) {
                    bytes[i * size + b] = block[at + i];
                }
            }
            col[c[0]] = values;
        });
        draw(n, col, words);
    });

    function draw(n, col, words) {
        var scale = points.scale, text = points.text, statuses = points.statuses;
        // Web Mercator pixels at zoom 0, as Leaflet's EPSG:3857 projects them.
        var wx = new Float64Array(n), wy = new Float64Array(n);
        var limit = 85.0511287798;
        for (var i = 0; i < n; i++) {
            var lat = Math.max(Math.min(col.lat[i] / scale, limit), -limit) * Math.PI / 180;
            wx[i] = 256 * (0.5 + col.lon[i] / scale / 360);
            wy[i] = 256 * (0.5 - Math.log(Math.tan(Math.PI / 4 + lat / 2)) / (2 * Math.PI));
        }
        // Lines from an operator's one registration to each of its violations.
        var registrations = {}, home = {};
        for (i = 0; i < n; i++) {
            if (col.registration[i]) {
                var op = col.operator[i];
                registrations[op] = (registrations[op] || 0) + 1;
                home[op] = i;
            }
        }
        var stamps = statuses.map(function (status) {
            return [stamp(status[1], 5, 1), stamp(status[1], 8, 3)];
        });
        // A circle marker as the pixels it covers (offsets from its centre) and their colours,
        // written straight into the canvas's pixels: far faster than drawing each one.
        function stamp(color, radius, weight) {
            var half = radius + weight + 1, size = 2 * half;
            var canvas = document.createElement("canvas");
            canvas.width = canvas.height = size;
            var context = canvas.getContext("2d", {willReadFrequently: true});
            context.beginPath();
            context.arc(half, half, radius, 0, 2 * Math.PI);
            context.fillStyle = color;
            context.fill();
            context.lineWidth = weight;
            context.strokeStyle = "#222222";
            context.stroke();
            var rgba = context.getImageData(0, 0, size, size).data, dx = [], dy = [], colors = [];
            for (var p = 0; p < size * size; p++) {
                if (rgba[4 * p + 3] < 128) { continue; }
                dx.push(p % size - half);
                dy.push(Math.floor(p / size) - half);
                colors.push((255 << 24 | rgba[4 * p + 2] << 16 | rgba[4 * p + 1] << 8 |
                             rgba[4 * p]) >>> 0);
            }
            return {dx: Int16Array.from(dx), dy: Int16Array.from(dy),
                    colors: Uint32Array.from(colors)};
        }
        function value(name, i) {
            return words[name] ? words[name][col[name][i]] : String(col[name][i]);
        }
        function lines(i) {
            var status = statuses[col.status[i]];
            var body = [
                [[value("name", i), "b"]],
                [text.row + ": " + value("row", i)],
                [text.operator + ": " + value("operator", i) + " · " + text.facility + ": " +
                 value("facility", i)],
                [text.address + ": " + value("address", i)],
                [text.kind + ": " + value("kind", i) + " · " + text.tenure + ": " +
                 value("tenure", i)],
                [text.zone + ": " + value("zone", i) + " · " + text.registration_zone + ": " +
                 value("registration_zone", i)],
                [text.distance + ": " + value("distance", i)],
                words.component ? [text.component + ": " + value("component", i)] : null,
                [text.status + ": ", [status[2], status[1]]],
                [text.reasons + ":"]
            ].filter(function (line) { return line !== null; });
            value("reasons", i).forEach(function (reason) { body.push([reason]); });
            var message = value("message", i);
            if (message) { body.push([[message, "i"]]); }
            return body;
        }
        // Container pixels of the world pixel (x, y) are x * zoom - ox, y * zoom - oy.
        function view() {
            var corner = map.containerPointToLayerPoint([0, 0]), origin = map.getPixelOrigin();
            return {corner: corner, size: map.getSize(), zoom: Math.pow(2, map.getZoom()),
                    ox: origin.x + corner.x, oy: origin.y + corner.y};
        }
        // Whether row i is shown: its status layer and its operator's layer (if any) are on.
        function visible() {
            var on = statuses.map(function (s) { return map.hasLayer(overlays[s[0]]); });
            var switched = points.switches.map(function (s) {
                return s < 0 || map.hasLayer(switches[s]);
            });
            return function (i) { return on[col.status[i]] && switched[col.operator[i]]; };
        }
        function lined(i, shown) {
            return statuses[col.status[i]][3] && !col.registration[i] &&
                registrations[col.operator[i]] === 1 && shown(i);
        }
        // The lines' colour at 60 % opacity, as the canvas's pixels hold it (RGBA, little-endian).
        var red = parseInt(points.line.slice(1), 16);
        var lineColor = (153 << 24 | (red & 255) << 16 | (red >> 8 & 255) << 8 | red >> 16) >>> 0;
        // At most this many pixel steps of lines are drawn; beyond, lines are too dense to
        // read (and to draw while panning), and a note asks to zoom in.
        var LINE_BUDGET = 3000000;
        // The steps (one a pixel) of the segment that are on the canvas, by Liang-Barsky
        // clipping: [first, last] from its start, or null.
        function onCanvas(width, height, x0, y0, x1, y1) {
            var dx = x1 - x0, dy = y1 - y0, t0 = 0, t1 = 1;
            var p = [-dx, dx, -dy, dy], q = [x0, width - 2 - x0, y0, height - 2 - y0];
            for (var k = 0; k < 4; k++) {
                if (p[k] === 0) {
                    if (q[k] < 0) { return null; }
                    continue;
                }
                var r = q[k] / p[k];
                if (p[k] < 0) { t0 = Math.max(t0, r); } else { t1 = Math.min(t1, r); }
            }
            var length = Math.max(Math.abs(dx), Math.abs(dy));
            if (t0 > t1 || length === 0) { return null; }
            return [Math.ceil(t0 * length), Math.floor(t1 * length)];
        }
        // A dashed line (6 pixels on, 4 off, from its start), 2 pixels wide, over those steps.
        function dashed(pixels, width, x0, y0, x1, y1, steps) {
            var dx = x1 - x0, dy = y1 - y0, length = Math.max(Math.abs(dx), Math.abs(dy));
            var thick = Math.abs(dx) > Math.abs(dy) ? width : 1;
            for (var step = steps[0]; step <= steps[1]; step++) {
                if (step % 10 >= 6) { continue; }
                var at = Math.round(y0 + dy * step / length) * width +
                    Math.round(x0 + dx * step / length);
                pixels[at] = pixels[at + thick] = lineColor;
            }
        }
        var Points = L.Layer.extend({
            onAdd: function () {
                var pane = map.getPane("pilotzonePoints");
                if (!pane) {
                    pane = map.createPane("pilotzonePoints");
                    pane.style.zIndex = 450;
                    pane.style.pointerEvents = "none";
                }
                this.canvas = L.DomUtil.create("canvas", "pilotzone-points", pane);
                var note = this.note = L.control({position: "bottomright"});
                note.onAdd = function () {
                    var div = L.DomUtil.create("div", "pilotzone-lines-hidden");
                    div.textContent = text.lines_hidden;
                    div.style.display = "none";
                    return div;
                };
                note.addTo(map);
                // Before the layers under the point (a zone opens its own popup) see the click.
                this.clicked = L.bind(this.click, this);
                map.getContainer().addEventListener("click", this.clicked, true);
                this.redraw();
            },
            onRemove: function () {
                map.getContainer().removeEventListener("click", this.clicked, true);
                L.DomUtil.remove(this.canvas);
                this.note.remove();
            },
            getEvents: function () {
                var events = {
                    zoomstart: function () { this.canvas.style.display = "none"; },
                    mousemove: this.hover,
                    movestart: this.forget
                };
                ["moveend", "zoomend", "resize", "viewreset", "overlayadd", "overlayremove"]
                    .forEach(function (type) { events[type] = this.schedule; }, this);
                return events;
            },
            schedule: function () {
                if (!this.frame) { this.frame = L.Util.requestAnimFrame(this.redraw, this); }
            },
            // How many points and lines the layers that are on show, in view or not.
            count: function () {
                var shown = visible(), count = {points: 0, lines: 0};
                for (var i = 0; i < n; i++) {
                    if (shown(i)) { count.points++; }
                    if (lined(i, shown)) { count.lines++; }
                }
                return count;
            },
            redraw: function () {
                this.frame = null;
                var v = view(), canvas = this.canvas, width = v.size.x, height = v.size.y;
                L.DomUtil.setPosition(canvas, v.corner);
                canvas.width = width;
                canvas.height = height;
                // A hidden map (a report printed, an iframe not shown) has no pixels: nothing
                // to draw until it is shown and resized.
                if (!(width > 0 && height > 0)) { return; }
                canvas.style.display = "";
                var context = canvas.getContext("2d", {willReadFrequently: true});
                var image = context.createImageData(width, height);
                var pixels = new Uint32Array(image.data.buffer), shown = visible(), i;
                var ends = function (i) {
                    var h = home[col.operator[i]];
                    return [wx[h] * v.zoom - v.ox, wy[h] * v.zoom - v.oy,
                            wx[i] * v.zoom - v.ox, wy[i] * v.zoom - v.oy];
                };
                var steps = 0;
                for (i = 0; i < n && steps <= LINE_BUDGET; i++) {
                    if (lined(i, shown)) {
                        var e = ends(i), part = onCanvas(width, height, e[0], e[1], e[2], e[3]);
                        steps += part ? part[1] - part[0] + 1 : 0;
                    }
                }
                var dense = steps > LINE_BUDGET;
                this.note.getContainer().style.display = dense ? "" : "none";
                for (i = 0; i < n && !dense; i++) {
                    if (lined(i, shown)) {
                        var f = ends(i), on = onCanvas(width, height, f[0], f[1], f[2], f[3]);
                        if (on) { dashed(pixels, width, f[0], f[1], f[2], f[3], on); }
                    }
                }
                // Topmost first: a point under a later one of at least its size at the same
                // pixel is hidden whole, and not drawn (most of a million rows at a wide view).
                var owner = new Uint8Array(width * height), kept = new Int32Array(n), m = 0;
                for (i = n - 1; i >= 0; i--) {
                    if (!shown(i)) { continue; }
                    var x = Math.round(wx[i] * v.zoom - v.ox);
                    var y = Math.round(wy[i] * v.zoom - v.oy);
                    if (x < -12 || y < -12 || x > width + 12 || y > height + 12) { continue; }
                    var size = col.registration[i] + 1, at = y * width + x;
                    var inside = x >= 0 && y >= 0 && x < width && y < height;
                    if (inside && owner[at] >= size) { continue; }
                    if (inside) { owner[at] = size; }
                    kept[m++] = i;
                }
                while (m--) {
                    i = kept[m];
                    var cx = Math.round(wx[i] * v.zoom - v.ox);
                    var cy = Math.round(wy[i] * v.zoom - v.oy);
                    var s = stamps[col.status[i]][col.registration[i]];
                    for (var k = 0; k < s.colors.length; k++) {
                        var px = cx + s.dx[k], py = cy + s.dy[k];
                        if (px >= 0 && py >= 0 && px < width && py < height) {
                            pixels[py * width + px] = s.colors[k];
                        }
                    }
                }
                context.putImageData(image, 0, 0);
            },
            // The row drawn nearest a container point, within 8 pixels; the topmost of equals.
            nearest: function (point) {
                var v = view(), shown = visible(), best = -1, distance = 64;
                for (var i = 0; i < n; i++) {
                    var dx = wx[i] * v.zoom - v.ox - point.x, dy = wy[i] * v.zoom - v.oy - point.y;
                    var d = dx * dx + dy * dy;
                    if (d <= distance && shown(i)) { best = i; distance = d; }
                }
                return best;
            },
            at: function (i) { return [col.lat[i] / scale, col.lon[i] / scale]; },
            click: function (e) {
                var container = map.getContainer(), target = e.target;
                var onMap = target === container || (map.getPane("mapPane").contains(target) &&
                    !map.getPane("popupPane").contains(target));
                if (!onMap || (map.dragging && map.dragging.moved())) { return; }
                var i = this.nearest(map.mouseEventToContainerPoint(e));
                if (i < 0) { return; }
                e.stopPropagation();
                L.popup({maxWidth: 320}).setLatLng(this.at(i)).setContent(box(lines(i)))
                    .openOn(map);
            },
            // A moved map has other points under the mouse: the next move finds them anew.
            forget: function () {
                this.hovered = -1;
                if (this.tooltip) { map.closeTooltip(this.tooltip); }
            },
            hover: function (e) {
                var i = this.nearest(e.containerPoint);
                if (i === this.hovered) { return; }
                this.hovered = i;
                map.getContainer().style.cursor = i < 0 ? "" : "pointer";
                this.tooltip = this.tooltip || L.tooltip({direction: "top", offset: [0, -6]});
                if (i < 0) {
                    map.closeTooltip(this.tooltip);
                    return;
                }
                var tip = (value("name", i) || value("facility", i)) + " · " +
                    statuses[col.status[i]][2];
                map.openTooltip(this.tooltip.setLatLng(this.at(i)).setContent(label(tip)));
            }
        });
        var layer = new Points();
        (map.pilotzonePoints = map.pilotzonePoints || []).push(layer);
        layer.addTo(map);
    }
}
"""
