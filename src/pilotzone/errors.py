"""The exceptions pilotzone raises.

::

    PilotzoneError
     ├── InputError(ValueError)          a filing, table or argument that cannot be checked
     ├── CRSError(ValueError)            a missing or unknown coordinate system
     ├── BoundaryDataError(ValueError)   zone data that is missing, corrupt or tampered with
     └── OutputError(OSError)            an output that cannot be written (a full disk)

Each subclass also inherits the matching builtin so callers may catch either.
Expected outcomes, such as a facility outside every zone, are never exceptions:
they come back as rows with a status and reason codes.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BoundaryDataError",
    "CRSError",
    "InputError",
    "OutputError",
    "PilotzoneError",
    "Problem",
]


class PilotzoneError(Exception):
    """Base class of every error pilotzone raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and why it is wrong.

    ``row`` is the number the user's program shows for the row: the row of a
    worksheet and the line of a CSV where the record starts (both counting the
    header and any title rows above it), the feature number (from 1) of a
    spatial file, the position (from 1) in a DataFrame; ``None`` where the
    problem is the whole file or a whole column.
    """

    file: str
    row: int | None
    column: str | None
    value: object
    reason: str

    def __str__(self) -> str:
        """The problem on one line: file, row and column, the reason, then the value."""
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        value = "" if self.value is None else f" (value {self.value!r:.80})"
        return f"{', '.join(where)}: {self.reason}{value}"


class InputError(PilotzoneError, ValueError):
    """An input that cannot be checked; lists every problem found at once.

    Parameters
    ----------
    problems : list of Problem
        Every problem found, in file order.
    """

    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem("<input>", None, None, None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = len(self.problems) - 50
        tail = f"\n  ... and {more} more" if more > 0 else ""
        count = len(self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the input:\n{shown}{tail}")


class CRSError(PilotzoneError, ValueError):
    """A coordinate system that is missing or not understood."""


class BoundaryDataError(PilotzoneError, ValueError):
    """Zone boundary data that is missing, corrupt, or does not match its manifest."""


class OutputError(PilotzoneError, OSError):
    """An output file that cannot be written, such as on a full disk; the message names its path."""
