"""A zone's named components: their manifest records checked, outlines matched, readings applied.

A zone is made of named components (``shanghai/pudong``,
``shanghai/lingang-outside-pudong``, ...), each with its legal standing and
the readings it offers; :func:`apply_readings` gives a zone's extent under
the readings an audit chooses. Used by :mod:`pilotzone.zones`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

import shapely

from pilotzone._codes import READINGS, STANDINGS
from pilotzone._zone_record import Component, Zone, area_km2, multipolygon
from pilotzone.errors import InputError, Problem

__all__ = ["apply_readings", "component_problems", "manifest_components"]

_COMPONENT_ID = re.compile(r"[a-z][a-z0-9_]*/[a-z0-9][a-z0-9_-]*")
# Manifest areas are rounded to 0.1 km²: a recomputed area may differ by half of that.
_AREA_ROUNDING_KM2 = 0.05 + 1e-6
_GRID_DEG = 1e-6  # the grid the shipped data is snapped to (6 decimals)


def component_problems(components: list[Any], zone_id: str) -> list[str]:
    """Problems of a zone's named components; a list without component ids is an older format."""
    if not any(isinstance(c, dict) and "component_id" in c for c in components):
        return []
    problems = []
    seen: set[str] = set()
    for number, component in enumerate(components, start=1):
        if not isinstance(component, dict):
            problems.append(f"entry {number}: expected an object")
            continue
        cid = component.get("component_id")
        where = f"component {cid!r}" if isinstance(cid, str) else f"entry {number}"
        if not isinstance(cid, str) or not _COMPONENT_ID.fullmatch(cid):
            problems.append(f"{where}: component_id must be '<zone_id>/<name>'")
        elif not cid.startswith(f"{zone_id}/") or cid in seen:
            problems.append(f"{where}: not of zone {zone_id!r}, or listed twice")
        else:
            seen.add(cid)
        if component.get("standing") not in STANDINGS:
            problems.append(f"{where}: standing must be one of {', '.join(STANDINGS)}")
        readings = component.get("readings")
        if (
            not isinstance(readings, dict)
            or not readings
            or any(r not in READINGS for r in readings)
        ):
            problems.append(f"{where}: readings must map some of {', '.join(READINGS)}")
        elif component.get("default") not in readings:
            problems.append(f"{where}: default {component.get('default')!r} is not a reading")
        geometry = component.get("geometry")
        if geometry not in (None, "rest", "feature") or (geometry == "rest") != (number == 1):
            problems.append(
                f"{where}: geometry must be 'rest' for the first component, and 'feature' "
                "or null for the others"
            )
        elif geometry is None and len(readings or ()) > 1:
            problems.append(f"{where}: without geometry only its default reading can apply")
    return problems


def manifest_components(
    entry: dict[str, Any], outlines: dict[str, Any], zone: Any, problems: list[str]
) -> tuple[Component, ...]:
    """A manifest zone's named components, each outline matched to its entry; areas rechecked.

    The manifest's areas are recomputed from the geometry (the zone's default
    extent and each component's outline): a mismatch beyond rounding is a problem.
    """
    listed = [c for c in entry.get("components") or [] if "component_id" in c]
    features = {c["component_id"] for c in listed if c.get("geometry") == "feature"}
    for cid in sorted(features ^ set(outlines)):
        problems.append(
            f"component {cid!r}: the manifest and the file disagree on whether it has an outline"
        )
    checks = [("area_km2", entry["area_km2"], zone)]
    checks += [
        (
            f"component {c['component_id']!r} area_km2",
            c.get("area_km2"),
            outlines[c["component_id"]],
        )
        for c in listed
        if c["component_id"] in outlines
    ]
    for what, stated, geometry in checks:
        actual = area_km2(geometry)
        if not isinstance(stated, (int, float)) or abs(actual - stated) > _AREA_ROUNDING_KM2:
            problems.append(
                f"{what} is {stated!r} in the manifest, but the geometry's geodesic area is "
                f"{actual:,.2f} km²"
            )
    return tuple(
        Component(
            component_id=c["component_id"],
            name=str(c.get("name") or c["component_id"]),
            standing=c["standing"],
            readings=tuple(r for r in READINGS if r in c["readings"]),
            default=c["default"],
            reading=c["default"],
            geometry=outlines.get(c["component_id"]),
        )
        for c in listed
    )


def apply_readings(
    zones: list[Zone], readings: Mapping[str, str] | None
) -> tuple[list[Zone], dict[str, str]]:
    """The zones under ``readings`` (default: the manifest's), and the readings that were chosen.

    Returns the reading of every component that is contested or offers more
    than one, so that an audit can be repeated.
    """
    if readings is not None and not isinstance(readings, Mapping):
        raise InputError(
            Problem("readings", None, None, None, "must map component ids to readings")
        )
    chosen = dict(readings or {})
    components = {c.component_id: c for zone in zones for c in zone.components}
    problems = []
    for cid, choice in chosen.items():
        component = components.get(cid)
        if component is None:
            valid = ", ".join(components) or "none: these zones have no named components"
            problems.append(
                Problem("readings", None, str(cid), choice, f"is not a component; valid: {valid}")
            )
        elif choice not in component.readings:
            problems.append(
                Problem(
                    "readings",
                    None,
                    cid,
                    choice,
                    f"is not a reading of {cid}; valid: {', '.join(component.readings)}",
                )
            )
    if problems:
        raise InputError(problems)
    read = [_read_zone(zone, chosen) for zone in zones]
    applied = {
        c.component_id: c.reading
        for zone in read
        for c in zone.components
        if c.standing == "contested" or len(c.readings) > 1
    }
    return read, applied


def _read_zone(zone: Zone, chosen: dict[str, str]) -> Zone:
    """``zone`` with the chosen readings applied to its components and its extent."""
    if not any(c.component_id in chosen for c in zone.components):
        return zone
    components = tuple(
        dataclasses.replace(c, reading=chosen.get(c.component_id, c.reading))
        for c in zone.components
    )
    cut = [
        c.geometry
        for c in components
        if c.geometry is not None and c.default != "exclude" and c.reading == "exclude"
    ]
    added = [
        c.geometry
        for c in components
        if c.geometry is not None and c.default == "exclude" and c.reading != "exclude"
    ]
    geometry: Any = zone.geometry
    if cut:
        geometry = shapely.difference(geometry, shapely.union_all(cut), grid_size=_GRID_DEG)
    if added:
        geometry = shapely.union(geometry, shapely.union_all(added), grid_size=_GRID_DEG)
    if not (cut or added):
        return dataclasses.replace(zone, components=components)
    geometry = multipolygon(geometry)
    out = {c.component_id for c in components if c.reading == "exclude"}
    return dataclasses.replace(
        zone,
        components=components,
        geometry=geometry,
        area_km2=round(area_km2(geometry), 1),
        approximate_borders=tuple(p for p in zone.approximate_borders if p.component_id not in out),
    )
