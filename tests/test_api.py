"""The public names are a promise: adding or removing one is a deliberate change."""

import subprocess
import sys

import pilotzone


def test_public_names_are_pinned() -> None:
    assert sorted(pilotzone.__all__) == sorted(
        [
            "BoundaryDataError",
            "CRSError",
            "InputError",
            "PilotzoneError",
            "Problem",
            "__version__",
            "address_check",
            "compare",
            "explore",
            "feasible_area",
            "findings",
            "from_wgs84",
            "load_zones",
            "locate",
            "normalize_crs",
            "read_facilities",
            "sample",
            "save_map",
            "site",
            "summarize",
            "to_wgs84",
            "verify",
            "write_report",
        ]
    )


def test_every_public_name_resolves() -> None:
    for name in pilotzone.__all__:
        assert getattr(pilotzone, name) is not None


def test_import_is_quiet_and_does_not_load_folium() -> None:
    code = "import sys, pilotzone; print('folium' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout == "False\n"
    assert run.stderr == ""


def test_errors_are_also_builtin_errors() -> None:
    assert issubclass(pilotzone.InputError, ValueError)
    assert issubclass(pilotzone.CRSError, ValueError)
    assert issubclass(pilotzone.BoundaryDataError, ValueError)
    assert issubclass(pilotzone.InputError, pilotzone.PilotzoneError)
