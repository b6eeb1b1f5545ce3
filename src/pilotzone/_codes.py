"""The codes pilotzone writes and compares: for now, the kinds of change between two audits."""

from __future__ import annotations

#: The kinds of change :func:`pilotzone.compare` reports, in the order it lists them.
CHANGES = (
    "new_finding",
    "resolved_finding",
    "unchanged_finding",
    "facility_added",
    "facility_removed",
    "facility_moved",
    "eligibility_changed",
)
