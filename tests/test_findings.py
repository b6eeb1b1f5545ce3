"""Findings, one per (row, rule), each in its own words, where and as filed (issue 19).

Each finding carries its own rule's sentence (a row with two findings no longer repeats one
combined message twice), the county or district its coordinate lies in, and its coordinates
with their system as filed.
"""

from __future__ import annotations

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
