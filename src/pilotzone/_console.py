"""What the commands print, as plain aligned tables.

The zones, a verify summary, ranked sites, a sample and a comparison, in the words the command
line's language gives.
"""

from __future__ import annotations

import logging
import re
import shlex
import sys
from pathlib import Path
from typing import IO, Any, Literal

from pilotzone._codes import ELIGIBILITY
from pilotzone._messages import ERRORS, VERIFY, ZONE_STATUS, Reason
from pilotzone._results import rule_counts
from pilotzone._terminal import print_table, width, wrap
from pilotzone.audit import CHANGES, NO_ZONE
from pilotzone.errors import InputError, PilotzoneError
from pilotzone.rules import RULES, describe
from pilotzone.verify import STATUSES, summarize

__all__ = [
    "COLUMNS",
    "FLAGS",
    "MAX_OPERATORS_SHOWN",
    "MAX_SITES_SHOWN",
    "TOP_FINDINGS",
    "FlagFormatter",
    "as_flags",
    "error_text",
    "missing",
    "print_changes",
    "print_files",
    "print_location",
    "print_sample",
    "print_sites",
    "print_summary",
    "print_zones",
]

#: The terminal width every line of ``zones`` and ``locate`` fits.
COLUMNS = 80
#: How many findings, unreadable rows and new findings are listed; the rest are counted.
TOP_FINDINGS = 10
#: How many operators the summary lists.
MAX_OPERATORS_SHOWN = 20
#: How many ranked candidates ``site`` lists.
MAX_SITES_SHOWN = 20


#: The library's keyword arguments (and the parameters problems name), as the command line
#: spells them: the one place a message's ``crs='gcj02'`` becomes ``--crs gcj02``.
FLAGS = {
    "crs": "--crs", "as_of": "--as-of", "max_crs": "--max-crs", "sheet": "--sheet",
    "boundaries": "--boundaries", "operators": "--operators",
}  # fmt: skip
#: ``read_facilities(..., sheet='x')``: a call with one keyword, as the library's hints write it.
_CALL = re.compile(r"\b[a-z_]+\(\.\.\., (?P<name>[a-z_]+)=(?P<value>[^)]*)\)")
#: ``crs='gcj02'``, ``max_crs=N``, ``crs=``: a keyword and its value, if any.
_KEYWORD = re.compile(r"\b(?P<name>[a-z_]+)=(?P<value>'[^']*'|\"[^\"]*\"|[\w.:-]+)?")


def _flag(match: re.Match[str]) -> str:
    flag = FLAGS.get(match["name"])
    if flag is None:
        return match[0]
    value = (match["value"] or "").strip()
    if len(value) > 1 and value[0] == value[-1] and value[0] in "'\"":
        value = shlex.quote(value[1:-1])
    return f"{flag} {value}" if value else flag


def as_flags(text: str) -> str:
    """A library message as the command line says it: its keyword arguments as flags.

    Parameters
    ----------
    text : str
        A message, such as ``"pass crs=, e.g. crs='gcj02'"`` or ``"as_of"``.

    Returns
    -------
    str
        The same with each keyword of :data:`FLAGS` written as its flag and its value as a
        shell word: ``"pass --crs, e.g. --crs gcj02"``, ``"--as-of"``.
    """
    if text in FLAGS:
        return FLAGS[text]
    return _KEYWORD.sub(_flag, _CALL.sub(_flag, text))


class FlagFormatter(logging.Formatter):
    """A log formatter that names keyword arguments as flags (:func:`as_flags`)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return as_flags(super().formatMessage(record))


def error_text(error: BaseException, lang: str) -> str:
    """One paragraph for an expected error, in the command line's words.

    Parameters
    ----------
    error : BaseException
        A :class:`~pilotzone.errors.PilotzoneError`, an :class:`OSError` or a pyproj error.
    lang : {"en", "zh"}
        Language of the frame (counts, rows, columns) and of the frequent reasons
        (:data:`pilotzone._messages.PROBLEMS`); the rare ones stay English.

    Returns
    -------
    str
        The message, keyword arguments named as flags (:func:`as_flags`).
    """
    if isinstance(error, InputError):
        return error.describe(ERRORS[lang], as_flags, lang)
    if isinstance(error, OSError) and not isinstance(error, PilotzoneError):
        name = error.filename if error.filename is not None else ""
        reason = error.strerror or str(error)
        return f"{name}{ERRORS[lang]['colon']}{reason}" if name else reason
    cause = error.args[0] if len(error.args) == 1 else None
    if isinstance(cause, Reason):  # such as an unknown coordinate system's
        return as_flags(cause.text(lang))
    return as_flags(str(error) or type(error).__name__)


def missing(value: Any) -> bool:
    """Whether a cell is missing: None, NaN or pandas' missing values."""
    try:
        return value is None or bool(value != value)  # NaN, and pandas' missing values
    except (TypeError, ValueError):
        return False


def print_zones(zones: Any, lang: str, t: dict[str, str]) -> None:
    """Print the zones as a table, their data's sources, their date and the data's folder.

    Every line fits :data:`COLUMNS` terminal columns (the folder's path excepted): the
    sources, long, are listed under the table, each once, wrapped.

    Parameters
    ----------
    zones : GeoDataFrame
        What :func:`pilotzone.load_zones` returns.
    lang : {"en", "zh"}
        Language of the zone names and statuses.
    t : dict of str to str
        The CLI's words in that language.
    """
    out = sys.stdout
    rows = [[t["zone_id"], t["name"], t["zone_status"], t["area_km2"], t["accuracy_m"]]]
    sources: dict[str, list[str]] = {}
    for zone in zones.itertuples(index=False):
        status = str(zone.status)
        rows.append(
            [
                str(zone.zone_id),
                str(getattr(zone, f"short_name_{lang}")),
                ZONE_STATUS["zh"].get(status, status) if lang == "zh" else status,
                f"{zone.area_km2:,.0f}",
                f"{zone.accuracy_m:,.0f}",
            ]
        )
        sources.setdefault(str(zone.source), []).append(str(zone.zone_id))
    print_table(rows, out, right=(3, 4))
    parts = [[t["component"], t["standing"], t["reading"], t["readings"]]]
    for row in zones.get("components", []):
        parts += [[c.component_id, c.standing, c.reading, "/".join(c.readings)] for c in row]
    if len(parts) > 1:  # choose a reading with --reading COMPONENT=CHOICE
        print(file=out)
        print_table(parts, out)
    print(f"\n{t['sources']}:", file=out)
    for source, ids in sources.items():
        for line in wrap(f"{', '.join(ids)}: {source}", COLUMNS - 2, "    "):
            print(f"  {line}", file=out)
    print(f"\n{t['as_of']} {zones.attrs['as_of']}", file=out)
    print(f"{t['data']}: {zones.attrs['boundaries_path']}", file=out)


def print_location(found: Any, zones: Any, lang: str, t: dict[str, str]) -> None:
    """Print where a point lies: its zone, border distance, whether it is near the border.

    Parameters
    ----------
    found : pandas.Series
        One row of what :func:`pilotzone.locate` returns, measured without a horizon
        (``distance_limit_m=numpy.inf``): its distance is shown whenever the point is placed.
    zones : GeoDataFrame
        The zones it was located in, for their names and status.
    lang : {"en", "zh"}
        Language of the zone names.
    t : dict of str to str
        The CLI's words in that language.
    """
    zone = None if missing(found["zone_id"]) else str(found["zone_id"])
    issue = None if missing(found["coordinate_issue"]) else str(found["coordinate_issue"])
    distance = found["border_distance_m"]
    near = bool(found["near_border"])
    row = zones[zones["zone_id"] == zone]
    if zone is None:
        where = t["outside_zones"] if issue is None else t["unplaced"]
    else:
        status = str(row["status"].iloc[0]) if len(row) else "unknown"
        name = row[f"short_name_{lang}"].iloc[0] if len(row) else None
        # English shows the zone status code itself.
        shown = ZONE_STATUS["zh"].get(status, status) if lang == "zh" else status
        where = f"{zone} ({name}, {shown})" if len(row) else zone
    border = "-" if missing(distance) else VERIFY[lang]["metres"].format(m=distance)
    part = None if missing(found.get("component")) else str(found["component"])
    named = {c.component_id: c for parts in zones.get("components", []) for c in parts}
    if part in named:
        part = t["component_read"].format(
            component=part, standing=named[part].standing, reading=named[part].reading
        )
    rows = [
        [t["zone"], where],
        [t["component"], part or t["none"]],
        [t["border_distance"], border],
        [t["near_border"], t["needs_check"] if near else t["no"]],
        [t["coordinate_issue"], issue or t["none"]],
    ]
    widest = max(width(r[0]) for r in rows)
    for label, value in rows:
        print(f"{label}{' ' * (widest - width(label))}  {value}", file=sys.stdout)


def print_summary(result: Any, zones: Any, lang: Literal["en", "zh"], t: dict[str, str]) -> None:
    """Print what :func:`pilotzone.verify` found: counts, operators, unreadable rows, top rules.

    Parameters
    ----------
    result : GeoDataFrame
        What :func:`pilotzone.verify` returns.
    zones : GeoDataFrame
        The zones it was checked against, for their names.
    lang : {"en", "zh"}
        Language of the zone names and rule descriptions.
    t : dict of str to str
        The CLI's words in that language.
    """
    out = sys.stdout
    names = dict(zip(zones["zone_id"], zones[f"short_name_{lang}"], strict=True))
    source = result.attrs.get("source") or "<input>"
    print(
        f"{t['checked']} {source}: {len(result):,} {t['rows']}, {t['as_of']} "
        f"{result.attrs.get('as_of')}",
        file=out,
    )
    counts = result["status"].astype(str).value_counts()
    print(
        "  " + " · ".join(f"{t[s]} {int(counts.get(s, 0)):,}" for s in reversed(STATUSES)), file=out
    )

    table = summarize(result, lang)
    states = table["eligibility"].value_counts()
    words = VERIFY[lang]
    print(
        f"\n{t['operators']}: {len(table):,} ("
        + ", ".join(
            f"{words[f'eligibility_{s}']} {int(states.get(s, 0)):,}" for s in ELIGIBILITY[::-1]
        )
        + ")",
        file=out,
    )
    rows = [[t["operator"], t["registration_zone"], t["eligibility"], t["counts"], t["why"]]]
    shown = table.assign(rank=table["eligibility"].map(ELIGIBILITY.index)).sort_values(
        ["rank", "violation", "invalid", "review"],
        ascending=[True, False, False, False],
        kind="stable",
    )
    for operator_id, row in shown.head(MAX_OPERATORS_SHOWN).iterrows():
        zone = row["registration_zone"]
        rows.append(
            [
                str(operator_id),
                str(names.get(zone, zone)) if isinstance(zone, str) else t["none"],
                words[f"eligibility_{row['eligibility']}"],
                f"{row['rows']:,} ({row['violation']:,}/{row['review']:,}/{row['invalid']:,})",
                str(row["eligibility_reason"]),
            ]
        )
    print_table(rows, out)
    if len(table) > MAX_OPERATORS_SHOWN:
        print(f"  … {len(table) - MAX_OPERATORS_SHOWN:,} {t['more_operators']}", file=out)

    _print_invalid(result, t, out, lang)
    per_rule = rule_counts(result)
    print("", file=out)
    if not per_rule:
        print(t["no_findings"], file=out)
        return
    print(f"{t['top']}:", file=out)
    order = {s: i for i, s in enumerate(STATUSES)}
    ranked = sorted(per_rule, key=lambda c: (order[RULES[c].severity], -per_rule[c], c))
    rows = [[t["count"], t["severity"], t["rule"]]]
    for code in ranked[:TOP_FINDINGS]:
        severity = RULES[code].severity
        rows.append([f"{per_rule[code]:,}", t[severity], f"{describe(code, lang)} ({code})"])
    print_table(rows, out, right=(0,))


def _print_invalid(result: Any, t: dict[str, str], out: IO[str], lang: str) -> None:
    """The rows that cannot be checked, with file, row and column, as the reader found them.

    In English the reader's ``problems``; in Chinese verify's ``message``, which words them
    in Chinese.
    """
    invalid = result[result["status"] == "invalid"]
    if invalid.empty:
        return
    source = result.attrs.get("source") or "<input>"
    print(f"\n{t['cannot_check']}:", file=out)
    for row in invalid.head(TOP_FINDINGS).itertuples(index=False):
        where = f"{source}, {t['row'].format(row.source_row)}"
        why = row.problems if lang == "en" else ""
        print(f"  {where}: {as_flags(str(why or row.message))}", file=out)
    if len(invalid) > TOP_FINDINGS:
        print(f"  … {len(invalid) - TOP_FINDINGS:,} {t['more_rows']}", file=out)


def print_sites(
    result: Any, table: Any, source: str, zones: Any, lang: str, t: dict[str, str]
) -> None:
    """Print a siting: the target zone, how many candidates comply, the ranked candidates.

    Parameters
    ----------
    result : GeoDataFrame
        What :func:`pilotzone.site` returns.
    table : DataFrame
        The same ranked (:func:`pilotzone.siting.rank_sites`).
    source : str
        The candidates' file, as named on the command line.
    zones : GeoDataFrame
        The zones, for their names.
    lang : {"en", "zh"}
        Language of the zone names.
    t : dict of str to str
        The CLI's words in that language.
    """
    out = sys.stdout
    target = result.attrs["target_zone"]
    names = dict(zip(zones["zone_id"], zones[f"short_name_{lang}"], strict=True))
    compliant = int(result["compliant"].sum())
    print(
        f"{t['sited']} {source}: {len(result):,} {t['candidates']}, {t['for_zone']} "
        f"{names.get(target, target)} ({target}), {t['as_of']} {zones.attrs.get('as_of')}",
        file=out,
    )
    print(f"  {t['compliant']} {compliant:,} / {len(result):,}", file=out)
    label = next((c for c in ("name", "facility_id", "id") if c in table.columns), None)
    rows = [[t["rank"], t["candidate"], t["verdict"], t["margin"], t["move"]]]
    for row in table.head(MAX_SITES_SHOWN).to_dict("records"):
        if row["compliant"]:
            verdict = t["compliant"]
        elif missing(row["margin_m"]):
            verdict = f"{t['not_placed']} ({row['coordinate_issue']})"
        else:
            verdict = t["in_band"] if row["near_border"] else t["outside"]
        move = row["distance_to_zone_m"]
        rows.append(
            [
                str(row["rank"]),
                "" if label is None or missing(row[label]) else str(row[label]),
                verdict,
                "" if missing(row["margin_m"]) else f"{row['margin_m']:,.0f}",
                "" if missing(move) else f"{move:,.0f}",
            ]
        )
    print_table(rows, out, right=(0, 3, 4))
    if len(table) > MAX_SITES_SHOWN:
        print(f"  … {len(table) - MAX_SITES_SHOWN:,} {t['more_sites']}", file=out)


def print_sample(drawn: Any, source: str, zones: Any, lang: str, t: dict[str, str]) -> None:
    """Print a sample's record, its strata and the operators drawn.

    Parameters
    ----------
    drawn : DataFrame
        What :func:`pilotzone.sample` returns.
    source : str
        What it was drawn from, as named on the command line.
    zones : GeoDataFrame
        The zones, for their names.
    lang : {"en", "zh"}
        Language of the zone names.
    t : dict of str to str
        The CLI's words in that language.
    """
    record = drawn.attrs["sample"]
    out = sys.stdout
    names = dict(zip(zones["zone_id"], zones[f"short_name_{lang}"], strict=True))
    how = t["by_zone"] if record["by"] else t["unstratified"]
    print(
        f"{t['sampled']} {source}: {record['drawn']:,} {t['of']} {record['population']:,} "
        f"{t['operators'].lower()} · {t['seed']} {record['seed']} · {how}",
        file=out,
    )
    print(f"  {t['population_sha256']}: {record['population_sha256']}", file=out)
    rows = [[t["stratum"], t["operators"], t["drawn"]]]
    for stratum, counts in record["strata"].items():
        label = _stratum(stratum, names, t)
        rows.append([label, f"{counts['operators']:,}", f"{counts['drawn']:,}"])
    print_table(rows, out, right=(1, 2))
    print("", file=out)
    rows = [[t["operator"], t["stratum"], t["eligible"]]]
    for row in drawn.itertuples(index=False):
        label = _stratum(row.stratum, names, t)
        eligible = getattr(row, "eligible", None)
        shown = "" if eligible is None else t["yes" if eligible else "no"]
        rows.append([str(row.operator_id), label, shown])
    print_table(rows, out)


def _stratum(stratum: str, names: dict[str, str], t: dict[str, str]) -> str:
    """A stratum's label: the zone's name, or the word for none or all."""
    if stratum in (NO_ZONE, "all"):
        return t["none" if stratum == NO_ZONE else "all"]
    return str(names.get(stratum, stratum))


def print_changes(changes: Any, old: str, new: str, t: dict[str, str]) -> None:
    """Print a comparison: the count of each change and the new findings.

    Parameters
    ----------
    changes : DataFrame
        What :func:`pilotzone.compare` returns.
    old, new : str
        The two audits, as named on the command line.
    t : dict of str to str
        The CLI's words in the command line's language.
    """
    record = changes.attrs["compare"]
    out = sys.stdout
    print(f"{t['compared']} {old} {t['with']} {new}", file=out)
    rows = [[t["count"], t["change"]]]
    rows += [[f"{record['counts'][c]:,}", t[c]] for c in CHANGES]
    print_table(rows, out, right=(0,))
    found = changes[changes["change"] == "new_finding"]
    print(f"\n{t['new_violations']}: {record['new_violations']:,}", file=out)
    if len(found):
        rows = [[t["operator"], t["facility"], t["severity"], t["rule"]]]
        for row in found.head(TOP_FINDINGS).itertuples(index=False):
            rows.append(
                [str(row.operator_id), str(row.facility_id), t[row.severity], str(row.description)]
            )
        print(f"{t['new_list']}:", file=out)
        print_table(rows, out)
        if len(found) > TOP_FINDINGS:
            print(f"  … {len(found) - TOP_FINDINGS:,} {t['more_rows']}", file=out)


def print_files(title: str, folder: Any, paths: Any) -> None:
    """List the files a command wrote, after what it printed.

    Parameters
    ----------
    title : str
        The heading ("Report written to", "Files written to").
    folder : str or Path or None
        The folder they were written to, named after the heading (None: not named).
    paths : iterable of Path
        The files.
    """
    where = "" if folder is None else f" {Path(folder)}"
    print(f"\n{title}{where}:", file=sys.stdout)
    for path in paths:
        print(f"  {path}", file=sys.stdout)


def print_versions(rows: list[tuple[str, str]]) -> None:
    """The version report (:func:`pilotzone._versions.versions`), one aligned line each."""
    widest = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{widest}}  {value}", file=sys.stdout)
