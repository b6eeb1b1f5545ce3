"""The printable audit report, ``report.html``, from a result, its summary and findings.

:func:`pilotzone.report.write_report` calls :func:`report_html` with the
texts of its language and its limits. The page stays a report at any size:
summary tables per status, zone, rule and operator; the zones' named
components with the reading used and the readings offered; a static overview map
(:mod:`pilotzone._report_svg`, one SVG inset per zone); the most serious
findings in full, up to a bound, and the rest counted with a pointer to the
tables. The interactive map page is embedded as an ``<iframe srcdoc>`` on
screen only (or linked when it is too large). Every text from the input is
HTML-escaped here. The print style sheet lays the page out on A4: table
headers repeat on each page and rows do not split.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import geopandas as gpd
import pandas as pd

from pilotzone._codes import NOT_CHECKED, OUTSIDE_ZONES
from pilotzone._files import plain
from pilotzone._messages import FILING, VERIFY
from pilotzone._report_svg import overview
from pilotzone.rules import RULES, cite, describe
from pilotzone.verify import STATUSES

__all__ = ["FILED_COLUMNS", "report_html", "zone_key"]

Lang = Literal["en", "zh"]

#: The findings' columns of where a facility is, as filed: shown when the findings carry them.
FILED_COLUMNS = ("district", "lon", "lat", "crs")

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Microsoft YaHei",
sans-serif;color:#111;margin:2em auto;max-width:1100px;padding:0 1em}
h1{font-size:1.6em;margin:0 0 .1em}h2{font-size:1.25em;margin:1.6em 0 .4em;
border-bottom:2px solid #1f5fbf}h3{font-size:1.05em;margin:1.2em 0 .3em}
.subtitle{color:#555;margin:0 0 1em}
table{border-collapse:collapse;margin:.3em 0 1em;width:100%}
th,td{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eef2f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
td{overflow-wrap:break-word}
table.findings{table-layout:fixed;font-size:.92em}table.findings code{word-break:break-all}
.at{font-size:.9em;color:#444}
table.meta{width:auto}table.meta th{width:12em}
code,.hash{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85em;word-break:break-all}
.violation{color:#b00}.review{color:#b35900}.invalid{color:#555}.compliant{color:#1a7a1a}
.note{color:#555;font-size:.9em}
.insets{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:12px}
figure{margin:0}figure svg{display:block;width:100%;height:auto}
figcaption{font-size:.9em;margin:.2em 0 0}figcaption .shown{color:#555}
ul.legend{list-style:none;padding:0;margin:.3em 0;display:flex;flex-wrap:wrap;gap:.3em 1.4em}
ul.legend svg{width:14px;height:14px;vertical-align:-2px;margin-right:.3em}
iframe.map{width:100%;height:640px;border:1px solid #bbb}
@page{size:A4;margin:14mm 12mm}
@media print{
body{margin:0;max-width:none;font-size:9pt}
h2{break-after:avoid}h3{break-after:avoid}
thead{display:table-header-group}tr,figure{break-inside:avoid}
th,td{padding:2px 4px}
.insets{grid-template-columns:1fr 1fr;gap:8px}
section.map{display:none}
a{color:inherit;text-decoration:none}
}
"""

#: The table cell's class (its colour) for each eligibility.
_STATE_CLASS = {"eligible": "compliant", "pending_review": "review", "not_eligible": "violation"}
#: Operators are listed most serious first: by eligibility, then by their rows' statuses.
_STATE_ORDER = {"not_eligible": 0, "pending_review": 1, "eligible": 2}


def _e(value: Any) -> str:
    """Escaped text of a value (empty for missing values)."""
    value = plain(value) if not isinstance(value, str) else value
    return "" if value is None else html.escape(str(value), quote=True)


def _number(value: Any) -> str:
    return f'<td class="n">{_e(value)}</td>'


def _table(
    head: Iterable[str], rows: Iterable[str], css: str = "", widths: Iterable[int] = ()
) -> str:
    """A table: its header cells (HTML) in a ``<thead>`` that print repeats, its rows (HTML).

    ``widths`` (percent, one per column) fix the columns' widths.
    """
    attribute = f' class="{css}"' if css else ""
    columns = "".join(f'<col style="width:{w}%">' for w in widths)
    colgroup = f"<colgroup>{columns}</colgroup>" if columns else ""
    return (
        f"<table{attribute}>{colgroup}<thead><tr>{''.join(head)}</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _th(text: str) -> str:
    return f"<th>{_e(text)}</th>"


def _zone_names(zones: gpd.GeoDataFrame, lang: Lang) -> dict[str, str]:
    column = f"short_name_{lang}"
    return {str(z): str(n) for z, n in zip(zones["zone_id"], zones[column], strict=True)}


def _components_table(zones: gpd.GeoDataFrame, t: Mapping[str, str]) -> str:
    """The zones' named components: standing, the reading used, the readings offered, default.

    Empty when the zones have none (a user's boundary file).
    """
    rows = []
    for components in zones.get("components", ()):
        for c in components:
            cells = (c.component_id, c.name, t.get(c.standing, c.standing), c.reading,
                     ", ".join(c.readings), c.default)  # fmt: skip
            rows.append("<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in cells) + "</tr>")
    if not rows:
        return ""
    words = ("component", "component_name", "standing", "reading_used", "readings_offered",
             "default")  # fmt: skip
    return f"<h3>{_e(t['components'])}</h3>" + _table(
        [_th(t[w]) for w in words], rows, css="components"
    )


def _zone_statuses(result: gpd.GeoDataFrame) -> dict[tuple[str, str], int]:
    """Rows by zone (keyed as ``summary.json``'s ``by_zone``) and status."""
    groups = result.groupby(
        [result["zone_id"], result["status"]], observed=True, dropna=False, sort=False
    ).size()
    counts: dict[tuple[str, str], int] = {}
    for (zone, status), n in groups.items():
        key = (zone_key(zone, status), str(status))
        counts[key] = counts.get(key, 0) + int(n)
    return counts


def zone_key(zone: Any, status: Any) -> str:
    """A row's zone as ``summary.json``'s ``by_zone`` keys it: the zone, or why it has none."""
    zone = plain(zone)
    if isinstance(zone, str) and zone:
        return zone
    return NOT_CHECKED if status == "invalid" else OUTSIDE_ZONES


def _operator_order(operators: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The operators most serious first (stable within equals)."""
    return sorted(
        operators,
        key=lambda op: (
            _STATE_ORDER.get(op["eligibility"], 3),
            -op["violation"],
            -op["review"],
            -op["invalid"],
        ),
    )


def _swatch(shape: str) -> str:
    return f'<svg viewBox="0 0 14 14" aria-hidden="true">{shape}</svg>'


def _overview(
    result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, names: dict[str, str], t: Mapping[str, str]
) -> list[str]:
    """The overview section: a legend, one captioned inset per zone, and what no inset shows."""
    # The map's colours; its module loads folium, which ``import pilotzone`` must not.
    from pilotzone._map_drawing import STATUS_COLORS, ZONE_COLOR

    insets, outside = overview(result, zones)
    dot = '<circle cx="7" cy="7" r="{r}" fill="{c}" stroke="{s}" stroke-width="1.2"/>'
    legend = [
        _swatch(dot.format(r=4, c=STATUS_COLORS[s], s="#111" if s == "violation" else "none"))
        + _e(t[s])
        for s in ("violation", "review", "invalid", "compliant")
    ]
    legend.append(
        _swatch('<rect x="2" y="2" width="10" height="10" fill="none" stroke="#111"/>')
        + _e(t["registration_mark"])
    )
    legend.append(
        _swatch(
            f'<rect x="1" y="3" width="12" height="8" fill="{ZONE_COLOR}" fill-opacity=".1" '
            f'stroke="{ZONE_COLOR}" stroke-width="1.4"/>'
        )
        + _e(t["zone_outline"])
    )
    parts = [f'<section class="overview"><h2>{_e(t["overview"])}</h2>']
    parts.append('<ul class="legend">' + "".join(f"<li>{item}</li>" for item in legend) + "</ul>")
    parts.append('<div class="insets">')
    status_of = dict(zip(zones["zone_id"], zones["status"], strict=True))
    for inset in insets:
        shown = sum(inset.shown.values())
        caption = (
            f"{names.get(inset.zone_id, inset.zone_id)} ({t.get(status_of[inset.zone_id], '')})"
        )
        counts = t["in_frame"].format(n=shown, v=inset.shown["violation"])
        parts.append(
            f"<figure>{inset.svg}<figcaption><strong>{_e(caption)}</strong> "
            f'<span class="shown">{_e(counts)}</span></figcaption></figure>'
        )
    parts.append("</div>")
    parts.append(f'<p class="note">{_e(t["dense"])}')
    if outside:
        parts.append(" " + _e(t["outside_insets"].format(n=outside)))
    parts.append("</p></section>")
    return parts


def _facility_cells(
    finding: Any, names: dict[str, str], t: Mapping[str, str], lang: Lang, filed: bool
) -> str:
    """Kind, tenure, zone and, when the findings carry them, district and coordinates as filed."""
    words = FILING[lang]
    kind, tenure = plain(finding.kind), plain(finding.tenure)
    zone = zone_key(finding.zone_id, finding.severity)  # only an invalid row has invalid findings
    kind_text = words.get(kind, kind) if isinstance(kind, str) else kind
    tenure_text = words.get(tenure, tenure) if isinstance(tenure, str) else tenure
    shown = t[zone] if zone in (OUTSIDE_ZONES, NOT_CHECKED) else names.get(zone, zone)
    html_cells = f"<td>{_e(kind_text)}<br>{_e(tenure_text)}</td><td>{_e(shown)}</td>"
    if filed:
        where = f"{_e(finding.lon)}, {_e(finding.lat)}" if pd.notna(finding.lon) else ""
        crs = f" ({_e(finding.crs)})" if isinstance(plain(finding.crs), str) else ""
        html_cells += f'<td>{_e(finding.district)}<br><span class="at">{where}{crs}</span></td>'
    return html_cells


def report_html(
    result: gpd.GeoDataFrame,
    table: pd.DataFrame,
    summary: dict[str, Any],
    zones: gpd.GeoDataFrame,
    page: str,
    lang: Lang,
    *,
    text: Mapping[str, str],
    max_findings: int,
    max_findings_per_operator: int,
    max_operators: int,
    max_map_chars: int,
) -> str:
    """The report page.

    Parameters
    ----------
    result : geopandas.GeoDataFrame
        What :func:`pilotzone.verify` returns: the overview map's points and
        the rows by zone and status.
    table : pandas.DataFrame
        :func:`pilotzone.findings` of the result, most serious first, titles in
        ``lang``. Its columns :data:`FILED_COLUMNS` (district, coordinates and
        coordinate system as filed) are shown when it has all of them.
    summary : dict
        The result's ``summary.json`` (:func:`pilotzone.report.build_summary`).
    zones : geopandas.GeoDataFrame
        The zones the result was checked against, for their names, statuses
        and outlines.
    page : str
        The map page, embedded (on screen) when it has at most ``max_map_chars`` characters.
    lang : {"en", "zh"}
        Language of the headings, zone names, rule titles, articles and codes
        (kind, tenure, status).
    text : mapping of str to str
        The report's headings and words in ``lang``, keyed as the page uses them.
    max_findings : int
        At most this many findings are listed in all, the most serious first.
    max_findings_per_operator : int
        At most this many findings of one operator are listed.
    max_operators : int
        At most this many operators are listed (table and sections), most serious first.
    max_map_chars : int
        A longer map page is linked, not embedded.

    Returns
    -------
    str
        The HTML page. Its size is bounded by the limits and the zones, not
        by the number of rows.
    """
    t = text
    names = _zone_names(zones, lang)
    parts: list[str] = []
    add = parts.append
    add("<!DOCTYPE html>")
    add(f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">')
    add('<meta name="viewport" content="width=device-width, initial-scale=1">')
    add(f"<title>{_e(t['title'])}: {_e(summary['input']['file'])}</title>")
    add(f"<style>{_CSS}</style></head><body>")
    add(f'<h1>{_e(t["title"])}</h1><p class="subtitle">{_e(t["subtitle"])}</p>')

    zone_data = summary["zone_data"]
    add('<table class="meta">')
    add(f"<tr><th>{_e(t['as_of'])}</th><td>{_e(summary['as_of'])}</td></tr>")
    readings = "; ".join(f"{c}={r}" for c, r in (summary.get("readings") or {}).items())
    add(f"<tr><th>{_e(t['readings'])}</th><td>{_e(readings or t['none'])}</td></tr>")
    add(f"<tr><th>{_e(t['input'])}</th><td>{_e(summary['input']['file'])}</td></tr>")
    add(
        f"<tr><th>{_e(t['input'])} {_e(t['sha256'])}</th>"
        f'<td class="hash">{_e(summary["input"]["sha256"])}</td></tr>'
    )
    add(f"<tr><th>{_e(t['version'])}</th><td>{_e(summary['pilotzone_version'])}</td></tr>")
    add(
        f"<tr><th>{_e(t['generated'])}</th>"
        f'<td><span id="generated-at">{_e(summary["generated_at"])}</span></td></tr>'
    )
    add("</table>")

    add(f"<h2>{_e(t['zone_data'])}</h2>")
    status_of = dict(zip(zones["zone_id"], zones["status"], strict=True))
    rows = []
    for zone_id, sha in zone_data["zones"].items():
        label = f"{names.get(zone_id, zone_id)} ({zone_id})"
        status = status_of.get(zone_id)
        shown = "" if status is None else t.get(status, "")
        rows.append(
            f'<tr><td>{_e(label)}</td><td>{_e(shown)}</td><td class="hash">{_e(sha)}</td></tr>'
        )
    add(_table([_th(t["zone"]), _th(t["status"]), _th(t["sha256"])], rows))
    override = zone_data.get("override")
    if override:
        add(
            f"<p>{_e(t['override'])}: {_e(override['file'])} "
            f'<span class="hash">{_e(override["sha256"])}</span></p>'
        )
    add(_components_table(zones, t))
    add(f'<p class="note">{_e(t["note"])}</p>')

    add(f"<h2>{_e(t['summary'])}</h2>")
    rows = [
        f'<tr><td class="{status}">{_e(t[status])}</td>{_number(count)}</tr>'
        for status, count in summary["by_status"].items()
    ]
    rows.append(f"<tr><th>{_e(t['rows'])}</th>{_number(summary['rows'])}</tr>")
    add(_table([_th(t["status"]), _th(t["rows"])], rows))

    parts.extend(_overview(result, zones, names, t))

    add(f"<h3>{_e(t['by_zone'])}</h3>")
    by_status = _zone_statuses(result)
    rows = []
    for zone_id, count in summary["by_zone"].items():
        shown = (
            t[zone_id] if zone_id in (OUTSIDE_ZONES, NOT_CHECKED) else names.get(zone_id, zone_id)
        )
        cells = "".join(_number(by_status.get((zone_id, s), 0)) for s in STATUSES)
        rows.append(f"<tr><td>{_e(shown)}</td>{_number(count)}{cells}</tr>")
    add(_table([_th(t["zone"]), _th(t["rows"]), *(_th(t[s]) for s in STATUSES)], rows))

    add(f"<h3>{_e(t['rules'])}</h3>")
    operators_of = table.groupby("rule")["operator_id"].nunique() if len(table) else pd.Series()
    rows = []
    for code, count in summary["by_rule"].items():
        if count:
            rule = RULES[code]
            rows.append(
                f"<tr><td>{_e(describe(code, lang))} <code>{_e(code)}</code></td>"
                f'<td>{_e(cite(code, lang))}</td><td class="{rule.severity}">'
                f"{_e(t[rule.severity])}</td>{_number(operators_of.get(code, 0))}"
                f"{_number(count)}</tr>"
            )
    if not any(summary["by_rule"].values()):
        rows.append(f'<tr><td colspan="5">{_e(t["no_findings"])}</td></tr>')
    head = [t["rule"], t["article"], t["severity"], t["operators_count"], t["count"]]
    add(_table(map(_th, head), rows))

    operators = _operator_order(summary["operators"])
    listed = operators[:max_operators]
    add(f"<h2>{_e(t['operators'])}</h2>")
    rows = []
    for op in listed:
        zone = op["registration_zone"]
        rows.append(
            f"<tr><td>{_e(op['operator_id'])}</td>"
            f"<td>{_e(names.get(zone, zone) if zone else t['none'])}</td>"
            f'<td class="{_STATE_CLASS[op["eligibility"]]}">'
            f"{_e(VERIFY[lang]['eligibility_' + op['eligibility']])}</td>"
            f"<td>{_e(op['eligibility_reason'])}</td>"
            f"{_number(op['rows'])}" + "".join(_number(op[s]) for s in STATUSES) + "</tr>"
        )
    head = [t["operator"], t["registration_zone"], t["eligibility"], t["why"], t["rows"]]
    add(_table([*map(_th, head), *(_th(t[s]) for s in STATUSES)], rows))
    if len(operators) > len(listed):
        add(f'<p class="note">{_e(t["more_operators"].format(n=len(operators) - len(listed)))}</p>')

    found_of = table["operator_id"].value_counts(sort=False).to_dict()
    budget = max_findings
    shown_of: dict[Any, int] = {}
    for op in listed:
        shown_of[op["operator_id"]] = min(
            found_of.get(op["operator_id"], 0), max_findings_per_operator, budget
        )
        budget -= shown_of[op["operator_id"]]
    shown_ids = [o for o, n in shown_of.items() if n]
    mine = table[table["operator_id"].isin(shown_ids)]
    grouped = dict(tuple(mine.groupby("operator_id", sort=False))) if len(mine) else {}
    add(f"<h2>{_e(t['findings'])}</h2>")
    note = t["listed"].format(
        shown=sum(shown_of.values()),
        total=len(table),
        most=max_findings,
        per=max_findings_per_operator,
    )
    add(f'<p class="note">{_e(note)}</p>')
    filed = all(c in table.columns for c in FILED_COLUMNS)
    head = [t["rule"], t["severity"], t["facility"], t["row"]]
    head += [f"{t['kind']} · {t['tenure']}", t["zone"]]
    head += [f"{t['district']} · {t['coordinates']}"] if filed else []
    head.append(t["message"])
    widths = [18, 9, 13, 5, 10, 9, *((12,) if filed else ()), 0]
    widths[-1] = 100 - sum(widths)
    unlisted = [o for o, n in shown_of.items() if found_of.get(o) and not n]
    for op in listed:
        operator_id = op["operator_id"]
        total, count = found_of.get(operator_id, 0), shown_of[operator_id]
        if total and not count:  # counted below
            continue
        add(f'<section class="operator"><h3>{_e(t["operator"])} {_e(operator_id)}</h3>')
        if not total:
            add(f"<p>{_e(t['no_findings'])}</p></section>")
            continue
        rows = []
        finding: Any  # a row of table: pandas types the fields of itertuples as any scalar
        for finding in grouped[operator_id].head(count).itertuples(index=False):
            facility = (
                f"{finding.facility_id} · {finding.name}" if finding.name else finding.facility_id
            )
            rows.append(
                f"<tr><td>{_e(describe(finding.rule, lang))}<br><code>{_e(finding.rule)}</code>"
                f'<br><span class="at">{_e(cite(finding.rule, lang))}</span></td>'
                f'<td class="{_e(finding.severity)}">'
                f"{_e(t.get(finding.severity, finding.severity))}</td>"
                f'<td>{_e(facility)}</td><td class="row">{_e(finding.row)}</td>'
                f"{_facility_cells(finding, names, t, lang, filed)}"
                f"<td>{_e(finding.message)}</td></tr>"
            )
        add(_table(map(_th, head), rows, "findings", widths))
        hidden = total - count
        if hidden > 0:
            add(f'<p class="note">… {hidden} {_e(t["more"])}</p>')
        add("</section>")

    if unlisted:
        counted = t["not_listed"].format(n=len(unlisted), m=sum(found_of[o] for o in unlisted))
        add(f'<p class="note">{_e(counted)}</p>')
    add(f'<section class="map"><h2>{_e(t["interactive"])}</h2>')
    add(f'<p><a href="map.html">{_e(t["map_link"])}</a></p>')
    if len(page) <= max_map_chars:
        # srcdoc is an attribute: the whole page is attribute-escaped, quotes included.
        add(
            f'<iframe class="map" title="{_e(t["map"])}" sandbox="allow-scripts" '
            f'srcdoc="{html.escape(page, quote=True)}"></iframe>'
        )
    else:
        add(f'<p class="note">{_e(t["map_too_large"])}</p>')
    add("</section>")
    add("</body></html>\n")
    return "\n".join(parts)
