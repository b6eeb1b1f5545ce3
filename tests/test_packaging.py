"""Test the built wheel, not only the checkout.

Data that ships by accident stops shipping by accident.
"""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("hatchling", reason="hatchling is needed to build the wheel offline")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("pilotzone-*.whl")
    return built


def test_wheel_ships_the_zone_data_divisions_and_samples(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("boundaries", "divisions"):
        for path in (REPO / "data" / folder).iterdir():
            assert f"pilotzone/_data/{folder}/{path.name}" in names
    assert "pilotzone/_data/samples/filing.csv" in names


def test_installed_wheel_reads_its_own_copy(wheel: Path, tmp_path: Path) -> None:
    zipfile.ZipFile(wheel).extractall(tmp_path)
    code = (
        "import pandas as pd, pilotzone as pz; z = pz.load_zones(); "
        "a = pz.address_check(pd.DataFrame({'address': ['北京市海淀区'], 'lon': [116.30], "
        "'lat': [39.96], 'crs': ['wgs84']})); "
        "print(len(z), z.attrs['boundaries_path'], a['address_check'].iloc[0])"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    )
    count, where, checked = run.stdout.split()
    assert count == "4" and checked == "agrees"  # the divisions came from the wheel too
    assert Path(where).resolve().is_relative_to(tmp_path.resolve())
