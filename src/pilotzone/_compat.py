"""Optional dependencies, recognised without importing them.

Dask is an optional extra (``pip install pilotzone[dask]``): the public verbs
accept its collections, but nothing below the Dask adapter may import it, so
they are told apart by the module their type comes from.
"""

from __future__ import annotations

from typing import Any

__all__ = ["is_dask_collection"]


def is_dask_collection(data: Any) -> bool:
    """Whether ``data`` is a Dask or dask-geopandas collection, told without importing dask.

    Parameters
    ----------
    data : object
        Anything a public verb was given.

    Returns
    -------
    bool
        True for a Dask DataFrame, Series or Array and for dask-geopandas
        collections; False for everything else (numpy, pandas, lists).

    Examples
    --------
    >>> import numpy as np
    >>> is_dask_collection(np.zeros(3))
    False
    """
    return type(data).__module__.startswith(("dask.", "dask_geopandas"))
