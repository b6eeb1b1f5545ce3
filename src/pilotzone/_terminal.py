"""The terminal the CLI prints to.

Text made printable (filing text cannot drive the terminal), widths of CJK text, plain aligned
tables, progress lines on stderr, streams that do not crash on Chinese.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
import unicodedata
from collections.abc import Sequence
from typing import IO

__all__ = [
    "PrintableStream",
    "Progress",
    "print_table",
    "printable",
    "safe_streams",
    "width",
    "wrap",
]

#: Unicode categories a terminal does not print as themselves: controls (ESC, C1, ...),
#: format characters (bidi overrides, zero-width), surrogates, private use, unassigned, and
#: line and paragraph separators.
_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def printable(text: str) -> str:
    r"""``text`` with every character a terminal would act on, or not show, escaped.

    Parameters
    ----------
    text : str
        Any text, filing text included.

    Returns
    -------
    str
        ``text`` with each such character written as its escape (``\x1b``,
        ``\u202e``): filing text cannot move the cursor, erase lines, set the
        window title or reorder what is printed. Printable text, CJK included,
        stays as it is.
    """
    return "".join(
        c.encode("unicode_escape").decode("ascii") if unicodedata.category(c) in _UNPRINTABLE else c
        for c in text
    )


class PrintableStream(io.TextIOBase):
    """A text stream that writes through :func:`printable`, line by line.

    A reader that goes away (``pilotzone verify ... | head -1``: ``BrokenPipeError``, EPIPE)
    does not stop the command: the stream's file descriptor is pointed at the null device, the
    Python way of handling SIGPIPE, and what is printed after is dropped. The command goes on,
    its files and its exit status unchanged.
    """

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.reader_gone = False

    def write(self, text: str) -> int:
        if not self.reader_gone:
            try:
                self.stream.write("\n".join(printable(line) for line in text.split("\n")))
            except BrokenPipeError:
                self._drop()
        return len(text)

    def flush(self) -> None:
        if not self.reader_gone:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._drop()

    def _drop(self) -> None:
        """Send the rest, and what Python flushes at exit, to the null device."""
        self.reader_gone = True
        with contextlib.suppress(OSError, ValueError):  # a stream without a descriptor
            null = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, self.stream.fileno())
            finally:
                os.close(null)

    def isatty(self) -> bool:
        return self.stream.isatty()

    @property
    def encoding(self) -> str | None:  # type: ignore[override]
        return getattr(self.stream, "encoding", None)


def width(text: str) -> int:
    """Columns a string takes in a terminal.

    Parameters
    ----------
    text : str
        Printable text.

    Returns
    -------
    int
        Its width: East Asian wide characters take two columns, combining marks none.
    """
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def wrap(text: str, columns: int, indent: str = "") -> list[str]:
    """Text broken into lines of at most ``columns`` terminal columns.

    Parameters
    ----------
    text : str
        Printable text; CJK characters count two columns (:func:`width`).
    columns : int
        The widest a line may be, ``indent`` included.
    indent : str, optional
        Put before every line after the first.

    Returns
    -------
    list of str
        The lines. They break at spaces; a word wider than a line is cut where it reaches
        the edge.
    """
    lines: list[str] = []
    line = ""

    def room() -> int:
        return columns - (width(indent) if lines else 0)

    for word in text.split():
        joined = f"{line} {word}" if line else word
        if width(joined) <= room():
            line = joined
            continue
        if line:
            lines.append(line)
        line = word
        while width(line) > room():  # a word wider than a line: cut it at the edge
            cut = len(line)
            while cut > 1 and width(line[:cut]) > room():
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    lines.append(line)
    return [lines[0], *(indent + rest for rest in lines[1:])]


def print_table(rows: list[list[str]], out: IO[str], *, right: Sequence[int] = ()) -> None:
    """Print rows as a plain aligned table, the first row as its header.

    Parameters
    ----------
    rows : list of list of str
        The header, then the rows; cells are made :func:`printable` first, so
        that their widths are the widths shown.
    out : text stream
        Where to print.
    right : sequence of int, optional
        The columns aligned right (numbers); the others are aligned left.
    """
    rows = [[printable(cell) for cell in row] for row in rows]
    widths = [max(width(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        cells = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - width(cell))
            cells.append(pad + cell if i in right else cell + pad)
        print("  ".join(cells).rstrip(), file=out)
        if n == 0:
            print("  ".join("-" * w for w in widths), file=out)


class Progress:
    """A few status lines on stderr, only when stderr is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.start = time.monotonic()

    @classmethod
    def for_stderr(cls) -> Progress:
        try:
            return cls(sys.stderr.isatty())
        except (AttributeError, ValueError):  # a closed or odd stream
            return cls(False)

    def stage(self, text: str) -> None:
        if self.enabled:
            elapsed = time.monotonic() - self.start
            print(f"pilotzone [{elapsed:5.1f} s] {text}…", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.enabled:
            print(
                f"pilotzone [{time.monotonic() - self.start:5.1f} s] done",
                file=sys.stderr,
                flush=True,
            )


def safe_streams() -> None:
    """Make stdout and stderr replace what they cannot encode.

    A console that cannot encode Chinese zone names gets '?' rather than a crash.
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        encoding = (getattr(stream, "encoding", None) or "").lower()
        if reconfigure is not None and encoding.replace("-", "") not in ("utf8", "gb18030"):
            with contextlib.suppress(ValueError, OSError):  # a stream that refuses
                reconfigure(errors="replace")
