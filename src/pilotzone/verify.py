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
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from pilotzone.address import ADDRESS_COLUMNS, address_check
from pilotzone.errors import InputError, Problem
from pilotzone.facilities import _services, _text, read_facilities
from pilotzone.locate import _is_dask, locate
from pilotzone.rules import EXCLUDED_SERVICES, OPENED_SERVICES, RULES, cite, describe
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
Lang = Literal["en", "zh"]
# Every sentence verify writes, by language. The Chinese follows the wording of the notice
# (工信部通函〔2024〕107号) and its Annex: 注册地, 服务设施所在地, 同一试点地区, 加速服务.
_ISSUE_TEXT = {
    "en": {
        "missing": "a coordinate is missing",
        "not_finite": "a coordinate is not a finite number",
        "out_of_range": "the coordinates are outside the valid range of longitude and latitude",
        "probably_swapped": "longitude and latitude look swapped (the point lands in China only when swapped)",
        "transform_failed": "the coordinates cannot be converted from their coordinate system",
        None: "the coordinates cannot be placed on the map",
    },
    "zh": {
        "missing": "缺少坐标",
        "not_finite": "坐标不是有限数值",
        "out_of_range": "坐标超出经纬度的有效范围",
        "probably_swapped": "经度与纬度疑似填反（互换后该点才位于中国境内）",
        "transform_failed": "坐标无法从其坐标系转换",
        None: "坐标无法在地图上定位",
    },
}
_TEMPLATES = {
    "en": {
        "no_region": "no pilot region",
        "outside_registration": "This {kind} facility is in {where}, but the operator is registered in {home}; "
        "registration and every facility must be in the same pilot region",
        "registration_outside_facility": "The operator's registration address is outside every pilot region, "
        "so none of its facilities can qualify",
        "registration_outside": "The registration address is outside every pilot region",
        "not_active": "{where} is not an active pilot region on the audit date",
        "sentence": "{text} ({article}).",
        "join": " ",
        "compliant_registration": "Registration address in {where}, an active pilot region.",
        "compliant": "In {where}, the operator's registration region.",
        "invalid": "Cannot be checked: {why}.",
        "inside": "inside {where}",
        "outside_all": "outside every zone",
        "metres": "{m:,.0f} m",
        "in_band": "within the review band",
        "accuracy": " (boundary accuracy {m:,.0f} m)",
        "near": "{message} Located {side}, {metres} from a zone border{extra}: confirm on the ground.",
    },
    "zh": {
        "no_region": "试点地区以外",
        "outside_registration": "该{kind}位于{where}，而运营者注册地在{home}；"
        "注册地与服务设施所在地（含租用、购买的设施）应在同一试点地区内",
        "registration_outside_facility": "运营者注册地不在任何试点地区内，其服务设施均不符合试点要求",
        "registration_outside": "注册地不在任何试点地区内",
        "not_active": "{where}在核查日不是有效的试点地区（已暂停、终止或尚未生效）",
        "sentence": "{text}（{article}）。",
        "join": "",
        "compliant_registration": "注册地位于{where}，为有效的试点地区。",
        "compliant": "位于{where}，与运营者注册地属同一试点地区。",
        "invalid": "无法核查：{why}。",
        "inside": "位于{where}范围内",
        "outside_all": "不在任何试点地区内",
        "metres": "{m:,.0f} 米",
        "in_band": "在复核带内",
        "accuracy": "（边界精度 {m:,.0f} 米）",
        "near": "{message}该点{side}，距试点地区边界 {metres}{extra}，请现场核实。",
    },
}
_KIND_TEXT = {
    "en": {},
    "zh": {
        "registration": "注册地址", "idc": "互联网数据中心（IDC）设施", "cdn": "CDN节点",
        "isp": "ISP服务点", "server": "服务器机房", "other": "服务设施",
    },
}  # fmt: skip


def verify(
    facilities: Any,
    *,
    operators: Any = None,
    as_of: Any = None,
    zones: gpd.GeoDataFrame | None = None,
    lang: Lang = "en",
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
    lang : {"en", "zh"}, default "en"
        Language of ``message``: English, or Chinese in the notice's own
        terms (注册地, 服务设施所在地, 同一试点地区), citing the articles as
        the Chinese text numbers them. Reason codes are the same in both.

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
    if lang not in _TEMPLATES:
        raise ValueError(f"lang must be 'en' or 'zh', not {lang!r}")
    if _is_dask(facilities):
        from pilotzone import parallel

        return parallel.verify(facilities, operators=operators, as_of=as_of, zones=zones, lang=lang)
    sites = facilities if _is_read(facilities) else read_facilities(facilities)
    if zones is None:
        zones = load_zones(as_of=as_of)
    result = sites.copy()
    result.attrs = {}  # pandas deep-copies attrs on every derived frame: keep them small until the end
    issue = _place(result, zones)
    bits = _judge(result, zones, issue, _declared_services(result, operators))
    mismatch = _check_addresses(result, zones, bits, lang)
    result["status"] = pd.Categorical(_status(bits), categories=STATUSES)
    result["reasons"], result["message"] = _explain(result, bits, zones, issue, lang)
    if mismatch.any():  # the message names both districts
        result.loc[mismatch, "message"] += " " + result.loc[mismatch, "address_message"]
    result.attrs.update(sites.attrs)
    result.attrs["as_of"] = zones.attrs.get("as_of")
    result.attrs["zones_source"] = zones.attrs.get("boundaries_path")
    result.attrs["lang"] = lang
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


def _check_addresses(result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, bits: np.ndarray, lang: str) -> np.ndarray:
    """Add address_check's columns when the filing has an address column; flag checkable rows whose
    coordinate lies in another district than the address names. Returns that mask."""
    mismatch = np.zeros(len(result), dtype=bool)
    if "address" not in result.columns:  # the columns follow the schema, so every part of a filing has them
        return mismatch
    checked = address_check(result, zones=zones, lang=lang)  # type: ignore[arg-type]
    for column in ADDRESS_COLUMNS:
        result[column] = checked[column]
    mismatch = (checked["address_check"] == "mismatch").to_numpy() & ((bits & _BIT["invalid_input"]) == 0)
    bits[mismatch] |= _BIT["address_district_mismatch"]
    return mismatch


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
    result: gpd.GeoDataFrame, bits: np.ndarray, zones: gpd.GeoDataFrame, issue: np.ndarray, lang: Lang
) -> tuple[np.ndarray, np.ndarray]:
    """Reason codes and a readable message per row, built once per distinct situation."""
    t = _TEMPLATES[lang]
    names = dict(zip(zones["zone_id"], zones[f"short_name_{lang}"], strict=True))
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
        sentences = [_sentence(c, zone, reg, kind, names, lang) for c in present]
        messages[i] = t["join"].join(sentences) or _compliant(zone, kind, names, lang)
    reason = reasons[codes]
    message = messages[codes].astype(object)
    problems = result["problems"].to_numpy()
    for row in np.flatnonzero(bits & _BIT["invalid_input"]):
        why = problems[row] or _ISSUE_TEXT[lang].get(issue[row], _ISSUE_TEXT[lang][None])
        message[row] = t["invalid"].format(why=why)
    distance = result["border_distance_m"].to_numpy()
    zone_of_row = result["zone_id"].to_numpy()
    for row in np.flatnonzero(bits & _BIT["near_border"]):
        inside = pd.notna(zone_of_row[row])
        side = t["inside"].format(where=names.get(zone_of_row[row], zone_of_row[row])) if inside else t["outside_all"]
        metres = t["metres"].format(m=distance[row]) if np.isfinite(distance[row]) else t["in_band"]
        band = accuracy.get(zone_of_row[row]) if inside else None
        extra = t["accuracy"].format(m=band) if band else ""
        message[row] = t["near"].format(message=message[row], side=side, metres=metres, extra=extra)
    return reason, message


def _sentence(code: str, zone: str, reg: str, kind: str, names: dict[str, str], lang: Lang) -> str:
    t = _TEMPLATES[lang]
    where = names.get(zone, zone) if zone else t["no_region"]
    home = names.get(reg, reg)
    shown_kind = _KIND_TEXT[lang].get(kind, kind)
    specific = {
        "facility_outside_registration_zone": t["outside_registration"].format(kind=shown_kind, where=where, home=home),
        "registration_outside_zones": t["registration_outside_facility"]
        if kind != "registration" else t["registration_outside"],
        "zone_not_active": t["not_active"].format(where=where),
    }
    text = specific.get(code, describe(code, lang))
    return t["sentence"].format(text=text, article=cite(code, lang))


def _compliant(zone: str, kind: str, names: dict[str, str], lang: Lang) -> str:
    t = _TEMPLATES[lang]
    where = names.get(zone, zone)
    return t["compliant_registration" if kind == "registration" else "compliant"].format(where=where)


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
