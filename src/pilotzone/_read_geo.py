"""The readers of tables with a geometry or a schema: GDAL formats, Parquet, DataFrames.

An active point geometry becomes a row's coordinates; a GeoPackage layer is
chosen, and checked to be a table, before GDAL opens the file.
"""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from pilotzone._formats import geopackage_layer_problem, geopackage_layers
from pilotzone._messages import Reason
from pilotzone._raw import Points, Raw, sheet_position, too_large, whole
from pilotzone.errors import InputError, Problem


def geopackage_layer(path: Path, name: str, sheet: str | int | None) -> str:
    """The GeoPackage layer to read: ``sheet``, or the only one; never an SQL view."""
    try:
        layers = geopackage_layers(path)
    except ValueError as error:
        raise whole(name, f"cannot read the file as .gpkg: {error}") from error
    names = [layer for layer, _ in layers]
    if not names:
        raise whole(name, "the GeoPackage has no feature or attribute layer")
    if sheet is None and len(names) > 1:
        raise whole(
            name,
            f"the GeoPackage has {len(names)} layers, {names}; say which one holds the "
            "filing: read_facilities(..., sheet=NAME) or pilotzone verify FILE --sheet NAME",
        )
    layer, kind = layers[0 if sheet is None else sheet_position(names, sheet, name, "layer")]
    problem = geopackage_layer_problem(layer, kind)
    if problem is not None:
        raise whole(name, problem)
    return layer


def read_parquet(data: bytes, name: str, limit: int) -> Raw:
    """A Parquet or GeoParquet file's bytes -> Raw; a stored index becomes columns."""
    try:
        import pyarrow.parquet as pq
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("reading Parquet needs pyarrow: pip install pyarrow") from error
    schema = pq.read_schema(io.BytesIO(data))
    repeated = [label for label, count in Counter(schema.names).items() if count > 1]
    if repeated:
        raise InputError(
            [
                Problem(
                    name,
                    None,
                    label,
                    None,
                    "more than one column has this name; "
                    "rename the others, since a column is found by its name",
                )
                for label in repeated
            ]
        )
    _check_parquet_data(data, name, limit)
    metadata = schema.metadata or {}
    if b"geo" in metadata:
        frame: pd.DataFrame = gpd.read_parquet(io.BytesIO(data))
    else:
        frame = pd.read_parquet(io.BytesIO(data), engine="pyarrow")
    if not isinstance(frame.index, pd.RangeIndex):  # a stored index is data: keep it as columns
        frame = frame.reset_index()
    return from_frame(frame, name, pd.RangeIndex(len(frame)), implied_crs=False)


def _check_parquet_data(data: bytes, name: str, limit: int) -> None:
    """Refuse a Parquet file whose columns decode to more than ``limit`` bytes.

    Text and binary columns are read as dictionaries, one column of one row
    group at a time, so a value stored once and used by many rows is counted
    at every use without being copied. The file's own metadata is not trusted.
    """
    import pyarrow.parquet as pq

    layout = pq.ParquetFile(io.BytesIO(data)).schema
    leaves = [layout.column(i) for i in range(len(layout))]
    text = [leaf.path for leaf in leaves if leaf.physical_type == "BYTE_ARRAY"]
    file = pq.ParquetFile(io.BytesIO(data), read_dictionary=text)
    sizes: Counter[str] = Counter()
    for group in range(file.num_row_groups):
        for label in file.schema_arrow.names:
            column = file.read_row_group(group, columns=[label]).column(0)
            sizes[label] += sum(_decoded_bytes(chunk) for chunk in column.chunks)
            total = sum(sizes.values())
            if total > limit:
                largest = sizes.most_common(1)[0][0]
                what = Reason("size_columns", {"column": largest})
                raise too_large(name, what, total, limit)


def _decoded_bytes(array: pa.Array) -> int:
    """Bytes ``array`` takes once every dictionary value is copied to each row using it."""
    if isinstance(array, pa.DictionaryArray):
        used = pc.take(pc.binary_length(array.dictionary), array.indices)
        return int(pc.sum(used).as_py() or 0) + array.indices.nbytes
    if isinstance(array, (pa.ListArray, pa.LargeListArray, pa.FixedSizeListArray)):
        return array.offsets.nbytes + _decoded_bytes(array.flatten())
    if isinstance(array, pa.StructArray):
        return sum(_decoded_bytes(child) for child in array.flatten())
    return array.nbytes


def from_frame(frame: pd.DataFrame, name: str, index: pd.Index, *, implied_crs: bool) -> Raw:
    """A (Geo)DataFrame -> Raw; an active point geometry becomes the coordinates."""
    geometry = None
    if isinstance(frame, gpd.GeoDataFrame):
        try:
            geometry = frame.geometry
        except AttributeError:  # a GeoDataFrame without an active geometry column
            geometry = None
    if geometry is None:
        return Raw(name, None, pd.DataFrame(frame), index)
    position = list(frame.columns).index(geometry.name)
    plain = pd.DataFrame(frame.iloc[:, [i for i in range(frame.shape[1]) if i != position]])
    values = np.asarray(geometry.array, dtype=object)
    single = shapely.get_type_id(values) == 4  # MultiPoint
    single &= shapely.get_num_geometries(values) == 1
    values = np.where(single, shapely.get_geometry(values, 0), values)
    kind = shapely.get_type_id(values)
    is_point = (kind == 0) & ~shapely.is_empty(values)
    x = np.where(is_point, shapely.get_x(values), np.nan)
    y = np.where(is_point, shapely.get_y(values), np.nan)
    missing: list[str | None] = [
        None
        if ok
        else (
            "no point geometry"
            if g is None or shapely.is_empty(g)
            else f"the geometry is a {g.geom_type}, not a point"
        )
        for ok, g in zip(is_point.tolist(), values.tolist(), strict=True)
    ]
    points = Points("geometry", x.tolist(), y.tolist(), missing)
    return Raw(name, None, plain, index, points, geometry.crs, crs_implied=implied_crs)
