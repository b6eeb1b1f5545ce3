"""Test the built wheel, not only the checkout.

Data that ships by accident stops shipping by accident.
"""

import re
import shutil
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


# --------------------------------------------------------------------------- make (#19)


def _make_recipe(target: str) -> list[str]:
    """The commands ``make -n TARGET`` would run on a machine without the virtual environment."""
    done = subprocess.run(
        ["make", "-n", "-B", target, f"VENV={REPO / 'no-such-venv'}"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.splitlines()


def _installs(lines: list[str]) -> list[str]:
    return [line.split(" -e ", 1)[1] for line in lines if "pip install" in line and " -e " in line]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_demo_installs_no_extra_and_make_test_the_test_and_dask_extras() -> None:
    assert _installs(_make_recipe("demo")) == ["."]
    (test,) = _installs(_make_recipe("test"))
    extras = set(test.strip("'.[]").split(","))
    assert {"test", "dask", "lint"} <= extras
    assert _installs(_make_recipe("lint")) == ["'.[lint]'"]


def _extra_modules() -> list[str]:
    """The top-level modules of every package an extra adds, as installed here."""
    import tomllib
    from importlib.metadata import packages_distributions

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    names = {
        re.split(r"[\[<>=!~ ]", spec, maxsplit=1)[0].lower().replace("_", "-")
        for specs in extras.values()
        for spec in specs
    }
    return sorted(
        module
        for module, dists in packages_distributions().items()
        if any(d.lower().replace("_", "-") in names for d in dists) and module.isidentifier()
    )


def test_the_demo_runs_without_any_extra(tmp_path: Path) -> None:
    blocked = _extra_modules()
    assert {"dask", "pytest", "hypothesis", "playwright"} <= set(blocked)
    script = (
        "import sys\n"
        f"for name in {blocked!r}:\n"
        "    sys.modules[name] = None  # importing it raises ImportError\n"
        "from pilotzone.cli import main\n"
        f"sys.exit(main(['demo', '--out', {str(tmp_path / 'demo')!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "demo" / "report.html").is_file()
