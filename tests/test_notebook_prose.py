"""What the notebooks' prose states agrees with what the code and the shipped data give today.

Each claim is a pattern found in a notebook's Markdown cells and the figure it states, checked
against the same figure computed here: from the sample filing, the shipped zones, or the
notebook's own code cells run in-process. A claim whose pattern is gone fails too, so prose and
test change together.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import pilotzone as pz

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "samples" / "filing.csv"


def cells(notebook: str, kind: str) -> list[str]:
    data = json.loads((REPO / "notebooks" / f"{notebook}.ipynb").read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in data["cells"] if c["cell_type"] == kind]


def prose(notebook: str) -> str:
    return re.sub(r"\s+", " ", " ".join(cells(notebook, "markdown")))


@cache
def run(notebook: str, until: str) -> dict[str, Any]:
    """The namespace after the notebook's code cells up to the first that defines ``until``."""
    namespace: dict[str, Any] = {"__name__": "notebook"}
    for source in cells(notebook, "code"):
        exec(compile(source, notebook, "exec"), namespace)  # the notebook's own code, not data
        if until in namespace:
            return namespace
    raise AssertionError(f"{notebook} never defines {until}")


def first_active_day() -> date:
    """The first day on which any shipped zone is active."""
    history = [
        datetime.strptime(entry["date"], "%Y-%m-%d").date()
        for zone in json.loads((REPO / "data/boundaries/manifest.json").read_text("utf-8"))["zones"]
        for entry in zone["status_history"]
        if entry["status"] == "active"
    ]
    return min(history)


def futian_across_the_river() -> pd.DataFrame:
    lon, lat = pz.from_wgs84([114.081], [22.521], "gcj02")
    return pz.locate(lon, lat, crs="wgs84", distance_limit_m=2_000)


def sample_operators() -> int:
    return int(pd.read_csv(SAMPLE)["operator_id"].nunique())


def batch_rows() -> int:
    return len(run("02-regulator-audit", "filing")["batch"])


def river_sites_in_band() -> list[str]:
    sites = run("03-siting", "sites")["sites"]
    river = sites["name"].str.contains("Shenzhen River|Across the river", regex=True)
    return sorted(sites.loc[river & sites["near_border"], "facility_id"])


#: (notebook, pattern with one group, the figure the group states, how close it must be).
CLAIMS: list[tuple[str, str, Callable[[], Any], Callable[[str, Any], bool]]] = [
    (
        "01-quickstart",
        r"The sample filing has (\d+) operators",
        sample_operators,
        lambda said, true: int(said) == true,
    ),
    (
        "01-quickstart",
        r"none of them was active before [^(]*\((\d{1,2} \w+ \d{4})\)",
        first_active_day,
        lambda said, true: datetime.strptime(said, "%d %B %Y").date() == true,
    ),
    (
        "01-quickstart",
        r"That point is about (\d+) m outside the border",
        lambda: float(futian_across_the_river()["border_distance_m"].iloc[0]),
        lambda said, true: abs(int(said) - true) <= 25,
    ),
    (
        "01-quickstart",
        r"outside the border, which is more than Shenzhen's (\d+) m review band",
        futian_across_the_river,
        lambda said, true: (
            not bool(true["near_border"].iloc[0])
            and float(true["border_distance_m"].iloc[0]) > int(said)
        ),
    ),
    (
        "02-regulator-audit",
        r"a synthetic batch of about ([\d,]+) rows",
        batch_rows,
        lambda said, true: abs(int(said.replace(",", "")) - true) <= 0.1 * true,
    ),
    (
        "03-siting",
        r"to see ([\w-]+(?:, [\w-]+)* and [\w-]+) in the band",
        river_sites_in_band,
        lambda said, true: sorted(re.split(r", | and ", said)) == true,
    ),
]


@pytest.mark.parametrize(
    ("notebook", "pattern", "truth", "agrees"), CLAIMS, ids=[c[1][:40] for c in CLAIMS]
)
def test_the_prose_states_what_the_code_gives(
    notebook: str, pattern: str, truth: Callable[[], Any], agrees: Callable[[str, Any], bool]
) -> None:
    found = re.search(pattern, prose(notebook))
    assert found, f"{notebook}: the prose no longer says {pattern!r}; update it and this claim"
    value = truth()
    assert agrees(found.group(1), value), (
        f"{notebook} says {found.group(0)!r}; the code gives {value!r}"
    )


def test_first_active_day_is_a_day_before_which_no_zone_is_active() -> None:
    day = first_active_day()
    assert not pz.load_zones(as_of=day - timedelta(days=1))["active"].any()
    assert pz.load_zones(as_of=day)["active"].any()
