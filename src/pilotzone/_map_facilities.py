"""The verification result on a map: its facilities, their popups, and the legend.

:func:`draw_facilities` adds every located facility of a result to a
:class:`pilotzone._map_drawing.Drawing` as one compact binary table (a layer
per status and per operator), with what the page needs for the lines from
each operator's registration to its violations;
:func:`legend_rows` gives the legend of :func:`pilotzone.maps.explore`.
"""

from __future__ import annotations

from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
from numpy.typing import NDArray
from pandas.api.extensions import ExtensionArray

from pilotzone._map_drawing import (
    BAND_COLOR,
    STATUS_COLORS,
    ZONE_COLOR,
    Drawing,
    Row,
    as_text,
    as_texts,
    dot,
)
from pilotzone._map_points import SCALE, coded, degrees, distinct, pack
from pilotzone._messages import FILING
from pilotzone._results import row_numbers
from pilotzone.rules import describe

Lang = Literal["en", "zh"]

#: At most this many operators get a layer of their own in the layer control.
MAX_OPERATOR_LAYERS = 200
COLUMNS = (
    "operator_id", "facility_id", "name", "address", "kind", "tenure", "zone_id",
    "registration_zone", "border_distance_m", "near_border", "status", "reasons", "message",
)  # fmt: skip
_DRAW_ORDER = {"compliant": 0, "invalid": 1, "review": 2, "violation": 3}
#: The words of a facility's popup, from :data:`pilotzone._messages.MAP`.
_POPUP_WORDS = (
    "row", "operator", "facility", "address", "kind", "tenure", "zone", "registration_zone",
    "distance", "status", "reasons", "lines_hidden", "component",
)  # fmt: skip


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
    components: list[Row],
) -> list[Row]:
    """The legend of :func:`pilotzone.maps.explore`: statuses, symbols, zone accuracies, notes.

    ``components`` are the rows of the zone components drawn, put after the review band's.

    A status counts every row, as the terminal, report and summary.json do; the
    rows without a location among them are counted again on a line of their own.
    """
    codes, statuses = as_strings(result["status"])
    counts = dict(zip(statuses, np.bincount(codes, minlength=len(statuses)), strict=True))
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
        *components,
    ]
    for zone in zones.itertuples(index=False):
        pieces = getattr(zone, "approximate_borders", ())
        wider = [p.accuracy_m for p in pieces if getattr(p, "approximate", True)]
        coast = [p.accuracy_m for p in pieces if getattr(p, "border", "land") == "coast"]
        note = f"; {text['coast_band']} ±{max(coast):g} m" if coast else ""
        note += f"; {text['approximate']} ±{max(wider):g} m" if wider else ""
        name = as_text(getattr(zone, f"short_name_{lang}")) or as_text(zone.zone_id)
        rows.append((None, [(f"{name} ±{float(zone.accuracy_m):g} m{note}", "s")]))
    if readings := zones.attrs.get("readings"):  # the audit's readings of contested components
        rows.append(
            (
                None,
                [
                    (
                        f"{text['readings']}: "
                        + "; ".join(f"{c}={r}" for c, r in readings.items()),
                        "s",
                    )
                ],
            )
        )
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
    """Every located facility as a point of one binary table, with the violation lines.

    The layer control has one layer per status and one per operator (the
    :data:`MAX_OPERATOR_LAYERS` operators with most findings). A facility is
    shown while both its status layer and its operator's layer are on. Every
    facility is its own point, drawn by the page's canvas layer from
    ``drawing.points`` (:func:`pilotzone._map_points.pack`) in the order
    compliant, invalid, review, violation (registrations last within each),
    so violations are on top; its popup holds the row's details, its tooltip
    the name and status. A line joins an operator's registration, where it
    has exactly one located, to each of its violations.

    Returns the number of operators left without a layer of their own.
    """
    # Columns are taken by position, kept in their own type (Arrow strings factorize fast),
    # and turned to text once per distinct value, never row by row.
    where = np.flatnonzero(located)
    # Each row a code into the texts of the statuses (kinds) present, one text per category.
    status, present = as_strings(result["status"].take(where))
    kinds, kind_texts = as_strings(result["kind"].take(where))
    registration = np.array([k == "registration" for k in kind_texts], dtype=bool)[kinds]
    # Operators as text ("" where missing), one code each.
    raw_codes, raw_operators = distinct(result["operator_id"].take(where))
    merged, operator_values = pd.factorize(np.array(as_texts(raw_operators), dtype=object))
    operator_codes = merged[raw_codes] if len(raw_codes) else raw_codes
    rows = row_numbers(result)[located]

    statuses = [s for s in STATUS_COLORS if s in present]
    statuses += sorted(set(present) - set(statuses))
    counts = dict(zip(present, np.bincount(status, minlength=len(present)), strict=True))
    layers = [drawing.overlay(f"{text.get(s, s)} ({counts[s]})") for s in statuses]

    size = len(operator_values)
    found = np.array([s != "compliant" for s in present], dtype=bool)[status]
    findings = np.bincount(operator_codes, weights=found, minlength=size)
    sizes = np.bincount(operator_codes, minlength=size)
    ranked = sorted(range(size), key=lambda c: (-findings[c], operator_values[c]))
    operators = sorted(ranked[:MAX_OPERATOR_LAYERS], key=lambda c: operator_values[c])
    capped = size - len(operators)
    switches = {
        c: drawing.switch(f"{text['operator']} {operator_values[c]} ({sizes[c]})")
        for c in operators
    }  # fmt: skip

    rank = np.array([_DRAW_ORDER.get(s, 1) for s in present], dtype=np.uint8)[status]
    # stable: by rank, registrations last (a radix sort of one byte)
    order = np.argsort(2 * rank + registration, kind="stable")

    drawn = where[order]  # the rows in the order drawn

    def column(name: str) -> ExtensionArray:
        return result[name].array.take(drawn)

    def texts(name: str) -> tuple[NDArray[np.intp], list[str] | pa.Array]:
        codes, uniques = distinct(column(name))
        return codes, as_texts(uniques)

    layer_of = np.array([statuses.index(s) for s in present], dtype=np.uint8)
    numbers: dict[str, NDArray[np.integer]] = {
        "lat": degrees(lat[located][order]),
        "lon": degrees(lon[located][order]),
        "status": layer_of[status[order]],
        "registration": registration[order].astype(np.uint8),
    }
    dictionaries = {
        "operator": (operator_codes[order], list(operator_values)),
        "name": texts("name"),
        "facility": texts("facility_id"),
        "address": texts("address"),
        "kind": coded(column("kind"), lambda v: as_text(_word(v, lang))),
        "tenure": coded(column("tenure"), lambda v: as_text(_word(v, lang))),
        "zone": coded(column("zone_id"), lambda v: as_text(_zone_name(v, names, lang)) or "-"),
        "registration_zone": coded(
            column("registration_zone"), lambda v: as_text(_zone_name(v, names, lang)) or "-"
        ),
        "distance": coded(
            # whole metres first (as the text shows them, halves to even): far fewer to format
            np.rint(column("border_distance_m").to_numpy(dtype=float, na_value=np.nan)),
            lambda v: text["beyond_band"] if pd.isna(v) else f"{float(v):,.0f} m",
        ),
        "reasons": coded(column("reasons"), lambda v: _reasons(v, text, lang)),
        "message": texts("message"),
    }
    if "component" in result:  # the zone component each point fell in (pilotzone.verify's)
        dictionaries["component"] = coded(column("component"), lambda v: as_text(v) or "-")
    numbered = rows.to_numpy()[order]
    if pd.api.types.is_integer_dtype(numbered) and (len(numbered) == 0 or (
        numbered.min() >= np.iinfo(np.int32).min and numbered.max() <= np.iinfo(np.int32).max
    )):  # fmt: skip
        numbers["row"] = numbered.astype(np.int32)
    else:
        dictionaries["row"] = coded(numbered, as_text)
    drawing.points = {
        "table": pack(numbers, dictionaries),
        "scale": SCALE,
        "statuses": [
            [layer, STATUS_COLORS.get(s, "#7f7f7f"), text.get(s, s), s == "violation"]
            for s, layer in zip(statuses, layers, strict=True)
        ],
        "switches": [switches.get(c, -1) for c in range(size)],
        "line": STATUS_COLORS["violation"],
        "text": {k: text[k] for k in _POPUP_WORDS},
    }
    return capped


def as_strings(values: pd.Series) -> tuple[NDArray[np.intp], list[Any]]:
    """``values.astype(str)`` as codes into its distinct texts, in the order they first appear.

    A category or a string has one text, so those columns are turned to text
    once per distinct value; others row by row (pandas takes 1 and True as one
    value, but their texts differ).
    """
    if not isinstance(values.dtype, (pd.CategoricalDtype, pd.StringDtype)):
        values = values.astype(str)
    codes, uniques = distinct(values)
    merged, texts = pd.factorize(uniques.astype(str), use_na_sentinel=False)
    return merged[codes], texts.tolist()


def _reasons(reasons: Any, text: dict[str, str], lang: Lang) -> list[str]:
    """The popup lines of a ``reasons`` value: each rule described, or "none"."""
    codes = [c for c in reasons.split(";") if c] if isinstance(reasons, str) else []
    return [f"• {describe(c, lang)}" for c in codes] or [text["none"]]
