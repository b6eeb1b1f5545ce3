"""Findings, one per (row, rule), each in its own words, where and as filed (issue 19).

Each finding carries its own rule's sentence (a row with two findings no longer repeats one
combined message twice), the county or district its coordinate lies in, and its coordinates
with their system as filed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pilotzone as pz
from pilotzone._messages import VERIFY
from pilotzone.crs import from_wgs84
from pilotzone.rules import RULES, cite

AS_OF = "2025-01-01"
LUJIAZUI = (121.5044, 31.2397)  # Shanghai, Pudong
FUTIAN = (114.0579, 22.5431)  # Shenzhen, Futian: another zone
TIANANMEN = (116.3975, 39.9087)  # Beijing, Dongcheng


def _filing(crs: str) -> pd.DataFrame:
    rows = [
        ("A", "A-REG", "registration", LUJIAZUI),
        ("A", "A-CDN", "cdn", FUTIAN),  # two findings: outside its region, acceleration outside
        ("A", "A-IDC", "idc", TIANANMEN),  # one finding
        ("B", "B-IDC", "idc", LUJIAZUI),  # no registration: registration_missing
    ]
    lon, lat = zip(*(p for *_, p in rows), strict=True)
    if crs != "wgs84":
        lon, lat = from_wgs84(list(lon), list(lat), crs)
    return pd.DataFrame({
        "operator_id": [r[0] for r in rows], "facility_id": [r[1] for r in rows],
        "name": [f"site {r[1]}" for r in rows], "kind": [r[2] for r in rows],
        "tenure": "rented", "lon": list(lon), "lat": list(lat), "crs": crs,
    })  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_finding_carries_its_own_rules_message(lang: str) -> None:
    result = pz.verify(_filing("wgs84"), as_of=AS_OF, lang=lang)  # type: ignore[arg-type]
    table = pz.findings(result)
    cdn = table[table["facility_id"] == "A-CDN"]
    assert set(cdn["rule"]) == {"facility_outside_registration_zone", "acceleration_outside_zone"}
    assert cdn["message"].nunique() == 2  # not the row's combined message twice
    for rule, message in zip(table["rule"], table["message"], strict=True):
        assert cite(rule, lang) in message  # type: ignore[arg-type]
        others = [cite(c, lang) for c in RULES if c != rule]  # type: ignore[arg-type]
        assert sum(message.count(f"({o})") for o in others if o != cite(rule, lang)) == 0
    # together, in the order of the rules, a row's findings read as the row's message
    order = {code: i for i, code in enumerate(RULES)}
    messages = result.set_index("source_row")["message"].astype(str)
    for row, found in table.groupby("row"):
        ordered = found.sort_values("rule", key=lambda s: s.map(order))["message"]
        assert VERIFY[lang]["join"].join(ordered) == messages[row]


def test_findings_carry_the_district_and_the_coordinates_as_filed() -> None:
    filing = _filing("gcj02")
    result = pz.verify(filing, as_of=AS_OF)
    table = pz.findings(result).set_index(["facility_id", "rule"])
    filed = filing.set_index("facility_id")
    for facility_id in ("A-CDN", "A-IDC", "B-IDC"):
        found = table.loc[facility_id]
        assert (found["lon"] == filed.loc[facility_id, "lon"]).all()
        assert (found["lat"] == filed.loc[facility_id, "lat"]).all()
        assert (found["crs"] == "gcj02").all()
    assert set(table.loc["A-CDN", "district"]) == {"广东省深圳市福田区"}
    assert set(table.loc["A-IDC", "district"]) == {"北京市东城区"}
    assert set(table.loc["B-IDC", "district"]) == {"上海市浦东新区"}


def test_findings_of_a_geojson_filing_give_its_wgs84_points(tmp_path) -> None:
    path = tmp_path / "filing.geojson"
    frame = _filing("wgs84")
    points = pz.read_facilities(frame).drop(columns=["lon", "lat", "crs"], errors="ignore")
    points[["operator_id", "facility_id", "name", "kind", "tenure", "geometry"]].to_file(path)
    table = pz.findings(pz.verify(path, as_of=AS_OF))
    cdn = table[table["facility_id"] == "A-CDN"].iloc[0]
    assert (cdn["lon"], cdn["lat"], cdn["crs"]) == pytest.approx((*FUTIAN, "wgs84"))
    assert cdn["district"] == "广东省深圳市福田区"


def _mixed_filing(rows: int, seed: int) -> pd.DataFrame:
    """Operators with sites in and around every zone, some rows broken (no id, bad kind)."""
    rng = np.random.default_rng(seed)
    boxes = np.array([  # lon, lat boxes around and across the four zones
        (115.9, 39.6, 116.9, 40.3), (121.3, 30.8, 122.0, 31.5),
        (113.7, 22.4, 114.7, 22.9), (108.5, 18.1, 111.1, 20.2),
    ])  # fmt: skip
    box = boxes[rng.integers(0, len(boxes), rows)]
    kinds = np.array(["registration", "idc", "cdn", "isp", "bogus"])
    frame = pd.DataFrame({
        "operator_id": [f"OP{i}" for i in rng.integers(0, rows // 8, rows)],
        "facility_id": [f"F{i}" for i in range(rows)],
        "kind": kinds[rng.choice(5, rows, p=[0.15, 0.4, 0.2, 0.2, 0.05])],
        "tenure": "owned",
        "lon": rng.uniform(box[:, 0], box[:, 2]),
        "lat": rng.uniform(box[:, 1], box[:, 3]),
        "crs": rng.choice(["wgs84", "gcj02"], rows),
    })  # fmt: skip
    frame.loc[rng.random(rows) < 0.02, "operator_id"] = ""
    return frame


def test_findings_agree_with_the_result_row_by_row() -> None:
    # The oracle: the result's rows exploded by their reasons, in pandas, then ranked as the
    # docstring says: most serious first, then operator, then row, each row's rules in order.
    result = pz.verify(_mixed_filing(3000, 7), as_of=AS_OF)
    table = pz.findings(result)
    flagged = result[result["reasons"] != ""]
    exploded = flagged.assign(rule=flagged["reasons"].str.split(";")).explode("rule")
    rank = {s: i for i, s in enumerate(["invalid", "violation", "review", "compliant"])}
    exploded = exploded.assign(
        severity=exploded["rule"].map({c: r.severity for c, r in RULES.items()}),
        nth=exploded.groupby(level=0).cumcount(),
    )
    exploded = exploded.assign(rank=exploded["severity"].map(rank)).sort_values(
        ["rank", "operator_id", "source_row", "nth"], kind="stable"
    )
    assert len(table) == len(exploded) > 1000
    assert set(table["rule"]) >= {"near_border", "invalid_input", "registration_outside_zones"}
    assert table["row"].tolist() == exploded["source_row"].tolist()
    assert table["rule"].tolist() == exploded["rule"].tolist()
    assert table["severity"].tolist() == exploded["severity"].tolist()
    for column in ("operator_id", "facility_id", "kind", "zone_id", "registration_zone"):
        assert table[column].astype(object).fillna("").tolist() == (
            exploded[column].astype(object).fillna("").tolist()
        ), column
    pd.testing.assert_series_equal(
        table["border_distance_m"],
        exploded["border_distance_m"].reset_index(drop=True),
        check_names=False,
    )
    assert table["article"].tolist() == [RULES[c].article for c in table["rule"]]
    # each message cites its own rule; a row of one finding has the row's message
    cited = [cite(c) in m for c, m in zip(table["rule"], table["message"], strict=True)]
    assert cited == (table["rule"] != "invalid_input").tolist()  # a problem cites no rule
    alone = ~exploded.index.duplicated(keep=False)
    assert alone.sum() > 1000
    assert table["message"][alone].tolist() == exploded["message"][alone].astype(str).tolist()
