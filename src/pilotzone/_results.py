"""The tables an auditor reads from a :func:`pilotzone.verify` result: per operator, per finding.

:func:`summarize` gives each operator's counts and eligibility (eligible,
pending review or not eligible, with the reasons); :func:`findings` one row
per (row, rule). :mod:`pilotzone.verify` re-exports both.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from pilotzone._codes import ELIGIBILITY, ELIGIBILITY_REASONS, STATUSES
from pilotzone.rules import RULES, describe, eligibility_words

__all__ = ["findings", "summarize"]


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
    counts = pd.crosstab(result["operator_id"], result["status"])
    counts = counts.reindex(columns=list(STATUSES), fill_value=0)
    counts.columns = list(STATUSES)
    first = result.groupby("operator_id")["registration_zone"].first()
    table = pd.DataFrame({"registration_zone": first, "rows": counts.sum(axis=1)}).join(counts)
    status = result["status"].astype(str).to_numpy()
    registration = (result["kind"].astype(str) == "registration").to_numpy()
    review = status == "review"
    reasons = result["reasons"].astype(str).str.split(";")
    near = registration & review & reasons.map(lambda c: "near_border" in c).to_numpy(bool)
    outside = reasons.map(lambda codes: "registration_outside_zones" in codes).to_numpy(dtype=bool)
    rows = {
        "violation": status == "violation",
        "registration_outside_zones": registration & outside,
        "registration_invalid": registration & (status == "invalid"),
        "registration_near_border": near,
        "review": review & ~near,
        "facility_invalid": ~registration & (status == "invalid"),
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


def findings(result: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row per (row, rule) finding, most serious first.

    Parameters
    ----------
    result : GeoDataFrame
        The output of :func:`pilotzone.verify`.

    Returns
    -------
    pandas.DataFrame
        Columns ``row`` (the row's number, as :func:`row_numbers`),
        ``operator_id``, ``facility_id``, ``name``, ``kind``, ``tenure``,
        ``zone_id``, ``registration_zone``, ``border_distance_m``, ``rule``,
        ``severity``, ``article``, ``title`` and ``message``.

    Notes
    -----
    ``row`` is the number the user's program shows for the row, as problems
    and the CLI cite it: the sheet row of a workbook, the line of a CSV, the
    feature number of a spatial file (see :func:`row_numbers`).
    """
    keep = [
        "operator_id",
        "facility_id",
        "name",
        "kind",
        "tenure",
        "zone_id",
        "registration_zone",
        "border_distance_m",
        "message",
    ]
    flagged = result.loc[result["reasons"] != "", [*keep, "reasons"]]
    exploded = (
        flagged.assign(rule=flagged["reasons"].str.split(";"))
        .explode("rule")
        .drop(columns="reasons")
    )
    exploded.insert(0, "row", row_numbers(result).loc[exploded.index].to_numpy())
    exploded["severity"] = exploded["rule"].map({c: r.severity for c, r in RULES.items()})
    exploded["article"] = exploded["rule"].map({c: r.article for c, r in RULES.items()})
    exploded["title"] = exploded["rule"].map({c: describe(c) for c in RULES})
    order = {s: i for i, s in enumerate(STATUSES)}
    exploded = exploded.sort_values(
        ["severity", "operator_id", "row"],
        key=lambda s: s.map(order) if s.name == "severity" else s,
        kind="stable",
    )
    columns = ["row", *keep[:-1], "rule", "severity", "article", "title", "message"]
    return pd.DataFrame(exploded[columns]).reset_index(drop=True)
