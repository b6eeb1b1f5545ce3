"""Verdicts that hang on a zone component read as ``review``, and the sentence naming it.

A contested component (``shanghai/lingang-outside-pudong``, ...) read as
``review`` lies in its zone, but a verdict that would differ between its
``include`` and ``exclude`` readings cannot be given: :func:`hinges` finds
the rows whose verdict does, for :func:`pilotzone.verify`'s
``contested_component`` reason.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from pilotzone._messages import VERIFY
from pilotzone._zone_record import Component

__all__ = ["components_of", "contested_text", "hinges"]


def components_of(zones: Any) -> list[Component]:
    """Every named component of a :func:`pilotzone.load_zones` table, in table order."""
    if "components" not in zones.columns:
        return []
    return [c for parts in zones["components"] for c in parts]


def hinges(
    components: list[Component],
    *,
    zone: NDArray[np.intp],
    reg: NDArray[np.intp],
    component: NDArray[np.intp],
    operator: NDArray[np.intp],
    operators: int,
    checked: NDArray[np.bool_],
    registration: NDArray[np.bool_],
    placed: NDArray[np.bool_],
) -> NDArray[np.intp]:
    """The component read as ``review`` that each row's verdict hangs on.

    Parameters
    ----------
    components : list of Component
        :func:`components_of` the zones.
    zone, reg, component, operator : numpy.ndarray
        Per row: its zone, its operator's registration zone, its component
        (an index into ``components``) and its operator (``0..operators-1``);
        -1 for none.
    operators : int
        How many operators there are.
    checked, registration, placed : numpy.ndarray of bool
        Per row: it can be checked; it is a registration row; its operator's
        registration lies in exactly one zone.

    Returns
    -------
    numpy.ndarray
        ``c`` where the row's own component ``c`` decides its verdict,
        ``len(components) + c`` where its operator's registration's does,
        -1 where no component read as review does. Include puts a component
        in its zone, exclude leaves it outside every zone: so a registration
        row in it hangs on it; a facility in it does when its operator is
        registered in the same zone; and a facility in that zone does when
        its operator's registration lies in it.
    """
    hinge = np.full(len(zone), -1, dtype=np.intp)
    review = np.array([c.reading == "review" for c in components] + [False], dtype=bool)
    if not review.any():
        return hinge
    own = checked & review[component]
    mine = own & (registration | (placed & (zone == reg)))
    hinge[mine] = component[mine]
    registered_in = np.full(operators + 1, -1, dtype=np.intp)  # the last entry: no operator
    on = np.flatnonzero(registration & own & (operator >= 0))
    registered_in[operator[on]] = component[on]
    theirs = registered_in[operator]
    depends = checked & ~registration & placed & (theirs >= 0) & (zone == reg) & (hinge < 0)
    hinge[depends] = len(components) + theirs[depends]
    return hinge


def contested_text(component: Component, *, registration: bool, lang: Literal["en", "zh"]) -> str:
    """The sentence naming a component read as review and its readings.

    ``registration``: the component is the operator's registration's, not the row's own.
    """
    which = "contested_registration" if registration else "contested_own"
    return VERIFY[lang][which].format(
        component=component.component_id,
        name=component.name,
        readings="/".join(component.readings),
    )
