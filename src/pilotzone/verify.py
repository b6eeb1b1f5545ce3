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
8. A named zone component read as ``review`` (the default for contested
   ones, see :func:`pilotzone.load_zones`) lies in the zone, but a verdict
   that differs between its ``include`` and ``exclude`` readings is
   ``contested_component`` (review): a registration row in it; a facility
   in it whose operator is registered in the same zone; a facility in that
   zone whose operator's registration lies in it. The message names the
   component and its readings.

The status is the most serious severity among a row's reasons: ``invalid``,
then ``violation``, then ``review``; a row with no reason is ``compliant``.
Users and customers outside the zone are never a finding (Annex II.2: "the
scope of other services may cover the whole country").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from pilotzone._codes import STATUSES
from pilotzone._columns import (
    SERVICE_BY_KEY,
    SERVICES,
    arrow,
    canonical_services,
    category,
    cell_text,
    distinct_cells,
    service_names,
    unknown_value,
)
from pilotzone._hinges import components_of, contested_text, hinges
from pilotzone._messages import VERIFY, VERIFY_ISSUES, check_lang
from pilotzone._results import findings, row_numbers, summarize
from pilotzone._sentences import (
    compliant_sentence,
    distance_text,
    near_sentence,
    rule_sentence,
    zone_texts,
)
from pilotzone.address import ADDRESS_COLUMNS, address_check
from pilotzone.errors import InputError, Problem
from pilotzone.facilities import read_facilities
from pilotzone.locate import COORDINATE_ISSUES, component_ids, locate
from pilotzone.rules import (
    EXCLUDED_SERVICES,
    OPENED_SERVICES,
    RULES,
)
from pilotzone.zones import load_zones

__all__ = [
    "ADDED_COLUMNS",
    "RESULT_COLUMNS",
    "STATUSES",
    "filed_names",
    "findings",
    "keep_filed",
    "row_numbers",
    "summarize",
    "verify",
]

log = logging.getLogger(__name__)

#: Columns that :func:`verify` adds to the filing's own.
RESULT_COLUMNS = (
    "zone_id",
    "component",
    "registration_zone",
    "border_distance_m",
    "near_border",
    "status",
    "reasons",
    "message",
)
#: Every column :func:`verify` may add: its own, then :func:`pilotzone.address_check`'s. A filed
#: column of one of these names is kept under another (see :func:`filed_names`).
ADDED_COLUMNS = RESULT_COLUMNS + ADDRESS_COLUMNS
_CODES = tuple(RULES)
_BIT = {code: np.uint32(1) << np.uint32(i) for i, code in enumerate(_CODES)}
_FACILITY_GEOMETRIC = sum(
    _BIT[c]
    for c in (
        "facility_outside_registration_zone",
        "acceleration_outside_zone",
        "isp_service_outside_zone",
    )
)
_NO = {"no", "n", "false", "0", "否", "不是", "无"}
_GAP = "\x00"  # where a near-border message's distance goes
Lang = Literal["en", "zh"]


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
        regulator can read), and :func:`pilotzone.address_check`'s columns.
        A filed column of one of these names (:data:`ADDED_COLUMNS`) is kept
        under another (``status`` as ``filed_status``, see
        :func:`filed_names`), with a logged warning. ``attrs`` records
        ``as_of``, the zones' source and ``renamed_columns`` (filed name to
        new name). The text verdicts are categorical: ``zone_id`` and
        ``registration_zone`` have the zones' ids as categories (missing for
        none), ``status`` the four statuses, ``reasons`` and ``message`` the
        distinct texts, each stored once (a million rows share a few thousand
        messages). Compare them with strings as usual; to fill a missing zone,
        first ``.astype("str")`` or ``.cat.add_categories``.

    Examples
    --------
    >>> import pandas as pd, pilotzone as pz
    >>> filing = pd.DataFrame({
    ...     "operator_id": ["A", "A"], "kind": ["registration", "cdn"],
    ...     "lon": [121.5044, 114.0579], "lat": [31.2397, 22.5431], "crs": "wgs84"})
    >>> pz.verify(filing)["status"].tolist()
    ['compliant', 'violation']
    """
    check_lang(lang)
    sites = facilities if _is_read(facilities) else read_facilities(facilities)
    if zones is None:
        zones = load_zones(as_of=as_of)
    kept, renamed = keep_filed(sites, source=sites.attrs.get("source"))
    result = kept.copy(
        deep=False
    )  # verify only adds columns: the filing's own are shared, not copied
    # pandas deep-copies attrs on every derived frame: keep them small until the end
    result.attrs = {}
    filed = (result["problems"] == "").to_numpy(
        dtype=bool
    )  # the reader found no problem in the row
    codes = _rows(result, filed, *_place(result, filed, zones))
    codes.component = _component_codes(result, zones)
    bits = _judge(result, zones, codes, _declared_services(result, codes, operators))
    mismatch = _check_addresses(result, zones, bits, lang)
    # the reader's problems in Chinese, by their English (absent where the rows were not read
    # by read_facilities in this process)
    problems_zh = sites.attrs.get("problems_zh", {})
    result["status"], result["reasons"], result["message"] = _explain(
        result, bits, zones, codes, mismatch, lang, problems_zh if lang == "zh" else {}
    )
    result.attrs.update({k: v for k, v in sites.attrs.items() if k != "problems_zh"})
    result.attrs["as_of"] = zones.attrs.get("as_of")
    result.attrs["zones_source"] = zones.attrs.get("boundaries_path")
    result.attrs["readings"] = dict(zones.attrs.get("readings") or {})
    result.attrs["lang"] = lang
    result.attrs["renamed_columns"] = renamed
    return result


def filed_names(columns: Iterable[Hashable]) -> dict[str, str]:
    """New names for the filed columns that :func:`verify` would overwrite.

    Parameters
    ----------
    columns : iterable
        A filing's column labels.

    Returns
    -------
    dict
        Each label in :data:`ADDED_COLUMNS` to ``filed_<label>``, or
        ``filed_<label>_2``, ``_3``... when that name is taken too; empty when
        no label collides.

    Examples
    --------
    >>> filed_names(["operator_id", "status", "filed_status", "message"])
    {'status': 'filed_status_2', 'message': 'filed_message'}
    """
    labels = list(columns)
    taken = set(labels) | set(ADDED_COLUMNS)
    renamed: dict[str, str] = {}
    for label in labels:
        if label in ADDED_COLUMNS:
            name, n = f"filed_{label}", 2
            while name in taken:
                name, n = f"filed_{label}_{n}", n + 1
            taken.add(name)
            renamed[str(label)] = name
    return renamed


def keep_filed(frame: Any, *, source: Any = None) -> tuple[Any, dict[str, str]]:
    """A filing with the columns :func:`verify` would overwrite renamed (:func:`filed_names`).

    Parameters
    ----------
    frame : pandas, geopandas or Dask (Geo)DataFrame
        The filing.
    source : optional
        How the warning names the filing.

    Returns
    -------
    frame, dict
        The filing (the same object when nothing collides) and each renamed
        column's filed name to its new name. The renames are logged
        once, as a warning.
    """
    renamed = filed_names(frame.columns)
    if not renamed:
        return frame, {}
    log.warning(
        "%s: filed column%s renamed, since verify writes columns of the same names: %s",
        source or "the filing",
        "s" if len(renamed) > 1 else "",
        ", ".join(f"{old!r} -> {new!r}" for old, new in renamed.items()),
    )
    return frame.rename(columns=renamed), renamed


def _is_read(facilities: Any) -> bool:
    return isinstance(facilities, gpd.GeoDataFrame) and {"problems", "source_row", "crs"} <= set(
        facilities.columns
    )


@dataclass
class _Codes:
    """The columns the rules read, as integer codes: one factorisation per column, none per rule.

    ``zone`` and ``reg`` index ``zone_ids``; ``kind`` indexes ``kinds``;
    ``operator`` numbers the distinct operator ids; -1 means none.
    """

    filed: NDArray[np.bool_]  # the reader found no problem in the row
    zone_ids: list[str]
    zone: NDArray[np.intp]
    issue: NDArray[np.intp]  # locate's coordinate_issue, an index into COORDINATE_ISSUES; -1: none
    kinds: pd.Index
    kind: NDArray[np.intp]
    operators: pd.Index
    operator: NDArray[np.intp]
    reg: NDArray[np.intp] = field(default_factory=lambda: np.empty(0, dtype=np.intp))
    # per row, an index into component_ids(zones) (-1: none), and the component its verdict
    # hangs on: c (its own), len(component_ids) + c (its operator's registration's), -1 (none)
    component: NDArray[np.intp] = field(default_factory=lambda: np.empty(0, dtype=np.intp))
    hinge: NDArray[np.intp] = field(default_factory=lambda: np.empty(0, dtype=np.intp))


def _place(
    result: gpd.GeoDataFrame, filed: NDArray[np.bool_], zones: gpd.GeoDataFrame
) -> tuple[list[str], NDArray[np.intp], NDArray[np.intp]]:
    """Add zone_id, border_distance_m and near_border: one locate call per CRS, ``filed`` rows.

    Returns the zone ids, and per row an index into them and one into
    COORDINATE_ISSUES (-1 for none).
    """
    n = len(result)
    zone_ids = [str(z) for z in zones["zone_id"]]
    zone = np.full(n, -1, dtype=np.intp)
    distance = np.full(n, np.nan)
    near = np.zeros(n, dtype=bool)
    issue = np.full(n, -1, dtype=np.intp)
    parts = component_ids(zones)
    component = np.full(n, -1, dtype=np.intp)
    crs_code, crs_names = _factorize(result["crs"])
    usable = filed & (crs_code >= 0)
    lon, lat = result["lon"].to_numpy(), result["lat"].to_numpy()
    for code, crs in enumerate(crs_names):
        rows = np.flatnonzero(usable & (crs_code == code))
        if len(rows) == 0:
            continue
        found = locate(lon[rows], lat[rows], crs=crs, zones=zones)
        zone[rows] = _category_codes(found["zone_id"], zone_ids)
        component[rows] = _category_codes(found["component"], parts)
        distance[rows] = found["border_distance_m"].to_numpy()
        near[rows] = found["near_border"].to_numpy()
        issue[rows] = _category_codes(found["coordinate_issue"], list(COORDINATE_ISSUES))
    result["zone_id"] = pd.Categorical.from_codes(zone, categories=pd.Index(zone_ids))
    result["component"] = pd.Categorical.from_codes(component, categories=pd.Index(parts))
    result["border_distance_m"] = distance
    result["near_border"] = near
    return zone_ids, zone, issue


def _component_codes(result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> NDArray[np.intp]:
    """Each row's component (the column :func:`_place` wrote) as an index into component_ids."""
    return _category_codes(result["component"], component_ids(zones))


def _rows(
    result: gpd.GeoDataFrame,
    filed: NDArray[np.bool_],
    zone_ids: list[str],
    zone: NDArray[np.intp],
    issue: NDArray[np.intp],
) -> _Codes:
    """The codes the rules read, from the filing and from :func:`_place`."""
    kind, kinds = _factorize(result["kind"])
    operator, operators = _factorize(result["operator_id"])
    return _Codes(filed, zone_ids, zone, issue, kinds, kind, operators, operator)


def _factorize(column: pd.Series) -> tuple[NDArray[np.intp], pd.Index]:
    """Integer codes of a column (-1 where missing) and the values they number.

    A categorical column (the reader's kind and crs) already has them.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy().astype(np.intp), column.cat.categories
    codes, values = pd.factorize(column)
    return codes, pd.Index(values)


def _category_codes(values: pd.Series, names: list[str]) -> NDArray[np.intp]:
    """Positions in ``names`` of a categorical column's values, -1 where missing."""
    lookup = np.append(pd.Index(names).get_indexer(values.cat.categories), -1)
    return lookup[values.cat.codes.to_numpy()]


def _check_addresses(
    result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, bits: np.ndarray, lang: str
) -> np.ndarray:
    """Add address_check's columns when the filing has an address column.

    Flag checkable rows whose coordinate lies in another district than the address names.
    Returns that mask.
    """
    mismatch = np.zeros(len(result), dtype=bool)
    if (
        "address" not in result.columns
    ):  # the columns follow the schema, so every part of a filing has them
        return mismatch
    checked = address_check(result, zones=zones, lang=lang)  # type: ignore[arg-type]
    for column in ADDRESS_COLUMNS:
        result[column] = checked[column]
    mismatch = (checked["address_check"] == "mismatch").to_numpy() & (
        (bits & _BIT["invalid_input"]) == 0
    )
    bits[mismatch] |= _BIT["address_district_mismatch"]
    return mismatch


def _check_services(values: pd.Series, name: str) -> None:
    """Raise InputError naming every service of an operators table that pilotzone does not know.

    A typo is bad input, never a ``service_not_opened`` violation.
    """
    problems = [
        Problem(name, int(row) + 1, "services", unknown, reason)
        for row, value in enumerate(values.tolist())
        for unknown in service_names(value)[1]
        for reason in [unknown_value(unknown, "service", SERVICES, SERVICE_BY_KEY)]
    ]
    if problems:
        raise InputError(problems)


def _declared_services(
    result: gpd.GeoDataFrame, codes: _Codes, operators: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Whether each operator declares an excluded service, and one outside the opened list.

    Services come from the operator's registration rows and from the operators
    table. Both arrays are indexed by operator code, with a last entry (False)
    for rows without an operator id.
    """
    # A row the reader marked (an unknown service name among them) is invalid_input and
    # takes part in nothing else.
    registration = np.flatnonzero(_kind_is(codes, "registration") & codes.filed)
    owner = [codes.operator[registration]]
    texts = [result["services"].iloc[registration].to_numpy(dtype=object, na_value=None)]
    if operators is not None:
        table = operators if isinstance(operators, pd.DataFrame) else _read_operators(operators)
        missing = {"operator_id", "services"} - set(table.columns)
        if missing:
            name = "<operators>" if isinstance(operators, pd.DataFrame) else str(operators)
            raise InputError(
                Problem(name, None, ", ".join(sorted(missing)), None, "required column is missing")
            )
        owner.append(codes.operators.get_indexer(pd.Index(table["operator_id"].map(cell_text))))
        name = "<operators>" if isinstance(operators, pd.DataFrame) else str(operators)
        _check_services(table["services"], name)
        services = table["services"].map(canonical_services)
        # pandas-stubs type na_value as a scalar without None, which pandas accepts
        texts.append(services.to_numpy(dtype=object, na_value=None))  # type: ignore[call-overload]
    # Split each distinct services text once, then spread its verdicts to the operators declaring
    # it.
    text, distinct = pd.factorize(np.concatenate(texts), use_na_sentinel=False)
    declared = [{p for p in re.split(r"[;,\s]+", str(t or "")) if p} for t in distinct]
    excluded = np.array([bool(d & EXCLUDED_SERVICES) for d in declared] + [False], dtype=bool)[text]
    unknown = np.array(
        [bool(d - OPENED_SERVICES - EXCLUDED_SERVICES) for d in declared] + [False], dtype=bool
    )[text]
    operator = np.concatenate(owner)
    known = operator >= 0
    flags = []
    for found in (excluded, unknown):
        per_operator = np.zeros(len(codes.operators) + 1, dtype=bool)
        per_operator[operator[known & found]] = True
        flags.append(per_operator)
    return flags[0], flags[1]


def _read_operators(path: Any) -> pd.DataFrame:
    """The operators file, read as text; an unreadable one raises InputError naming it."""
    try:
        return pd.read_csv(path, dtype=str)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        reason = f"cannot read the operators file as UTF-8 CSV: {error}"
        raise InputError(Problem(Path(path).name, None, None, None, reason)) from error


def _kind_is(codes: _Codes, *names: str) -> np.ndarray:
    """Whether each row's kind is one of ``names``."""
    return np.array([k in names for k in codes.kinds] + [False], dtype=bool)[codes.kind]


def _judge(
    result: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    codes: _Codes,
    services: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """A bitmask of rule codes per row (see the module docstring for the order of judgement).

    Adds ``registration_zone`` to ``result`` and sets ``codes.reg``.
    """
    bits = np.zeros(len(result), dtype=np.uint32)
    invalid = ~codes.filed | (codes.issue >= 0)
    zone = codes.zone
    operator = codes.operator
    near = result["near_border"].to_numpy()

    registration = _kind_is(codes, "registration") & ~invalid
    reg_zone, reg_state = _registration_zones(operator, len(codes.operators), zone, registration)
    codes.reg = reg_zone
    result["registration_zone"] = pd.Categorical.from_codes(
        reg_zone, categories=pd.Index(codes.zone_ids)
    )

    active = np.append(zones["active"].astype(bool).to_numpy(), True)  # the last entry: no zone
    in_inactive = ~active[zone]

    def add(code: str, mask: np.ndarray) -> None:
        np.bitwise_or(bits, mask * _BIT[code], out=bits)  # a product: ~10x faster than where=mask

    checked = ~invalid
    facility = checked & ~registration
    placed = reg_state == _PLACED
    add("registration_missing", facility & (reg_state == _MISSING))
    add("registration_ambiguous", checked & (reg_state == _AMBIGUOUS))
    add("registration_outside_zones", checked & (reg_state == _OUTSIDE))
    outside = facility & placed & (zone != reg_zone)
    add("facility_outside_registration_zone", outside)
    add("acceleration_outside_zone", outside & _kind_is(codes, "cdn"))
    add("isp_service_outside_zone", outside & _kind_is(codes, "isp"))
    add("zone_not_active", checked & in_inactive)
    if "via_basic_carrier" in result.columns:
        cell, values = distinct_cells(result["via_basic_carrier"])
        said_no = np.array(
            [not _missing(v) and str(v).strip().lower() in _NO for v in values], dtype=bool
        )
        add(
            "isp_access_not_via_basic_carrier",
            checked & said_no[cell] & _kind_is(codes, "isp", "registration"),
        )
    excluded, unknown = services
    registrations = np.flatnonzero(registration)  # services are judged on these few rows only
    bits[registrations] |= excluded[operator[registrations]] * _BIT["service_excluded"]
    bits[registrations] |= unknown[operator[registrations]] * _BIT["service_not_opened"]
    # A position closer to a border than the boundary's accuracy decides nothing on its own row...
    uncertain = checked & near
    own_position = np.where(
        registration, _BIT["registration_outside_zones"], np.uint32(_FACILITY_GEOMETRIC)
    )
    bits &= ~(uncertain * own_position)
    add("near_border", uncertain)
    # ...nor for the facilities whose verdict hangs on it: those in a zone, judged against a
    # registration that may lie on either side of its border.
    shaky = np.zeros(len(codes.operators) + 1, dtype=bool)
    shaky[operator[registration & near]] = True
    shaky[-1] = False  # rows without an operator id share no registration
    hangs = (
        facility
        & shaky[operator]
        & (zone >= 0)
        & ((reg_state == _OUTSIDE) | (placed & (zone == reg_zone)))
    )
    bits &= ~(hangs * _BIT["registration_outside_zones"])
    add("registration_near_border", hangs)
    codes.hinge = hinges(
        components_of(zones),
        zone=zone,
        reg=reg_zone,
        component=codes.component,
        operator=operator,
        operators=len(codes.operators),
        checked=checked,
        registration=registration,
        placed=placed,
    )
    add("contested_component", codes.hinge >= 0)
    add("invalid_input", invalid)
    return bits


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


# The state of an operator's registration (see _registration_zones).
_PLACED, _OUTSIDE, _AMBIGUOUS, _MISSING = range(4)


def _registration_zones(
    operator: np.ndarray, operators: int, zone: np.ndarray, registration: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's operator registration zone (-1 for none), and the state of that registration.

    The state is ``_PLACED`` (one zone), ``_OUTSIDE`` (no zone), ``_AMBIGUOUS`` (several) or
    ``_MISSING``.

    ``operator`` numbers the rows' operators from 0 to ``operators - 1`` (-1: no operator id);
    ``zone`` numbers their zones (-1: none).
    """
    has = np.flatnonzero(registration & (operator >= 0))  # a few rows: gather them, not mask all
    reg_operator, reg_zone = operator[has], zone[has]
    width = int(zone.max(initial=-1)) + 2
    pairs = np.zeros((operators, width), dtype=bool)  # (operator, zone or none) seen
    pairs[reg_operator, reg_zone + 1] = True
    zones_per_operator = pairs.sum(axis=1)
    some_zone = np.full(operators, -1, dtype=np.intp)
    some_zone[reg_operator] = (
        reg_zone  # the zone of any of its registrations: used where there is only one
    )
    state = np.full(operators + 1, _MISSING, dtype=np.int8)  # the last entry: no operator id
    state[:operators] = np.where(
        zones_per_operator == 0,
        _MISSING,
        np.where(zones_per_operator > 1, _AMBIGUOUS, np.where(some_zone < 0, _OUTSIDE, _PLACED)),
    )
    home = np.append(np.where(state[:operators] == _PLACED, some_zone, -1), -1).astype(
        np.int16
    )  # a smaller gather
    return home[operator], state[operator]


def _status(bits: np.ndarray) -> NDArray[np.int8]:
    """The most serious severity among each bitmask's reasons, as an index into STATUSES."""
    status = np.full(bits.shape, STATUSES.index("compliant"), dtype=np.int8)
    for severity in ("review", "violation", "invalid"):
        mask = np.uint32(sum(_BIT[c] for c, r in RULES.items() if r.severity == severity))
        status[(bits & mask) != 0] = STATUSES.index(severity)
    return status


def _explain(
    result: gpd.GeoDataFrame,
    bits: np.ndarray,
    zones: gpd.GeoDataFrame,
    codes: _Codes,
    mismatch: np.ndarray,
    lang: Lang,
    problems: Mapping[str, str],
) -> tuple[pd.Categorical[str], pd.Categorical, pd.Categorical]:
    """Status, reason codes and a readable message per row, built once per distinct situation.

    A situation is a (bits, zone, registration zone, kind); rows near a border add their
    rounded distance to it, invalid rows their problems (in ``lang`` where ``problems``
    words the English ``problems`` cell otherwise), ``mismatch`` rows their
    ``address_message``. All three come out categorical: each distinct text is stored once.
    """
    t = VERIFY[lang]
    names = dict(zip(zones["zone_id"], zones[f"short_name_{lang}"], strict=True))
    accuracy = dict(zip(zones["zone_id"], zones["accuracy_m"], strict=True))
    zone_of = ["", *codes.zone_ids]  # codes are shifted by one: -1 (no zone) reads ""
    kind_of = ["", *(str(k) for k in codes.kinds)]
    parts = components_of(zones)
    hinge_of = [*parts, *parts]  # hinge codes are shifted by one: 0 is none
    spans = (len(zone_of), len(zone_of), len(kind_of), len(hinge_of) + 1)
    key = bits.astype(np.int64)
    for part, span in zip((codes.zone, codes.reg, codes.kind, codes.hinge), spans, strict=True):
        key *= span
        key += part
        key += 1
    situation, unique = pd.factorize(key)
    reasons: list[str] = []
    told: list[str] = []
    masks: list[int] = []
    texts = zone_texts(zones, lang)
    for value in unique.tolist():
        value, hinge = divmod(value, spans[3])
        value, kind = divmod(value, spans[2])
        value, reg = divmod(value, spans[1])
        mask, zone = divmod(value, spans[0])
        masks.append(mask)
        present = [c for c in _CODES if mask & _BIT[c]]
        reasons.append(";".join(present))
        if hinge:
            texts["contested_component"] = contested_text(
                hinge_of[hinge - 1], registration=hinge > len(parts), lang=lang
            )
        sentences = [
            rule_sentence(c, zone_of[zone], zone_of[reg], kind_of[kind], names, lang, texts)
            for c in present
        ]
        told.append(
            t["join"].join(sentences)
            or compliant_sentence(zone_of[zone], kind_of[kind], names, lang)
        )
    # Situations that read alike share a message, so what is added to it below is built once.
    said, distinct_told = pd.factorize(np.array(told, dtype=object))
    messages: list[str] = distinct_told.tolist()
    message = said[situation]  # an index into messages, which grows below
    invalid = np.flatnonzero(bits & _BIT["invalid_input"])
    if len(invalid):
        which, distinct = _combinations(result["problems"].iloc[invalid], codes.issue[invalid])
        message[invalid] = len(messages) + which
        for problem, issue in distinct:
            issue_name = COORDINATE_ISSUES[issue] if issue >= 0 else None
            why = problems.get(problem, problem) or VERIFY_ISSUES[lang].get(
                issue_name, VERIFY_ISSUES[lang][None]
            )
            messages.append(t["invalid"].format(why=why))
    near = np.flatnonzero(bits & _BIT["near_border"])
    if len(near):
        # t["near"] reads
        #     "<message so far> Located <side>, <distance> from a zone border<accuracy>: ...":
        # the text around the distance once per (message, zone), the distance once per metre,
        # joined once per distinct (message, zone, metre).
        pair, pairs = _combinations(message[near], codes.zone[near])
        before, after = [], []
        for base, zone_code in pairs:
            zone = zone_of[zone_code + 1]
            sentence = near_sentence(messages[base], zone, _GAP, names, accuracy, lang)
            head, _, tail = sentence.rpartition(_GAP)  # the gap after any text from the zone data
            before.append(head)
            after.append(tail)
        distance = result["border_distance_m"].to_numpy()[near]
        metres, rounded = pd.factorize(
            np.where(np.isfinite(distance), np.rint(distance), np.nan), use_na_sentinel=False
        )
        measured = [distance_text(m, lang) for m in rounded]
        which, combined = pd.factorize(pair.astype(np.int64) * len(rounded) + metres)
        pair, metres = np.divmod(combined, len(rounded))
        text = pc.binary_join_element_wise(
            arrow(before, pair),
            arrow(measured, metres),
            arrow(after, pair),
            pa.scalar("", pa.large_string()),
        )
        message[near] = len(messages) + which
        messages.extend(text.to_pylist())
    wrong = np.flatnonzero(mismatch)
    if len(wrong):  # the message names both districts
        which, distinct = _combinations(message[wrong], result["address_message"].iloc[wrong])
        message[wrong] = len(messages) + which
        messages.extend([t["join"].join((messages[base], remark)) for base, remark in distinct])
    status = _status(np.array(masks, dtype=np.uint32))[situation]
    return (
        pd.Categorical.from_codes(status, categories=pd.Index(STATUSES)),
        category(reasons, situation),
        category(messages, message),
    )


def _combinations(first: Any, second: Any) -> tuple[NDArray[np.intp], list[tuple[Any, Any]]]:
    """Number the distinct (first, second) pairs of two columns; the pairs in order of numbering."""
    one, ones = pd.factorize(first, use_na_sentinel=False)
    two, twos = pd.factorize(second, use_na_sentinel=False)
    which, distinct = pd.factorize(one.astype(np.int64) * max(len(twos), 1) + two)
    return which, [
        (ones[d // max(len(twos), 1)], twos[d % max(len(twos), 1)]) for d in distinct.tolist()
    ]
