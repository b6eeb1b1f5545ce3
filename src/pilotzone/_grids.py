"""The raster grids that answer most points of :func:`pilotzone.locate.locate` without geometry.

A zone's :class:`Grid` codes each cell of its bounding box (grown by its widest
review band) as clear outside, clear inside, near a border outside or inside,
or on the border; an :class:`Overview` does the same coarsely for every zone at
once. Only points in cells near or on a border go on to the exact tests.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from pilotzone import _geodesy as geodesy

__all__ = [
    "ASK",
    "BORDER",
    "IN",
    "MIN_CELL_DEG",
    "NEAR_IN",
    "NEAR_OUT",
    "OUT",
    "Grid",
    "Overview",
    "Stretch",
    "classify",
]

log = logging.getLogger(__name__)

#: Cell codes of a zone's grid: clear outside, clear inside, near a border (outside, inside), on it.
OUT, IN, NEAR_OUT, NEAR_IN, BORDER = (np.uint8(code) for code in range(5))
#: The overview's code for a cell whose points consult the zones' own grids.
ASK = np.uint8(255)
#: The smallest cell side of a zone's grid, in degrees.
MIN_CELL_DEG = 0.0002
#: A stretch of border for the grids: its line, how far from it points need measuring (metres),
#: and whether it is a coast (then only on the side outside the zone).
Stretch = tuple[Any, float, bool]


@dataclass
class Grid:
    """One zone's cells in one coordinate system, coded ``OUT`` ... ``BORDER``.

    The grid covers the zone's bounding box grown by its widest horizon, with
    cells sized to that box. A cell is near (its points need measuring) when a
    border stretch, grown by that stretch's horizon plus one cell, reaches it;
    it is a border cell (its points also need the exact zone test) when the
    zone's boundary comes within a cell of it. Every other cell lies wholly on
    one side of the boundary and is classified by its centre.
    """

    x0: float
    y0: float
    x1: float
    y1: float
    inverse_cell: float
    ncols: int
    codes: NDArray[np.uint8]

    @classmethod
    def build(cls, shape: Any, stretches: list[Stretch], cells: int) -> Grid:
        """The grid of one zone (``shape`` and its ``stretches`` already in the input's system)."""
        west, south, east, north = shape.bounds
        cell = max(MIN_CELL_DEG, math.sqrt((east - west + 0.02) * (north - south + 0.02) / cells))
        west, south, east, north = geodesy.grown_box(shape.bounds, max(s[1] for s in stretches))
        x0, y0 = west - 3 * cell, south - 3 * cell
        ncols = math.ceil((east + 3 * cell - x0) / cell)
        nrows = math.ceil((north + 3 * cell - y0) / cell)
        codes = classify(shape, stretches, x0, y0, cell, (nrows, ncols))
        log.debug("grid: %d x %d cells of %.5f deg", ncols, nrows, cell)
        return cls(x0, y0, x0 + ncols * cell, y0 + nrows * cell, 1.0 / cell, ncols, codes.ravel())

    def lookup(
        self, x: NDArray[np.float64], y: NDArray[np.float64]
    ) -> tuple[NDArray[np.intp], NDArray[np.uint8]]:
        """Positions of the points inside the grid, and their cell codes."""
        with np.errstate(invalid="ignore"):
            where = np.flatnonzero((x >= self.x0) & (x < self.x1) & (y >= self.y0) & (y < self.y1))
        col = x[where] - self.x0
        col *= self.inverse_cell
        row = y[where] - self.y0
        row *= self.inverse_cell
        flat = row.astype(np.intp)
        flat *= self.ncols
        flat += col.astype(np.intp)
        np.minimum(flat, self.codes.size - 1, out=flat)
        return where, self.codes[flat]


def classify(
    shape: Any,
    stretches: list[Stretch],
    x0: float,
    y0: float,
    cell: float,
    size: tuple[int, int],
) -> NDArray[np.uint8]:
    """Codes ``OUT`` ... ``BORDER`` of a grid's cells.

    The grid has ``size`` (rows, columns) cells of side ``cell`` from (x0, y0).
    A cell is near when a stretch, grown by its radius plus one cell, reaches
    it (a coast's only where the cell is outside); it is a border cell when the
    boundary (the first stretch) comes within a cell of it. Every other cell
    lies wholly on one side of the boundary.
    """
    _west, south, _east, north = shape.bounds
    lon_metres, lat_metres = geodesy.metres_per_degree(south, north)
    near = np.zeros(size, dtype=bool)
    near_sea = np.zeros(size, dtype=bool)
    border = near
    for k, (line, radius, coast) in enumerate(stretches):
        touched = _touched(line, x0, y0, cell, size)
        if k == 0:
            # the whole boundary: every cell it passes through is within one cell of a touched one
            border = _dilate(touched, 1, 1)
        rows = math.ceil(radius / lat_metres / cell) + 1
        cols = math.ceil(radius / lon_metres / cell) + 1
        if coast:
            near_sea |= _dilate(touched, rows, cols)
        else:
            near |= _dilate(touched, rows, cols)
    inside = _inside_by_runs(shape, ~border, x0, y0, cell)
    near |= near_sea & ~inside
    return np.where(border, BORDER, np.where(near, NEAR_OUT, OUT) + inside.astype(np.uint8))


def _touched(
    line: Any, x0: float, y0: float, cell: float, shape: tuple[int, int]
) -> NDArray[np.bool_]:
    """Cells within one cell of ``line``: its points every half cell, then their cells."""
    xy = shapely.get_coordinates(shapely.segmentize(line, cell / 2))
    cols = np.clip(((xy[:, 0] - x0) / cell).astype(np.intp), 0, shape[1] - 1)
    rows = np.clip(((xy[:, 1] - y0) / cell).astype(np.intp), 0, shape[0] - 1)
    mask = np.zeros(shape, dtype=bool)
    mask[rows, cols] = True
    return mask


def _inside_by_runs(
    shape: Any, clear: NDArray[np.bool_], x0: float, y0: float, cell: float
) -> NDArray[np.bool_]:
    """Whether each ``clear`` cell (one the border does not pass through) lies inside ``shape``.

    Along a row, a run of clear cells is all inside or all outside: the border
    would have to pass through one of them to separate two. So one point test
    per run, at its first cell's centre, classifies the whole run.
    """
    nrows, ncols = clear.shape
    starts = clear.copy()
    starts[:, 1:] &= ~clear[:, :-1]
    rows, cols = np.nonzero(starts)
    run_inside = shapely.contains_xy(shape, x0 + (cols + 0.5) * cell, y0 + (rows + 0.5) * cell)
    run = np.cumsum(starts.ravel()) - 1
    return (clear.ravel() & run_inside[np.maximum(run, 0)]).reshape(nrows, ncols)


def _dilate(mask: NDArray[np.bool_], rows: int, cols: int) -> NDArray[np.bool_]:
    """Grow ``mask`` by ``rows`` cells up and down and ``cols`` cells sideways."""
    grown = mask
    for axis, radius in ((0, rows), (1, cols)):
        width = [(0, 0), (0, 0)]
        width[axis] = (radius, radius)
        grown = _any_in_window(np.pad(grown, width), 2 * radius + 1, axis)
    return grown


def _any_in_window(mask: NDArray[np.bool_], window: int, axis: int) -> NDArray[np.bool_]:
    """``out[i] = mask[i : i + window].any()`` along ``axis``.

    Computed by doubling the window (log2 passes).
    """

    def shifted(a: NDArray[np.bool_], by: int) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        head = [slice(None)] * a.ndim
        tail = [slice(None)] * a.ndim
        head[axis], tail[axis] = slice(0, a.shape[axis] - by), slice(by, None)
        return a[tuple(head)], a[tuple(tail)]

    span = 1
    while 2 * span <= window:
        first, second = shifted(mask, span)
        mask = first | second
        span *= 2
    if span < window:
        first, second = shifted(mask, window - span)
        mask = first | second
    return mask


@dataclass
class Overview:
    """One coarse grid over every zone in one coordinate system.

    Most points are answered by it alone.

    A cell holds 0 when it is clear of every zone (outside each, beyond every
    horizon), ``k`` when it is clear inside zone ``k`` alone, and ``ASK``
    otherwise (near some border, or where zones overlap): only the points in
    those cells consult the zones' finer grids. Its cells are classified like
    a zone's (:func:`classify`), so a clear cell is as certain as a fine one.
    Points beyond its extent fall on its outermost cells, which are clear.
    """

    x0: float
    y0: float
    inverse_cell: float
    ncols: int
    nrows: int
    codes: NDArray[np.uint8]

    @classmethod
    def build(cls, shapes: list[tuple[Any, list[Stretch]]], cells: int) -> Overview:
        windows = [geodesy.grown_box(shape.bounds, max(t[1] for t in s)) for shape, s in shapes]
        west, south = min(w[0] for w in windows), min(w[1] for w in windows)
        east, north = max(w[2] for w in windows), max(w[3] for w in windows)
        cell = math.sqrt((east - west) * (north - south) / cells)
        x0, y0 = west - 4 * cell, south - 4 * cell
        ncols = math.ceil((east - x0) / cell) + 4
        nrows = math.ceil((north - y0) / cell) + 4
        codes = np.zeros((nrows, ncols), dtype=np.uint8)
        for k, ((shape, stretches), window) in enumerate(
            zip(shapes, windows, strict=True), start=1
        ):
            c0, r0 = int((window[0] - x0) / cell) - 3, int((window[1] - y0) / cell) - 3
            c1, r1 = int((window[2] - x0) / cell) + 4, int((window[3] - y0) / cell) + 4
            zone = classify(
                shape, stretches, x0 + c0 * cell, y0 + r0 * cell, cell, (r1 - r0, c1 - c0)
            )
            here = codes[r0:r1, c0:c1]
            inside = zone == IN
            here[inside & (here == 0)] = k
            here[(zone >= NEAR_OUT) | (inside & (here != k))] = ASK
        log.debug("overview: %d x %d cells of %.5f deg", ncols, nrows, cell)
        return cls(x0, y0, 1.0 / cell, ncols, nrows, codes.ravel())

    def lookup(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.uint8]:
        """The code of each (finite) point's cell."""
        col = x - self.x0
        col *= self.inverse_cell
        np.clip(col, 0.0, self.ncols - 1.0, out=col)
        row = y - self.y0
        row *= self.inverse_cell
        np.clip(row, 0.0, self.nrows - 1.0, out=row)
        flat = row.astype(np.int32)
        flat *= self.ncols
        flat += col.astype(np.int32)
        return self.codes[flat]
