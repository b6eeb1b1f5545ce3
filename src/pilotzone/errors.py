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

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pilotzone._messages import ERRORS, reason_text

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
        return self.describe(ERRORS["en"])

    def describe(
        self, words: Mapping[str, str], spell: Callable[[str], str] = str, lang: str = "en"
    ) -> str:
        """The problem on one line, in other words than English.

        Parameters
        ----------
        words : mapping of str to str
            ``row``, ``column``, ``value``, ``sep`` and ``colon`` of one language of
            :data:`pilotzone._messages.ERRORS`.
        spell : callable, optional
            Rewrites the file (or parameter) and the reason, such as the command line
            naming its flags where the library names its keyword arguments.
        lang : {"en", "zh"}, optional
            The language of the reason where it is a :class:`pilotzone._messages.Reason`
            (the frequent ones); a reason written as plain text stays English.

        Returns
        -------
        str
            File, row and column, the reason, then the value.
        """
        where = [spell(self.file)]
        if self.row is not None:
            where.append(words["row"].format(self.row))
        if self.column is not None:
            where.append(words["column"].format(self.column))
        value = "" if self.value is None else words["value"].format(self.value)
        reason = reason_text(self.reason, lang)
        return f"{words['sep'].join(where)}{words['colon']}{spell(reason)}{value}"


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
        super().__init__(self.describe(ERRORS["en"]))

    def describe(
        self, words: Mapping[str, str], spell: Callable[[str], str] = str, lang: str = "en"
    ) -> str:
        """The count of problems, then the first 50, one a line (see :meth:`Problem.describe`)."""
        count = len(self.problems)
        head = words["problem"] if count == 1 else words["problems"].format(n=count)
        shown = "".join(f"\n  - {p.describe(words, spell, lang)}" for p in self.problems[:50])
        tail = f"\n{words['more'].format(n=count - 50)}" if count > 50 else ""
        return f"{head}{shown}{tail}"


class CRSError(PilotzoneError, ValueError):
    """A coordinate system that is missing or not understood."""


class BoundaryDataError(PilotzoneError, ValueError):
    """Zone boundary data that is missing, corrupt, or does not match its manifest."""


class OutputError(PilotzoneError, OSError):
    """An output file that cannot be written, such as on a full disk; the message names its path."""
