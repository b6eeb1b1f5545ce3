"""The verification result on a map: its facilities, their popups, and the legend.

:func:`draw_facilities` adds every located facility of a result to a
:class:`pilotzone._map_drawing.Drawing` (a layer per status and per operator)
with the lines from each operator's registration to its violations;
:func:`legend_rows` gives the legend of :func:`pilotzone.maps.explore`.
"""

from __future__ import annotations

from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from pilotzone._map_drawing import (
    BAND_COLOR,
    STATUS_COLORS,
    ZONE_COLOR,
    Drawing,
    Line,
    Row,
    as_text,
    dot,
    line_kind,
    marker_kind,
)
from pilotzone._messages import FILING
from pilotzone.rules import describe

Lang = Literal["en", "zh"]

#: At most this many operators get a layer of their own in the layer control.
MAX_OPERATOR_LAYERS = 200
COLUMNS = (
    "operator_id", "facility_id", "name", "address", "kind", "tenure", "zone_id",
    "registration_zone", "border_distance_m", "near_border", "status", "reasons", "message",
)  # fmt: skip
_DRAW_ORDER = {"compliant": 0, "invalid": 1, "review": 2, "violation": 3}


def _popup(row: Any, text: dict[str, str], lang: Lang, names: dict[str, str]) -> list[Line]:
    distance = row.border_distance_m
    shown = text["beyond_band"] if pd.isna(distance) else f"{float(distance):,.0f} m"
    codes = [c for c in row.reasons.split(";") if c] if isinstance(row.reasons, str) else []
    reasons: list[Line] = [[f"• {describe(c, lang)}"] for c in codes] or [[text["none"]]]
    color = STATUS_COLORS.get(str(row.status), "#7f7f7f")
    zone = as_text(_zone_name(row.zone_id, names, lang)) or "-"
    registration = as_text(_zone_name(row.registration_zone, names, lang)) or "-"
    lines: list[Line] = [
        [(as_text(row.name), "b")],
        [f"{text['operator']}: {as_text(row.operator_id)} · {text['facility']}: "
         f"{as_text(row.facility_id)}"],
        [f"{text['address']}: {as_text(row.address)}"],
        [f"{text['kind']}: {as_text(_word(row.kind, lang))} · "
         f"{text['tenure']}: {as_text(_word(row.tenure, lang))}"],
        [f"{text['zone']}: {zone} · {text['registration_zone']}: {registration}"],
        [f"{text['distance']}: {shown}"],
        [f"{text['status']}: ", (as_text(text.get(row.status, row.status)), color)],
        [f"{text['reasons']}:"],
        *reasons,
    ]  # fmt: skip
    if as_text(row.message):
        lines.append([(as_text(row.message), "i")])
    return lines


def _word(code: Any, lang: Lang) -> Any:
    """A kind or tenure code from the filing in words, where the language has them."""
    if not isinstance(code, str):
        return code
    return FILING[lang].get(code, code)


def _zone_name(zone: Any, names: dict[str, str], lang: Lang) -> Any:
    """A zone id as popups show it: in English the id (as reported), in Chinese the name."""
    return names.get(zone, zone) if lang == "zh" and isinstance(zone, str) else zone


def legend_rows(
    result: gpd.GeoDataFrame,
    located: np.ndarray,
    zones: gpd.GeoDataFrame,
    capped: int,
    display_crs: str,
    text: dict[str, str],
    lang: Lang,
) -> list[Row]:
    """The legend of :func:`pilotzone.maps.explore`: statuses, symbols, zone accuracies, notes."""
    counts = result["status"][located].astype(str).value_counts()
    rows: list[Row] = [(None, [(text["title"], "b")])]
    rows += [
        (dot(color), [f"{text[status]} ({counts.get(status, 0)})"])
        for status, color in STATUS_COLORS.items()
    ]
    rows += [
        ("border-radius:50%;border:3px solid #222;width:10px;height:10px", [text["registration"]]),
        (f"border-top:2px dashed {STATUS_COLORS['violation']};height:0", [text["line"]]),
        (f"border:2px solid {ZONE_COLOR};background:{ZONE_COLOR}22", [text["zones"]]),
        (f"background:{BAND_COLOR};opacity:.5", [text["band"]]),
    ]
    for zone in zones.itertuples(index=False):
        pieces = getattr(zone, "approximate_borders", ())
        wider = [p.accuracy_m for p in pieces if getattr(p, "approximate", True)]
        note = f"; {text['approximate']} ±{max(wider):g} m" if wider else ""
        name = as_text(getattr(zone, f"short_name_{lang}")) or as_text(zone.zone_id)
        rows.append((None, [(f"{name} ±{float(zone.accuracy_m):g} m{note}", "s")]))
    if (~located).any():
        rows.append((None, [f"{text['unlocated']}: {(~located).sum()}"]))
    if capped:
        rows.append((None, [f"{text['capped']}: {capped}"]))
    if display_crs == "gcj02":
        rows.append((None, [(text["gcj02"], "#b00")]))
    return rows


def draw_facilities(
    drawing: Drawing,
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
    frame = pd.DataFrame({c: result[c].to_numpy() for c in COLUMNS})
    frame["lat"], frame["lon"] = lat, lon
    frame["operator_id"] = frame["operator_id"].map(as_text)
    frame["status"] = frame["status"].astype(str)
    frame["registration"] = frame["kind"].astype(str).eq("registration")
    frame = frame[located]

    statuses = [s for s in STATUS_COLORS if (frame["status"] == s).any()]
    statuses += sorted(set(frame["status"]) - set(statuses))
    counts = frame["status"].value_counts()
    layers = {s: drawing.overlay(f"{text.get(s, s)} ({counts[s]})") for s in statuses}

    findings = (frame["status"] != "compliant").groupby(frame["operator_id"]).sum()
    ranked = sorted(findings.index, key=lambda op: (-findings[op], op))
    operators = sorted(ranked[:MAX_OPERATOR_LAYERS])
    capped = len(ranked) - len(operators)
    sizes = frame["operator_id"].value_counts()
    switches = {op: drawing.switch(f"{text['operator']} {op} ({sizes[op]})") for op in operators}

    registrations = frame[frame["registration"]].groupby("operator_id")
    home = {op: (g["lat"].iat[0], g["lon"].iat[0]) for op, g in registrations if len(g) == 1}
    # Drawn in this order: violations last, on top.
    frame = frame.assign(_rank=frame["status"].map(_DRAW_ORDER).fillna(1))
    row: Any  # a row of frame: pandas types the fields of itertuples as any scalar
    for row in frame.sort_values(["_rank", "registration"], kind="stable").itertuples():
        color = STATUS_COLORS.get(row.status, STATUS_COLORS["invalid"])
        layer, switch = layers[row.status], switches.get(row.operator_id, -1)
        kind = marker_kind(8 if row.registration else 5, "#222222",
                            3 if row.registration else 1, color, 0.85)  # fmt: skip
        tooltip = f"{as_text(row.name)} · {text.get(row.status, row.status)}"
        popup = _popup(row, text, lang, names)
        drawing.marker(layer, row.lat, row.lon, kind, tooltip=tooltip, popup=popup, switch=switch)
    for row in frame[frame["status"].eq("violation") & ~frame["registration"]].itertuples():
        if row.operator_id in home:
            path = [home[row.operator_id], (row.lat, row.lon)]
            drawing.line(layers[row.status], path, line_kind(STATUS_COLORS["violation"], 0.8),
                         switch=switches.get(row.operator_id, -1))  # fmt: skip
    return capped
