"""Apply the pilot program's siting rules to a filing: a status and reasons for every row.

How a row is judged (RULES.md gives the article behind each code):

1. A row the reader marked with problems, or whose coordinates cannot be
   placed, is ``invalid`` (``invalid_input``) and takes part in nothing else.
2. Each operator's registration zone is the zone its ``registration`` rows
   lie in. No registration row: ``registration_missing``. Registration rows in
   different zones (or some in none): ``registration_ambiguous``. Both make
   the operator's other rows ``review``: without one registration zone the
   same-region rule cannot be applied.
3. A registration in no zone is ``registration_outside_zones``, and every
   facility of that operator is a violation for the same reason.
4. A facility whose zone is not its operator's registration zone is
   ``facility_outside_registration_zone``, whatever its tenure (owned, rented
   or purchased); a CDN node also gets ``acceleration_outside_zone``, an ISP
   point ``isp_service_outside_zone``.
5. A row in a zone that is not active on the audit date: ``zone_not_active``.
6. Declared services (on registration rows, or in ``operators=``) outside the
   opened list: ``service_not_opened``; in the excluded list:
   ``service_excluded``. A row whose ``via_basic_carrier`` column says no:
   ``isp_access_not_via_basic_carrier``.
7. A row closer to a border than the boundary's accuracy cannot be placed on
   either side with confidence: the findings that rest on its own position
   (3 on a registration row, 4 on a facility) are replaced by ``near_border``
   and it needs ``review``; the message gives the distance. When it is the
   registration that is near a border, the operator's facilities that lie in
   a zone, whose verdict hangs on which side the registration is, get
   ``registration_near_border`` (review) instead of a verdict either way;
   facilities in no zone stay violations, as they would be on either side.

The status is the most serious severity among a row's reasons: ``invalid``,
then ``violation``, then ``review``; a row with no reason is ``compliant``.
Users and customers outside the zone are never a finding (Annex II.2: "the
scope of other services may cover the whole country").
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from pilotzone.errors import InputError, Problem
from pilotzone.facilities import _services, _text, read_facilities
from pilotzone.locate import _is_dask, locate
from pilotzone.rules import EXCLUDED_SERVICES, OPENED_SERVICES, RULES, describe
from pilotzone.zones import load_zones

__all__ = ["RESULT_COLUMNS", "STATUSES", "findings", "summarize", "verify"]

log = logging.getLogger(__name__)

#: Statuses, from the most serious down.
STATUSES = ("invalid", "violation", "review", "compliant")
#: Columns that :func:`verify` adds to the filing's own.
RESULT_COLUMNS = ("zone_id", "registration_zone", "border_distance_m", "near_border", "status", "reasons", "message")
_CODES = tuple(RULES)
_BIT = {code: np.uint32(1) << np.uint32(i) for i, code in enumerate(_CODES)}
_FACILITY_GEOMETRIC = sum(
    _BIT[c] for c in ("facility_outside_registration_zone", "acceleration_outside_zone", "isp_service_outside_zone")
)
_NO = {"no", "n", "false", "0", "否", "不是", "无"}
_ISSUE_TEXT = {
    "missing": "a coordinate is missing",
    "not_finite": "a coordinate is not a finite number",
    "out_of_range": "the coordinates are outside the valid range of longitude and latitude",
    "probably_swapped": "longitude and latitude look swapped (the point lands in China only when swapped)",
    "transform_failed": "the coordinates cannot be converted from their coordinate system",
}


def verify(
    facilities: Any,
    *,
    operators: Any = None,
    as_of: Any = None,
    zones: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Check every row of a filing against the pilot program's siting rules.

    Parameters
    ----------
    facilities : GeoDataFrame, DataFrame or path
        A filing as returned by :func:`pilotzone.read_facilities`; anything
        else is read with it first (so it must say its coordinate system).
        A Dask (Geo)DataFrame gives a lazy result (:mod:`pilotzone.parallel`).
    operators : DataFrame or path, optional
        One row per operator with ``operator_id`` and ``services``: the
        services each operator declares, added to those on its registration
        rows.
    as_of : date or ISO string, optional
        Audit date: zones not active on it are reported. Default today. Used
        only when ``zones`` is not given.
    zones : GeoDataFrame, optional
        Zones from :func:`pilotzone.load_zones`; their ``active`` column is
        taken as it is.

    Returns
    -------
    GeoDataFrame
        The filing's index and columns plus ``zone_id``,
        ``registration_zone``, ``border_distance_m``, ``near_border``,
        ``status`` (``compliant``, ``violation``, ``review`` or ``invalid``),
        ``reasons`` (rule codes joined by ``;``) and ``message`` (sentences a
        regulator can read). ``attrs`` records ``as_of`` and the zones' source.

    Examples
    --------
    >>> import pandas as pd, pilotzone as pz
    >>> filing = pd.DataFrame({
    ...     "operator_id": ["A", "A"], "kind": ["registration", "cdn"],
    ...     "lon": [121.5044, 114.0579], "lat": [31.2397, 22.5431], "crs": "wgs84"})
    >>> pz.verify(filing)["status"].tolist()
    ['compliant', 'violation']
    """
    if _is_dask(facilities):
        from pilotzone import parallel

        return parallel.verify(facilities, operators=operators, as_of=as_of, zones=zones)
    sites = facilities if _is_read(facilities) else read_facilities(facilities)
    if zones is None:
        zones = load_zones(as_of=as_of)
    result = sites.copy()
    result.attrs = {}  # pandas deep-copies attrs on every derived frame: keep them small until the end
    issue = _place(result, zones)
    bits = _judge(result, zones, issue, _declared_services(result, operators))
    result["status"] = pd.Categorical(_status(bits), categories=STATUSES)
    result["reasons"], result["message"] = _explain(result, bits, zones, issue)
    result.attrs.update(sites.attrs)
    result.attrs["as_of"] = zones.attrs.get("as_of")
    result.attrs["zones_source"] = zones.attrs.get("boundaries_path")
    return result


def _is_read(facilities: Any) -> bool:
    return isinstance(facilities, gpd.GeoDataFrame) and {"problems", "source_row", "crs"} <= set(facilities.columns)


def _place(result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> np.ndarray:
    """Add zone_id, border_distance_m and near_border; return coordinate issues. One locate call per CRS."""
    n = len(result)
    zone = np.full(n, None, dtype=object)
    distance = np.full(n, np.nan)
    near = np.zeros(n, dtype=bool)
    issue = np.full(n, None, dtype=object)
    usable = (result["problems"].to_numpy() == "") & result["crs"].notna().to_numpy()
    crs_values = result["crs"].to_numpy()
    for crs in pd.unique(crs_values[usable]):
        rows = np.flatnonzero(usable & (crs_values == crs))
        found = locate(result["lon"].to_numpy()[rows], result["lat"].to_numpy()[rows], crs=crs, zones=zones)
        zone[rows] = _objects(found["zone_id"])
        distance[rows] = found["border_distance_m"].to_numpy()
        near[rows] = found["near_border"].to_numpy()
        issue[rows] = _objects(found["coordinate_issue"])
    result["zone_id"] = zone
    result["border_distance_m"] = distance
    result["near_border"] = near
    return issue


def _objects(values: pd.Series) -> np.ndarray:
    """A categorical column as Python objects, with None (not NaN) where missing."""
    return np.where(values.isna().to_numpy(), None, values.astype(object).to_numpy())


def _declared_services(result: gpd.GeoDataFrame, operators: Any) -> pd.DataFrame:
    """One row per (operator, declared service), from registration rows and the operators table."""
    registration = result["kind"] == "registration"
    frames = [pd.DataFrame(result.loc[registration, ["operator_id", "services"]])]
    if operators is not None:
        table = operators if isinstance(operators, pd.DataFrame) else pd.read_csv(operators, dtype=str)
        missing = {"operator_id", "services"} - set(table.columns)
        if missing:
            name = "<operators>" if isinstance(operators, pd.DataFrame) else str(operators)
            raise InputError(Problem(name, None, ", ".join(sorted(missing)), None, "required column is missing"))
        frames.append(pd.DataFrame({
            "operator_id": table["operator_id"].map(_text),
            "services": table["services"].map(_services),
        }))
    both = pd.concat(frames, ignore_index=True)
    both["service"] = both["services"].fillna("").str.split(r"[;,\s]+", regex=True)
    pairs = both[["operator_id", "service"]].explode("service")
    return pairs[pairs["service"].fillna("") != ""].drop_duplicates()


def _judge(
    result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, issue: np.ndarray, services: pd.DataFrame
) -> np.ndarray:
    """A bitmask of rule codes per row (see the module docstring for the order of judgement)."""
    bits = np.zeros(len(result), dtype=np.uint32)
    invalid = (result["problems"].to_numpy() != "") | (issue != None)  # noqa: E711 (elementwise)
    kind = result["kind"].to_numpy()
    zone = result["zone_id"].to_numpy()
    operator = result["operator_id"].to_numpy()
    near = result["near_border"].to_numpy()
    registration = (kind == "registration") & ~invalid

    reg_zone, reg_state = _registration_zones(operator, zone, registration)
    result["registration_zone"] = reg_zone

    active_ids = zones.loc[zones["active"].astype(bool), "zone_id"].to_numpy()
    in_inactive = pd.notna(zone) & ~np.isin(zone, active_ids)

    def add(code: str, mask: np.ndarray) -> None:
        bits[mask] |= _BIT[code]

    checked = ~invalid
    facility = checked & ~registration
    add("registration_missing", facility & (reg_state == "missing"))
    add("registration_ambiguous", checked & (reg_state == "ambiguous"))
    add("registration_outside_zones", checked & (reg_state == "outside"))
    placed = reg_state == "placed"
    outside = facility & placed & (zone != reg_zone)
    add("facility_outside_registration_zone", outside)
    add("acceleration_outside_zone", outside & (kind == "cdn"))
    add("isp_service_outside_zone", outside & (kind == "isp"))
    add("zone_not_active", checked & in_inactive)
    if "via_basic_carrier" in result.columns:
        said_no = result["via_basic_carrier"].astype(str).str.strip().str.lower().isin(_NO).to_numpy()
        add("isp_access_not_via_basic_carrier", checked & said_no & np.isin(kind, ["isp", "registration"]))
    excluded = services.loc[services["service"].isin(EXCLUDED_SERVICES), "operator_id"]
    unknown = services.loc[~services["service"].isin(OPENED_SERVICES | EXCLUDED_SERVICES), "operator_id"]
    add("service_excluded", registration & np.isin(operator, excluded.to_numpy()))
    add("service_not_opened", registration & np.isin(operator, unknown.to_numpy()))
    # A position closer to a border than the boundary's accuracy decides nothing on its own row...
    uncertain = checked & near
    own_position = np.where(registration, _BIT["registration_outside_zones"], np.uint32(_FACILITY_GEOMETRIC))
    bits[uncertain] &= ~own_position[uncertain]
    add("near_border", uncertain)
    # ...nor for the facilities whose verdict hangs on it: those in a zone, judged against a
    # registration that may lie on either side of its border.
    shaky = np.isin(operator, operator[registration & near])
    hangs = facility & shaky & pd.notna(zone) & ((reg_state == "outside") | ((reg_state == "placed") & (zone == reg_zone)))
    bits[hangs] &= ~_BIT["registration_outside_zones"]
    add("registration_near_border", hangs)
    add("invalid_input", invalid)
    return bits


def _registration_zones(
    operator: np.ndarray, zone: np.ndarray, registration: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's operator registration zone, and the state of that operator's registration:
    ``placed`` (one zone), ``outside`` (no zone), ``ambiguous`` (several) or ``missing``."""
    regs = pd.DataFrame({"operator": operator[registration], "zone": zone[registration]})
    regs["zone"] = regs["zone"].astype(object).where(pd.notna(regs["zone"]), "")
    per_operator = regs.groupby("operator")["zone"].agg(["nunique", "first"])
    state = pd.Series("placed", index=per_operator.index, dtype=object)
    state[per_operator["first"] == ""] = "outside"
    state[per_operator["nunique"] > 1] = "ambiguous"
    placed_zone = per_operator["first"].where(state == "placed", None)
    keys = pd.Index(operator)
    row_state = state.reindex(keys).fillna("missing").to_numpy(dtype=object)
    row_zone = placed_zone.reindex(keys).to_numpy(dtype=object, copy=True)
    row_zone[pd.isna(row_zone)] = None
    return row_zone, row_state


def _status(bits: np.ndarray) -> np.ndarray:
    status = np.full(bits.shape, "compliant", dtype=object)
    for severity in ("review", "violation", "invalid"):
        mask = np.uint32(sum(_BIT[c] for c, r in RULES.items() if r.severity == severity))
        status[(bits & mask) != 0] = severity
    return status


def _explain(
    result: gpd.GeoDataFrame, bits: np.ndarray, zones: gpd.GeoDataFrame, issue: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Reason codes and a readable message per row, built once per distinct situation."""
    names = dict(zip(zones["zone_id"], zones["short_name_en"], strict=True))
    accuracy = dict(zip(zones["zone_id"], zones["accuracy_m"], strict=True))
    situation = pd.DataFrame({
        "bits": bits,
        "zone": result["zone_id"].to_numpy(),
        "reg": result["registration_zone"].to_numpy(),
        "kind": result["kind"].to_numpy(),
    }).fillna({"zone": "", "reg": ""})
    codes, unique = pd.factorize(pd.MultiIndex.from_frame(situation))
    reasons = np.empty(len(unique), dtype=object)
    messages = np.empty(len(unique), dtype=object)
    for i, (mask, zone, reg, kind) in enumerate(unique):
        present = [c for c in _CODES if mask & _BIT[c]]
        reasons[i] = ";".join(present)
        messages[i] = " ".join(_sentence(c, zone, reg, kind, names) for c in present) or _compliant(zone, kind, names)
    reason = reasons[codes]
    message = messages[codes].astype(object)
    problems = result["problems"].to_numpy()
    for row in np.flatnonzero(bits & _BIT["invalid_input"]):
        why = problems[row] or _ISSUE_TEXT.get(issue[row], "the coordinates cannot be placed on the map")
        message[row] = f"Cannot be checked: {why}."
    distance = result["border_distance_m"].to_numpy()
    zone_of_row = result["zone_id"].to_numpy()
    for row in np.flatnonzero(bits & _BIT["near_border"]):
        inside = pd.notna(zone_of_row[row])
        side = f"inside {names.get(zone_of_row[row], zone_of_row[row])}" if inside else "outside every zone"
        metres = f"{distance[row]:,.0f} m" if np.isfinite(distance[row]) else "within the review band"
        band = accuracy.get(zone_of_row[row]) if inside else None
        extra = f" (boundary accuracy {band:,.0f} m)" if band else ""
        message[row] = f"{message[row]} Located {side}, {metres} from a zone border{extra}: confirm on the ground."
    return reason, message


def _sentence(code: str, zone: str, reg: str, kind: str, names: dict[str, str]) -> str:
    where = names.get(zone, zone) if zone else "no pilot region"
    home = names.get(reg, reg)
    article = RULES[code].article
    specific = {
        "facility_outside_registration_zone": f"This {kind} facility is in {where}, but the operator is "
        f"registered in {home}; registration and every facility must be in the same pilot region",
        "registration_outside_zones": "The operator's registration address is outside every pilot region, "
        "so none of its facilities can qualify"
        if kind != "registration" else "The registration address is outside every pilot region",
        "zone_not_active": f"{where} is not an active pilot region on the audit date",
    }
    return f"{specific.get(code, describe(code))} ({article})."


def _compliant(zone: str, kind: str, names: dict[str, str]) -> str:
    where = names.get(zone, zone)
    if kind == "registration":
        return f"Registration address in {where}, an active pilot region."
    return f"In {where}, the operator's registration region."


def summarize(result: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row per operator: registration zone, counts by status, and eligibility.

    Parameters
    ----------
    result : GeoDataFrame
        The output of :func:`verify`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``operator_id``: ``registration_zone``, ``rows``, one count
        column per status, ``eligible`` (registration in an active zone and no
        violation or invalid row) and ``needs_review``.
    """
    counts = pd.crosstab(result["operator_id"], result["status"]).reindex(columns=list(STATUSES), fill_value=0)
    counts.columns = list(STATUSES)
    first = result.groupby("operator_id")["registration_zone"].first()
    table = pd.DataFrame({"registration_zone": first, "rows": counts.sum(axis=1)}).join(counts)
    registered = table["registration_zone"].notna()
    reg_rows = result[result["kind"] == "registration"]
    bad = reg_rows.loc[reg_rows["status"].astype(str) != "compliant", "operator_id"].unique()
    table["eligible"] = registered & (table["violation"] == 0) & (table["invalid"] == 0) & ~table.index.isin(bad)
    table["needs_review"] = table["review"] > 0
    table.index.name = "operator_id"
    return table


def findings(result: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row per (row, rule) finding, most serious first.

    Parameters
    ----------
    result : GeoDataFrame
        The output of :func:`verify`.

    Returns
    -------
    pandas.DataFrame
        Columns ``row`` (the result's index label), ``operator_id``,
        ``facility_id``, ``name``, ``kind``, ``tenure``, ``zone_id``,
        ``registration_zone``, ``border_distance_m``, ``rule``, ``severity``,
        ``article``, ``title`` and ``message``.
    """
    keep = ["operator_id", "facility_id", "name", "kind", "tenure", "zone_id", "registration_zone",
            "border_distance_m", "message"]
    flagged = result.loc[result["reasons"] != "", keep + ["reasons"]]
    exploded = flagged.assign(rule=flagged["reasons"].str.split(";")).explode("rule").drop(columns="reasons")
    exploded.insert(0, "row", exploded.index)
    exploded["severity"] = exploded["rule"].map(lambda c: RULES[c].severity)
    exploded["article"] = exploded["rule"].map(lambda c: RULES[c].article)
    exploded["title"] = exploded["rule"].map(describe)
    order = {s: i for i, s in enumerate(STATUSES)}
    exploded = exploded.sort_values(["severity", "operator_id", "row"], key=lambda s: s.map(order) if s.name == "severity" else s,
                                    kind="stable")
    columns = ["row", *keep[:-1], "rule", "severity", "article", "title", "message"]
    return pd.DataFrame(exploded[columns]).reset_index(drop=True)
