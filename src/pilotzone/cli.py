"""The ``pilotzone`` command: a thin argparse shell over the public API.

::

    pilotzone zones  [--as-of DATE] [--boundaries PATH] [--lang en|zh]
    pilotzone locate LON LAT --crs CRS [--as-of DATE] [--boundaries PATH] [--lang en|zh]
    pilotzone verify FILE [--operators FILE] [--crs CRS] [--as-of DATE] [--out DIR]
                          [--basemap osm|gaode|tianditu:KEY|TEMPLATE] [--lang en|zh]
                          [--boundaries PATH] [--sheet NAME] [--max-crs N]
    pilotzone verify 'DIR/*.parquet' (--scheduler ADDRESS | --workers N) --out DIR [--crs CRS]
                          [--operators FILE] [--as-of DATE] [--boundaries PATH]
    pilotzone site   FILE (--zone ZONE | --registration=LON,LAT) --crs CRS [--out DIR]
                          [--as-of DATE] [--boundaries PATH] [--basemap ...] [--lang en|zh]
    pilotzone sample FILE --n N --seed S [--by zone] [--out FILE.csv|FILE.json] [--crs CRS]
                          [--as-of DATE] [--boundaries PATH] [--lang en|zh]
    pilotzone diff   OLD NEW [--out DIR] [--crs CRS] [--as-of DATE] [--boundaries PATH]
                          [--basemap ...] [--lang en|zh]
    pilotzone demo   [--out DIR] [--lang en|zh]
    pilotzone --version | --show-versions

Exit status
-----------
0
    Every row compliant (``locate``: inside an active zone, clear of its
    border; ``site``: every candidate compliant). ``demo`` exits 0 whenever
    it ran: its sample is meant to hold findings. ``sample`` exits 0 whenever
    it drew; ``diff`` exits 0 when no new violation appeared.
1
    Violations, rows for review or invalid rows found (``locate``: outside
    every active zone, near a border, or a coordinate that cannot be placed;
    ``site``: some candidate is not compliant; ``diff``: new findings of
    severity violation appeared).
2
    Bad input or usage: an unreadable or invalid file, an unknown coordinate
    system, broken zone data, a wrong option. One paragraph on stderr names
    the file, row and column; ``--debug`` adds the traceback.
3
    An unexpected error inside pilotzone (a bug): please report it with the
    ``--debug`` output.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import logging
import math
import re
import sys
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from pyproj.exceptions import ProjError

import pilotzone
from pilotzone._console import (
    FlagFormatter,
    as_flags,
    error_text,
    missing,
    print_changes,
    print_files,
    print_location,
    print_sample,
    print_sites,
    print_summary,
    print_versions,
    print_zones,
)
from pilotzone._messages import CLI, ERRORS
from pilotzone._parser import DEMO_OUT, build_parser, zone_options
from pilotzone._paths import sample_filing
from pilotzone._terminal import PrintableStream, Progress, safe_streams
from pilotzone._versions import versions
from pilotzone.errors import PilotzoneError
from pilotzone.facilities import MAX_CRS
from pilotzone.report import write_sites
from pilotzone.siting import rank_sites

__all__ = ["main"]

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
_BASEMAP_NAMES = ("osm", "gaode", "amap")


class _UsageError(Exception):
    """A command line that argparse accepts but that makes no sense (exit 2).

    ``key`` names its message in :data:`pilotzone._messages.ERRORS`, ``fields`` fill it in.
    """

    def __init__(self, key: str, **fields: Any) -> None:
        super().__init__(key)
        self.key, self.fields = key, fields

    def text(self, lang: str) -> str:
        return ERRORS[lang][self.key].format(**self.fields)


# --------------------------------------------------------------------------- commands


def _cmd_zones(args: argparse.Namespace) -> int:
    zones = pilotzone.load_zones(**zone_options(args))
    print_zones(zones, args.lang, CLI[args.lang])
    return EXIT_OK


def _cmd_locate(args: argparse.Namespace) -> int:
    zones = pilotzone.load_zones(**zone_options(args))
    found = pilotzone.locate(
        [args.lon], [args.lat], crs=args.crs, zones=zones, distance_limit_m=math.inf
    ).iloc[0]
    print_location(found, zones, args.lang, CLI[args.lang])
    zone = None if missing(found["zone_id"]) else str(found["zone_id"])
    active = bool(zones.loc[zones["zone_id"] == zone, "active"].any())
    placed = missing(found["coordinate_issue"])
    near = bool(found["near_border"])
    review = zones.attrs.get("readings", {}).get(str(found["component"])) == "review"
    clear = placed and not near and not review
    return EXIT_OK if zone is not None and active and clear else EXIT_FINDINGS


def _basemap(spec: str | None) -> Any:
    """The ``--basemap`` text as :func:`pilotzone.maps.explore` takes it."""
    if spec is None:
        return None
    if spec.lower() in _BASEMAP_NAMES:
        return spec.lower()
    if spec.lower().startswith("tianditu:"):
        key = spec.split(":", 1)[1]
        if not re.fullmatch(r"[0-9A-Za-z]+", key):
            raise _UsageError("tianditu")
        return {"name": "tianditu", "key": key}
    if all(part in spec for part in ("{x}", "{y}", "{z}")):
        host = urlsplit(spec).netloc or spec
        return (spec, f"Tiles: {host}")
    raise _UsageError("basemap", spec=spec)


def _check_sheet(args: argparse.Namespace) -> None:
    if args.sheet is not None and Path(args.file).suffix.lower() not in (".xlsx", ".xlsm", ".gpkg"):
        raise _UsageError("sheet", file=args.file)


def _verify(
    path: Path,
    *,
    crs: str | None,
    max_crs: int,
    sheet: str | None,
    operators: str | None,
    zones_from: dict[str, Any],
    progress: Progress,
    lang: str = "en",
) -> tuple[Any, Any]:
    from pilotzone.verify import verify

    progress.stage("loading zones")
    zones = pilotzone.load_zones(**zones_from)
    progress.stage(f"reading {path.name}")
    sites = pilotzone.read_facilities(path, crs=crs, max_crs=max_crs, sheet=sheet)
    progress.stage(f"locating {len(sites):,} rows and applying the rules")
    result = verify(sites, operators=operators, zones=zones, lang=lang)  # type: ignore[arg-type]
    return result, zones


def _exit_status(result: Any) -> int:
    return EXIT_OK if bool((result["status"] == "compliant").all()) else EXIT_FINDINGS


def _write(
    result: Any, zones: Any, out: str | Path, basemap: Any, lang: str, progress: Progress
) -> list[Path]:
    from pilotzone.report import write_report

    progress.stage(f"writing the report to {out}")
    paths = write_report(result, out, zones=zones, lang=lang, basemap=basemap)  # type: ignore[arg-type]
    return list(paths.values())


def _cmd_verify(args: argparse.Namespace) -> int:
    if args.scheduler is not None or args.workers is not None:
        return _verify_on_dask(args)
    _check_sheet(args)
    basemap = _basemap(args.basemap)
    if args.out is not None:
        Path(args.out).mkdir(parents=True, exist_ok=True)  # fail before the slow part
    progress = Progress.for_stderr()
    result, zones = _verify(
        Path(args.file),
        crs=args.crs,
        max_crs=args.max_crs,
        sheet=args.sheet,
        operators=args.operators,
        zones_from=zone_options(args),
        progress=progress,
        lang=args.lang,
    )
    # The files first: a reader that stops early (| head -1) loses no file and no exit status.
    paths = (
        None if args.out is None else _write(result, zones, args.out, basemap, args.lang, progress)
    )
    print_summary(result, zones, args.lang, CLI[args.lang])
    if paths is not None:
        print_files(CLI[args.lang]["written"], args.out, paths)
    progress.done()
    return _exit_status(result)


def _verify_on_dask(args: argparse.Namespace) -> int:
    """``verify`` of a partitioned Parquet filing on a Dask cluster: files, not a printed table."""
    if args.scheduler is not None and args.workers is not None:
        raise _UsageError("both_dask")
    if args.out is None:
        raise _UsageError("dask_out")
    if args.sheet is not None or args.basemap is not None or args.max_crs != MAX_CRS:
        raise _UsageError("dask_options")
    if args.workers is not None and args.workers < 1:
        raise _UsageError("workers", workers=args.workers)
    from pilotzone.verify import STATUSES

    try:
        from pilotzone.parallel import verify_files
    except ImportError as error:
        raise _UsageError("no_dask", error=error) from None
    zones = pilotzone.load_zones(**zone_options(args))
    summary = verify_files(
        args.file,
        args.out,
        scheduler=args.scheduler,
        workers=args.workers,
        crs=args.crs,
        operators=args.operators,
        zones=zones,
        lang=args.lang,
    )
    t = CLI[args.lang]
    counts = summary["by_status"]
    print(
        f"{t['checked']} {args.file}: {summary['rows']:,} {t['rows']}, "
        f"{t['as_of']} {summary['as_of']}"
    )
    print("  " + " · ".join(f"{t[s]} {counts[s]:,}" for s in reversed(STATUSES)))
    print(f"\n{t['written']} {Path(args.out)}: facilities/, findings/, summary.json")
    return EXIT_OK if summary["all_compliant"] else EXIT_FINDINGS


def _registration(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        lon, lat = (float(p) for p in text.replace("，", ",").split(","))
    except ValueError:
        raise _UsageError("registration", text=text) from None
    return lon, lat


def _cmd_site(args: argparse.Namespace) -> int:
    basemap = _basemap(args.basemap)
    registration = _registration(args.registration)
    out = Path(args.out) if args.out is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)  # fail before the slow part
    progress = Progress.for_stderr()
    progress.stage("loading zones")
    zones = pilotzone.load_zones(**zone_options(args))
    progress.stage(f"siting the candidates in {Path(args.file).name}")
    result = pilotzone.site(
        args.file, zone=args.zone, registration=registration, crs=args.crs, zones=zones
    )
    target = result.attrs["target_zone"]
    table = rank_sites(result)

    paths = None
    if out is not None:
        progress.stage(f"writing the ranked table, feasible area and map to {out}")
        feasible = pilotzone.feasible_area(target, zones=zones)
        paths = write_sites(
            table, result, feasible, out, zones=zones, lang=args.lang, basemap=basemap
        )
    t = CLI[args.lang]
    print_sites(result, table, args.file, zones, args.lang, t)
    if paths is not None:
        print_files(t["files"], out, paths)
    progress.done()
    return EXIT_OK if int(result["compliant"].sum()) == len(result) else EXIT_FINDINGS


def _cmd_demo(args: argparse.Namespace) -> int:
    filing = sample_filing()
    out = Path(args.out) if args.out is not None else Path.cwd() / DEMO_OUT
    progress = Progress.for_stderr()
    result, zones = _verify(
        filing, crs=None, max_crs=MAX_CRS, sheet=None, operators=None, zones_from={},
        progress=progress, lang=args.lang,
    )  # fmt: skip
    t = CLI[args.lang]
    paths = _write(result, zones, out, None, args.lang, progress)
    print_summary(result, zones, args.lang, t)
    print_files(t["written"], out, paths)
    print(f"\n{t['open']} {out / 'map.html'}\n{t['open']} {out / 'report.html'}", file=sys.stdout)
    progress.done()
    return EXIT_OK


def _audit_input(path: str, args: argparse.Namespace) -> Any:
    """A ``verify --out`` folder as a path; a filing read with ``--crs`` and ``--max-crs``.

    The callee verifies the filing.
    """
    if Path(path).is_dir():
        return path
    return pilotzone.read_facilities(Path(path), crs=args.crs, max_crs=args.max_crs)


def _cmd_sample(args: argparse.Namespace) -> int:
    from pilotzone.report import write_sample

    out = Path(args.out) if args.out is not None else None
    if out is not None and out.suffix.lower() not in (".csv", ".json"):
        raise _UsageError("sample_out", out=args.out)
    zones = pilotzone.load_zones(**zone_options(args))
    drawn = pilotzone.sample(
        _audit_input(args.file, args), args.n, seed=args.seed, by=args.by, zones=zones
    )
    paths = None if out is None else write_sample(drawn, out, lang=args.lang)
    t = CLI[args.lang]
    print_sample(drawn, args.file, zones, args.lang, t)
    if paths is not None:
        print_files(t["files"], None, paths)
    return EXIT_OK


def _cmd_diff(args: argparse.Namespace) -> int:
    from pilotzone.report import write_changes

    basemap = _basemap(args.basemap)
    if args.out is not None:
        Path(args.out).mkdir(parents=True, exist_ok=True)  # fail before the slow part
    zones = pilotzone.load_zones(**zone_options(args))
    changes = pilotzone.compare(
        _audit_input(args.old, args), _audit_input(args.new, args), zones=zones,
        lang=args.lang,
    )  # fmt: skip
    paths = None
    if args.out is not None:
        paths = write_changes(changes, args.out, zones=zones, lang=args.lang, basemap=basemap)
    t = CLI[args.lang]
    print_changes(changes, args.old, args.new, t)
    if paths is not None:
        print_files(t["files"], args.out, list(paths.values()))
    return EXIT_FINDINGS if changes.attrs["compare"]["new_violations"] else EXIT_OK


_COMMANDS = {
    "zones": _cmd_zones,
    "locate": _cmd_locate,
    "verify": _cmd_verify,
    "site": _cmd_site,
    "sample": _cmd_sample,
    "diff": _cmd_diff,
    "demo": _cmd_demo,
}


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``pilotzone`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments, without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0 all compliant, 1 findings, 2 bad input or usage,
        3 internal error (see the module docstring).

    Notes
    -----
    Everything printed passes through :func:`pilotzone._terminal.printable`, and Python warnings
    (from pilotzone or its libraries) become one-line ``pilotzone: note:``
    messages instead of ``file.py:123: UserWarning:`` lines.
    """
    safe_streams()
    with (
        contextlib.redirect_stdout(PrintableStream(sys.stdout)),
        contextlib.redirect_stderr(PrintableStream(sys.stderr)),
        warnings.catch_warnings(),
    ):
        status = _run(argv)
        sys.stdout.flush()  # inside the stream that survives a reader gone (BrokenPipeError)
        return status


def _note(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: IO[str] | None = None,
    line: str | None = None,
    *,
    lang: str = "en",
) -> None:
    """Show a warning as a one-line note on stderr (a ``warnings.showwarning`` hook)."""
    text = as_flags(" ".join(str(message).split()))
    debug = log.isEnabledFor(logging.DEBUG)
    where = f" ({category.__name__}, {filename}:{lineno})" if debug else ""
    print(f"{ERRORS[lang]['note']}{text}{where}", file=sys.stderr)


def _run(argv: Sequence[str] | None) -> int:
    """:func:`main` inside its printable streams."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version and usage errors (2)
        return exit_.code if isinstance(exit_.code, int) else EXIT_INPUT
    debug = bool(getattr(args, "debug", False))
    lang = getattr(args, "lang", "en")
    words = ERRORS[lang]
    warnings.showwarning = functools.partial(_note, lang=lang)

    package_log = logging.getLogger("pilotzone")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        FlagFormatter(
            "%(asctime)s %(name)s %(levelname)s: %(message)s"
            if debug
            else "pilotzone: %(levelname)s: %(message)s"
        )
    )
    previous_level = package_log.level
    package_log.addHandler(handler)
    package_log.setLevel(logging.DEBUG if debug else logging.WARNING)
    try:
        if args.show_versions:
            print_versions(versions())
            return EXIT_OK
        if args.command is None:
            parser.print_usage(sys.stderr)
            print(f"{words['error']}{words['command']}", file=sys.stderr)
            return EXIT_INPUT
        return int(_COMMANDS[args.command](args))
    except _UsageError as error:
        getattr(args, "parser", parser).print_usage(sys.stderr)
        print(f"{words['error']}{error.text(lang)}", file=sys.stderr)
        return EXIT_INPUT
    except (PilotzoneError, OSError, ProjError) as error:
        # Expected: bad input, CRS, zone data, files (InputError lists file, row and column);
        # pyproj's errors come from a coordinate system the user named. A bare ValueError
        # is not here: from inside pilotzone it is a bug, and must not pass for bad input.
        if debug:
            traceback.print_exc(file=sys.stderr)
        print(f"{words['error']}{error_text(error, lang)}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print(words["interrupted"], file=sys.stderr)
        return 130
    except Exception as error:
        if debug:
            traceback.print_exc(file=sys.stderr)
        print(words["internal"].format(kind=type(error).__name__, error=error), file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        package_log.removeHandler(handler)
        package_log.setLevel(previous_level)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
