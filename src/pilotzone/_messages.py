"""Every sentence and word pilotzone shows, in English and Chinese, in one catalogue.

Each topic is a dict ``{"en": {...}, "zh": {...}}`` keyed by a code or a short
name, and both languages have the same keys (tests/test_messages.py). Words
shared by several outputs are written once: :data:`STATUS` (a row's status)
and :data:`ZONE_STATUS` (a zone's). The one exception is :data:`HEADERS_ZH`:
English tables keep the column codes as their headers.
"""

from __future__ import annotations

from typing import Any

from pilotzone._codes import FACILITY_KINDS, NOT_CHECKED, OUTSIDE_ZONES, TENURES

__all__ = [
    "ADDRESS",
    "AUDIT",
    "CLI",
    "ERRORS",
    "FILING",
    "HEADERS_ZH",
    "LANGS",
    "MAP",
    "MAP_CHANGES",
    "MAP_SITES",
    "PROBLEMS",
    "REPORT",
    "STATUS",
    "TOPICS",
    "VERIFY",
    "VERIFY_ISSUES",
    "VERIFY_KINDS",
    "ZONE_STATUS",
    "Reason",
    "check_lang",
    "reason_text",
]

#: The languages every topic has.
LANGS = ("en", "zh")


def check_lang(lang: Any) -> None:
    """Raise unless ``lang`` is one of :data:`LANGS`.

    Parameters
    ----------
    lang : object
        The language a caller asked for.

    Raises
    ------
    ValueError
        ``lang`` is not ``"en"`` or ``"zh"``.
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be 'en' or 'zh', not {lang!r}")


#: A row's status in words (English: the codes themselves).
STATUS = {
    "en": {
        "compliant": "compliant",
        "violation": "violation",
        "review": "review",
        "invalid": "invalid",
    },
    "zh": {"compliant": "合规", "violation": "违规", "review": "需复核", "invalid": "无效"},
}
#: A zone's status on the audit date in words.
ZONE_STATUS = {
    "en": {
        "active": "active", "suspended": "suspended", "terminated": "terminated",
        "not_yet_effective": "not yet effective", "expired": "expired",
        "announced": "announced, not yet in force",
    },
    "zh": {
        "active": "有效", "suspended": "暂停", "terminated": "终止",
        "not_yet_effective": "尚未生效", "expired": "已到期",
        "announced": "已公布，尚未实施",
    },
}  # fmt: skip

#: The command line's words (``pilotzone ...``).
CLI = {
    "en": {
        **STATUS["en"],
        "checked": "Checked", "rows": "rows", "as_of": "as of", "status": "Status",
        "operators": "Operators", "eligible": "eligible", "not_eligible": "not eligible",
        "needs_review": "needing review", "operator": "operator",
        "eligibility": "eligibility", "why": "why",
        "registration_zone": "registration zone", "counts": "rows (violation/review/invalid)",
        "top": "Top findings", "rule": "rule", "severity": "severity", "count": "count",
        "none": "none", "no_findings": "No findings: every row is compliant.",
        "more_operators": "more operators (see summary.json)", "written": "Report written to",
        "cannot_check": "Rows that cannot be checked", "row": "row {}",
        "more_rows": "more (see findings.csv)", "open": "Open", "yes": "yes", "no": "no",
        "sited": "Sited", "candidates": "candidates", "for_zone": "for",
        "rank": "rank", "candidate": "candidate", "verdict": "verdict", "margin": "margin m",
        "move": "move m", "in_band": "in the review band", "outside": "outside the zone",
        "not_placed": "not placed", "more_sites": "more (see sites.csv)",
        "files": "Files written to",
        "sampled": "Inspection sample", "of": "of", "seed": "seed", "by_zone": "stratified by zone",
        "unstratified": "not stratified", "stratum": "stratum", "drawn": "drawn", "all": "all",
        "population_sha256": "population SHA-256", "compared": "Compared",
        "with": "with", "change": "change", "new_violations": "New violations",
        "new_finding": "new findings", "resolved_finding": "resolved findings",
        "unchanged_finding": "unchanged findings", "facility_added": "facilities added",
        "facility_removed": "facilities removed", "facility_moved": "facilities moved",
        "eligibility_changed": "operators whose eligibility changed",
        "new_list": "New findings", "facility": "facility",
        "zone": "zone", "border_distance": "border distance", "near_border": "near border",
        "coordinate_issue": "coordinate issue", "outside_zones": "none (outside every zone)",
        "unplaced": "none (not placed)",
        "needs_check": "yes: needs review",
        "zone_id": "id", "name": "name", "zone_status": "status", "area_km2": "area km²",
        "accuracy_m": "accuracy m", "sources": "Sources", "data": "Data",
        "component": "component", "component_read": "{component} ({standing}, read as {reading})",
        "standing": "standing", "reading": "reading", "readings": "readings",
    },
    "zh": {
        **STATUS["zh"],
        "checked": "已核查", "rows": "行", "as_of": "核查日期", "status": "状态",
        "operators": "运营者", "eligible": "符合条件", "not_eligible": "不符合条件",
        "needs_review": "需复核", "operator": "运营者", "registration_zone": "注册地区",
        "eligibility": "试点资格", "why": "原因",
        "counts": "行数（违规/复核/无效）", "top": "主要问题", "rule": "规则",
        "severity": "严重程度", "count": "数量", "none": "无",
        "no_findings": "未发现问题：所有行均合规。",
        "more_operators": "个运营者未列出（见 summary.json）",
        "cannot_check": "无法核查的行", "row": "第 {} 行",
        "more_rows": "行未列出（见 findings.csv）",
        "written": "报告已写入", "open": "打开", "yes": "是", "no": "否", "sited": "已选址",
        "candidates": "个候选点", "for_zone": "目标地区", "rank": "排名", "candidate": "候选点",
        "verdict": "结论", "margin": "距边界 米", "move": "移动 米", "in_band": "位于复核带",
        "outside": "区域外", "not_placed": "无法定位", "more_sites": "个未列出（见 sites.csv）",
        "files": "文件已写入",
        "sampled": "抽查样本", "of": "/", "seed": "随机种子", "by_zone": "按注册地区分层",
        "unstratified": "不分层", "stratum": "抽样层", "drawn": "抽取", "all": "全部",
        "population_sha256": "抽样总体 SHA-256", "compared": "比对", "with": "与",
        "change": "变化", "new_violations": "新增违规",
        "new_finding": "新增问题", "resolved_finding": "已整改问题",
        "unchanged_finding": "仍存在的问题", "facility_added": "新增设施",
        "facility_removed": "已撤销设施", "facility_moved": "位置变动的设施",
        "eligibility_changed": "试点资格变化的运营者",
        "new_list": "新增问题", "facility": "设施",
        "zone": "所在地区", "border_distance": "距边界", "near_border": "靠近边界",
        "coordinate_issue": "坐标问题", "outside_zones": "无（不在任何试点地区内）",
        "unplaced": "无（无法定位）", "needs_check": "是：需复核",
        "zone_id": "编号", "name": "名称", "zone_status": "状态", "area_km2": "面积 km²",
        "accuracy_m": "精度 米", "sources": "数据来源", "data": "数据",
        "component": "组成部分", "component_read": "{component}（{standing}，按 {reading} 解读）",
        "standing": "法律地位", "reading": "解读", "readings": "可选解读",
    },
}  # fmt: skip

#: What the command line says when it cannot go on: the frame of a problem (file, row,
#: column, value) and its own usage errors. The problems' reasons come from the library.
ERRORS = {
    "en": {
        "error": "pilotzone: error: ", "note": "pilotzone: note: ",
        "problem": "1 problem in the input:", "problems": "{n:,} problems in the input:",
        "more": "  ... and {n:,} more", "row": "row {}", "column": "column {!r}",
        "value": " (value {!r:.80})", "sep": ", ", "colon": ": ",
        "command": "a command is required (zones, locate, verify, site, sample, diff, demo)",
        "interrupted": "pilotzone: interrupted; files already written are complete, "
        "none is partial",
        "internal": "pilotzone: internal error: {kind}: {error}\n"
        "This is a bug in pilotzone: please report it with the output of --debug.",
        "tianditu": "--basemap tianditu:KEY needs your TianDiTu key (letters and digits)",
        "basemap": "--basemap {spec!r}: use osm, gaode, tianditu:KEY or an XYZ template with "
        "{{x}}, {{y}} and {{z}} (e.g. https://tiles.example/{{z}}/{{x}}/{{y}}.png)",
        "sheet": "--sheet applies to .xlsx, .xlsm and .gpkg files, not to {file}",
        "both_dask": "--scheduler and --workers exclude each other: use a running cluster "
        "or start one",
        "dask_out": "--scheduler/--workers write their results as files: add --out DIR",
        "dask_options": "--sheet, --basemap and --max-crs do not apply to Parquet files on a "
        "Dask cluster",
        "workers": "--workers {workers}: give at least 1",
        "no_dask": "--scheduler/--workers need Dask: pip install 'pilotzone[dask]' ({error})",
        "registration": "--registration {text!r}: give LON,LAT, e.g. "
        "--registration=121.5044,31.2397 (with '=' when the longitude is negative)",
        "sample_out": "--out {out!r}: write the sample as FILE.csv or FILE.json",
    },
    "zh": {
        "error": "pilotzone：错误：", "note": "pilotzone：提示：",
        "problem": "输入中有 1 个问题：", "problems": "输入中有 {n:,} 个问题：",
        "more": "  ……另有 {n:,} 个", "row": "第 {} 行", "column": "列 {!r}",
        "value": "（值 {!r:.80}）", "sep": "，", "colon": "：",
        "command": "需要一个命令（zones、locate、verify、site、sample、diff、demo）",
        "interrupted": "pilotzone：已中断；已写出的文件均完整，没有只写了一半的文件",
        "internal": "pilotzone：内部错误：{kind}：{error}\n"
        "这是 pilotzone 的缺陷：请附上 --debug 的输出报告此问题。",
        "tianditu": "--basemap tianditu:KEY 需要您的天地图密钥（字母和数字）",
        "basemap": "--basemap {spec!r}：请使用 osm、gaode、tianditu:KEY，或含 {{x}}、{{y}} "
        "和 {{z}} 的 XYZ 瓦片模板（例如 https://tiles.example/{{z}}/{{x}}/{{y}}.png）",
        "sheet": "--sheet 只适用于 .xlsx、.xlsm 和 .gpkg 文件，不适用于 {file}",
        "both_dask": "--scheduler 与 --workers 不能同时使用：请连接已运行的集群，或启动新集群",
        "dask_out": "--scheduler/--workers 以文件形式输出结果：请加上 --out DIR",
        "dask_options": "--sheet、--basemap 和 --max-crs 不适用于 Dask 集群上的 Parquet 文件",
        "workers": "--workers {workers}：至少为 1",
        "no_dask": "--scheduler/--workers 需要 Dask：pip install 'pilotzone[dask]'（{error}）",
        "registration": "--registration {text!r}：请写作 LON,LAT，例如 "
        "--registration=121.5044,31.2397（经度为负数时须写“=”）",
        "sample_out": "--out {out!r}：抽样结果请写为 FILE.csv 或 FILE.json",
    },
}  # fmt: skip

#: The verification map's legend, layers and popups.
MAP = {
    "en": {
        "violation": "Violation", "review": "Needs review", "invalid": "Invalid",
        "compliant": "Compliant", "status": "Status", "operator": "Operator",
        "row": "Row", "facility": "Facility", "address": "Address", "kind": "Kind",
        "tenure": "Tenure",
        "zone": "Zone", "registration_zone": "Registration zone", "distance": "Distance to border",
        "beyond_band": "> review band", "reasons": "Reasons", "none": "none",
        "title": "pilotzone check", "registration": "Registration address (large ring)",
        "line": "Registration → violating facility",
        "lines_hidden": "Registration → violation lines: too many in this view to draw; zoom in.",
        "zones": "Pilot zones (outline simplified ~50 m for display; "
        "the check used the full boundary)",
        "zones_short": "Pilot zones (display simplified; check used full boundary)",
        "band": "Review band (± boundary accuracy along each border)",
        "approximate": "approximate stretches up to",
        "readings": "Readings of contested zone components",
        "components": "Zone components: contested, or not read as included",
        "component": "Component", "standing": "Standing", "reading": "Read as",
        "readings_offered": "Readings offered", "default": "Default",
        "settled": "settled", "contested": "contested",
        "component_include": "Zone component read as include (in the zone; contested)",
        "component_review": "Zone component read as review (in the zone; a verdict that "
        "depends on it is review)",
        "component_exclude": "Zone component read as exclude (outline only: not in the zone)",
        "inactive": "not active", "unlocated": "Rows without a location (not drawn)",
        "coast_band": "coasts, at sea only, up to",
        "capped": "Operators without a layer of their own (layer limit)",
        "gcj02": "Overlays shifted to GCJ-02 to match the AMap tiles (display only; the check "
        "and all reports use WGS-84).",
    },
    "zh": {
        **STATUS["zh"],
        "status": "状态", "operator": "运营者", "row": "行号", "facility": "设施",
        "address": "地址", "kind": "类型", "tenure": "使用方式", "zone": "所在地区",
        "registration_zone": "注册地区", "distance": "距边界", "beyond_band": "> 复核带",
        "reasons": "原因", "none": "无",
        "title": "pilotzone 核查", "registration": "注册地址（大圆环）",
        "line": "注册地址 → 违规设施",
        "lines_hidden": "注册地址 → 违规设施连线：当前视图中过多，未绘制；请放大查看。",
        "zones": "试点地区（显示时简化约50米；核查使用完整边界）",
        "zones_short": "试点地区（显示简化；核查用完整边界）",
        "band": "复核带（各边界两侧 ± 边界精度）",
        "approximate": "近似边界段最大",
        "readings": "有争议的地区组成部分的解读",
        "components": "地区组成部分：有争议的或未按纳入解读的",
        "component": "组成部分", "standing": "法律地位", "reading": "解读",
        "readings_offered": "可选解读", "default": "默认解读",
        "settled": "已确定", "contested": "有争议",
        "component_include": "按纳入（include）解读的组成部分（属于试点地区；有争议）",
        "component_review": "按需复核（review）解读的组成部分（属于试点地区；"
        "取决于它的结论为需复核）",
        "component_exclude": "按排除（exclude）解读的组成部分（仅画轮廓：不属于试点地区）",
        "inactive": "未生效", "unlocated": "无位置的行（未绘制）",
        "coast_band": "海岸（仅海侧）最宽",
        "capped": "未单独分层的运营者（图层数量上限）",
        "gcj02": "叠加图层已转换为GCJ-02坐标以匹配高德底图（仅用于显示；核查与报告均使用WGS-84）。",
    },
}  # fmt: skip

#: The audit comparison map's words.
MAP_CHANGES = {
    "en": {
        "title": "pilotzone audit comparison", "new_finding": "New findings",
        "resolved_finding": "Resolved findings", "unchanged_finding": "Unchanged findings",
        "facility_added": "Facilities added", "facility_removed": "Facilities removed",
        "facility_moved": "Facilities moved (line: old → new position)",
        "eligibility_changed": "Eligibility changed (at the registration)",
        "old": "Old position", "unlocated": "Changes without a location (not drawn)",
        "operator": "Operator", "facility": "Facility", "rule": "Rule", "status": "Status",
        "moved": "Moved", "none": "-",
    },
    "zh": {
        "title": "pilotzone 核查比对", "new_finding": "新增问题", "resolved_finding": "已整改问题",
        "unchanged_finding": "仍存在的问题", "facility_added": "新增设施",
        "facility_removed": "已撤销设施",
        "facility_moved": "位置变动的设施（连线：原位置 → 新位置）",
        "eligibility_changed": "试点资格变化（标于注册地址）", "old": "原位置",
        "unlocated": "无位置的变化（未绘制）", "operator": "运营者", "facility": "设施",
        "rule": "规则", "status": "状态", "moved": "移动距离", "none": "-",
    },
}  # fmt: skip

#: The siting map's words.
MAP_SITES = {
    "en": {
        "title": "pilotzone siting", "compliant": "Compliant", "band": "In the review band",
        "outside": "Outside the zone", "verdict": "Verdict", "margin": "Margin to the border",
        "located": "Lies in zone", "nearest": "Nearest admissible point",
        "move": "Move to the nearest admissible point", "zone": "Target zone",
        "band_area": "Review band inside the zone",
        "approximate": "approximate stretches", "feasible": "Feasible area (zone less band)",
        "unlocated": "Candidates without a location (not drawn)",
    },
    "zh": {
        "title": "pilotzone 选址", "compliant": "合规", "band": "位于复核带", "outside": "区域外",
        "verdict": "结论", "margin": "距边界", "located": "所在地区", "nearest": "最近可选位置",
        "move": "移至最近可选位置", "zone": "目标地区", "band_area": "区域内复核带",
        "approximate": "近似边界段", "feasible": "可选区域（扣除复核带）",
        "unlocated": "无位置的候选点（未绘制）",
    },
}  # fmt: skip

#: The HTML report's headings and words.
REPORT = {
    "en": {
        **STATUS["en"],
        **ZONE_STATUS["en"],
        "title": "Pilot zone compliance report",
        "subtitle": "MIIT Gong Xin Bu Tong Han [2024] No. 107: value-added telecom opening pilot",
        "as_of": "Audit date", "input": "Input file", "sha256": "SHA-256",
        "readings": "Zone component readings",
        "components": "Zone components", "component": "Component",
        "component_name": "What it is", "standing": "Standing", "reading_used": "Reading used",
        "readings_offered": "Readings offered", "default": "Default",
        "settled": "settled", "contested": "contested",
        "version": "pilotzone version", "generated": "Generated", "zone_data": "Zone data",
        "zone": "Zone", "boundaries": "Boundary data", "override": "Boundaries supplied",
        "summary": "Summary", "rows": "Rows", "status": "Status", "count": "Count",
        "rules": "Findings by rule", "rule": "Rule", "article": "Article",
        "severity": "Severity", "operators": "Operators", "operator": "Operator",
        "registration_zone": "Registration zone", "eligible": "Eligible", "yes": "yes",
        "eligibility": "Eligibility", "why": "Why",
        "no": "no", "facility": "Facility", "row": "Row", "message": "Message",
        "no_findings": "No findings.", "more": "more findings, listed in findings.csv",
        "map": "Map", "map_link": "Open the map on its own (map.html)",
        "map_too_large": "The map is too large to embed here: open map.html beside this file.",
        "by_zone": "Rows by zone", "none": "none",
        OUTSIDE_ZONES: "outside every zone", NOT_CHECKED: "not checked (invalid rows)",
        "note": "Boundaries are screening data, not legal lines: a facility closer to a border "
        "than the boundary's accuracy is listed for review, not judged.",
        "overview": "Overview map", "kind": "Kind", "tenure": "Tenure", "district": "District",
        "coordinates": "Coordinates as filed", "operators_count": "Operators",
        "findings": "Findings", "registration_mark": "registration address (square)",
        "zone_outline": "pilot zone (outline simplified for display; the check used the full "
        "boundary)",
        "in_frame": "{n:,} facilities in the frame, {v:,} in violation",
        "dense": "Where facilities crowd, each small mark stands for all the facilities of its "
        "status at that spot.",
        "outside_insets": "{n:,} located facilities lie outside every inset: they are on "
        "map.html and in facilities.parquet.",
        "listed": "Listed here: {shown:,} of {total:,} findings, most serious first (at most "
        "{most:,} in all and {per:,} per operator). Every finding is in findings.csv, "
        "findings.xlsx and facilities.parquet.",
        "not_listed": "{n:,} more operators have findings not listed here ({m:,} in all): they "
        "are in findings.csv.",
        "more_operators": "… {n:,} more operators, with fewer findings: every operator is in "
        "summary.json.",
        "interactive": "Interactive map",
    },
    "zh": {
        **STATUS["zh"],
        **ZONE_STATUS["zh"],
        "title": "试点地区合规核查报告",
        "subtitle": "工信部通函〔2024〕107号：增值电信业务扩大对外开放试点",
        "as_of": "核查日期", "input": "输入文件", "sha256": "SHA-256",
        "readings": "地区组成部分的解读",
        "components": "地区组成部分", "component": "组成部分",
        "component_name": "内容", "standing": "法律地位", "reading_used": "采用的解读",
        "readings_offered": "可选解读", "default": "默认解读",
        "settled": "已确定", "contested": "有争议",
        "version": "pilotzone 版本", "generated": "生成时间", "zone_data": "地区数据",
        "zone": "地区", "boundaries": "边界数据", "override": "用户提供的边界",
        "summary": "汇总", "rows": "行数", "status": "状态", "count": "数量",
        "rules": "按规则统计的问题", "rule": "规则", "article": "条款",
        "severity": "严重程度", "operators": "运营者", "operator": "运营者",
        "registration_zone": "注册地区", "eligible": "符合条件", "yes": "是",
        "eligibility": "试点资格", "why": "原因",
        "no": "否", "facility": "设施", "row": "行号", "message": "说明",
        "no_findings": "无问题。", "more": "条问题未列出，见 findings.csv",
        "map": "地图", "map_link": "单独打开地图（map.html）",
        "map_too_large": "地图过大，未嵌入本报告：请打开同一文件夹中的 map.html。",
        "by_zone": "按地区统计的行数", "none": "无",
        OUTSIDE_ZONES: "不在任何试点地区", NOT_CHECKED: "未核查（无效行）",
        "note": "边界为筛查数据，并非法定界线：距边界小于边界精度的设施列为需复核，不作判定。",
        "overview": "总览图", "kind": "类型", "tenure": "使用方式", "district": "所在区县",
        "coordinates": "申报坐标", "operators_count": "运营者数",
        "findings": "问题清单", "registration_mark": "注册地址（方框）",
        "zone_outline": "试点地区（轮廓为显示而简化；核查使用完整边界）",
        "in_frame": "图框内 {n:,} 个设施，其中违规 {v:,} 个",
        "dense": "设施密集处，每个小标记代表该处同一状态的全部设施。",
        "outside_insets": "{n:,} 个已定位设施不在任何分图内：见 map.html 和 facilities.parquet。",
        "listed": "本报告列出 {total:,} 条问题中最严重的 {shown:,} 条（总数最多 {most:,} 条，"
        "每个运营者最多 {per:,} 条）。全部问题见 findings.csv、findings.xlsx 和 "
        "facilities.parquet。",
        "not_listed": "另有 {n:,} 个运营者的问题未在此列出（共 {m:,} 条）：见 findings.csv。",
        "more_operators": "…… 另有 {n:,} 个问题较少的运营者：全部运营者见 summary.json。",
        "interactive": "交互地图",
    },
}  # fmt: skip

#: Column headers of the tables written as CSV / Excel, in Chinese (English keeps the codes).
HEADERS_ZH = {
    "row": "行号", "operator_id": "运营者", "facility_id": "设施编号", "name": "名称",
    "kind": "类型", "tenure": "使用方式", "zone_id": "所在地区", "registration_zone": "注册地区",
    "border_distance_m": "距边界（米）", "rule": "规则代码", "severity": "严重程度",
    "article": "条款", "title": "问题", "message": "说明", "change": "变化代码",
    "old_status": "原状态", "new_status": "新状态", "old_eligible": "原是否符合条件",
    "new_eligible": "现是否符合条件", "moved_m": "移动距离（米）", "old_lon": "原经度",
    "old_lat": "原纬度", "new_lon": "新经度", "new_lat": "新纬度", "description": "变化说明",
    "stratum": "抽样层", "eligible": "符合条件", "rows": "行数",
    "old_eligibility": "原试点资格", "new_eligibility": "现试点资格", "eligibility": "试点资格",
    "eligibility_reasons": "资格原因代码", "eligibility_reason": "资格原因",
    "address": "地址", "services": "业务种类", "lon": "经度", "lat": "纬度", "crs": "坐标系",
    "district": "所在区县", "status": "状态", "reasons": "原因代码", "problems": "输入问题",
    "near_border": "靠近边界", "coordinate_district": "坐标所在区县",
    "address_check": "地址核对", "address_message": "地址核对说明",
    **{status: STATUS["zh"][status] for status in ("violation", "review", "invalid")},
}  # fmt: skip

#: Why verify could not place a row, by coordinate issue (None: any other reason).
VERIFY_ISSUES = {
    "en": {
        "missing": "a coordinate is missing",
        "not_finite": "a coordinate is not a finite number",
        "out_of_range": "the coordinates are outside the valid range of longitude and latitude",
        "probably_swapped": "longitude and latitude look swapped "
        "(the point lands in China only when swapped)",
        "transform_failed": "the coordinates cannot be converted from their coordinate system",
        None: "the coordinates cannot be placed on the map",
    },
    "zh": {
        "missing": "缺少坐标",
        "not_finite": "坐标不是有限数值",
        "out_of_range": "坐标超出经纬度的有效范围",
        "probably_swapped": "经度与纬度疑似填反（互换后该点才位于中国境内）",
        "transform_failed": "坐标无法从其坐标系转换",
        None: "坐标无法在地图上定位",
    },
}

#: Every sentence verify writes. The Chinese follows the wording of the notice
#: (工信部通函〔2024〕107号) and its Annex: 注册地, 服务设施所在地, 同一试点地区, 加速服务.
VERIFY = {
    "en": {
        "no_region": "no pilot region",
        "outside_registration": "This {kind} facility is in {where}, "
        "but the operator is registered in {home}; "
        "registration and every facility must be in the same pilot region",
        "registration_outside_facility": "The operator's registration address "
        "is outside every pilot region, "
        "so none of its facilities can qualify",
        "registration_outside": "The registration address is outside every pilot region",
        "not_active": "{where} is not an active pilot region on the audit date",
        "not_in_force": "{where} is announced but not yet in force on the audit date: the pilot "
        "operates there from {day}, when MIIT approved its implementing plan",
        "contested_own": "This location lies in {component} ({name}), whose place in the pilot "
        "region is contested; its readings are {readings}, and this audit reads it as "
        "'review': the verdict differs between them",
        "contested_registration": "The operator's registration address lies in {component} "
        "({name}), whose place in the pilot region is contested; its readings are {readings}, "
        "and this audit reads it as 'review': this facility's verdict depends on it",
        "sentence": "{text} ({article}).",
        "join": " ",
        "compliant_registration": "Registration address in {where}, an active pilot region.",
        "compliant": "In {where}, the operator's registration region.",
        "invalid": "Cannot be checked: {why}.",
        "inside": "inside {where}",
        "outside_all": "outside every zone",
        "metres": "{m:,.0f} m",
        "in_band": "within the review band",
        "accuracy": " (boundary accuracy {m:,.0f} m)",
        "near": "{message} Located {side}, {metres} from a zone border{extra}: "
        "confirm on the ground.",
        "eligibility_eligible": "eligible",
        "eligibility_not_eligible": "not eligible",
        "eligibility_pending_review": "pending review",
        "why_violation": "rows in violation",
        "why_registration_outside_zones": "registration outside every pilot region",
        "why_registration_invalid": "registration row cannot be checked",
        "why_registration_near_border": "registration near a zone border: confirm its side",
        "why_review": "rows needing review",
        "why_facility_invalid": "facility rows that cannot be checked",
        "why_all_compliant": "every row compliant",
        "why_join": "; ",
    },
    "zh": {
        "no_region": "试点地区以外",
        "outside_registration": "该{kind}位于{where}，而运营者注册地在{home}；"
        "注册地与服务设施所在地（含租用、购买的设施）应在同一试点地区内",
        "registration_outside_facility": "运营者注册地不在任何试点地区内，"
        "其服务设施均不符合试点要求",
        "registration_outside": "注册地不在任何试点地区内",
        "not_active": "{where}在核查日不是有效的试点地区（已暂停、终止或尚未生效）",
        "not_in_force": "{where}已公布但在核查日尚未实施：工业和信息化部于{day}批复其试点实施方案，"
        "自该日起开展试点",
        "contested_own": "该位置位于{component}（{name}），其是否属于试点地区存在争议；可选解读为"
        "{readings}，本次核查按“需复核”（review）处理：不同解读下结论不同",
        "contested_registration": "运营者注册地位于{component}（{name}），"
        "其是否属于试点地区存在争议；可选解读为{readings}，本次核查按“需复核”（review）处理：本设施的结论取决于此",
        "sentence": "{text}（{article}）。",
        "join": "",
        "compliant_registration": "注册地位于{where}，为有效的试点地区。",
        "compliant": "位于{where}，与运营者注册地属同一试点地区。",
        "invalid": "无法核查：{why}。",
        "inside": "位于{where}范围内",
        "outside_all": "不在任何试点地区内",
        "metres": "{m:,.0f} 米",
        "in_band": "在复核带内",
        "accuracy": "（边界精度 {m:,.0f} 米）",
        "near": "{message}该点{side}，距试点地区边界 {metres}{extra}，请现场核实。",
        "eligibility_eligible": "符合条件",
        "eligibility_not_eligible": "不符合条件",
        "eligibility_pending_review": "待复核",
        "why_violation": "存在违规行",
        "why_registration_outside_zones": "注册地不在任何试点地区内",
        "why_registration_invalid": "注册地址行无法核查",
        "why_registration_near_border": "注册地靠近试点地区边界：需确认位于哪一侧",
        "why_review": "存在需复核的行",
        "why_facility_invalid": "存在无法核查的设施行",
        "why_all_compliant": "所有行均合规",
        "why_join": "；",
    },
}

#: Facility kinds in verify's messages (English: the codes as filed).
VERIFY_KINDS = {
    "en": {kind: kind for kind in FACILITY_KINDS},
    "zh": {
        "registration": "注册地址", "idc": "互联网数据中心（IDC）设施", "cdn": "CDN节点",
        "isp": "ISP服务点", "server": "服务器机房", "other": "服务设施",
    },
}  # fmt: skip

#: address_message's sentences; ``{said}`` is what the address names, ``{lies}`` where the point is.
ADDRESS = {
    "en": {
        "or": " or ",
        "inside": " The address implies zone {zone}.",
        "outside": " The address implies no pilot zone.",
        "partial": " A zone covers only part of the district it names: the zone cannot be decided "
        "from the address alone.",
        "agrees": "The coordinate lies in {lies}, as the address says.",
        "mismatch": "The address names {said} but the coordinate lies in {lies}, "
        "{distance:,.0f} m from "
        "it: check the coordinate and its coordinate system.",
        "near_district_border": "The address names {said}; the coordinate lies in {lies}, "
        "{distance:,.0f} m from it, within the divisions' accuracy ({band:,.0f} m): "
        "neither agreement nor mismatch can be told.",
        "ambiguous": "The address names a district without its province or city: {said}.",
        "inconsistent": "The address names {said}, but not under the province or city it gives.",
        "not_located": "The coordinate lies in no division (missing, unusable or outside China).",
        "no_address": "No address.",
        "not_found": "The address names no province, city or district pilotzone knows.",
    },
    "zh": {
        "or": "或",
        "inside": "按地址应属{zone}试点地区。",
        "outside": "按地址不属于任何试点地区。",
        "partial": "试点地区仅覆盖地址所写区县的一部分，无法仅凭地址判断所属试点地区。",
        "agrees": "坐标位于{lies}，与地址一致。",
        "mismatch": "地址写明{said}，但坐标位于{lies}，距其{distance:,.0f}米："
        "请核实坐标及其坐标系。",
        "near_district_border": "地址写明{said}；坐标位于{lies}，距其{distance:,.0f}米，"
        "在区划数据精度（{band:,.0f}米）以内：无法判断是否一致。",
        "ambiguous": "地址所写区县未注明所属省或市，无法唯一确定：{said}。",
        "inconsistent": "地址写明{said}，但该区县不属于地址所写的省或市。",
        "not_located": "坐标不在任何行政区划内（缺失、不可用或位于中国境外）。",
        "no_address": "未填写地址。",
        "not_found": "地址中未识别出已知的省、市或区县名称。",
    },
}

#: audit.compare's change descriptions, and eligibility (True / False) in words.
AUDIT = {
    "en": {
        "new_finding": "New finding: {title}", "resolved_finding": "Resolved: {title}",
        "unchanged_finding": "Unchanged: {title}", "facility_added": "Facility added",
        "facility_removed": "Facility removed", "facility_moved": "Moved {metres:,.0f} m",
        "eligibility_changed": "Eligibility: {old} → {new}",
        True: "eligible", False: "not eligible",
    },
    "zh": {
        "new_finding": "新增问题：{title}", "resolved_finding": "已整改：{title}",
        "unchanged_finding": "仍存在：{title}", "facility_added": "新增设施",
        "facility_removed": "设施已撤销", "facility_moved": "位置移动 {metres:,.0f} 米",
        "eligibility_changed": "试点资格：{old} → {new}",
        True: "符合条件", False: "不符合条件",
    },
}  # fmt: skip
#: Kind and tenure codes from the filing, in the verification map's popups (English: as filed).
FILING = {
    "en": {
        **{code: code for code in (*FACILITY_KINDS, *TENURES)},
    },
    "zh": {
        "registration": "注册地址", "idc": "互联网数据中心（IDC）", "cdn": "CDN节点",
        "isp": "ISP服务点", "server": "服务器机房", "other": "其他设施",
        "owned": "自有", "rented": "租用", "purchased": "购买",
    },
}  # fmt: skip

#: Why a cell, a row or a file cannot be checked: the reasons of
#: :class:`pilotzone.errors.Problem` built as a :class:`Reason` (the most frequent; the rare
#: file-level reasons are English text). ``in_column``, ``with_value`` and ``join`` word a row's
#: ``problems`` cell.
PROBLEMS = {
    "en": {
        "missing": "missing", "not_number": "not a number",
        "not_number_hint": "not a number{hint}", "not_finite": "not a finite number",
        "thousands": "not a number: write decimals with a point, without thousands separators",
        "degrees": ": write decimal degrees, west and south negative, without ° or a hemisphere",
        "degrees_value": ": write decimal degrees, west and south negative, without ° or a "
        "hemisphere (here {shown})",
        "lat_range": "latitude outside [-90, 90]",
        "lat_swapped": "latitude outside [-90, 90] (longitude and latitude swapped?)",
        "lon_range": "longitude outside [-180, 180]",
        "unknown_kind": "unknown kind, expected {accepted}",
        "unknown_kind_close": "unknown kind, expected {accepted} (did you mean {close!r}?)",
        "unknown_tenure": "unknown tenure, expected {accepted}",
        "unknown_tenure_close": "unknown tenure, expected {accepted} (did you mean {close!r}?)",
        "unknown_service": "unknown service, expected {accepted}",
        "unknown_service_close": "unknown service, expected {accepted} "
        "(did you mean {close!r}?)",
        "duplicate": "duplicate of row {first} (same operator_id and facility_id)",
        "unknown_crs": "unknown coordinate system, expected wgs84|cgcs2000|gcj02|bd09 "
        "or an EPSG code such as EPSG:4547",
        "no_row_crs": "no coordinate system for this row (and no crs= given)",
        "no_crs": "no coordinate system: add a 'crs' column (坐标系) or pass crs=, e.g. "
        "crs='gcj02' for AMap/Tencent, crs='bd09' for Baidu, crs='wgs84' for GPS",
        "empty_row": "empty row", "no_rows": "no data rows: nothing to check",
        "missing_column": "missing required column (accepted headers: {accepted}; "
        "found: {found})",
        "file_empty": "the file is empty",
        "size_file": "the file is", "size_unpacked": "its contents unpack to",
        "size_data": "its data unpacks to at least",
        "size_sheet": "the text of worksheet {sheet!r} is at least",
        "size_columns": "its data (most of it in column {column!r}) decodes to at least",
        "header_empty": "the first row is empty: it must name the columns",
        "too_large": "{what} {size:,} bytes, more than the limit of {limit:,} bytes, set so that "
        "reading it cannot exhaust this machine's memory. If the machine has the memory, "
        "raise the limit: read_facilities(..., max_bytes=N). Otherwise split the filing, or "
        "check it in parts as Parquet files: pilotzone verify 'dir/*.parquet' --workers N",
        "unknown_type": "unknown file type {suffix!r}; accepted: {accepted}",
        "old_spreadsheet": "{what} ({suffix}): pilotzone reads .xlsx workbooks: open the file "
        "in Excel, WPS or LibreOffice and save it as .xlsx (Excel workbook) or as CSV (UTF-8)",
        "renamed_xls": "an Excel 97-2003 workbook, renamed {suffix}: pilotzone reads .xlsx "
        "workbooks: open the file in Excel, WPS or LibreOffice and save it as .xlsx (Excel "
        "workbook) or as CSV (UTF-8)",
        "row_cells": "the row has {cells} cells but the header has {width}",
        "geometry_differs": "differs from the point geometry ({filed!r})",
        "convert_area": "cannot be converted from {crs} to WGS-84 (outside the system's area?)",
        "both_mean": "columns {first!r} and {second!r} both mean {meaning!r}; keep one",
        "name_repeated": "the column name appears {count} times",
        "formula": "cell {cell} holds a formula with no saved result",
        "formulas": "{count:,} formula cell{s} no saved result: open the workbook in Excel or "
        "LibreOffice and save it, so that the results are stored, or replace the formulas by "
        "their values (copy, paste values)",
        "crs_unknown": "{crs!r} is not a coordinate system pilotzone knows ({why}). Use one of "
        "{names} (aliases: 'GCJ-02', 'BD-09', 'EPSG:4326', and by system {by_system}; each may "
        "end in 坐标 or 坐标系, as in '高德坐标') or an EPSG code / pyproj CRS such as "
        "'EPSG:4547'.",
        "crs_none": "no coordinate system was given", "crs_empty": "the coordinate system is empty",
        "crs_not_name": "not an alias, 'AUTHORITY:CODE', WKT or PROJ string",
        "in_column": "column {column!r}: {reason}", "with_value": " ({value!r:.80})",
        "join": "; ",
    },
    "zh": {
        "missing": "缺少数值", "not_number": "不是数字",
        "not_number_hint": "不是数字{hint}", "not_finite": "不是有限数值",
        "thousands": "不是数字：小数请用小数点，不要用千位分隔符",
        "degrees": "：请写十进制度数，西经和南纬为负数，不带 ° 或东西南北",
        "degrees_value": "：请写十进制度数，西经和南纬为负数，不带 ° 或东西南北（此处为 {shown}）",
        "lat_range": "纬度超出 [-90, 90]",
        "lat_swapped": "纬度超出 [-90, 90]（经度与纬度是否填反？）",
        "lon_range": "经度超出 [-180, 180]",
        "unknown_kind": "未知的设施类型，可用值：{accepted}",
        "unknown_kind_close": "未知的设施类型，可用值：{accepted}（是否应为 {close!r}？）",
        "unknown_tenure": "未知的使用方式，可用值：{accepted}",
        "unknown_tenure_close": "未知的使用方式，可用值：{accepted}（是否应为 {close!r}？）",
        "unknown_service": "未知的业务种类，可用值：{accepted}",
        "unknown_service_close": "未知的业务种类，可用值：{accepted}（是否应为 {close!r}？）",
        "duplicate": "与第 {first} 行重复（运营者与设施编号相同）",
        "unknown_crs": "未知的坐标系，可用值：wgs84|cgcs2000|gcj02|bd09 "
        "或 EPSG 代码（如 EPSG:4547）",
        "no_row_crs": "该行没有坐标系（也未指定 crs=）",
        "no_crs": "没有坐标系：请添加“坐标系”（crs）列，或指定 crs=，例如高德/腾讯坐标用 "
        "crs='gcj02'，百度坐标用 crs='bd09'，GPS 坐标用 crs='wgs84'",
        "empty_row": "空行", "no_rows": "没有数据行：无可核查的内容",
        "missing_column": "缺少必需的列（可用的列名：{accepted}；文件中的列：{found}）",
        "file_empty": "文件为空",
        "size_file": "文件大小为", "size_unpacked": "其内容解压后为",
        "size_data": "其数据解压后至少为",
        "size_sheet": "工作表 {sheet!r} 的文本至少为",
        "size_columns": "其数据（主要在列 {column!r}）解码后至少为",
        "header_empty": "第一行为空：第一行须写明各列的列名",
        "too_large": "{what} {size:,} 字节，超过 {limit:,} 字节的上限"
        "（该上限使读取不会耗尽本机内存）。"
        "如本机内存足够，可提高上限：read_facilities(..., max_bytes=N)。否则请拆分申报文件，"
        "或分成多个 Parquet 文件核查：pilotzone verify 'dir/*.parquet' --workers N",
        "unknown_type": "未知的文件类型 {suffix!r}；可用类型：{accepted}",
        "old_spreadsheet": "{suffix} 电子表格：pilotzone 读取 .xlsx 工作簿：请在 Excel、WPS 或 "
        "LibreOffice 中打开该文件，另存为 .xlsx（Excel 工作簿）或 CSV（UTF-8）",
        "renamed_xls": "Excel 97-2003 工作簿，被改名为 {suffix}：pilotzone 读取 .xlsx 工作簿：请在 "
        "Excel、WPS 或 LibreOffice 中打开该文件，另存为 .xlsx（Excel 工作簿）或 CSV（UTF-8）",
        "row_cells": "该行有 {cells} 个单元格，而表头有 {width} 个",
        "geometry_differs": "与点几何不一致（{filed!r}）",
        "convert_area": "无法从 {crs} 转换为 WGS-84（是否超出该坐标系的适用范围？）",
        "both_mean": "列 {first!r} 与 {second!r} 含义相同（均为 {meaning!r}）：请只保留一列",
        "name_repeated": "该列名出现了 {count} 次",
        "formula": "单元格 {cell} 含有公式但没有保存的计算结果",
        "formulas": "{count:,} 个公式单元格没有保存的计算结果：请在 Excel 或 LibreOffice "
        "中打开并保存该工作簿以保存计算结果，或将公式替换为数值（复制后选择性粘贴为数值）",
        "crs_unknown": "{crs!r} 不是 pilotzone 认识的坐标系（{why}）。请使用 {names} 之一（别名："
        "'GCJ-02'、'BD-09'、'EPSG:4326'，按坐标系：{by_system}；均可加“坐标”或“坐标系”，"
        "如 '高德坐标'），或 EPSG 代码 / pyproj 坐标系，如 'EPSG:4547'。",
        "crs_none": "未指定坐标系", "crs_empty": "坐标系为空",
        "crs_not_name": "不是别名、'机构:代码'、WKT 或 PROJ 字符串",
        "in_column": "列 {column!r}：{reason}", "with_value": "（值 {value!r:.80}）",
        "join": "；",
    },
}  # fmt: skip


class Reason(str):
    """Why an input is wrong: English text that also renders in Chinese.

    A ``str`` (the English of :data:`PROBLEMS`), so code and tests that read a reason as text
    are unchanged; :meth:`text` renders it in another language.

    Parameters
    ----------
    key : str
        A key of :data:`PROBLEMS`.
    fields : mapping of str to object, optional
        What fills in the message; a field that is a :class:`Reason` renders in the same
        language.
    """

    key: str
    fields: dict[str, Any]

    def __new__(cls, key: str, fields: dict[str, Any] | None = None) -> Reason:
        """The reason ``key`` filled in with ``fields``, as English text."""
        fields = dict(fields or {})
        self = super().__new__(cls, PROBLEMS["en"][key].format(**fields))
        self.key = key
        self.fields = fields
        return self

    def __reduce__(self) -> tuple[type[Reason], tuple[str, dict[str, Any]]]:
        """Pickle (Dask, copies) by key and fields."""
        return Reason, (self.key, self.fields)

    def text(self, lang: str) -> str:
        """The reason in ``lang`` (one of :data:`LANGS`)."""
        fields = {name: reason_text(value, lang) for name, value in self.fields.items()}
        return PROBLEMS[lang][self.key].format(**fields)


def reason_text(reason: Any, lang: str) -> Any:
    """A :class:`Reason` in ``lang``; any other value (English text, a number) as it is."""
    return reason.text(lang) if isinstance(reason, Reason) else reason


#: Every topic with both languages, by name (:data:`HEADERS_ZH` has Chinese only).
TOPICS: dict[str, dict[str, dict[Any, str]]] = {
    "STATUS": STATUS, "ZONE_STATUS": ZONE_STATUS, "CLI": CLI, "ERRORS": ERRORS, "MAP": MAP,
    "MAP_CHANGES": MAP_CHANGES, "MAP_SITES": MAP_SITES, "FILING": FILING, "REPORT": REPORT,
    "VERIFY": VERIFY, "VERIFY_ISSUES": VERIFY_ISSUES, "VERIFY_KINDS": VERIFY_KINDS,
    "ADDRESS": ADDRESS, "AUDIT": AUDIT, "PROBLEMS": PROBLEMS,
}  # fmt: skip
