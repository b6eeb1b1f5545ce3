"""The pilot program's siting rules as data: stable codes, severities, articles.

Each :class:`Rule` maps a sentence of MIIT notice Gong Xin Bu Tong Han [2024]
No. 107 and its Annex to a check that :func:`pilotzone.verify` applies. Codes
are stable: reports, audit comparisons and users' scripts rely on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pilotzone._codes import FACILITY_KINDS
from pilotzone._messages import VERIFY, check_lang

__all__ = [
    "EXCLUDED_SERVICES",
    "FACILITY_KINDS",
    "OPENED_SERVICES",
    "RULES",
    "Rule",
    "cite",
    "describe",
    "eligibility_words",
]

Severity = Literal["violation", "review", "invalid"]

#: Services the pilot opens (Annex II.1).
OPENED_SERVICES = frozenset(
    {
        "idc",
        "cdn",
        "isp",
        "data_processing",
        "information_publishing",
        "information_protection",
    }
)
#: Services excluded even inside a pilot region (Annex II.1, in brackets).
EXCLUDED_SERVICES = frozenset({"news", "publishing", "audio_video", "internet_culture"})
#: The articles as the Chinese text numbers them: the notice (《通告》) and its Annex, the
#: pilot programme (《试点方案》), whose part II is 试点内容 with (一) opened services and
#: (二) business requirements, and part IV the exit mechanism.
_ARTICLE_ZH = {
    "Notice I": "《通告》一",
    "Annex II.1": "《试点方案》二（一）",
    "Annex II.2": "《试点方案》二（二）",
    "Annex IV": "《试点方案》四",
    "Annex V": "《试点方案》五",
}


@dataclass(frozen=True)
class Rule:
    """One check: its code, how serious a finding is, and where the rule is written."""

    code: str
    severity: Severity
    article: str
    title_en: str
    title_zh: str


RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        Rule(
            "registration_outside_zones",
            "violation",
            "Notice I; Annex II.2",
            "Registration address is outside every active pilot region",
            "注册地址不在任何有效的试点地区内",
        ),
        Rule(
            "facility_outside_registration_zone",
            "violation",
            "Annex II.2",
            "Facility is not in the same pilot region as the registration address",
            "服务设施与注册地址不在同一试点地区",
        ),
        Rule(
            "acceleration_outside_zone",
            "violation",
            "Annex II.2",
            "CDN or other acceleration facility outside the pilot region",
            "在试点地区外购买或租用CDN等设施开展加速服务",
        ),
        Rule(
            "isp_service_outside_zone",
            "violation",
            "Annex II.2",
            "ISP service point outside the pilot region (ISP scope is limited to the region)",
            "ISP服务范围超出试点地区",
        ),
        Rule(
            "isp_access_not_via_basic_carrier",
            "violation",
            "Annex II.2",
            "Internet access not provided through a basic telecom enterprise's access equipment",
            "未通过基础电信企业的互联网接入设备提供接入服务",
        ),
        Rule(
            "service_not_opened",
            "violation",
            "Annex II.1",
            "Declared service is not opened by the pilot",
            "申报业务不在试点开放范围内",
        ),
        Rule(
            "service_excluded",
            "violation",
            "Annex II.1",
            "Declared service is excluded from the pilot (news, publishing, audio-video, culture)",
            "申报业务属于试点排除的业务（新闻、出版、视听、文化）",
        ),
        Rule(
            "zone_not_active",
            "violation",
            "Annex IV",
            "The pilot region is suspended, terminated or not yet in force on the audit date",
            "试点地区在核查日已暂停、终止或尚未生效",
        ),
        Rule(
            "near_border",
            "review",
            "Annex II.2",
            "Closer to a pilot region's border than the boundary data's accuracy",
            "距试点地区边界的距离小于边界数据精度，需人工核查",
        ),
        Rule(
            "registration_near_border",
            "review",
            "Annex II.2",
            "The operator's registration address is too close to a border to tell which region "
            "it is in, and this facility's verdict depends on it",
            "注册地址距边界过近，无法确定所属地区，本设施的结论取决于此",
        ),
        Rule(
            # A named zone component whose reading is contested (issue #20): the audit chose
            # "review" for it, and this row's verdict differs between "include" and "exclude".
            "contested_component",
            "review",
            "Notice I",
            "The verdict depends on a zone component whose extent is contested, read as review",
            "结论取决于范围存在争议的试点地区组成部分（按“需复核”处理）",
        ),
        Rule(
            "registration_missing",
            "review",
            "Annex II.2",
            "The operator filed no registration address, so its region is unknown",
            "运营者未申报注册地址，无法确定所属试点地区",
        ),
        Rule(
            "registration_ambiguous",
            "review",
            "Annex II.2",
            "The operator's registration rows lie in different pilot regions",
            "运营者的多条注册地址位于不同试点地区",
        ),
        Rule(
            # Data quality: Annex II.2 speaks of the registration *address* and the *location* of
            # facilities; a coordinate in another district than its address cannot carry a verdict.
            "address_district_mismatch",
            "review",
            "Annex II.2",
            "The coordinate lies in another district than the address names",
            "坐标所在区县与地址所写区县不一致",
        ),
        Rule(
            "invalid_input",
            "invalid",
            "-",
            "The row cannot be checked",
            "该行数据无法核查",
        ),
    )
}


def describe(code: str, lang: Literal["en", "zh"] = "en") -> str:
    """Return the readable title of a rule code in English or Chinese.

    Parameters
    ----------
    code : str
        A key of :data:`RULES`.
    lang : {"en", "zh"}
        Language of the title.

    Returns
    -------
    str
        The title; an unknown code is returned unchanged.
    """
    rule = RULES.get(code)
    if rule is None:
        return code
    return rule.title_zh if lang == "zh" else rule.title_en


def cite(code: str, lang: Literal["en", "zh"] = "en") -> str:
    """Return where a rule is written, as the English or the Chinese text numbers it.

    Parameters
    ----------
    code : str
        A key of :data:`RULES`.
    lang : {"en", "zh"}
        ``"en"``: :attr:`Rule.article` (``"Annex II.2"``); ``"zh"``: the same
        articles as the Chinese notice numbers them (``"《试点方案》二（二）"``).

    Returns
    -------
    str
        The citation; parts without a Chinese form, and unknown codes, are
        returned unchanged.
    """
    rule = RULES.get(code)
    if rule is None:
        return code
    if lang != "zh":
        return rule.article
    return "；".join(_ARTICLE_ZH.get(part, part) for part in rule.article.split("; "))


def eligibility_words(codes: str, lang: str = "en") -> str:
    """Eligibility reason codes (``;``-separated, as :func:`summarize` gives them) in words.

    Parameters
    ----------
    codes : str
        An ``eligibility_reasons`` cell.
    lang : {"en", "zh"}
        The language.

    Returns
    -------
    str
        The reasons in words, in the order of the codes.
    """
    check_lang(lang)
    return VERIFY[lang]["why_join"].join(VERIFY[lang][f"why_{c}"] for c in codes.split(";") if c)
