"""Tests for pilotzone.audit: inspection samples (sample) and audit comparison (compare).

Filings are built in code from real WGS-84 positions well inside (or outside) the
zones, the same ones tests/test_verify.py checks. Offline and deterministic:
zones loaded for a fixed date, hypothesis derandomized with a fixed budget.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pilotzone as pz
from pilotzone.audit import CHANGES, MOVE_THRESHOLD_M, NO_ZONE
from pilotzone.cli import main
from pilotzone.report import CHANGE_FILES, write_changes, write_report, write_sample

AS_OF = "2025-01-01"
TIANANMEN = (116.3975, 39.9087)  # Beijing
LUJIAZUI = (121.5044, 31.2397)  # Shanghai (Pudong)
FUTIAN = (114.0579, 22.5431)  # Shenzhen
HAIKOU = (110.3312, 20.0311)  # Hainan
TIANJIN = (117.2009, 39.0842)  # outside every zone
WANGFUJING = (116.4109, 39.9151)  # Beijing, about 1.3 km from Tiananmen
PLACES = {"beijing": TIANANMEN, "shanghai": LUJIAZUI, "shenzhen": FUTIAN, "hainan": HAIKOU}


@pytest.fixture(scope="module")
def zones() -> gpd.GeoDataFrame:
    return pz.load_zones(as_of=AS_OF)


def filing(rows: list[tuple[str, str, str, tuple[float, float]]]) -> pd.DataFrame:
    """A filing from (operator_id, facility_id, kind, (lon, lat)) tuples, in WGS-84."""
    return pd.DataFrame(
        [
            {
                "operator_id": o,
                "facility_id": f,
                "kind": k,
                "lon": at[0],
                "lat": at[1],
                "crs": "wgs84",
            }
            for o, f, k, at in rows
        ]
    )


def operators(sizes: dict[str | None, int]) -> pd.DataFrame:
    """A summarize()-like table: operators per registration zone (None: no registration zone)."""
    ids, zone = [], []
    for stratum, size in sizes.items():
        for i in range(size):
            ids.append(f"{stratum or 'none'}-{i:03d}")
            zone.append(stratum)
    table = pd.DataFrame(
        {"registration_zone": zone, "eligible": True}, index=pd.Index(ids, name="operator_id")
    )
    return table


# --------------------------------------------------------------------------- sample


def test_same_seed_same_sample_whatever_the_row_order(zones: gpd.GeoDataFrame) -> None:
    rows = []
    for k, (_zone, at) in enumerate(sorted(PLACES.items()) * 5):
        rows += [(f"OP{k:02d}", "REG", "registration", at), (f"OP{k:02d}", "IDC", "idc", at)]
    frame = filing(rows)
    first = pz.sample(pz.verify(frame, zones=zones), 6, seed=2025, by="zone")
    shuffled = frame.sample(frac=1.0, random_state=np.random.RandomState(3)).reset_index(drop=True)
    again = pz.sample(pz.verify(shuffled, zones=zones), 6, seed=2025, by="zone")
    pd.testing.assert_frame_equal(first, again)
    assert first.attrs["sample"]["population_sha256"] == again.attrs["sample"]["population_sha256"]
    other = pz.sample(pz.verify(frame, zones=zones), 6, seed=2026, by="zone")
    assert other["operator_id"].tolist() != first["operator_id"].tolist()


def test_draw_is_pinned_to_the_pcg64_raw_stream() -> None:
    """The draw depends on PCG64's raw output only: recompute it here, then pin it."""
    table = operators({"beijing": 40})
    drawn = pz.sample(table, 5, seed=2025)
    keys = np.random.PCG64(2025).random_raw(40)
    expected = sorted(np.array(sorted(table.index))[np.argsort(keys, kind="stable")[:5]].tolist())
    assert drawn["operator_id"].tolist() == expected
    # Pinned so that a change of NumPy (or of this code) that moves the draw fails loudly.
    assert expected == ["beijing-005", "beijing-012", "beijing-013", "beijing-016", "beijing-024"]


def test_record_says_how_to_redraw(tmp_path: Path, zones: gpd.GeoDataFrame) -> None:
    path = tmp_path / "filing.csv"
    filing([("A", "R", "registration", TIANANMEN), ("B", "R", "registration", LUJIAZUI)]).to_csv(
        path, index=False
    )
    drawn = pz.sample(str(path), 1, seed=9, by="zone", zones=zones)
    record = drawn.attrs["sample"]
    assert record["input"] == {
        "file": str(path),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
    assert (
        record["seed"] == 9 and record["n"] == 1 and record["drawn"] == 1 and record["by"] == "zone"
    )
    assert record["strata"] == {
        "beijing": {"operators": 1, "drawn": 1},
        "shanghai": {"operators": 1, "drawn": 0},
    }
    assert record["as_of"] == AS_OF
    assert (
        record["pilotzone_version"] == pz.__version__ and record["numpy_version"] == np.__version__
    )
    assert "PCG64" in record["method"] and "largest remainder" in record["method"]


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        # H = 5 strata, n >= H: one each, then 3 shared by N_h - 1 = 9, 5, 2, 0, 1 (Hamilton).
        (8, {"beijing": 3, "shanghai": 2, "shenzhen": 1, "hainan": 1, NO_ZONE: 1}),
        # n < H: shared by N_h = 10, 6, 3, 1, 2; the two largest remainders win.
        (2, {"beijing": 1, "shanghai": 1, "shenzhen": 0, "hainan": 0, NO_ZONE: 0}),
        (5, {"beijing": 1, "shanghai": 1, "shenzhen": 1, "hainan": 1, NO_ZONE: 1}),
        (22, {"beijing": 10, "shanghai": 6, "shenzhen": 3, "hainan": 1, NO_ZONE: 2}),
        (99, {"beijing": 10, "shanghai": 6, "shenzhen": 3, "hainan": 1, NO_ZONE: 2}),
    ],
)
def test_stratified_allocation(n: int, expected: dict[str, int]) -> None:
    table = operators({"beijing": 10, "shanghai": 6, "shenzhen": 3, "hainan": 1, None: 2})
    drawn = pz.sample(table, n, seed=1, by="zone")
    counts = drawn["stratum"].value_counts()
    assert {s: int(counts.get(s, 0)) for s in expected} == expected
    assert {s: c["drawn"] for s, c in drawn.attrs["sample"]["strata"].items()} == expected
    none = drawn[drawn["stratum"] == NO_ZONE]
    assert none["registration_zone"].isna().all()


@st.composite
def populations(draw: st.DrawFn) -> tuple[pd.DataFrame, int, int]:
    zone_ids = st.sampled_from(["beijing", "shanghai", "hainan", "shenzhen", None])
    sizes = draw(st.dictionaries(zone_ids,
                                 st.integers(1, 12), min_size=1))  # fmt: skip
    return operators(sizes), draw(st.integers(1, 60)), draw(st.integers(0, 2**32))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(populations(), st.sampled_from([None, "zone"]), st.randoms(use_true_random=False))
def test_sample_invariants(case: tuple[pd.DataFrame, int, int], by: Any, shuffle: Any) -> None:
    table, n, seed = case
    drawn = pz.sample(table, n, seed=seed, by=by)
    population = set(table.index)
    assert len(drawn) == min(n, len(table)) == drawn.attrs["sample"]["drawn"]
    assert drawn["operator_id"].is_unique and set(drawn["operator_id"]) <= population
    strata = drawn.attrs["sample"]["strata"]
    assert sum(s["operators"] for s in strata.values()) == len(table)
    assert all(0 <= s["drawn"] <= s["operators"] for s in strata.values())
    if by == "zone" and n >= len(strata):
        assert all(s["drawn"] >= 1 for s in strata.values())
    order = list(table.index)
    shuffle.shuffle(order)
    assert (
        pz.sample(table.loc[order], n, seed=seed, by=by)["operator_id"].tolist()
        == drawn["operator_id"].tolist()
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n": 0, "seed": 1}, "n"), ({"n": 2, "seed": -1}, "seed"), ({"n": 2.5, "seed": 1}, "n"),
     ({"n": 2, "seed": 1, "by": "district"}, "by")],
)  # fmt: skip
def test_sample_refuses_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(pz.InputError, match=match):
        pz.sample(operators({"beijing": 3}), **kwargs)


def test_write_sample_csv_and_record(tmp_path: Path) -> None:
    drawn = pz.sample(operators({"beijing": 4, "hainan": 2}), 3, seed=5, by="zone")
    paths = write_sample(drawn, tmp_path / "sample.csv", lang="zh")
    assert [p.name for p in paths] == ["sample.csv", "sample.json"]
    table = pd.read_csv(paths[0], encoding="utf-8-sig")
    assert list(table.columns[:3]) == ["运营者", "抽样层", "注册地区"]
    record = json.loads(paths[1].read_text(encoding="utf-8"))
    assert (
        record["seed"] == 5
        and [o["operator_id"] for o in record["operators"]] == drawn["operator_id"].tolist()
    )
    with pytest.raises(ValueError, match=r"json or \.csv"):
        write_sample(drawn, tmp_path / "sample.txt")


# --------------------------------------------------------------------------- compare

OLD = [
    ("A", "REG", "registration", TIANANMEN),
    ("A", "IDC", "idc", TIANANMEN),
    ("A", "CDN", "cdn", TIANJIN),  # a violation, resolved by moving into Beijing
    ("B", "REG", "registration", LUJIAZUI),
    ("B", "IDC", "idc", LUJIAZUI),  # compliant, then moved to Shenzhen: a new violation
    ("C", "REG", "registration", HAIKOU),
    ("C", "OLD", "idc", HAIKOU),  # removed
]
NEW = [
    ("A", "REG", "registration", TIANANMEN),
    ("A", "IDC", "idc", (TIANANMEN[0] + 1e-6, TIANANMEN[1])),  # 0.09 m: not a move
    ("A", "CDN", "cdn", WANGFUJING),
    ("B", "REG", "registration", LUJIAZUI),
    ("B", "IDC", "idc", FUTIAN),
    ("C", "REG", "registration", HAIKOU),
    ("C", "NEW", "server", HAIKOU),  # added
]


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


@pytest.fixture(scope="module")
def results(zones: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    return pz.verify(filing(OLD), zones=zones), pz.verify(filing(NEW), zones=zones)


def by_change(changes: pd.DataFrame) -> dict[str, set[tuple[Any, ...]]]:
    out: dict[str, set[tuple[Any, ...]]] = {c: set() for c in CHANGES}
    for row in changes.itertuples(index=False):
        key = (row.operator_id, row.facility_id, row.rule) if row.change.endswith("_finding") else (
            row.operator_id, row.facility_id)  # fmt: skip
        out[row.change].add(key)
    return out


def test_compare_finds_every_kind_of_change(
    results: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
) -> None:
    changes = pz.compare(*results)
    found = by_change(changes)
    assert found["new_finding"] == {("B", "IDC", "facility_outside_registration_zone")}
    assert found["resolved_finding"] == {
        ("A", "CDN", "facility_outside_registration_zone"),
        ("A", "CDN", "acceleration_outside_zone"),
    }
    assert found["unchanged_finding"] == set()
    assert found["facility_added"] == {("C", "NEW")}
    assert found["facility_removed"] == {("C", "OLD")}
    assert found["facility_moved"] == {("A", "CDN"), ("B", "IDC")}
    eligibility = changes[changes["change"] == "eligibility_changed"].set_index("operator_id")
    assert eligibility[["old_eligibility", "new_eligibility"]].to_dict("index") == {
        "A": {"old_eligibility": "not_eligible", "new_eligibility": "eligible"},
        "B": {"old_eligibility": "eligible", "new_eligibility": "not_eligible"},
    }
    assert eligibility.loc["A", ["new_lon", "new_lat"]].tolist() == list(TIANANMEN)
    record = changes.attrs["compare"]
    assert record["new_violations"] == 1 and record["move_threshold_m"] == MOVE_THRESHOLD_M
    assert record["counts"] == {
        c: len(found[c]) if c != "eligibility_changed" else 2 for c in CHANGES
    }
    assert changes["change"].map(CHANGES.index).is_monotonic_increasing


def test_eligibility_change_to_pending_review(zones: gpd.GeoDataFrame) -> None:
    """An operator whose facility moves next to a border goes eligible → pending review."""
    lat = np.linspace(FUTIAN[1], 22.50, 4001)
    found = pz.locate(np.full_like(lat, FUTIAN[0]), lat, crs="wgs84", zones=zones)
    inside = np.flatnonzero((found["near_border"] & (found["zone_id"] == "shenzhen")).to_numpy())
    at = (FUTIAN[0], float(lat[inside[0]]))
    old = pz.verify(filing([("D", "REG", "registration", FUTIAN), ("D", "IDC", "idc", FUTIAN)]))
    new = pz.verify(filing([("D", "REG", "registration", FUTIAN), ("D", "IDC", "idc", at)]))
    assert pz.summarize(new).loc["D", "eligibility"] == "pending_review"
    changes = pz.compare(old, new, zones=zones)
    changed = changes[changes["change"] == "eligibility_changed"]
    assert changed[["operator_id", "old_eligibility", "new_eligibility"]].values.tolist() == [
        ["D", "eligible", "pending_review"]
    ]
    assert changed["description"].tolist() == ["Eligibility: eligible → pending review"]
    chinese = pz.compare(old, new, zones=zones, lang="zh")
    assert "试点资格：符合条件 → 待复核" in chinese["description"].tolist()


def test_moved_distance_is_geodesic(results: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]) -> None:
    changes = pz.compare(*results)
    moved = changes[changes["change"] == "facility_moved"].set_index("operator_id")["moved_m"]
    for operator, a, b in (("A", TIANJIN, WANGFUJING), ("B", LUJIAZUI, FUTIAN)):
        # Haversine on a sphere is within 0.5 % of the ellipsoidal distance.
        assert moved[operator] == pytest.approx(haversine_m(a, b), rel=5e-3)
    assert 1_000_000 < moved["B"] < 1_300_000  # Shanghai to Shenzhen
    description = changes.loc[changes["change"] == "facility_moved", "description"]
    assert description.str.fullmatch(r"Moved [\d,]+ m").all()


def test_same_audit_has_only_unchanged_findings(
    results: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
) -> None:
    changes = pz.compare(results[0], results[0])
    assert set(changes["change"]) == {"unchanged_finding"}
    assert changes.attrs["compare"]["new_violations"] == 0


def test_compare_folders_and_filings_agree(
    results: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame], tmp_path: Path, zones: gpd.GeoDataFrame
) -> None:
    folders = []
    for name, result in zip(("old", "new"), results, strict=True):
        write_report(result, tmp_path / name, zones=zones)
        folders.append(tmp_path / name)
    filings = []
    for name, rows in (("old.csv", OLD), ("new.csv", NEW)):
        filing(rows).to_csv(tmp_path / name, index=False)
        filings.append(str(tmp_path / name))
    reference = by_change(pz.compare(*results))
    assert by_change(pz.compare(*folders)) == reference
    assert by_change(pz.compare(*filings, zones=zones)) == reference
    assert by_change(pz.compare(folders[0], filings[1], zones=zones)) == reference


def test_compare_in_chinese(results: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]) -> None:
    changes = pz.compare(*results, lang="zh")
    text = changes.set_index("change")["description"]
    assert text["new_finding"] == "新增问题：服务设施与注册地址不在同一试点地区"
    assert text["facility_added"] == "新增设施"
    assert set(changes.loc[changes["change"] == "eligibility_changed", "description"]) == {
        "试点资格：不符合条件 → 符合条件",
        "试点资格：符合条件 → 不符合条件",
    }


def test_write_changes(
    results: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame], tmp_path: Path, zones: gpd.GeoDataFrame
) -> None:
    changes = pz.compare(*results, lang="zh")
    paths = write_changes(changes, tmp_path, zones=zones, lang="zh")
    assert list(paths) == list(CHANGE_FILES)
    table = pd.read_csv(paths["changes.csv"], encoding="utf-8-sig")
    assert len(table) == len(changes) and table.columns[0] == "变化代码"
    assert "违规" in set(table["严重程度"].dropna())
    assert json.loads(paths["changes.json"].read_text(encoding="utf-8"))["new_violations"] == 1
    page = paths["changes_map.html"].read_text(encoding="utf-8")
    for text in ("新增问题 (1)", "位置移动", "上海"):  # in popups as is, in the legend JSON-escaped
        assert text in page or json.dumps(text)[1:-1] in page, text
    assert 'src="http' not in page and 'href="http' not in page


def test_compare_refuses_a_folder_that_is_not_an_audit(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(pz.InputError, match="verify --out"):
        pz.compare(tmp_path / "empty", tmp_path / "empty")


# --------------------------------------------------------------------------- command line


@pytest.fixture
def audit_files(tmp_path: Path) -> tuple[Path, Path]:
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    filing(OLD).to_csv(old, index=False)
    filing(NEW).to_csv(new, index=False)
    return old, new


def test_diff_exit_status(
    audit_files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = audit_files
    assert main(["diff", str(old), str(new), "--as-of", AS_OF, "--out", str(tmp_path / "d")]) == 1
    out = capsys.readouterr().out
    assert "New violations: 1" in out and (tmp_path / "d" / "changes_map.html").is_file()
    assert main(["diff", str(new), str(new), "--as-of", AS_OF, "--lang", "zh"]) == 0
    assert main(["diff", str(new), str(old), "--as-of", AS_OF]) == 1  # A's violations are back
    assert "新增违规: 0" in capsys.readouterr().out
    assert main(["diff", str(old), str(tmp_path)]) == 2
    assert "verify --out" in capsys.readouterr().err


def test_diff_of_verify_folders(audit_files: tuple[Path, Path], tmp_path: Path) -> None:
    old, new = audit_files
    for name, path in (("a", old), ("b", new)):
        assert main(["verify", str(path), "--as-of", AS_OF, "--out", str(tmp_path / name)]) == 1
    assert main(["diff", str(tmp_path / "a"), str(tmp_path / "b")]) == 1
    assert main(["diff", str(tmp_path / "b"), str(tmp_path / "b")]) == 0


def test_sample_command(
    audit_files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, _ = audit_files
    argv = ["sample", str(old), "--n", "2", "--seed", "11", "--by", "zone", "--as-of", AS_OF]
    assert main([*argv, "--out", str(tmp_path / "s.json")]) == 0
    record = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert record["drawn"] == 2 and record["seed"] == 11
    again = pz.sample(str(old), 2, seed=11, by="zone", zones=pz.load_zones(as_of=AS_OF))
    assert [o["operator_id"] for o in record["operators"]] == again["operator_id"].tolist()
    capsys.readouterr()
    assert main([*argv, "--lang", "zh"]) == 0
    assert "抽查样本" in capsys.readouterr().out
    assert main([*argv, "--out", str(tmp_path / "s.txt")]) == 2
    assert main(["sample", str(old), "--n", "0", "--seed", "1"]) == 2
    assert main(["sample", str(old), "--n", "2"]) == 2  # the seed is required


def test_diff_as_a_real_process(audit_files: tuple[Path, Path]) -> None:
    old, new = audit_files
    src = Path(__file__).resolve().parents[1] / "src"
    done = subprocess.run(
        [sys.executable, "-m", "pilotzone", "diff", str(old), str(new), "--as-of", AS_OF],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(src)}, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "New violations: 1" in done.stdout


def test_compare_of_folders_reads_status_not_the_filed_status(
    zones: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    # Each filing says every row is "compliant" in a column of its own: the audits must compare
    # verify's statuses, and the filed column must come back from the folder under its new name.
    folders = []
    for name, rows in (("old", OLD), ("new", NEW)):
        filed = filing(rows).assign(status="compliant", reasons="none claimed")
        write_report(pz.verify(filed, zones=zones), tmp_path / name, zones=zones)
        folders.append(tmp_path / name)
    changes = pz.compare(*folders)
    plain = pz.compare(pz.verify(filing(OLD), zones=zones), pz.verify(filing(NEW), zones=zones))
    assert by_change(changes) == by_change(plain)
    assert changes["new_status"].dropna().tolist() == plain["new_status"].dropna().tolist()
    assert "violation" in set(changes["new_status"].dropna())
    back = gpd.read_file(folders[1] / "facilities.geojson")
    assert set(back["filed_status"]) == {"compliant"}
    assert set(back["filed_reasons"]) == {"none claimed"}


# --------------------------------------------------------------------------- folders as one unit


def test_compare_refuses_a_folder_that_is_not_one_run(
    results: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame], tmp_path: Path, zones: gpd.GeoDataFrame
) -> None:
    old, new = (tmp_path / "old", tmp_path / "new")
    write_report(results[0], old, zones=zones)
    write_report(results[1], new, zones=zones)
    # facilities.geojson from the new audit beside the old audit's summary.json
    (old / "facilities.geojson").write_bytes((new / "facilities.geojson").read_bytes())
    with pytest.raises(pz.InputError, match=r"facilities\.geojson: differs from"):
        pz.compare(old, new)
    (old / "manifest.json").unlink()
    with pytest.raises(pz.InputError, match=r"manifest\.json: missing"):
        pz.compare(old, new)
    with pytest.raises(pz.InputError, match=r"manifest\.json: missing"):
        pz.sample(old, 1, seed=1)
    assert main(["diff", str(old), str(new)]) == 2


def test_write_changes_writes_a_manifest_last(
    results: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame], tmp_path: Path, zones: gpd.GeoDataFrame
) -> None:
    from pilotzone.audit import check_folder

    paths = write_changes(pz.compare(*results), tmp_path, zones=zones)
    manifest = check_folder(tmp_path, manifest=CHANGE_FILES[-1], required=CHANGE_FILES[:-1])
    assert list(manifest["files"]) == list(CHANGE_FILES[:-1]) == list(paths)[:-1]


def test_a_sample_record_names_its_csv_and_goes_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pilotzone import report

    drawn = pz.sample(operators({"beijing": 4, "hainan": 2}), 3, seed=5, by="zone")
    csv_path, json_path = write_sample(drawn, tmp_path / "sample.csv")
    record = json.loads(json_path.read_text(encoding="utf-8"))
    data = csv_path.read_bytes()
    assert record["files"] == {
        "sample.csv": {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    }

    def crash(table: Any, file: Any) -> None:
        raise RuntimeError("killed")

    monkeypatch.setattr(report, "write_csv", crash)
    with pytest.raises(RuntimeError):
        write_sample(drawn, tmp_path / "sample.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample.csv"]  # no record of another run


def test_sample_and_compare_records_keep_the_readings(tmp_path: Path) -> None:
    path = tmp_path / "filing.csv"
    filing([("A", "R", "registration", TIANANMEN), ("B", "R", "registration", LUJIAZUI)]).to_csv(
        path, index=False
    )
    chosen = {"shanghai/lingang-outside-pudong": "include"}
    zones = pz.load_zones(as_of=AS_OF, readings=chosen)
    drawn = pz.sample(str(path), 1, seed=9, by="zone", zones=zones)
    assert drawn.attrs["sample"]["readings"] == zones.attrs["readings"]
    out = tmp_path / "audit"
    pz.write_report(pz.verify(str(path), zones=zones), out, zones=zones)
    record = pz.compare(str(out), str(path), zones=zones).attrs["compare"]
    for side in ("old", "new"):  # read back from summary.json, and from the run itself
        assert record[side]["readings"]["shanghai/lingang-outside-pudong"] == "include"
