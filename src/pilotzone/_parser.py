"""The ``pilotzone`` command line's options.

Every subcommand, its arguments and their help (:mod:`pilotzone.cli` runs them).
"""

from __future__ import annotations

import argparse
from typing import Any

from pilotzone._codes import READINGS
from pilotzone._version import __version__
from pilotzone.facilities import MAX_CRS
from pilotzone.report import SITE_FILES

__all__ = ["DEMO_OUT", "build_parser", "zone_options"]

#: The folder ``demo`` writes to, in the working directory, without ``--out``.
DEMO_OUT = "pilotzone-demo"


def _positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _reading(text: str) -> tuple[str, str]:
    """An argparse type: ``COMPONENT=CHOICE``, e.g. ``shanghai/lingang-outside-pudong=exclude``."""
    component, equals, choice = text.partition("=")
    if not equals or not component.strip() or choice.strip() not in READINGS:
        raise argparse.ArgumentTypeError(
            f"{text!r}: write COMPONENT=CHOICE, CHOICE one of {', '.join(READINGS)} "
            "(`pilotzone zones` lists the components)"
        )
    return component.strip(), choice.strip()


def zone_options(args: argparse.Namespace) -> dict[str, Any]:
    """The :func:`pilotzone.load_zones` arguments of a command line.

    From ``--as-of``, ``--boundaries`` and ``--reading`` (a later ``--reading``
    of the same component wins).
    """
    readings = dict(getattr(args, "reading", None) or [])
    return {"as_of": args.as_of, "boundaries": args.boundaries, "readings": readings or None}


def build_parser() -> argparse.ArgumentParser:
    """The ``pilotzone`` command line's parser.

    Returns
    -------
    argparse.ArgumentParser
        Its ``command`` is the subcommand's name (None without one), its
        ``parser`` the subcommand's own parser, for usage messages.
    """
    # --debug works before and after the command; SUPPRESS keeps the subcommand's
    # default from overwriting a --debug given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show tracebacks and DEBUG log messages",
    )
    zone_data = argparse.ArgumentParser(add_help=False)
    zone_data.add_argument(
        "--as-of", metavar="DATE", help="audit date, e.g. 2025-06-01 (default today)"
    )
    zone_data.add_argument(
        "--boundaries",
        metavar="PATH",
        help="zone data: a folder with manifest.json, or a boundary file "
        "that replaces or adds zones",
    )
    zone_data.add_argument(
        "--reading",
        type=_reading,
        action="append",
        metavar="COMPONENT=CHOICE",
        help="how to read a contested zone component, e.g. "
        "shanghai/lingang-outside-pudong=exclude (include, exclude or review; repeatable; "
        "default: the zone data's own)",
    )
    crs_limit = argparse.ArgumentParser(add_help=False)
    crs_limit.add_argument(
        "--max-crs",
        type=_positive,
        default=MAX_CRS,
        metavar="N",
        help=f"most distinct values a filing's crs column may hold (default {MAX_CRS})",
    )
    language = argparse.ArgumentParser(add_help=False)
    language.add_argument(
        "--lang",
        choices=("en", "zh"),
        default="en",
        help="language of what is printed (tables, summary, errors) and of the report (default en)",
    )

    top = argparse.ArgumentParser(
        prog="pilotzone",
        description="Check telecom facilities against the four regions of China's 2024 "
        "value-added telecom opening pilot (MIIT [2024] No. 107).",
        epilog="Exit status: 0 all compliant; 1 violations, reviews or invalid rows found; "
        "2 bad input or usage; 3 internal error.",
        parents=[common],
    )
    top.add_argument("--version", action="version", version=f"pilotzone {__version__}")
    top.add_argument(
        "--show-versions",
        action="store_true",
        help="print the versions of pilotzone, its libraries and zone data",
    )
    commands = top.add_subparsers(dest="command", metavar="COMMAND")

    zones = commands.add_parser(
        "zones",
        parents=[common, zone_data, language],
        help="list the pilot zones",
        description="List the pilot zones and their status on a date.",
    )
    zones.set_defaults(parser=zones)

    locate = commands.add_parser(
        "locate",
        parents=[common, zone_data, language],
        help="which zone a point is in",
        description="Which zone a point lies in and how far it is from a zone border. "
        "Exit 0 inside an active zone, clear of its border and of any zone component read "
        "as review, 1 otherwise.",
    )
    locate.add_argument("lon", type=float, metavar="LON", help="longitude (or easting), x first")
    locate.add_argument("lat", type=float, metavar="LAT", help="latitude (or northing)")
    locate.add_argument(
        "--crs",
        required=True,
        help="coordinate system: wgs84, gcj02 (AMap/Tencent), bd09 (Baidu), "
        "cgcs2000 or an EPSG code",
    )
    locate.set_defaults(parser=locate)

    verify = commands.add_parser(
        "verify",
        parents=[common, zone_data, crs_limit, language],
        help="check a filing",
        description="Check every row of a facility filing against the pilot's siting rules.",
    )
    verify.add_argument(
        "file",
        metavar="FILE",
        help="filing: .csv, .xlsx, .geojson, .gpkg, .shp, .kml, .kmz, .parquet",
    )
    verify.add_argument(
        "--operators",
        metavar="FILE",
        help="CSV with operator_id and services, one row per operator",
    )
    verify.add_argument(
        "--crs",
        help="coordinate system of rows without a crs value "
        "(wgs84, gcj02, bd09, cgcs2000, EPSG:...); never guessed",
    )
    verify.add_argument("--out", metavar="DIR", help="write the report files into DIR")
    verify.add_argument(
        "--basemap",
        metavar="osm|gaode|tianditu:KEY|TEMPLATE",
        help="map tiles (fetched when the map is viewed); default none",
    )
    verify.add_argument(
        "--sheet",
        metavar="NAME",
        help="Excel worksheet or GeoPackage layer: its name, or its 0-based number where none "
        "has that name (a name wins); needed for a GeoPackage of several layers",
    )
    verify.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on this Dask scheduler (e.g. tcp://host:8786); FILE is then a folder or glob "
        "of Parquet files, and --out gets partitioned results (pip install 'pilotzone[dask]')",
    )
    verify.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="run on a local Dask cluster of N worker processes (as --scheduler)",
    )
    verify.set_defaults(parser=verify)

    siting = commands.add_parser(
        "site",
        parents=[common, zone_data, language],
        help="rank candidate sites against a target zone",
        description="Judge candidate sites against a target zone: margin to its border, "
        "review band, nearest admissible point. Exit 0 if every candidate is compliant, "
        "1 otherwise.",
    )
    siting.add_argument(
        "file", metavar="FILE", help="CSV of candidates with lon and lat columns (x first)"
    )
    target = siting.add_mutually_exclusive_group(required=True)
    target.add_argument("--zone", metavar="ZONE", help="target zone id, e.g. shenzhen")
    target.add_argument(
        "--registration",
        metavar="LON,LAT",
        help="the operator's registration address, in --crs: its zone is the target "
        "(write --registration=LON,LAT when LON is negative)",
    )
    siting.add_argument(
        "--crs",
        required=True,
        help="coordinate system of the candidates and the registration: wgs84, gcj02 "
        "(AMap/Tencent), bd09 (Baidu), cgcs2000 or an EPSG code",
    )
    siting.add_argument(
        "--out",
        metavar="DIR",
        help=f"write {', '.join(SITE_FILES)} (ranked table, feasible area, map) into DIR",
    )
    siting.add_argument(
        "--basemap",
        metavar="osm|gaode|tianditu:KEY|TEMPLATE",
        help="map tiles (fetched when the map is viewed); default none",
    )
    siting.set_defaults(parser=siting)

    drawing = commands.add_parser(
        "sample",
        parents=[common, zone_data, crs_limit, language],
        help="draw a reproducible random sample of operators to inspect",
        description="Draw a reproducible random sample of operators to inspect (Annex V: "
        "regular random checks). The same seed and input always give the same sample, "
        "whatever the order of the input's rows.",
    )
    drawing.add_argument(
        "file", metavar="FILE", help="a filing (verified first) or a `verify --out` folder"
    )
    drawing.add_argument("--n", type=int, required=True, help="how many operators to draw")
    drawing.add_argument(
        "--seed", type=int, required=True, help="seed of the random draw (record it)"
    )
    drawing.add_argument(
        "--by",
        choices=("zone",),
        help="stratify by registration zone (largest remainder, one per zone first)",
    )
    drawing.add_argument(
        "--crs", help="coordinate system of filing rows without a crs value; never guessed"
    )
    drawing.add_argument(
        "--out",
        metavar="FILE",
        help="write the sample: FILE.json (the draw's record and the operators) or FILE.csv "
        "(the operators, and the record beside it as FILE.json)",
    )
    drawing.set_defaults(parser=drawing)

    diff = commands.add_parser(
        "diff",
        parents=[common, zone_data, crs_limit, language],
        help="compare two audits",
        description="Compare two audits (two `verify --out` folders, or two filings, verified "
        "first): findings new, resolved or unchanged; facilities added, removed or moved; "
        "operators whose eligibility changed. Exit 1 when new violations appeared.",
    )
    diff.add_argument("old", metavar="OLD", help="the earlier audit: folder or filing")
    diff.add_argument("new", metavar="NEW", help="the later audit: folder or filing")
    diff.add_argument(
        "--crs", help="coordinate system of filing rows without a crs value; never guessed"
    )
    diff.add_argument(
        "--out", metavar="DIR", help="write changes.csv, changes.json and changes_map.html"
    )
    diff.add_argument(
        "--basemap",
        metavar="osm|gaode|tianditu:KEY|TEMPLATE",
        help="map tiles (fetched when the map is viewed); default none",
    )
    diff.set_defaults(parser=diff)

    demo = commands.add_parser(
        "demo",
        parents=[common, language],
        help="check the bundled sample filing",
        description="Check the bundled sample filing and write the full report.",
    )
    demo.add_argument("--out", metavar="DIR", help=f"output folder (default ./{DEMO_OUT})")
    demo.set_defaults(parser=demo)
    return top
