"""Hostile filings aimed at the readers: decompression bombs that pass the byte limit,
endless GeoPackage views, ambiguous sheet names, mis-decoded text, and the messages
for files that are broken in one place (issue #17)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hostile_files import parquet_dictionary_bomb, view_geopackage, xlsx_shared_strings_bomb
from pilotzone.errors import InputError
from pilotzone.facilities import read_facilities

LIMIT = 2**20  # max_bytes for the bombs: 1 MiB, which they pass as files and exceed as data


def refusal(path: Path, **options: object) -> str:
    """The one problem reading ``path`` raises, as text."""
    with pytest.raises(InputError) as caught:
        read_facilities(path, **options)  # type: ignore[arg-type]
    (problem,) = caught.value.problems
    assert problem.file == path.name
    return str(problem)


# --------------------------------------------------------------------------- decompression bombs


def test_a_parquet_dictionary_bomb_is_refused_by_its_decoded_size(tmp_path: Path) -> None:
    path = parquet_dictionary_bomb(tmp_path / "bomb.parquet", length=2**16, uses=100)
    assert path.stat().st_size < 4096
    message = refusal(path, max_bytes=LIMIT)
    assert "column 'name'" in message
    decoded = re.search(r"decodes to at least ([\d,]+) bytes", message)
    assert decoded and int(decoded[1].replace(",", "")) >= 2**16 * 100
    assert f"more than the limit of {LIMIT:,} bytes" in message
    assert "max_bytes=N" in message


def test_a_parquet_file_within_the_limit_is_read(tmp_path: Path) -> None:
    path = parquet_dictionary_bomb(tmp_path / "fine.parquet", length=100, uses=100)
    sites = read_facilities(path, max_bytes=LIMIT)
    assert len(sites) == 100 and sites.loc[99, "name"] == "x" * 100


def test_an_xlsx_shared_strings_bomb_is_refused_by_its_expanded_text(tmp_path: Path) -> None:
    path = xlsx_shared_strings_bomb(tmp_path / "bomb.xlsx", length=2**16, uses=100)
    assert path.stat().st_size < LIMIT // 4  # and it unpacks to less than the limit
    message = refusal(path, max_bytes=LIMIT)
    assert "the text of worksheet 'Sheet1' is at least" in message
    assert f"more than the limit of {LIMIT:,} bytes" in message
    assert "max_bytes=N" in message


def test_an_xlsx_with_shared_strings_within_the_limit_is_read(tmp_path: Path) -> None:
    path = xlsx_shared_strings_bomb(tmp_path / "fine.xlsx", length=100, uses=100)
    sites = read_facilities(path, max_bytes=LIMIT)
    assert len(sites) == 100 and sites.loc[99, "name"] == "x" * 100
