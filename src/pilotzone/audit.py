"""The regulator's workflow over verify's results: random inspection samples and audit comparison.

Annex V of the pilot programme asks local communications administrations to set
up "regular random checks" of the pilot enterprises (定期抽查) and the pilot
regions to build a "data comparison mechanism" (数据比对机制).
:func:`sample` draws the operators to inspect, reproducibly; :func:`compare`
sets two audits side by side. Both take a verification result, a
``pilotzone verify --out`` folder or a filing (verified first).

How the sample is drawn
-----------------------
1. The population is every operator of the input, sorted by ``operator_id``
   (as text), so the draw does not depend on the order of the input's rows.
2. Each operator, in that order, gets a 64-bit key: the raw output of
   ``numpy.random.Generator(numpy.random.PCG64(seed)).bit_generator.random_raw``.
   The raw PCG64 stream and its seeding (``SeedSequence``) are fixed by
   NumPy's stream-compatibility policy (NEP 19), unlike derived methods such
   as ``choice`` or ``permutation``, whose algorithms may change between
   versions. The operators with the smallest keys are drawn: a simple random
   sample without replacement.
3. With ``by="zone"`` the strata are the operators' registration zones (the
   operators without one form the stratum ``"(none)"``). The sample size is
   allocated by the largest-remainder (Hamilton) method: if ``n`` is at least
   the number of non-empty strata ``H``, every stratum gets one operator and
   the other ``n - H`` are shared in proportion to the strata's remaining
   sizes ``N_h - 1``; otherwise ``n`` is shared in proportion to ``N_h`` (and
   some strata get none). Equal remainders go to the larger stratum, then to
   the stratum whose name sorts first. Within a stratum the operators with
   the smallest keys are drawn, so the allocation never changes any key.

The record in ``attrs["sample"]`` (and in the files ``pilotzone sample
--out`` writes) holds the seed, the method, the input's SHA-256, the SHA-256
of the sorted population, the strata counts and the versions used: with them
anyone can re-run the draw and get the same operators.

How two audits are compared
---------------------------
A finding is the triple (``operator_id``, ``facility_id``, rule code): new
when only the new audit has it, resolved when only the old one does,
unchanged when both do. A facility is (``operator_id``, ``facility_id``;
the n-th of duplicates matched with the n-th): added, removed, or moved when
its WGS-84 position changed by more than :data:`MOVE_THRESHOLD_M` metres,
measured on the WGS-84 ellipsoid (:class:`pyproj.Geod`). An operator in both
audits whose eligibility (:func:`pilotzone.summarize`) changed is listed too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from pilotzone._codes import CHANGES, NO_ZONE
from pilotzone._files import check_folder
from pilotzone._messages import AUDIT, VERIFY, check_lang
from pilotzone._version import __version__
from pilotzone.errors import InputError, Problem
from pilotzone.rules import describe
from pilotzone.verify import findings, row_numbers, summarize, verify

__all__ = ["CHANGES", "MOVE_THRESHOLD_M", "NO_ZONE", "check_folder", "compare", "sample"]

log = logging.getLogger(__name__)

Lang = Literal["en", "zh"]

#: A facility whose position changed by more than this many metres has moved.
MOVE_THRESHOLD_M = 1.0
METHOD = (
    "simple random sampling without replacement of operators sorted by operator_id: one key per "
    "operator from numpy.random.Generator(PCG64(seed)).bit_generator.random_raw, smallest keys "
    "drawn; by zone: strata = registration zones, allocation by largest remainder (one per "
    "non-empty stratum first when n allows, the rest in proportion to N_h - 1; otherwise in "
    "proportion to N_h)"
)
_GEOD = pyproj.Geod(ellps="WGS84")


def sample(
    source: Any,
    n: int,
    *,
    seed: int,
    by: Literal["zone"] | None = None,
    zones: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Draw a reproducible random sample of operators to inspect.

    Parameters
    ----------
    source : GeoDataFrame, DataFrame, str or path-like
        What :func:`pilotzone.verify` returns, what :func:`pilotzone.summarize`
        returns (indexed by ``operator_id``), a ``pilotzone verify --out``
        folder, or a filing (verified first, against ``zones``).
    n : int
        How many operators to draw; all of them when the input has fewer.
    seed : int
        Seed of ``numpy.random.PCG64`` (a non-negative integer). Required:
        the draw is only as reproducible as its seed is recorded.
    by : {"zone"}, optional
        Stratify by registration zone (see the module notes for the
        allocation rule); ``None`` draws from all operators at once.
    zones : GeoDataFrame, optional
        The zones to verify a filing against (:func:`pilotzone.load_zones`);
        by default today's shipped zones.

    Returns
    -------
    pandas.DataFrame
        One row per operator drawn, by stratum then ``operator_id``:
        ``operator_id``, ``stratum`` (``"all"``, a zone id or
        :data:`NO_ZONE`), ``registration_zone``, and where the input has them
        ``eligible``, ``rows``, ``violation``, ``review``, ``invalid``.
        ``attrs["sample"]`` is the record of the draw: ``method``, ``seed``,
        ``n``, ``drawn``, ``by``, ``population``, ``strata`` (operators and
        drawn per stratum), ``input`` (the file read and its SHA-256: the
        filing, or a folder's ``facilities.parquet``), ``filing`` (the
        verified filing's name and SHA-256, when known), ``population_sha256``,
        ``as_of``, ``pilotzone_version`` and ``numpy_version``.

    Raises
    ------
    pilotzone.errors.InputError
        If ``n`` or ``seed`` is not a usable integer, ``by`` is unknown, or
        the input cannot be read.

    Examples
    --------
    >>> import pandas as pd, pilotzone as pz
    >>> filing = pd.DataFrame({
    ...     "operator_id": ["A", "B", "C"], "kind": "registration",
    ...     "lon": [121.5044, 116.3975, 114.0579], "lat": [31.2397, 39.9087, 22.5431],
    ...     "crs": "wgs84"})
    >>> drawn = pz.sample(pz.verify(filing), 2, seed=7)
    >>> len(drawn), drawn.attrs["sample"]["seed"]
    (2, 7)
    """
    count = _whole(n, "n", minimum=1)
    seed = _whole(seed, "seed", minimum=0)
    if by not in (None, "zone"):
        raise InputError(Problem("by", None, None, by, "must be 'zone' or None"))
    table, info = _population(source, zones)
    ids = table.index.to_numpy(dtype=object)
    zone = table["registration_zone"].to_numpy(dtype=object)
    strata = np.where(pd.isna(zone), NO_ZONE, zone) if by == "zone" else np.full(len(ids), "all")
    keys = np.random.Generator(np.random.PCG64(seed)).bit_generator.random_raw(len(ids))
    sizes = pd.Series(strata).value_counts().sort_index()
    allocation = _allocate(sizes, min(count, len(ids)))
    frame = pd.DataFrame({"operator_id": ids, "stratum": strata, "key": keys})
    frame = frame.sort_values(["stratum", "key", "operator_id"], kind="stable")
    frame["place"] = frame.groupby("stratum").cumcount()
    chosen = frame[frame["place"] < frame["stratum"].map(allocation)]
    chosen = chosen.sort_values(["stratum", "operator_id"], kind="stable")
    drawn = table.loc[chosen["operator_id"]].reset_index()
    drawn.insert(1, "stratum", chosen["stratum"].to_numpy())
    population_text = "".join(f"{i}\t{s}\n" for i, s in zip(ids, strata, strict=True))
    drawn.attrs["sample"] = {
        "method": METHOD,
        "seed": seed,
        "n": count,
        "drawn": len(drawn),
        "by": by,
        "population": len(ids),
        "strata": {
            str(s): {"operators": int(sizes[s]), "drawn": int(allocation[s])} for s in sizes.index
        },
        **info,
        "population_sha256": hashlib.sha256(population_text.encode("utf-8")).hexdigest(),
        "pilotzone_version": __version__,
        "numpy_version": np.__version__,
    }
    if count > len(ids):
        log.warning("asked for %d operators, the input has %d: all are drawn", count, len(ids))
    return drawn


def _whole(value: Any, name: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(Problem(name, None, None, value, f"must be an integer ≥ {minimum}"))
    return int(value)


def _allocate(sizes: pd.Series, n: int) -> pd.Series:
    """Operators to draw per stratum: largest remainder, one per stratum first when n allows."""
    floor = pd.Series(0, index=sizes.index)
    share, weights = n, sizes.astype(float)
    if n >= len(sizes):
        floor[:] = 1
        share, weights = n - len(sizes), sizes - 1.0
    total = float(weights.sum())
    quota = weights * share / total if total else weights * 0.0
    whole = np.floor(quota).astype(int)
    left = share - int(whole.sum())
    order = pd.DataFrame({"remainder": quota - whole, "size": sizes, "name": sizes.index})
    order = order.sort_values(["remainder", "size", "name"], ascending=[False, False, True])
    whole[order.index[:left]] += 1
    return (floor + whole).astype(int)


def _population(source: Any, zones: gpd.GeoDataFrame | None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Operators (index ``operator_id``, sorted as text) with their summary; the input's record."""
    if isinstance(source, pd.DataFrame) and "status" not in source.columns and "eligible" in source:
        table, info = source.copy(), {"input": {"file": "<DataFrame>", "sha256": None}}
    else:
        result, info = _result(source, zones)
        table = summarize(result)
    table.index = table.index.map(str)
    table = table[table.index != ""]
    table = table.loc[sorted(table.index)]
    table.index.name = "operator_id"
    keep = ["registration_zone", "eligible", "rows", "violation", "review", "invalid"]
    table = table[[c for c in keep if c in table.columns]]
    table["registration_zone"] = (
        table["registration_zone"].astype(object).where(table["registration_zone"].notna(), None)
    )
    return table, info


def _result(
    source: Any, zones: gpd.GeoDataFrame | None, lang: Lang = "en"
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """The result a result, a ``verify --out`` folder or a filing holds, and its record."""
    if isinstance(source, gpd.GeoDataFrame) and "status" in source.columns:
        result = source
        info: dict[str, Any] = {"input": {"file": "<GeoDataFrame>", "sha256": None}}
    elif isinstance(source, (str, os.PathLike)) and Path(source).is_dir():
        result, info = _read_folder(Path(source))
    else:
        result = verify(source, zones=zones, lang=lang)
        path = str(source) if isinstance(source, (str, os.PathLike)) else result.attrs.get("source")
        info = {
            "input": {"file": path or "<DataFrame>", "sha256": result.attrs.get("source_sha256")}
        }
    info["filing"] = {
        "file": result.attrs.get("source"),
        "sha256": result.attrs.get("source_sha256"),
    }
    info["as_of"] = result.attrs.get("as_of")
    info["readings"] = result.attrs.get("readings")  # the zone components' readings (#20)
    return result, info


def _read_folder(folder: Path) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """The result a ``pilotzone verify --out`` folder holds (facilities.parquet, summary.json).

    Read once :func:`check_folder` finds the folder is one whole run. A folder
    written before facilities.parquet existed is read from its facilities.geojson.
    """
    summary_path = folder / "summary.json"
    table = folder / "facilities.parquet"
    if not table.is_file() and (folder / "facilities.geojson").is_file():
        table = folder / "facilities.geojson"
    missing = [p.name for p in (table, summary_path) if not p.is_file()]
    if missing:
        raise InputError(Problem(
            str(folder), None, None, None,
            f"not a `pilotzone verify --out` folder: {', '.join(missing)} missing",
        ))  # fmt: skip
    check_folder(folder, required=(table.name, summary_path.name))
    raw = table.read_bytes()
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        result = gpd.read_parquet(table) if table.suffix == ".parquet" else gpd.read_file(table)
    except (ValueError, OSError) as error:  # pyogrio's errors are OSError or ValueError subclasses
        raise InputError(Problem(str(folder), None, None, None, f"unreadable: {error}")) from error
    needed = {
        "operator_id",
        "facility_id",
        "kind",
        "status",
        "reasons",
        "registration_zone",
        "zone_id",
    }
    absent = sorted(needed - set(result.columns))
    if absent:
        raise InputError([Problem(table.name, None, c, None, "column missing") for c in absent])
    for column in ("operator_id", "facility_id", "kind", "status", "reasons"):
        result[column] = result[column].astype(object).where(result[column].notna(), "").map(str)
    for column in ("zone_id", "registration_zone"):
        result[column] = result[column].astype(object).where(result[column].notna(), None)
    source = summary.get("input") or {}
    result.attrs.update({
        "source": source.get("file"), "source_sha256": source.get("sha256"),
        "as_of": summary.get("as_of"), "readings": summary.get("readings"),
    })  # fmt: skip
    return result, {"input": {"file": str(folder), "sha256": hashlib.sha256(raw).hexdigest()}}


def compare(
    old: Any,
    new: Any,
    *,
    zones: gpd.GeoDataFrame | None = None,
    lang: Lang = "en",
) -> pd.DataFrame:
    """Compare two audits: findings new, resolved, unchanged; facilities added, removed, moved.

    Parameters
    ----------
    old, new : GeoDataFrame, DataFrame, str or path-like
        Each a result of :func:`pilotzone.verify`, a ``pilotzone verify
        --out`` folder, or a filing (verified first, against ``zones``). A
        folder is read only when it is one whole run: its ``manifest.json``
        present and every file it names unchanged
        (:func:`check_folder`).
    zones : GeoDataFrame, optional
        The zones to verify filings against; by default today's shipped zones.
    lang : {"en", "zh"}, default "en"
        Language of the ``description`` column, and of ``message`` where a
        filing is verified here (a result or a folder keeps its own).

    Returns
    -------
    pandas.DataFrame
        One row per change, in the order of :data:`CHANGES`, then operator,
        facility and rule. Columns: ``change`` (a code of :data:`CHANGES`),
        ``operator_id``, ``facility_id``, ``kind``, ``name``, ``rule``,
        ``severity`` (findings only), ``old_status``, ``new_status``,
        ``old_eligibility``, ``new_eligibility`` (eligibility changes only: ``eligible``,
        ``pending_review`` or ``not_eligible``, as :func:`pilotzone.summarize` gives them),
        ``moved_m`` (geodesic metres, moves only), ``old_lon``, ``old_lat``,
        ``new_lon``, ``new_lat`` (WGS-84; an eligibility change is placed at
        the operator's registration), ``message`` (verify's message on the
        row, from the new audit, or the old one for what is gone) and
        ``description`` (the change in words). ``attrs["compare"]`` holds
        the inputs' records, counts per change, ``new_violations`` and
        ``move_threshold_m``.

    Raises
    ------
    pilotzone.errors.InputError
        If an input cannot be read, or a folder is not one whole run (the
        error names the file: the manifest missing, or a file that differs
        from it).

    Notes
    -----
    See the module notes for the keys that match findings and facilities.
    ``new_violations`` counts new findings of severity ``violation``: the
    ``pilotzone diff`` command exits 1 when it is not zero.

    Examples
    --------
    >>> import pandas as pd, pilotzone as pz
    >>> before = pd.DataFrame({
    ...     "operator_id": "A", "facility_id": ["R", "F"], "kind": ["registration", "idc"],
    ...     "lon": [121.5044, 121.5044], "lat": [31.2397, 31.2397], "crs": "wgs84"})
    >>> after = before.assign(lon=[121.5044, 116.3975], lat=[31.2397, 39.9087])
    >>> changes = pz.compare(pz.verify(before), pz.verify(after))
    >>> changes["change"].tolist()
    ['new_finding', 'facility_moved', 'eligibility_changed']
    """
    check_lang(lang)
    old_result, old_info = _result(old, zones, lang)
    new_result, new_info = _result(new, zones, lang)
    old_rows, new_rows = _facilities(old_result), _facilities(new_result)
    parts = [
        _finding_changes(old_rows, new_rows, old_result, new_result),
        _facility_changes(old_rows, new_rows),
        _eligibility_changes(old_result, new_result, old_rows, new_rows),
    ]
    changes = (
        pd.concat([p for p in parts if len(p)], ignore_index=True) if any(map(len, parts)) else None
    )
    columns = ["change", "operator_id", "facility_id", "kind", "name", "rule", "severity",
               "old_status", "new_status", "old_eligibility", "new_eligibility", "moved_m",
               "old_lon", "old_lat", "new_lon", "new_lat", "message"]  # fmt: skip
    changes = pd.DataFrame(columns=columns) if changes is None else changes.reindex(columns=columns)
    order = {c: i for i, c in enumerate(CHANGES)}
    changes = changes.sort_values(
        ["change", "operator_id", "facility_id", "rule"],
        key=lambda s: s.map(order) if s.name == "change" else s.fillna("").astype(str),
        kind="stable",
    ).reset_index(drop=True)
    changes["description"] = [_describe(row, lang) for row in changes.itertuples(index=False)]
    counts = changes["change"].value_counts()
    new_violations = int(
        ((changes["change"] == "new_finding") & (changes["severity"] == "violation")).sum()
    )
    changes.attrs["compare"] = {
        "old": {**old_info}, "new": {**new_info},
        "counts": {c: int(counts.get(c, 0)) for c in CHANGES},
        "new_violations": new_violations, "move_threshold_m": MOVE_THRESHOLD_M,
    }  # fmt: skip
    return changes


def _facilities(result: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row per result row: key (operator, facility, occurrence), position, status, message."""
    frame = (
        result
        if result.crs is None or result.crs.equals("EPSG:4326")
        else result.to_crs("EPSG:4326")
    )
    shapes = np.asarray(frame.geometry.values, dtype=object)
    rows = pd.DataFrame({
        "operator_id": frame["operator_id"].astype(object).map(str).to_numpy(),
        "facility_id": frame["facility_id"].astype(object).map(str).to_numpy(),
        "kind": frame["kind"].astype(object).to_numpy(),
        "name": frame["name"].astype(object).to_numpy() if "name" in frame else None,
        "status": frame["status"].astype(str).to_numpy(),
        "message": frame["message"].astype(object).to_numpy() if "message" in frame else None,
        "lon": shapely.get_x(shapes), "lat": shapely.get_y(shapes),
    }, index=frame.index)  # fmt: skip
    rows["occurrence"] = rows.groupby(["operator_id", "facility_id"]).cumcount()
    return rows


_KEY = ["operator_id", "facility_id", "occurrence"]


def _finding_changes(
    old_rows: pd.DataFrame, new_rows: pd.DataFrame, old: gpd.GeoDataFrame, new: gpd.GeoDataFrame
) -> pd.DataFrame:
    def table(rows: pd.DataFrame, result: gpd.GeoDataFrame) -> pd.DataFrame:
        found = findings(result)[["row", "rule", "severity"]]
        joined = found.join(rows.set_axis(row_numbers(result).to_numpy()), on="row")
        return joined.drop_duplicates(["operator_id", "facility_id", "rule"]).set_index(
            ["operator_id", "facility_id", "rule"]
        )

    before, after = table(old_rows, old), table(new_rows, new)
    both = before.index.intersection(after.index)
    pieces = []
    for change, frame, keys in (
        ("new_finding", after, after.index.difference(before.index)),
        ("resolved_finding", before, before.index.difference(after.index)),
        ("unchanged_finding", after, both),
    ):
        part = frame.loc[keys].reset_index()
        part["change"] = change
        part["old_status"] = (
            before["status"].reindex(keys).to_numpy() if change != "new_finding" else None
        )
        part["new_status"] = (
            after["status"].reindex(keys).to_numpy() if change != "resolved_finding" else None
        )
        side = "old" if change == "resolved_finding" else "new"
        part[f"{side}_lon"], part[f"{side}_lat"] = part["lon"], part["lat"]
        pieces.append(part.drop(columns=["row", "lon", "lat", "status", "occurrence"]))
    return pd.concat(pieces, ignore_index=True)


def _facility_changes(old_rows: pd.DataFrame, new_rows: pd.DataFrame) -> pd.DataFrame:
    merged = old_rows.merge(
        new_rows, on=_KEY, how="outer", suffixes=("_old", "_new"), indicator=True
    )
    merged["change"] = merged["_merge"].map(
        {"left_only": "facility_removed", "right_only": "facility_added"}
    )
    both = merged["_merge"] == "both"
    located = both & merged[["lon_old", "lat_old", "lon_new", "lat_new"]].notna().all(axis=1)
    metres = np.full(len(merged), np.nan)
    if located.any():
        part = merged[located]
        _, _, distance = _GEOD.inv(
            part["lon_old"].to_numpy(),
            part["lat_old"].to_numpy(),
            part["lon_new"].to_numpy(),
            part["lat_new"].to_numpy(),
        )
        metres[located.to_numpy()] = distance
    moved = located & (metres > MOVE_THRESHOLD_M)
    merged.loc[moved, "change"] = "facility_moved"
    merged["moved_m"] = np.where(moved, metres, np.nan)
    changed = merged[merged["change"].notna()]
    latest = changed["_merge"] == "left_only"
    return pd.DataFrame({
        "change": changed["change"],
        "operator_id": changed["operator_id"], "facility_id": changed["facility_id"],
        "kind": changed["kind_new"].where(~latest, changed["kind_old"]),
        "name": changed["name_new"].where(~latest, changed["name_old"]),
        "old_status": changed["status_old"], "new_status": changed["status_new"],
        "moved_m": changed["moved_m"],
        "old_lon": changed["lon_old"], "old_lat": changed["lat_old"],
        "new_lon": changed["lon_new"], "new_lat": changed["lat_new"],
        "message": changed["message_new"].where(~latest, changed["message_old"]),
    }).reset_index(drop=True)  # fmt: skip


def _eligibility_changes(
    old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, old_rows: pd.DataFrame, new_rows: pd.DataFrame
) -> pd.DataFrame:
    """Operators in both audits whose eligibility changed, placed at their (new) registration."""
    before, after = summarize(old)["eligibility"], summarize(new)["eligibility"]
    before.index, after.index = before.index.map(str), after.index.map(str)
    common = before.index.intersection(after.index)
    flipped = common[before[common].to_numpy() != after[common].to_numpy()]
    places = []
    for rows in (new_rows, old_rows):
        registration = rows[rows["kind"] == "registration"].drop_duplicates("operator_id")
        places.append(registration.set_index("operator_id")[["lon", "lat"]])
    at = places[0].reindex(flipped).fillna(places[1].reindex(flipped))
    return pd.DataFrame({
        "change": "eligibility_changed", "operator_id": list(flipped),
        "kind": "registration",
        "old_eligibility": before[flipped].astype(str).to_numpy(),
        "new_eligibility": after[flipped].astype(str).to_numpy(),
        "new_lon": at["lon"].to_numpy(), "new_lat": at["lat"].to_numpy(),
    })  # fmt: skip


def _describe(row: Any, lang: Lang) -> str:
    text = AUDIT[lang]
    template = text[row.change]
    if row.change.endswith("_finding"):
        return template.format(title=describe(row.rule, lang))
    if row.change == "facility_moved":
        return template.format(metres=row.moved_m)
    if row.change == "eligibility_changed":
        words = VERIFY[lang]
        return template.format(
            old=words[f"eligibility_{row.old_eligibility}"],
            new=words[f"eligibility_{row.new_eligibility}"],
        )
    return template
