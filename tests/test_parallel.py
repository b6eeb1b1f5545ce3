"""Tests for pilotzone on Dask: a LocalCluster of two worker processes gives what the in-memory
functions give, for Dask and dask-geopandas input, across partitions, and from the command line.

The filing is generated here: operators around the four pilot cities (some points near the
Shenzhen and Shanghai borders), shuffled so that an operator's registration and facilities lie
in different partitions, plus the awkward rows (a bad coordinate, an unknown kind, a duplicate
id, two registrations in different zones, no registration, an excluded service).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import pilotzone as pz
from pilotzone.cli import main

dd = pytest.importorskip("dask.dataframe")
dask_geopandas = pytest.importorskip("dask_geopandas")
distributed = pytest.importorskip("distributed")

AS_OF = "2025-01-01"
CITIES = np.array([(116.40, 39.90), (121.55, 31.22), (110.33, 20.03), (114.06, 22.55)])
PARTITIONS = 4


def make_filing(rows: int, seed: int = 7) -> pd.DataFrame:
    """Operators of ~12 rows each, registration first, then shuffled, with awkward rows added."""
    rng = np.random.default_rng(seed)
    operators = rows // 12
    operator = np.sort(rng.integers(0, operators, rows))
    first = np.r_[True, operator[1:] != operator[:-1]]
    home = rng.integers(0, len(CITIES), operators)[operator]
    city = np.where(rng.random(rows) < 0.1, rng.integers(0, len(CITIES), rows), home)
    lon = CITIES[city, 0] + rng.normal(0, 0.25, rows)
    lat = CITIES[city, 1] + rng.normal(0, 0.2, rows)
    frame = pd.DataFrame(
        {
            "operator_id": np.char.add("OP", operator.astype(str)),
            "facility_id": np.char.add("F", np.arange(rows).astype(str)),
            "kind": np.where(
                first,
                "registration",
                np.array(["idc", "cdn", "isp", "server"])[rng.integers(0, 4, rows)],
            ),
            "tenure": np.array(["owned", "rented", "purchased"])[rng.integers(0, 3, rows)],
            "services": np.where(first, "idc;cdn", ""),
            "lon": lon.round(6),
            "lat": lat.round(6),
            "crs": np.array(["wgs84", "gcj02", "bd09"])[rng.choice(3, rows, p=[0.3, 0.6, 0.1])],
        }
    )
    frame.loc[3, ["lon", "crs"]] = [np.nan, "wgs84"]  # a coordinate missing
    frame.loc[5, "kind"] = "warehouse"  # an unknown kind
    frame.loc[np.flatnonzero(first)[-1], "services"] = (
        "news"  # a registration declares an excluded service
    )
    frame = frame[frame["operator_id"] != "OP1"]  # OP1's facilities lose their registration...
    strays = pd.DataFrame(
        {
            "operator_id": "OP1",
            "facility_id": ["S1", "S2"],
            "kind": "idc",
            "tenure": "owned",
            "services": "",
            "lon": 121.55,
            "lat": 31.22,
            "crs": "wgs84",
        }
    )
    twice = pd.DataFrame(
        {
            "operator_id": "OP2",
            "facility_id": "R2",
            "kind": "registration",
            "tenure": "owned",
            "services": "cdn",
            "lon": [116.40],
            "lat": [39.90],
            "crs": "wgs84",
        }
    )
    frame = pd.concat(
        [frame, strays, twice], ignore_index=True
    )  # ...and OP2 registers in a second zone
    frame = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    last = frame.index[-1]
    frame.loc[last - 1, ["operator_id", "facility_id"]] = frame.loc[
        last, ["operator_id", "facility_id"]
    ].to_numpy()
    frame.index = pd.Index(np.arange(len(frame)) * 3 + 100, name="rowid")  # not a RangeIndex
    return frame


@pytest.fixture(scope="module")
def client() -> Any:
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, host="127.0.0.1"
    )
    with distributed.Client(cluster) as connected:
        yield connected
    cluster.close()


@pytest.fixture(scope="module")
def zones() -> Any:
    return pz.load_zones(as_of=AS_OF)


@pytest.fixture(scope="module")
def filing() -> pd.DataFrame:
    return make_filing(2400)


def same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Equal frames, but for the order of categories that Dask joins partition by partition."""
    got = got.copy()
    for column in expected.columns:
        if isinstance(expected[column].dtype, pd.CategoricalDtype):
            # Raises unless both have the same categories, in whatever order.
            got[column] = got[column].cat.reorder_categories(expected[column].cat.categories)
    pd.testing.assert_frame_equal(got.sort_index(), expected.sort_index())


def test_the_filing_splits_operators_across_partitions(filing: pd.DataFrame) -> None:
    data = dd.from_pandas(filing, npartitions=PARTITIONS, sort=False)
    parts = [set(p["operator_id"]) for p in data.partitions]
    registrations = [
        set(p.loc[p["kind"] == "registration", "operator_id"]) for p in data.partitions
    ]
    split = sum(
        len(mine - registered) for mine, registered in zip(parts, registrations, strict=True)
    )
    assert split > 50  # operators whose facilities sit in a partition without their registration


def test_verify_equals_in_memory(client: Any, filing: pd.DataFrame, zones: Any) -> None:
    data = dd.from_pandas(filing, npartitions=PARTITIONS, sort=False)
    lazy = pz.verify(data, zones=zones)
    assert type(lazy).__module__.startswith("dask_geopandas")
    got = lazy.compute()
    expected = pz.verify(filing, zones=zones)
    same(got, expected)
    statuses = set(expected["status"].astype(str))
    assert statuses == {"compliant", "violation", "review", "invalid"}
    reasons = set(";".join(expected["reasons"]).split(";"))
    assert {
        "registration_missing",
        "registration_ambiguous",
        "service_excluded",
        "near_border",
        "facility_outside_registration_zone",
        "invalid_input",
    } <= reasons


def test_verify_with_an_operators_table(client: Any, filing: pd.DataFrame, zones: Any) -> None:
    table = pd.DataFrame(
        {"operator_id": ["OP3", "OP4"], "services": ["audio_video", "online_games"]}
    )
    data = dd.from_pandas(filing, npartitions=PARTITIONS, sort=False)
    got = pz.verify(data, operators=table, zones=zones).compute()
    same(got, pz.verify(filing, operators=table, zones=zones))
    assert got["reasons"].str.contains("service_not_opened").any()


def test_read_facilities_numbers_rows_across_partitions(filing: pd.DataFrame) -> None:
    from pilotzone import parallel

    data = dd.from_pandas(filing, npartitions=PARTITIONS, sort=False)
    got = parallel.read_facilities_dask(data).compute(scheduler="sync")
    expected = pz.read_facilities(filing)
    same(got, expected)
    assert got["problems"].str.contains("duplicate of row").sum() == 1  # in the last partition


def test_verify_of_dask_geopandas_input(client: Any, filing: pd.DataFrame, zones: Any) -> None:
    good = filing[filing["crs"] == "wgs84"].dropna(subset=["lon", "lat"])
    points = pz.read_facilities(good)[
        ["operator_id", "facility_id", "kind", "tenure", "services", "geometry"]
    ]
    data = dask_geopandas.from_geopandas(points, npartitions=PARTITIONS, sort=False)
    same(pz.verify(data, zones=zones).compute(), pz.verify(points, zones=zones))


def test_verify_of_already_read_input(client: Any, filing: pd.DataFrame, zones: Any) -> None:
    from pilotzone import parallel

    sites = parallel.read_facilities_dask(
        dd.from_pandas(filing, npartitions=PARTITIONS, sort=False)
    ).persist()
    same(pz.verify(sites, zones=zones).compute(), pz.verify(filing, zones=zones))


@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "EPSG:4490"])
def test_locate_equals_in_memory(client: Any, filing: pd.DataFrame, zones: Any, crs: str) -> None:
    data = dd.from_pandas(filing[["lon", "lat"]], npartitions=PARTITIONS, sort=False)
    lazy = pz.locate(data["lon"], data["lat"], crs=crs, zones=zones)
    assert type(lazy).__module__.startswith("dask")
    same(lazy.compute(), pz.locate(filing["lon"], filing["lat"], crs=crs, zones=zones))


def test_locate_of_dask_geopandas_points(client: Any, filing: pd.DataFrame, zones: Any) -> None:
    sites = pz.read_facilities(filing.dropna(subset=["lon"]))
    points = sites[sites.geometry.notna()][["geometry"]]
    data = dask_geopandas.from_geopandas(points, npartitions=PARTITIONS)
    got = pz.locate(
        data.geometry.x, data.geometry.y, crs="wgs84", zones=zones, distance_limit_m=np.inf
    )
    same(
        got.compute(),
        pz.locate(
            points.geometry.x, points.geometry.y, crs="wgs84", zones=zones, distance_limit_m=np.inf
        ),
    )


def test_cli_verifies_a_partitioned_folder(
    client: Any,
    filing: pd.DataFrame,
    zones: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "filings"
    folder.mkdir()
    parts = np.array_split(np.arange(len(filing)), 3)
    for i, rows in enumerate(parts):
        filing.iloc[rows].reset_index(drop=True).to_parquet(folder / f"part-{i}.parquet")
    out = tmp_path / "out"
    status = main(
        [
            "verify",
            str(folder / "*.parquet"),
            "--scheduler",
            client.scheduler.address,
            "--out",
            str(out),
            "--as-of",
            AS_OF,
        ]
    )
    assert status == 1
    assert "Checked" in capsys.readouterr().out
    written = gpd.read_parquet(out / "facilities").sort_values("source_row").reset_index(drop=True)
    one_file = pd.concat(
        [filing.iloc[rows].reset_index(drop=True) for rows in parts], ignore_index=True
    )
    expected = pz.verify(one_file, zones=zones)
    same(written, expected)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    reference = pz.summarize(expected)
    assert summary["rows"] == len(filing)
    assert (
        summary["by_status"]
        == expected["status"]
        .astype(str)
        .value_counts()
        .reindex(["invalid", "violation", "review", "compliant"], fill_value=0)
        .to_dict()
    )
    assert [o["operator_id"] for o in summary["operators"]] == reference.index.tolist()
    assert [o["eligible"] for o in summary["operators"]] == reference["eligible"].tolist()
    for column in ("eligibility", "eligibility_reasons", "eligibility_reason"):
        assert [o[column] for o in summary["operators"]] == reference[column].tolist()
    assert [o["rows"] for o in summary["operators"]] == reference["rows"].tolist()
    assert len(pd.read_parquet(out / "findings")) == len(pz.findings(expected))
    assert [f["file"] for f in summary["input"]["files"]] == [f"part-{i}.parquet" for i in range(3)]


def test_cli_writes_partitions_with_more_categories_than_the_first(
    client: Any, filing: pd.DataFrame, zones: Any, tmp_path: Path
) -> None:
    # Dask writes every partition with the first one's Parquet types, and pandas numbers up to
    # 127 categories in 8 bits: a later partition with 140 unknown kinds (and as many
    # messages) must still be written, and read back as filed.
    folder = tmp_path / "filings"
    folder.mkdir()
    first, second = filing.iloc[:600].copy(), filing.iloc[600:].copy()
    odd = second.index[second["kind"] != "registration"][:140]
    second.loc[odd, "kind"] = [f"shed-{i}" for i in range(len(odd))]
    for i, part in enumerate((first, second)):
        part.reset_index(drop=True).to_parquet(folder / f"part-{i}.parquet")
    from pilotzone.parallel import verify_files

    summary = verify_files(
        folder / "*.parquet", tmp_path / "out", scheduler=client.scheduler.address, zones=zones
    )
    written = gpd.read_parquet(tmp_path / "out" / "facilities")
    assert summary["rows"] == len(filing)
    assert written["kind"].astype("str").str.startswith("shed-").sum() == len(odd)
    assert (written["status"] == "invalid").sum() >= len(odd)


def test_cli_refuses_workers_with_scheduler(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "verify",
                str(tmp_path / "*.parquet"),
                "--workers",
                "2",
                "--scheduler",
                "tcp://127.0.0.1:1",
                "--out",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert "exclude each other" in capsys.readouterr().err


def test_cli_needs_out_on_a_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(tmp_path / "*.parquet"), "--workers", "2"]) == 2
    assert "--out" in capsys.readouterr().err


def test_importing_pilotzone_does_not_import_dask() -> None:
    code = (
        "import pilotzone, sys; pilotzone.verify; assert 'dask' not in sys.modules, 'dask imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_empty_partition_changes_nothing(filing: pd.DataFrame, zones: Any) -> None:
    chunks = [filing.iloc[:800], filing.iloc[:0], filing.iloc[800:]]
    data = dd.from_map(lambda chunk: chunk, chunks)
    assert data.map_partitions(len).compute(scheduler="sync").tolist()[1] == 0
    got = pz.verify(data, zones=zones).compute(scheduler="sync")
    same(got, pz.verify(filing, zones=zones))


def test_filed_columns_are_renamed_once_for_the_whole_filing(
    filing: pd.DataFrame, zones: Any, caplog: pytest.LogCaptureFixture
) -> None:
    filed = filing.assign(status="approved", message=np.arange(len(filing)).astype(str))
    data = dd.from_pandas(filed, npartitions=PARTITIONS, sort=False)
    with caplog.at_level("WARNING", logger="pilotzone"):
        got = pz.verify(data, zones=zones).compute(scheduler="sync")
    assert sum("renamed" in r.getMessage() for r in caplog.records) == 1  # not once per partition
    expected = pz.verify(filed, zones=zones)
    kept = ["filed_status", "filed_message"]  # text columns: Dask gives them its own string dtype
    same(got.drop(columns=kept), expected.drop(columns=kept))
    assert got[kept].sort_index().astype(object).equals(expected[kept].sort_index().astype(object))
    assert set(got["filed_status"]) == {"approved"}
    assert "approved" not in set(got["status"].astype(str))


def test_verify_files_writes_one_run_under_a_manifest(
    client: Any, filing: pd.DataFrame, zones: Any, tmp_path: Path
) -> None:
    from pilotzone.parallel import verify_files

    folder, out = tmp_path / "filings", tmp_path / "out"
    folder.mkdir()
    filed = filing.assign(status="approved")
    for i, rows in enumerate(np.array_split(np.arange(len(filed)), 2)):
        filed.iloc[rows].reset_index(drop=True).to_parquet(folder / f"part-{i}.parquet")
    # What a killed run with more partitions left: its parts, its scratch copy, a temporary.
    for sub in ("facilities", "findings", ".validated"):
        (out / sub).mkdir(parents=True)
        (out / sub / "part.9.parquet").write_bytes((folder / "part-0.parquet").read_bytes())
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    (out / f".summary.json.{int(gone.stdout)}.0123abcd.tmp").write_bytes(b"{")
    (out / "notes.txt").write_text("mine")

    summary = verify_files(folder, out, scheduler=client.scheduler.address, zones=zones)
    assert summary["rows"] == len(filing)
    assert summary["renamed_columns"] == {"status": "filed_status"}
    written = gpd.read_parquet(out / "facilities")
    assert len(written) == len(filing) and set(written["filed_status"]) == {"approved"}
    assert len(pd.read_parquet(out / "findings")) == len(pz.findings(pz.verify(filed, zones=zones)))
    from pilotzone.audit import check_folder

    manifest = check_folder(out, required=("summary.json",))
    parts = sorted(
        f"{sub}/{p.name}" for sub in ("facilities", "findings") for p in (out / sub).iterdir()
    )
    assert sorted(manifest["files"]) == sorted([*parts, "summary.json"])
    assert not any("part.9" in name for name in parts)
    assert sorted(p.name for p in out.iterdir()) == [
        "facilities", "findings", "manifest.json", "notes.txt", "summary.json",
    ]  # fmt: skip


def text_as_object(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its text columns as object: Dask gives text its own string dtype."""
    text = [c for c, t in frame.dtypes.items() if isinstance(t, pd.StringDtype)]
    return frame.astype(dict.fromkeys(text, object))


def same_values(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """:func:`same`, text compared as values whichever string dtype holds it."""
    same(text_as_object(got), text_as_object(expected))


def test_verify_of_from_pandas_of_read_facilities(
    client: Any, filing: pd.DataFrame, zones: Any, tmp_path: Path
) -> None:
    """The first thing an analyst tries (#21): it failed on Dask's sample of "problems"."""
    path = tmp_path / "filing.csv"
    filing.to_csv(path, index=False)
    sites = pz.read_facilities(path)
    got = pz.verify(dd.from_pandas(sites, npartitions=8), zones=zones).compute()
    expected = pz.verify(sites, zones=zones)
    same_values(got, expected)
    assert got["problems"].str.contains("duplicate of row").sum() == 1


def test_a_duplicate_split_across_partitions_is_found(
    client: Any, filing: pd.DataFrame, zones: Any
) -> None:
    """A pair of ids repeated in another partition is marked as in-memory verify marks it."""
    repeated = filing.copy()
    repeated.iloc[-3, :2] = repeated.iloc[1, :2].to_numpy()  # first and last partitions
    data = dd.from_pandas(repeated, npartitions=PARTITIONS, sort=False)
    assert repeated.index[1] in data.partitions[0].index.compute()
    assert repeated.index[-3] in data.partitions[PARTITIONS - 1].index.compute()
    got = pz.verify(data, zones=zones).compute()
    expected = pz.verify(repeated, zones=zones)
    same(got, expected)
    marked = got.loc[repeated.index[-3], "problems"]
    assert (
        f"duplicate of row 2 (same operator_id and facility_id) ({filing.iloc[1, 1]!r})" in marked
    )
    assert got.loc[repeated.index[-3], "status"] == "invalid"
    assert got["problems"].str.contains("duplicate of row").sum() == 2  # and the one within


def test_a_repeated_registration_in_another_partition_registers_nothing(
    filing: pd.DataFrame, zones: Any
) -> None:
    """A registration that repeats an earlier row's ids is invalid, so it decides no zone."""
    registrations = np.flatnonzero(filing["kind"] == "registration")
    later = filing.copy()
    first, last = registrations[0], registrations[-1]
    later.iloc[last, :2] = later.iloc[first, :2].to_numpy()
    data = dd.from_pandas(later, npartitions=PARTITIONS, sort=False)
    got = pz.verify(data, zones=zones).compute(scheduler="sync")
    same(got, pz.verify(later, zones=zones))


def test_verify_of_dd_read_csv(
    client: Any, filing: pd.DataFrame, zones: Any, tmp_path: Path
) -> None:
    """A raw CSV read by Dask in blocks: rows numbered by position across the blocks."""
    path = tmp_path / "filing.csv"
    filing.to_csv(path, index=False)
    data = dd.read_csv(path, blocksize=40_000, dtype={"operator_id": str, "facility_id": str})
    assert data.npartitions > 2
    got = pz.verify(data, zones=zones).compute().reset_index(drop=True)
    expected = pz.verify(
        pd.read_csv(path, dtype={"operator_id": str, "facility_id": str}), zones=zones
    )
    same_values(got, expected)


def test_verify_of_a_multi_file_parquet_dataset(
    client: Any, filing: pd.DataFrame, zones: Any, tmp_path: Path
) -> None:
    """Rows count across the files; summary.json says where each file's rows start."""
    from pilotzone.parallel import verify_files

    folder = tmp_path / "filings"
    folder.mkdir()
    pieces = np.array_split(np.arange(len(filing)), 3)
    for i, rows in enumerate(pieces):
        filing.iloc[rows].reset_index(drop=True).to_parquet(folder / f"part-{i}.parquet")
    data = dd.read_parquet(sorted(str(p) for p in folder.iterdir()))
    got = pz.verify(data, zones=zones).compute()
    whole = filing.reset_index(drop=True)
    expected = pz.verify(whole, zones=zones)
    same_values(got.reset_index(drop=True), expected)
    summary = verify_files(
        folder, tmp_path / "out", scheduler=client.scheduler.address, zones=zones
    )
    files = summary["input"]["files"]
    assert [f["first_row"] for f in files] == [
        1,
        1 + len(pieces[0]),
        1 + len(pieces[0]) + len(pieces[1]),
    ]
    assert [f["rows"] for f in files] == [len(p) for p in pieces]
    # The row a finding cites opens the right feature of the right file.
    written = gpd.read_parquet(tmp_path / "out" / "facilities")
    row = int(written.loc[written["problems"] != "", "source_row"].iloc[-1])
    entry = [f for f in files if f["first_row"] <= row][-1]
    feature = pd.read_parquet(folder / entry["file"]).iloc[row - entry["first_row"]]
    assert feature["facility_id"] == whole.loc[row - 1, "facility_id"]


def test_a_raw_filing_is_validated_once(
    filing: pd.DataFrame, zones: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the first pass's registration rows are validated twice (it used to be every row)."""
    from pilotzone import parallel

    validated: list[int] = []
    read = parallel.read_facilities

    def counted(frame: pd.DataFrame, **options: Any) -> gpd.GeoDataFrame:
        validated.append(len(frame))
        return read(frame, **options)

    monkeypatch.setattr(parallel, "read_facilities", counted)
    data = dd.from_pandas(filing, npartitions=PARTITIONS, sort=False)
    got = pz.verify(data, zones=zones).compute(scheduler="sync")
    same(got, pz.verify(filing, zones=zones))
    registrations = int((filing["kind"] == "registration").sum())
    assert sum(validated) <= len(filing) + registrations + 10  # + Dask's sample rows


def test_a_raw_filing_with_chinese_headers(filing: pd.DataFrame, zones: Any) -> None:
    """The first pass finds the kind, operator and facility columns by any accepted header."""
    chinese = filing.rename(
        columns={
            "operator_id": "运营商",
            "facility_id": "设施编号",
            "kind": "类型",
            "crs": "坐标系",
        }
    )
    chinese.iloc[-3, :2] = chinese.iloc[1, :2].to_numpy()  # a pair repeated across partitions
    data = dd.from_pandas(chinese, npartitions=PARTITIONS, sort=False)
    got = pz.verify(data, zones=zones).compute(scheduler="sync")
    same(got, pz.verify(chinese, zones=zones))
    assert "column '设施编号': duplicate of row 2" in got.loc[chinese.index[-3], "problems"]
