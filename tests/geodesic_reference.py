"""Brute-force geodesic distance to a border: the oracle that locate's and siting's tests share.

Edges are straight in longitude/latitude, as ``shapely.covers`` sees them. For
each point, candidate edges are picked by distance in a local metric frame
around it (degrees scaled by the WGS-84 radii of curvature at the point: never
raw degrees) with a window wide enough for that frame's error (about 0.1 % at
10 km; the window allows 2 % plus 0.5 % per kilometre, plus 20 m). Every
candidate edge is densified in lon/lat, 0.2 m apart near the border and
coarser far away (spacing s adds at most s^2 / (8 d) at distance d, under
1 cm), and the geodesic distance to every sample is taken with
:meth:`pyproj.Geod.inv`. Slow on purpose: a few hundred points at most.
"""

from __future__ import annotations

import math

import numpy as np
import pyproj
from numpy.typing import NDArray

GEOD = pyproj.Geod(ellps="WGS84")
_A, _E2 = 6_378_137.0, 0.00669437999014  # WGS-84 semi-major axis and first eccentricity squared


def edge_metres(segments: NDArray[np.float64]) -> NDArray[np.float64]:
    """Geodesic length of each segment (rows: lon0, lat0, lon1, lat1)."""
    return np.asarray(GEOD.inv(*segments.T)[2])


def reference_distance(
    lon: NDArray[np.float64], lat: NDArray[np.float64], segments: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Geodesic metres from each point to the nearest point of ``segments``, and that edge's length.

    ``segments`` has one edge a row: lon0, lat0, lon1, lat1 (WGS-84 degrees).
    Returns the distance and the geodesic length of the edge holding the
    nearest sample, one of each per point.
    """
    lengths = edge_metres(segments)
    distance, length = np.empty(lon.size), np.empty(lon.size)
    for i, (p_lon, p_lat) in enumerate(zip(lon, lat, strict=True)):
        w = 1.0 - _E2 * math.sin(math.radians(p_lat)) ** 2
        kx = math.radians(1.0) * _A / math.sqrt(w) * math.cos(math.radians(p_lat))
        ky = math.radians(1.0) * _A * (1.0 - _E2) / w**1.5
        ax, ay = (segments[:, 0] - p_lon) * kx, (segments[:, 1] - p_lat) * ky
        dx, dy = (segments[:, 2] - segments[:, 0]) * kx, (segments[:, 3] - segments[:, 1]) * ky
        length2 = np.maximum(dx * dx + dy * dy, 1e-30)
        t = np.clip(-(ax * dx + ay * dy) / length2, 0.0, 1.0)
        planar = np.hypot(ax + t * dx, ay + t * dy)
        nearest = float(planar.min())
        window = nearest * (1.02 + nearest / 2e5) + 20.0
        spacing = max(0.2, math.sqrt(0.08 * nearest))
        near = np.flatnonzero(planar <= window)
        counts = np.maximum(2, np.ceil(lengths[near] / spacing).astype(int) + 1)
        edge = np.repeat(near, counts)
        first = np.cumsum(counts) - counts
        ts = (np.arange(edge.size) - np.repeat(first, counts)) / np.repeat(counts - 1, counts)
        v_lon = segments[edge, 0] + ts * (segments[edge, 2] - segments[edge, 0])
        v_lat = segments[edge, 1] + ts * (segments[edge, 3] - segments[edge, 1])
        metres = GEOD.inv(np.full(edge.size, p_lon), np.full(edge.size, p_lat), v_lon, v_lat)[2]
        distance[i], length[i] = float(metres.min()), float(lengths[edge[np.argmin(metres)]])
    return distance, length
