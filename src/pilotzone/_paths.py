"""Where pilotzone's shipped data lies, and the shipped zone manifest's SHA-256.

In an installed wheel (``pilotzone/_data/<name>``), else in a source checkout (``data/<name>``);
and the sample filing ``pilotzone demo`` checks.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "BOUNDARIES_FOLDERS",
    "BOUNDARIES_MANIFEST_SHA256",
    "DIVISIONS_FOLDERS",
    "SAMPLE_FILING",
    "SAMPLE_FOLDERS",
    "sample_filing",
]

_PACKAGE = Path(__file__).resolve().parent / "_data"
_CHECKOUT = Path(__file__).resolve().parents[2] / "data"

#: The shipped zone data: in an installed wheel, then in a source checkout.
BOUNDARIES_FOLDERS = (_PACKAGE / "boundaries", _CHECKOUT / "boundaries")
#: The SHA-256 of the shipped zone ``manifest.json``: the manifest pins each file's hash, and this
#: pins the manifest (its accuracies, areas, readings), so an edited copy is refused. Written by
#: ``scripts/build_boundaries.py`` when it rebuilds ``data/boundaries``.
BOUNDARIES_MANIFEST_SHA256 = "5b988bed65d2efea4322441d79533c413eacf7faec96e5ee02bd644f0298fea1"
#: The shipped table of administrative divisions, as :data:`BOUNDARIES_FOLDERS`.
DIVISIONS_FOLDERS = (_PACKAGE / "divisions", _CHECKOUT / "divisions")
#: The sample filing ``demo`` checks: in an installed wheel, then in a source checkout.
SAMPLE_FOLDERS = (_PACKAGE / "samples", _CHECKOUT / "samples")
SAMPLE_FILING = "filing.csv"


def sample_filing() -> Path:
    """The bundled sample filing that ``pilotzone demo`` checks.

    Returns
    -------
    pathlib.Path
        ``filing.csv`` in the first of :data:`SAMPLE_FOLDERS` that holds it.

    Raises
    ------
    FileNotFoundError
        If neither the installed package nor a source checkout has it.
    """
    for folder in SAMPLE_FOLDERS:
        if (folder / SAMPLE_FILING).is_file():
            return folder / SAMPLE_FILING
    looked = " nor ".join(str(f) for f in SAMPLE_FOLDERS)
    raise FileNotFoundError(
        2,
        f"the sample filing {SAMPLE_FILING} is missing (looked in {looked}); reinstall pilotzone",
        SAMPLE_FILING,
    )
