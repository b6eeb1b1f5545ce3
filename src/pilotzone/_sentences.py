"""The sentences verify writes, one per rule, shared by a row's message and each finding's.

A row's ``message`` (:func:`pilotzone.verify`) joins the sentences of all its
rules; a finding (:func:`pilotzone.findings`) carries the sentence of its own
rule only. Both are built here, so that they read alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pilotzone._messages import VERIFY, VERIFY_KINDS
from pilotzone.rules import cite, describe

__all__ = [
    "compliant_sentence",
    "distance_text",
    "near_sentence",
    "rule_sentence",
    "zone_texts",
]

Lang = Literal["en", "zh"]


def zone_texts(zones: Any, lang: Lang) -> dict[str, Any]:
    """Texts that depend on the zones: when each zone announced but not in force comes into force.

    ``not_in_force`` maps a zone id to its sentence; the contested component's
    sentence is set per situation under ``contested_component``.
    """
    t = VERIFY[lang]
    starts = zones["active_from"] if "active_from" in zones else [None] * len(zones)
    return {
        "not_in_force": {
            zone: t["not_in_force"].format(where=name, day=day.isoformat())
            for zone, name, status, day in zip(
                zones["zone_id"], zones[f"short_name_{lang}"], zones["status"], starts, strict=True
            )
            if status == "announced" and day is not None
        }
    }


def rule_sentence(
    code: str,
    zone: str,
    reg: str,
    kind: str,
    names: dict[str, str],
    lang: Lang,
    texts: Mapping[str, Any] | None = None,
) -> str:
    """One rule's sentence for a row, with the article behind the rule.

    Parameters
    ----------
    code : str
        The rule code (a key of :data:`pilotzone.rules.RULES`).
    zone, reg : str
        The row's zone and its operator's registration zone ("" for none).
    kind : str
        The row's facility kind.
    names : dict of str to str
        Zone id to the name shown in ``lang``.
    lang : {"en", "zh"}
        The language.
    texts : mapping, optional
        Sentences that depend on the zones (:func:`zone_texts`) and, under
        ``contested_component``, the one naming the component the row hangs on.

    Returns
    -------
    str
        The sentence, ending with the article in brackets.
    """
    texts = texts or {}
    t = VERIFY[lang]
    where = names.get(zone, zone) if zone else t["no_region"]
    home = names.get(reg, reg)
    shown_kind = VERIFY_KINDS[lang].get(kind, kind)
    specific = {
        "facility_outside_registration_zone": t["outside_registration"].format(
            kind=shown_kind, where=where, home=home
        ),
        "registration_outside_zones": t["registration_outside_facility"]
        if kind != "registration"
        else t["registration_outside"],
        "zone_not_active": texts.get("not_in_force", {}).get(zone)
        or t["not_active"].format(where=where),
        "contested_component": texts.get("contested_component", describe(code, lang)),
    }
    text = specific.get(code, describe(code, lang))
    return t["sentence"].format(text=text, article=cite(code, lang))


def compliant_sentence(zone: str, kind: str, names: dict[str, str], lang: Lang) -> str:
    """The message of a compliant row in ``zone`` (a registration, or a facility)."""
    t = VERIFY[lang]
    where = names.get(zone, zone)
    return t["compliant_registration" if kind == "registration" else "compliant"].format(
        where=where
    )


def distance_text(metres: float, lang: Lang) -> str:
    """A rounded border distance as a near-border sentence gives it (NaN: "in the band")."""
    t = VERIFY[lang]
    return t["metres"].format(m=metres) if metres == metres else t["in_band"]


def near_sentence(
    message: str,
    zone: str,
    metres: str,
    names: dict[str, str],
    accuracy: dict[str, float],
    lang: Lang,
) -> str:
    """``message`` followed by where a near-border point lies and how far from the border.

    ``metres`` is the distance as text (:func:`distance_text`); ``zone`` the
    zone the point lies in ("" for none), ``accuracy`` each zone's boundary
    accuracy in metres.
    """
    t = VERIFY[lang]
    side = t["inside"].format(where=names.get(zone, zone)) if zone else t["outside_all"]
    band = accuracy.get(zone) if zone else None
    extra = t["accuracy"].format(m=band) if band else ""
    return t["near"].format(message=message, side=side, metres=metres, extra=extra)
