"""The codes pilotzone writes into its results, in one place.

Codes are stable: results, reports, audit folders and users' scripts compare
against them, and :mod:`pilotzone._messages` keys its text by them. The
modules that give each family its meaning re-export it under its public name
(``verify.STATUSES``, ``zones.STATUSES``, ``audit.CHANGES``, ...). The reason
codes stay the keys of :data:`pilotzone.rules.RULES`, where each is written
next to its article.
"""

from __future__ import annotations

__all__ = [
    "ADDRESS_CHECKS",
    "CHANGES",
    "COORDINATE_ISSUES",
    "ELIGIBILITY",
    "ELIGIBILITY_REASONS",
    "FACILITY_KINDS",
    "NOT_CHECKED",
    "NO_ZONE",
    "OUTSIDE_ZONES",
    "READINGS",
    "STANDINGS",
    "STATUSES",
    "TENURES",
    "ZONE_STATUSES",
]

#: A row's status (``verify.STATUSES``), from the most serious down.
STATUSES = ("invalid", "violation", "review", "compliant")
#: Statuses that zone data may record (``zones.STATUSES``). ``load_zones`` adds
#: ``not_yet_effective`` (before ``effective_from``) and ``expired`` (on or after ``effective_to``).
#: ``announced``: named by the notice, not yet in force (its implementing plan not yet approved).
ZONE_STATUSES = ("active", "suspended", "terminated", "announced")
#: The readings of a zone component (``load_zones(readings=...)``): in the zone, out of it, or
#: a facility whose verdict depends on it needs review.
READINGS = ("include", "exclude", "review")
#: A zone component's legal standing: settled by its sources, or contested between readings.
STANDINGS = ("settled", "contested")
#: Reasons a coordinate could not be placed, in the ``coordinate_issue`` column.
COORDINATE_ISSUES = (
    "missing",
    "not_finite",
    "out_of_range",
    "probably_swapped",
    "transform_failed",
)
#: Outcomes in the ``address_check`` column.
ADDRESS_CHECKS = (
    "agrees",
    "mismatch",
    "near_district_border",
    "ambiguous",
    "inconsistent",
    "not_found",
    "no_address",
    "not_located",
)
#: The kinds of change :func:`pilotzone.audit.compare` reports, in the order it lists them.
CHANGES = (
    "new_finding",
    "resolved_finding",
    "unchanged_finding",
    "facility_added",
    "facility_removed",
    "facility_moved",
    "eligibility_changed",
)
#: Facility kinds; ``registration`` is the operator's registration address.
FACILITY_KINDS = ("registration", "idc", "cdn", "isp", "server", "other")
#: How a facility is held, in the ``tenure`` column (Annex II.2: owned, rented or purchased).
TENURES = ("owned", "rented", "purchased")
#: The audit sample's stratum of operators that have no registration zone.
NO_ZONE = "(none)"
#: summary.json's zone key for located rows outside every zone.
OUTSIDE_ZONES = "(outside every zone)"
#: summary.json's zone key for invalid rows, which are not placed.
NOT_CHECKED = "(not checked)"
#: An operator's eligibility (:func:`pilotzone.summarize`), from the worst down.
ELIGIBILITY = ("not_eligible", "pending_review", "eligible")
#: The reasons for each eligibility, in the order :func:`pilotzone.summarize` lists them.
ELIGIBILITY_REASONS = {
    "not_eligible": ("violation", "registration_outside_zones", "registration_invalid"),
    "pending_review": ("registration_near_border", "review", "facility_invalid"),
    "eligible": ("all_compliant",),
}
