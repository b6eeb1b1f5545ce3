"""pilotzone: check telecom facilities against China's 2024 value-added telecom pilot zones."""

from pilotzone.crs import from_wgs84, normalize_crs, to_wgs84
from pilotzone.errors import BoundaryDataError, CRSError, InputError, PilotzoneError, Problem

__version__ = "0.1.0"

__all__ = [
    "BoundaryDataError",
    "CRSError",
    "InputError",
    "PilotzoneError",
    "Problem",
    "__version__",
    "from_wgs84",
    "normalize_crs",
    "to_wgs84",
]
