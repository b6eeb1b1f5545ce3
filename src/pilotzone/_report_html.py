"""The printable audit report, ``report.html``, from a result's summary and findings.

:func:`pilotzone.report.write_report` calls :func:`report_html` with the
texts of its language and its limits; every text from the input is
HTML-escaped here, and the map page is embedded as an ``<iframe srcdoc>``
(or linked when it is too large).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any, Literal

import geopandas as gpd
import pandas as pd

from pilotzone._files import plain
from pilotzone._messages import VERIFY
from pilotzone.rules import RULES, cite, describe
from pilotzone.verify import STATUSES

__all__ = ["report_html"]

Lang = Literal["en", "zh"]

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Microsoft YaHei",
sans-serif;color:#111;margin:2em auto;max-width:1100px;padding:0 1em}
h1{font-size:1.6em;margin:0 0 .1em}h2{font-size:1.25em;margin:1.6em 0 .4em;
border-bottom:2px solid #1f5fbf}h3{font-size:1.05em;margin:1.2em 0 .3em}
.subtitle{color:#555;margin:0 0 1em}
table{border-collapse:collapse;margin:.3em 0 1em;width:100%}
th,td{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eef2f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
table.meta{width:auto}table.meta th{width:12em}
code,.hash{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85em;word-break:break-all}
.violation{color:#b00}.review{color:#b35900}.invalid{color:#555}.compliant{color:#1a7a1a}
.note{color:#555;font-size:.9em}
iframe.map{width:100%;height:640px;border:1px solid #bbb}
@media print{
body{margin:0;max-width:none;font-size:10pt}
h2{break-after:avoid}h3{break-after:avoid}tr{break-inside:avoid}
section.operator{break-inside:avoid-page}
section.map{break-before:page}
iframe.map{height:17cm}
a{color:inherit;text-decoration:none}
}
"""


#: The table cell's class (its colour) for each eligibility.
_STATE_CLASS = {"eligible": "compliant", "pending_review": "review", "not_eligible": "violation"}


def _e(value: Any) -> str:
    """Escaped text of a value (empty for missing values)."""
    value = plain(value) if not isinstance(value, str) else value
    return "" if value is None else html.escape(str(value), quote=True)


def _number(value: Any) -> str:
    return f'<td class="n">{_e(value)}</td>'


def _zone_names(zones: gpd.GeoDataFrame, lang: Lang) -> dict[str, str]:
    column = f"short_name_{lang}"
    return {str(z): str(n) for z, n in zip(zones["zone_id"], zones[column], strict=True)}


def report_html(
    table: pd.DataFrame,
    summary: dict[str, Any],
    zones: gpd.GeoDataFrame,
    page: str,
    lang: Lang,
    *,
    text: Mapping[str, str],
    unzoned: tuple[str, ...],
    max_findings: int,
    max_map_chars: int,
) -> str:
    """The report page.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`pilotzone.findings` of the result, titles in ``lang``.
    summary : dict
        The result's ``summary.json`` (:func:`pilotzone.report.summary`).
    zones : geopandas.GeoDataFrame
        The zones the result was checked against, for their names and statuses.
    page : str
        The map page, embedded when it has at most ``max_map_chars`` characters.
    lang : {"en", "zh"}
        Language of the zone names, rule titles and articles.
    text : mapping of str to str
        The report's headings and words in ``lang``, keyed as the page uses them.
    unzoned : tuple of str
        The ``by_zone`` keys that name no zone (outside every zone, not
        checked), shown by their text.
    max_findings : int
        At most this many findings of one operator are listed.
    max_map_chars : int
        A longer map page is linked, not embedded.

    Returns
    -------
    str
        The HTML page.
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

    add(
        f"<h2>{_e(t['zone_data'])}</h2><table><tr><th>{_e(t['zone'])}</th>"
        f"<th>{_e(t['status'])}</th><th>{_e(t['sha256'])}</th></tr>"
    )
    status_of = dict(zip(zones["zone_id"], zones["status"], strict=True))
    for zone_id, sha in zone_data["zones"].items():
        label = f"{names.get(zone_id, zone_id)} ({zone_id})"
        status = status_of.get(zone_id)
        shown = "" if status is None else t.get(status, "")
        add(f'<tr><td>{_e(label)}</td><td>{_e(shown)}</td><td class="hash">{_e(sha)}</td></tr>')
    add("</table>")
    override = zone_data.get("override")
    if override:
        add(
            f"<p>{_e(t['override'])}: {_e(override['file'])} "
            f'<span class="hash">{_e(override["sha256"])}</span></p>'
        )
    add(f'<p class="note">{_e(t["note"])}</p>')

    add(
        f"<h2>{_e(t['summary'])}</h2><table><tr><th>{_e(t['status'])}</th>"
        f"<th>{_e(t['rows'])}</th></tr>"
    )
    for status, count in summary["by_status"].items():
        add(f'<tr><td class="{status}">{_e(t[status])}</td>{_number(count)}</tr>')
    add(f"<tr><th>{_e(t['rows'])}</th>{_number(summary['rows'])}</tr></table>")

    add(
        f"<h3>{_e(t['by_zone'])}</h3><table><tr><th>{_e(t['zone'])}</th>"
        f"<th>{_e(t['rows'])}</th></tr>"
    )
    for zone_id, count in summary["by_zone"].items():
        shown = t[zone_id] if zone_id in unzoned else names.get(zone_id, zone_id)
        add(f"<tr><td>{_e(shown)}</td>{_number(count)}</tr>")
    add("</table>")

    add(
        f"<h3>{_e(t['rules'])}</h3><table><tr><th>{_e(t['rule'])}</th>"
        f"<th>{_e(t['article'])}</th><th>{_e(t['severity'])}</th><th>{_e(t['count'])}</th></tr>"
    )
    for code, count in summary["by_rule"].items():
        if count:
            rule = RULES[code]
            add(
                f"<tr><td>{_e(describe(code, lang))} <code>{_e(code)}</code></td>"
                f'<td>{_e(cite(code, lang))}</td><td class="{rule.severity}">{_e(t[rule.severity])}'
                f"</td>{_number(count)}</tr>"
            )
    if not any(summary["by_rule"].values()):
        add(f'<tr><td colspan="4">{_e(t["no_findings"])}</td></tr>')
    add("</table>")

    add(
        f"<h2>{_e(t['operators'])}</h2><table><tr><th>{_e(t['operator'])}</th>"
        f"<th>{_e(t['registration_zone'])}</th><th>{_e(t['eligibility'])}</th>"
        f"<th>{_e(t['why'])}</th><th>{_e(t['rows'])}</th>"
        + "".join(f"<th>{_e(t[s])}</th>" for s in STATUSES)
        + "</tr>"
    )
    for op in summary["operators"]:
        zone = op["registration_zone"]
        add(
            f"<tr><td>{_e(op['operator_id'])}</td>"
            f"<td>{_e(names.get(zone, zone) if zone else t['none'])}</td>"
            f'<td class="{_STATE_CLASS[op["eligibility"]]}">'
            f"{_e(VERIFY[lang]['eligibility_' + op['eligibility']])}</td>"
            f"<td>{_e(op['eligibility_reason'])}</td>"
            f"{_number(op['rows'])}" + "".join(_number(op[s]) for s in STATUSES) + "</tr>"
        )
    add("</table>")

    grouped = dict(tuple(table.groupby("operator_id", sort=False))) if len(table) else {}
    for op in summary["operators"]:
        operator_id = op["operator_id"]
        add(f'<section class="operator"><h3>{_e(t["operator"])} {_e(operator_id)}</h3>')
        rows = grouped.get(operator_id)
        if rows is None or rows.empty:
            add(f"<p>{_e(t['no_findings'])}</p></section>")
            continue
        add(
            f"<table><tr><th>{_e(t['rule'])}</th><th>{_e(t['article'])}</th>"
            f"<th>{_e(t['severity'])}</th><th>{_e(t['facility'])}</th>"
            f"<th>{_e(t['row'])}</th><th>{_e(t['message'])}</th></tr>"
        )
        finding: Any  # a row of table: pandas types the fields of itertuples as any scalar
        for finding in rows.head(max_findings).itertuples(index=False):
            facility = (
                f"{finding.facility_id} · {finding.name}" if finding.name else finding.facility_id
            )
            title = _e(describe(finding.rule, lang))
            add(
                f"<tr><td>{title}<br><code>{_e(finding.rule)}</code></td>"
                f'<td>{_e(cite(finding.rule, lang))}</td><td class="{_e(finding.severity)}">'
                f"{_e(t.get(finding.severity, finding.severity))}</td>"
                f'<td>{_e(facility)}</td><td class="row">{_e(finding.row)}</td>'
                f"<td>{_e(finding.message)}</td></tr>"
            )
        add("</table>")
        hidden = len(rows) - max_findings
        if hidden > 0:
            add(f'<p class="note">… {hidden} {_e(t["more"])}</p>')
        add("</section>")

    add(f'<section class="map"><h2>{_e(t["map"])}</h2>')
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
