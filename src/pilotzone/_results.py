"""The tables an auditor reads from a :func:`pilotzone.verify` result: per operator, per finding.

:func:`summarize` gives each operator's counts and eligibility (eligible,
pending review or not eligible, with the reasons); :func:`findings` one row
per (row, rule). :mod:`pilotzone.verify` re-exports both.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pilotzone._codes import ELIGIBILITY, ELIGIBILITY_REASONS, STATUSES
from pilotzone._columns import label_column
from pilotzone._hinges import components_of, contested_text
from pilotzone._messages import VERIFY
from pilotzone._sentences import distance_text, near_sentence, rule_sentence, zone_texts
from pilotzone.address import district_of
from pilotzone.rules import RULES, describe, eligibility_words

__all__ = ["filed_coordinates", "findings", "row_numbers", "rule_counts", "summarize"]


def summarize(result: gpd.GeoDataFrame, lang: str | None = None) -> pd.DataFrame:
    """One row per operator: registration zone, counts by status, and eligibility.

    Parameters
    ----------
    result : GeoDataFrame
        The output of :func:`pilotzone.verify`.
    lang : {"en", "zh"}, optional
        The language of ``eligibility_reason``; default the result's (its ``lang``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``operator_id``: ``registration_zone``, ``rows``, a count per status,
        ``eligibility`` (see Notes), its codes ``eligibility_reasons`` (``;``-separated) and words
        ``eligibility_reason``, ``eligible`` (it is ``eligible``) and ``needs_review``.

    Notes
    -----
    The rule, over each operator's rows: ``not_eligible`` when any row is a ``violation``
    (reason ``violation``, plus ``registration_outside_zones`` for a registration outside every
    zone) or a registration row is ``invalid`` (``registration_invalid``); otherwise
    ``pending_review`` when any row is ``review`` (``registration_near_border`` for a
    registration near a border, else ``review``, which covers a missing or ambiguous
    registration) or a facility row is ``invalid`` (``facility_invalid``); otherwise
    ``eligible`` (``all_compliant``).
    """
    lang = str(lang if lang is not None else result.attrs.get("lang") or "en")
    counts = result.groupby(["operator_id", "status"], observed=True).size().unstack(fill_value=0)
    counts = counts.reindex(columns=list(STATUSES), fill_value=0)
    counts.columns = list(STATUSES)
    first = result.groupby("operator_id")["registration_zone"].first()
    table = pd.DataFrame({"registration_zone": first, "rows": counts.sum(axis=1)}).join(counts)
    status = result["status"]  # compared as it is: a categorical needs no text per row

    def rows_of(state: str) -> np.ndarray:
        return (status == state).to_numpy(dtype=bool)

    registration = (result["kind"] == "registration").to_numpy(dtype=bool)
    review = rows_of("review")
    near = registration & review & _names(result["reasons"], "near_border")
    outside = _names(result["reasons"], "registration_outside_zones")
    invalid = rows_of("invalid")
    rows = {
        "violation": rows_of("violation"),
        "registration_outside_zones": registration & outside,
        "registration_invalid": registration & invalid,
        "registration_near_border": near,
        "review": review & ~near,
        "facility_invalid": ~registration & invalid,
    }
    found = pd.DataFrame(rows, index=result.index).groupby(result["operator_id"]).any()
    found = found.reindex(table.index, fill_value=False)
    flags = [found[list(ELIGIBILITY_REASONS[s])].any(axis=1) for s in ELIGIBILITY[:2]]
    table["eligibility"] = np.select(flags, list(ELIGIBILITY[:2]), ELIGIBILITY[2])
    table["eligibility_reasons"] = [
        ";".join(c for c in ELIGIBILITY_REASONS[state] if c == "all_compliant" or getattr(row, c))
        for state, row in zip(table["eligibility"], found.itertuples(index=False), strict=True)
    ]
    table["eligibility_reason"] = [eligibility_words(c, lang) for c in table["eligibility_reasons"]]
    return table.assign(
        eligible=table["eligibility"] == "eligible", needs_review=table["review"] > 0
    )


def _names(reasons: pd.Series, code: str) -> np.ndarray:
    """Whether each row's ``reasons`` (``;``-separated codes) name ``code``.

    Decided once per distinct ``reasons``: a million rows hold a few dozen.
    """
    at, texts = pd.factorize(reasons, use_na_sentinel=True)
    named = np.array([code in str(text).split(";") for text in texts] + [False], dtype=bool)
    return named[at]  # a missing cell (-1) names none


def rule_counts(result: pd.DataFrame) -> dict[str, int]:
    """How many findings each rule has: the rows whose ``reasons`` name it.

    Parameters
    ----------
    result : DataFrame
        The output of :func:`pilotzone.verify`.

    Returns
    -------
    dict of str to int
        Each rule code some row names, and how many rows name it: the counts of
        :func:`findings`' ``rule`` column, counted once per distinct ``reasons``
        rather than by building the findings.
    """
    counts: dict[str, int] = {}
    for text, rows in result["reasons"].value_counts(sort=False).items():
        if rows and isinstance(text, str) and text:
            for code in text.split(";"):
                counts[code] = counts.get(code, 0) + int(rows)
    return counts


def row_numbers(result: pd.DataFrame) -> pd.Series:
    """The number the user's program shows for each row of a result, by index label.

    Parameters
    ----------
    result : DataFrame
        The output of :func:`pilotzone.verify` (or of
        :func:`pilotzone.read_facilities`).

    Returns
    -------
    pandas.Series
        Its ``source_row`` column: the row of a worksheet and the line of a CSV
        where the record starts (both counting the header and any title rows
        above it), the feature number (from 1) of a GeoJSON, KML, GeoPackage
        or Parquet file, the position (from 1) in a DataFrame; the index label
        where a result has no ``source_row``.
    """
    if "source_row" in result.columns:
        return pd.Series(result["source_row"].to_numpy(), index=result.index, name="row")
    return pd.Series(result.index, index=result.index, name="row")


def findings(result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """One row per (row, rule) finding, each with its own rule's message, most serious first.

    Parameters
    ----------
    result : GeoDataFrame
        The output of :func:`pilotzone.verify`.
    zones : GeoDataFrame, optional
        The zones the result was checked against, for the zone names in the
        messages; by default reloaded from ``result.attrs`` (audit date and
        zone data folder).

    Returns
    -------
    pandas.DataFrame
        Columns ``row`` (the row's number, as :func:`row_numbers`),
        ``operator_id``, ``facility_id``, ``name``, ``address`` (when filed),
        ``kind``, ``tenure``, ``lon``, ``lat`` and ``crs`` (the coordinates and
        their system as filed), ``district`` (the county or district the
        coordinate lies in, :func:`pilotzone.address.district_of`),
        ``zone_id``, ``registration_zone``, ``border_distance_m``, ``rule``,
        ``severity``, ``article``, ``title`` and ``message``.

    Notes
    -----
    ``row`` is the number the user's program shows for the row, as problems
    and the CLI cite it: the sheet row of a workbook, the line of a CSV, the
    feature number of a spatial file (see :func:`row_numbers`).

    ``message`` is the sentence of the finding's own rule, in the result's
    language (``attrs["lang"]``): a row with two findings has two messages,
    which together say what the row's ``message`` says (there, a near-border
    remark on where the point lies comes after every rule's sentence). Under the
    headers above the table reads back with :func:`pilotzone.read_facilities`.

    A row whose ``reasons`` are empty or missing has no finding. Each column
    is taken from the result once, in the table's final order; the texts of
    ``rule``, ``severity``, ``article``, ``title``, ``message`` and
    ``district`` are made once per distinct value.
    """
    at, rule, codes = _rules_by_row(result["reasons"])
    numbers = row_numbers(result).to_numpy()
    # Most serious first, then by operator and row, stably: a row's findings stay in the
    # order its reasons name them (the operators' codes are in their sorted order, a
    # missing one last).
    rank = {s: i for i, s in enumerate(STATUSES)}
    severity = np.array([rank.get(_rule_field(c, "severity") or "", len(rank)) for c in codes])
    operator, _ = pd.factorize(result["operator_id"], sort=True)
    operator = np.where(operator < 0, len(operator), operator)
    ranked = np.lexsort((numbers[at], operator[at], severity[rule]))
    at, rule = at[ranked], rule[ranked]

    def taken(column: str) -> Any:
        return result[column].array.take(at)

    lon, lat, crs = filed_coordinates(result)
    placed_rows, back = np.unique(at, return_inverse=True)  # a row of several findings: once
    points = np.asarray(result.geometry.values, dtype=object)[placed_rows]
    x, y = shapely.get_x(points), shapely.get_y(points)  # NaN for a row without a point
    crs_codes, crs_names = pd.factorize(crs[at])  # a system given as a number is named too
    columns: dict[str, Any] = {
        "row": numbers[at],
        **{c: taken(c) for c in ("operator_id", "facility_id", "name")},
        **({"address": taken("address")} if "address" in result.columns else {}),
        "kind": taken("kind"),
        "tenure": taken("tenure"),
        "lon": lon[at],
        "lat": lat[at],
        "crs": label_column([str(name) for name in crs_names], crs_codes),
        "district": _district_texts(x, y, back),
        **{c: taken(c) for c in ("zone_id", "registration_zone", "border_distance_m")},
        "rule": label_column(codes, rule),
        **{
            field: label_column([_rule_field(c, field) for c in codes], rule)
            for field in ("severity", "article")
        },
        "title": label_column([describe(c) if c in RULES else None for c in codes], rule),
    }
    texts, which = _rule_messages(result, at, codes, rule, zones)
    columns["message"] = label_column(texts, which)
    return pd.DataFrame(columns)


def _district_texts(x: np.ndarray, y: np.ndarray, back: np.ndarray) -> Any:
    """The district of each point ``back`` picks, as a text column."""
    districts = district_of(x, y).array
    return label_column(list(districts.categories), districts.codes[back])


def _rules_by_row(reasons: pd.Series) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Each finding's row position and rule (a position in the returned codes).

    In row order, and each row's rules in the order its ``reasons`` name them;
    worked out once per distinct ``reasons`` (a million rows hold a few dozen).
    """
    which, texts = pd.factorize(reasons, use_na_sentinel=True)
    named = [str(t).split(";") if t else [] for t in texts] + [[]]  # the last: missing
    codes = list(dict.fromkeys(c for rules in named for c in rules))
    position = {c: i for i, c in enumerate(codes)}
    width = max(map(len, named))
    table = np.full((len(named), max(width, 1)), -1, dtype=np.intp)
    for i, rules in enumerate(named):
        table[i, : len(rules)] = [position[c] for c in rules]
    per_row = np.array([len(r) for r in named])[which]
    at = np.repeat(np.arange(len(which)), per_row)
    nth = np.arange(len(at)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    return at, table[which[at], nth], codes


def _rule_field(code: str, field: str) -> str | None:
    """A rule's ``severity`` or ``article``; None for a code no rule has."""
    rule = RULES.get(code)
    return None if rule is None else str(getattr(rule, field))


def filed_coordinates(result: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's ``lon``, ``lat`` (numbers, NaN for none) and ``crs`` (text) as filed.

    From the filing's own columns; a filing whose points came as geometries
    (GeoJSON, KML, GeoPackage, Parquet) gives the WGS-84 point and ``wgs84``.
    """
    if {"lon", "lat"} <= set(result.columns):
        lon = pd.to_numeric(result["lon"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        lat = pd.to_numeric(result["lat"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        crs = (
            result["crs"].astype(object).to_numpy()
            if "crs" in result.columns
            else np.full(len(result), None, dtype=object)
        )
        return lon, lat, crs
    points = np.asarray(result.geometry.values, dtype=object)
    lon, lat = shapely.get_x(points), shapely.get_y(points)
    crs = np.full(len(result), "wgs84", dtype=object)
    crs[np.isnan(lon)] = None
    return lon, lat, crs


def _rule_messages(
    result: gpd.GeoDataFrame,
    at: np.ndarray,
    codes: list[str],
    rule: np.ndarray,
    zones: gpd.GeoDataFrame | None,
) -> tuple[list[str], np.ndarray]:
    """Each finding's own sentence: the distinct sentences, and which one each finding has.

    A finding is at row position ``at`` under rule ``codes[rule]``. A sentence is
    built once per distinct situation: (rule, zone, registration zone, kind) and
    what the rule quotes: the reader's problem (``invalid_input``, whose row has
    no other finding: its message), the rounded border distance
    (``near_border``) or the address remark (``address_district_mismatch``).
    """
    lang = str(result.attrs.get("lang") or "en")
    if not len(at):
        return [], np.empty(0, dtype=np.intp)
    code = np.asarray(codes, dtype=object)[rule]
    said = np.full(len(at), "", dtype=object)
    invalid = code == "invalid_input"
    said[invalid] = _values_at(result, "message", at[invalid])
    near = code == "near_border"
    distance = result["border_distance_m"].to_numpy(dtype=float)[at[near]]
    rounded, spread = np.unique(np.rint(distance), return_inverse=True)
    said[near] = rounded.astype(str)[spread]
    if (~invalid).any() and zones is None:  # the zones the result was checked against
        from pilotzone.zones import load_zones

        zones = load_zones(
            as_of=result.attrs.get("as_of"),
            boundaries=result.attrs.get("zones_source"),
            readings=result.attrs.get("readings") or None,
        )
    contested = code == "contested_component"
    if contested.any():
        said[contested] = _contested_texts(result, at[contested], lang, zones)
    address = code == "address_district_mismatch"
    if address.any() and "address_message" in result.columns:
        said[address] = _values_at(result, "address_message", at[address])
    parts = [rule, *(pd.factorize(result[c])[0][at] for c in ("zone_id", "registration_zone"))]
    parts += [pd.factorize(result["kind"])[0][at], pd.factorize(said)[0]]
    situation = np.zeros(len(at), dtype=np.int64)
    for part in parts:  # one number per distinct situation, kept below len(at)
        situation = pd.factorize(situation * (int(part.max()) + 2) + part + 1)[0]
    first = np.unique(situation, return_index=True)[1]  # a finding of each situation, in turn

    def texts_of(column: str) -> list[str]:
        return ["" if pd.isna(v) else str(v) for v in _values_at(result, column, at[first])]

    if zones is not None:
        names = dict(zip(zones["zone_id"], zones[f"short_name_{lang}"], strict=True))
        accuracy = dict(zip(zones["zone_id"], zones["accuracy_m"], strict=True))
        situations = zone_texts(zones, lang)  # type: ignore[arg-type]
    join = VERIFY[lang]["join"]
    texts = []
    for rule_code, zone, reg, kind, quoted in zip(
        code[first], texts_of("zone_id"), texts_of("registration_zone"), texts_of("kind"),
        said[first], strict=True,
    ):  # fmt: skip
        if rule_code == "invalid_input":
            texts.append(quoted)
            continue
        hinge = (
            {"contested_component": quoted} if rule_code == "contested_component" and quoted else {}
        )
        text = rule_sentence(rule_code, zone, reg, kind, names, lang, {**situations, **hinge})  # type: ignore[arg-type]
        if rule_code == "near_border":
            metres = distance_text(float(quoted), lang)  # type: ignore[arg-type]
            text = near_sentence(text, zone, metres, names, accuracy, lang)  # type: ignore[arg-type]
        elif rule_code == "address_district_mismatch" and quoted:
            text = join.join((text, quoted))
        texts.append(text)
    return texts, situation


def _values_at(result: pd.DataFrame, column: str, rows: np.ndarray) -> np.ndarray:
    """A column's values at row positions, as Python objects (missing as NaN or None).

    Only those rows are converted, not the whole column.
    """
    return np.asarray(result[column].array.take(rows), dtype=object)


def _contested_texts(
    result: gpd.GeoDataFrame, rows: np.ndarray, lang: str, zones: gpd.GeoDataFrame
) -> list[str]:
    """The sentence naming the contested component each of ``rows`` (positions) hangs on.

    As :func:`pilotzone._hinges.hinges` decides: the row's own component when it is
    read as review (a row in it hangs on it first), otherwise its operator's
    registration's component.
    """
    review = {c.component_id: c for c in components_of(zones) if c.reading == "review"}
    component = result["component"].astype(object).to_numpy()
    registration = (result["kind"].astype(str) == "registration").to_numpy()
    operator = result["operator_id"].astype(object).to_numpy()
    registered_in = dict(zip(operator[registration], component[registration], strict=True))
    texts = []
    for row in rows.tolist():
        own = review.get(str(component[row]))
        theirs = review.get(str(registered_in.get(operator[row])))
        chosen = own if own is not None else theirs
        if chosen is None:  # the zones given are not those the result was checked against
            texts.append("")
            continue
        texts.append(contested_text(chosen, registration=own is None, lang=lang))  # type: ignore[arg-type]
    return texts
