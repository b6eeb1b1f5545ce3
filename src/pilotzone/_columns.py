"""The vocabulary of a filing and the column helpers that read it.

Owns the accepted headers and coded values (kind, tenure, services) and how
they are matched, the conversion of one cell to text, a number or service
names, and the column toolkit built on them: distinct cells, categoricals
and pyarrow text columns, shared by the readers, the row validation,
:mod:`pilotzone.verify` and :mod:`pilotzone.address`.
"""

from __future__ import annotations

import decimal
import difflib
import math
import numbers
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from pilotzone._codes import FACILITY_KINDS
from pilotzone._messages import FILING, HEADERS_ZH, Reason

#: Values of the ``kind`` column.
KINDS = FACILITY_KINDS

# Canonical column -> accepted headers. Headers are compared after NFKC,
# lower-casing and removing spaces, underscores and hyphens (see match_key).
# The Chinese headers pilotzone writes (HEADERS_ZH) are added below, so that
# its own outputs read back in.
# fmt: off
_FILED_ALIASES: dict[str, tuple[str, ...]] = {
    "operator_id": ("operator_id", "operator", "operator name", "运营商", "运营商编号",
                    "运营商名称", "企业", "企业名称", "企业编号", "company", "company name", "公司",
                    "公司名称"),
    "facility_id": ("facility_id", "id", "site_id", "设施编号", "编号", "设施id"),
    "name": ("name", "facility name", "site name", "名称", "设施名称"),
    "address": ("address", "addr", "地址", "详细地址", "设施地址"),
    "kind": ("kind", "type", "facility type", "类型", "设施类型"),
    "tenure": ("tenure", "ownership", "权属", "产权"),
    "services": ("services", "service", "业务", "业务种类", "经营业务"),
    "lon": ("lon", "lng", "long", "longitude", "x", "经度"),
    "lat": ("lat", "latitude", "y", "纬度"),
    "crs": ("crs", "coordinate_system", "coordinate system", "srs", "坐标系", "坐标系统"),
}
# fmt: on
#: Canonical column -> accepted headers: those above, then the header pilotzone's Chinese
#: outputs give the column (HEADERS_ZH), so that every table it writes reads back in.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    column: tuple(dict.fromkeys((*names, *([HEADERS_ZH[column]] if column in HEADERS_ZH else []))))
    for column, names in _FILED_ALIASES.items()
}
# fmt: off
_KIND_ALIASES: dict[str, tuple[str, ...]] = {
    "registration": ("registration", "registered address", "registration address",
                     "注册地", "注册地址"),
    "idc": ("idc", "data center", "data centre", "datacenter", "数据中心", "机房",
            "互联网数据中心"),
    "cdn": ("cdn", "cdn node", "cdn节点", "节点", "加速节点", "加速设施", "acceleration node"),
    "isp": ("isp", "access point", "isp access point", "service point", "接入点", "服务点"),
    "server": ("server", "server room", "服务器", "服务器机房"),
    "other": ("other", "其他", "其它"),
}
_TENURE_ALIASES: dict[str, tuple[str, ...]] = {
    "owned": ("owned", "own", "自有", "自建"),
    "rented": ("rented", "rent", "leased", "lease", "租用", "租赁"),
    "purchased": ("purchased", "purchase", "bought", "购买", "外购"),
}
_SERVICE_ALIASES: dict[str, tuple[str, ...]] = {
    "idc": ("idc", "internet data center", "互联网数据中心", "互联网数据中心业务"),
    "cdn": ("cdn", "content delivery network", "内容分发网络", "内容分发网络业务"),
    "isp": ("isp", "internet access", "互联网接入服务", "互联网接入服务业务"),
    "data_processing": ("data_processing", "online data processing", "在线数据处理",
                        "在线数据处理与交易处理", "在线数据处理与交易处理业务"),
    "information_publishing": ("information_publishing", "信息发布平台和递送服务",
                               "信息发布平台和递送服务业务"),
    "information_protection": ("information_protection", "信息保护和处理服务",
                               "信息保护和处理服务业务"),
    "news": ("news", "internet news", "互联网新闻信息", "互联网新闻信息服务"),
    "publishing": ("publishing", "online publishing", "网络出版", "网络出版服务"),
    "audio_video": ("audio_video", "online audio video", "网络视听", "网络音视频",
                    "网络视听节目服务"),
    "internet_culture": ("internet_culture", "互联网文化", "互联网文化活动", "网络文化"),
    # Real services the pilot neither opens nor excludes (service_not_opened).
    "online_games": ("online_games", "online game", "online gaming", "网络游戏"),
    "call_center": ("call_center", "call centre", "呼叫中心", "呼叫中心业务"),
    "ip_vpn": ("ip_vpn", "internet vpn", "互联网虚拟专用网", "国内互联网虚拟专用网业务"),
    "multiparty_communication": ("multiparty_communication", "多方通信",
                                 "国内多方通信服务业务"),
    "store_and_forward": ("store_and_forward", "存储转发", "存储转发类业务"),
    "protocol_conversion": ("protocol_conversion", "编码和规程转换", "编码和规程转换业务"),
}
# fmt: on
_RESERVED = ("source_row", "problems", "geometry")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NOT_FINITE = re.compile(r"[+-]?(?:inf(?:inity)?|nan)", re.IGNORECASE)
#: A hemisphere, as a letter or in Chinese (东经 = east longitude, 北纬 = north latitude).
_HEMISPHERE = r"(东经|西经|北纬|南纬|[东西南北NSEWnsew])"
#: Degrees written as a person writes them: 116°23'17"E, 116.4°, 东经116.4, N 39°54.5'.
_DEGREES = re.compile(
    rf"{_HEMISPHERE}?\s*(\d+(?:\.\d+)?)\s*(?:[°度]\s*)?(?:(\d+(?:\.\d+)?)\s*['′’分]\s*)?"
    rf"(?:(\d+(?:\.\d+)?)\s*(?:\"|″|′′|''|”|’’|秒)\s*)?{_HEMISPHERE}?"
)


def degrees_hint(text: str) -> str:
    """How to write a coordinate filed in degrees, minutes, seconds or with a degree sign.

    Parameters
    ----------
    text : str
        A cell that is not a decimal number (NFKC).

    Returns
    -------
    str
        ``": write decimal degrees ..."`` with the number it stands for where that is
        unambiguous (minutes and seconds under 60, at most one hemisphere); ``""`` where
        the text is no such coordinate. The value is suggested, never taken.
    """
    found = _DEGREES.fullmatch(text)
    marked = any(c in text for c in "°度'′’\"″”分秒经纬")
    if found is None or not (marked or found[1] or found[5]):
        return ""
    before, degrees, minutes, seconds, after = found.groups()
    parts = [float(degrees), float(minutes or 0), float(seconds or 0)]
    if (before and after) or parts[1] >= 60 or parts[2] >= 60:
        return Reason("degrees")
    value = parts[0] + parts[1] / 60 + parts[2] / 3600
    negative = (before or after or "") in ("西经", "南纬", "西", "南", "W", "S", "w", "s")
    shown = f"{-value if negative else value:.6f}".rstrip("0").rstrip(".")
    return Reason("degrees_value", {"shown": shown})


_SERVICE_SEPARATORS = re.compile(r"[;,、/]+")  # after NFKC has folded the full-width forms
#: The service names pilotzone knows, canonical spelling.
SERVICES: tuple[str, ...] = tuple(_SERVICE_ALIASES)


def match_key(label: object) -> str:
    """Matching key of a header or a coded value: NFKC, lower case, no spaces/_/-."""
    text = unicodedata.normalize("NFKC", str(label)).lower()
    return re.sub(r"[\s_\-]+", "", text)


def _index(aliases: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {match_key(alias): canonical for canonical, names in aliases.items() for alias in names}


def _with_labels(aliases: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """``aliases`` and each value's label in pilotzone's outputs (FILING), so they read back."""
    return {
        value: tuple(dict.fromkeys((*names, *(FILING[lang][value] for lang in FILING))))
        for value, names in aliases.items()
    }


COLUMN_BY_KEY = _index(COLUMN_ALIASES)
KIND_BY_KEY = _index(_with_labels(_KIND_ALIASES))
TENURE_BY_KEY = _index(_with_labels(_TENURE_ALIASES))
SERVICE_BY_KEY = _index(_SERVICE_ALIASES)
RESERVED_KEYS = {match_key(name): name for name in _RESERVED}


# --------------------------------------------------------------------------- cells


def is_blank(value: Any) -> bool:
    """Whether a cell is missing: None, NA, NaT, NaN or text of only spaces."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def cell_text(value: Any, *, fold: bool = True) -> str:
    """A cell as text: '' for missing, integral floats without '.0', NFKC when ``fold``."""
    if is_blank(value):
        return ""
    if isinstance(value, float | np.floating):
        number = float(value)
        if number.is_integer() and abs(number) < 1e15:
            return str(int(number))
    text = str(value).strip()
    return unicodedata.normalize("NFKC", text) if fold else text


def cell_number(value: Any) -> tuple[float, str | None]:
    """A cell as a finite float, or NaN and the reason it is not one."""
    if is_blank(value):
        return math.nan, Reason("missing")
    if isinstance(value, bool | np.bool_):
        return math.nan, Reason("not_number")
    if isinstance(value, numbers.Real | decimal.Decimal):
        number = float(value)
        return (number, None) if math.isfinite(number) else (math.nan, Reason("not_finite"))
    if not isinstance(value, str):
        return math.nan, Reason("not_number")
    text = unicodedata.normalize("NFKC", value).strip().replace("\u2212", "-")
    if "," in text:
        return math.nan, Reason("thousands")
    if _NOT_FINITE.fullmatch(text):
        return math.nan, Reason("not_finite")
    if not _NUMBER.fullmatch(text):
        return math.nan, Reason("not_number_hint", {"hint": degrees_hint(text)})
    return float(text), None


def _service_pieces(value: Any) -> list[str]:
    """A services cell as its pieces of text: an array's items, or text split on separators."""
    if isinstance(value, list | tuple | set | frozenset | np.ndarray | pa.Array):
        items = value.to_pylist() if isinstance(value, pa.Array) else list(value)
        return [piece for item in items for piece in _service_pieces(item)]
    return _SERVICE_SEPARATORS.split(cell_text(value))


def service_names(value: Any) -> tuple[list[str], list[str]]:
    """Declared services -> (canonical names known, names pilotzone does not know).

    An array (GeoJSON, Parquet list column) is a list of names; text is split on
    ``; , 、 ， /`` and further on whitespace, matching the longest run of words
    that names a service, so "information publishing" stays one name and
    "idc cdn" becomes two. Both lists are sorted, each name once; unknown names
    are kept as written (NFKC).
    """
    found: set[str] = set()
    unknown: dict[str, None] = {}
    for piece in _service_pieces(value):
        words = piece.split()
        start = 0
        while start < len(words):
            for end in range(len(words), start, -1):
                known = SERVICE_BY_KEY.get(match_key(" ".join(words[start:end])))
                if known is not None:
                    found.add(known)
                    start = end
                    break
            else:
                unknown[words[start]] = None
                start += 1
    return sorted(found), sorted(unknown)


def canonical_services(value: Any) -> str:
    """Declared services -> sorted canonical names joined by ';' (unknown names kept).

    See :func:`service_names`; an unknown name is kept in lower case, ``-`` as ``_``.
    """
    known, unknown = service_names(value)
    return ";".join(sorted({*known, *(re.sub(r"-+", "_", name.lower()) for name in unknown)}))


def unknown_value(
    value: str, what: str, accepted: Sequence[str], by_key: dict[str, str] | None = None
) -> str:
    """Why ``value`` is no ``what``: the accepted values and the closest of them, if any.

    The reason of a row problem, which names the value itself. The closest value is
    found among ``accepted`` and the spellings in ``by_key`` (matching key -> value).
    """
    spellings = {match_key(name): name for name in accepted} | (by_key or {})
    close = difflib.get_close_matches(match_key(value), list(spellings), n=1, cutoff=0.65)
    fields = {"accepted": "|".join(accepted)}
    if close:
        return Reason(f"unknown_{what}_close", {**fields, "close": spellings[close[0]]})
    return Reason(f"unknown_{what}", fields)


# --------------------------------------------------------------------------- columns


#: The dtype pandas gives a column of text: ``str`` (pyarrow) from pandas 3, ``object`` before.
TEXT_DTYPE = pd.Series(["text"]).dtype
#: Whether TEXT_DTYPE is numpy's object dtype (pandas < 3) rather than a pandas string dtype.
TEXT_IS_OBJECT: bool = TEXT_DTYPE == np.dtype(object)


def distinct_cells(
    values: pd.Series | pd.Index | NDArray[Any],
) -> tuple[NDArray[np.intp], list[Any]]:
    """Each cell's position in a list of the distinct cells, and that list.

    Cells that Python considers equal but that differ in type (``1``,
    ``1.0``, ``True``) or that cannot be hashed stay apart, so a function of
    the cell computed once per distinct cell is the function of every cell.
    Missing cells (``None``, NaN, ``pd.NA``) are distinct cells too.
    """
    series = pd.Series(values, copy=False) if not isinstance(values, pd.Series) else values
    if series.dtype != object or pd.api.types.infer_dtype(series, skipna=False) == "string":
        codes, uniques = pd.factorize(series, use_na_sentinel=False)
        return codes, pd.Series(uniques, dtype=series.dtype).tolist()
    seen: dict[tuple[type, Any], int] = {}
    cells: list[Any] = []
    codes = np.empty(len(series), dtype=np.intp)
    for i, value in enumerate(series.tolist()):
        try:
            code = seen.setdefault((type(value), value), len(cells))
        except TypeError:  # unhashable: a distinct cell of its own
            code = len(cells)
        if code == len(cells):
            cells.append(value)
        codes[i] = code
    return codes, cells


def label_column(names: Sequence[Any], codes: NDArray[np.integer]) -> Any:
    """``names[codes]`` as a text column (missing where a code is -1), built from the names."""
    if TEXT_IS_OBJECT:
        table = np.empty(len(names) + 1, dtype=object)
        table[: len(names)] = names
        table[-1] = None
        return table[codes]
    return pd.array(arrow(names, codes), dtype=TEXT_DTYPE)


def category(
    names: Sequence[Any] | NDArray[Any], codes: NDArray[np.integer], first: Sequence[str] = ()
) -> pd.Categorical:
    """``names[codes]`` as a categorical, missing where a code is -1 or the name is None.

    Its categories are ``first``, then the other names some row has, in order of first
    mention, each once (names may repeat). A column of a few distinct texts stores each once,
    and code that reads it need not hash its text again.
    """
    labels = np.asarray(names, dtype=object)
    codes = np.asarray(codes, dtype=np.intp)
    used = (np.bincount(codes + 1, minlength=len(labels) + 1)[1:] > 0) & pd.notna(labels)
    position, categories = pd.factorize(
        np.concatenate([np.asarray(first, dtype=object), labels[used]])
    )
    lookup = np.full(len(labels) + 1, -1, dtype=np.intp)  # the last entry: code -1
    lookup[np.flatnonzero(used)] = position[len(first) :]
    dtype = pd.CategoricalDtype(pd.Index(categories, dtype=TEXT_DTYPE))
    return pd.Categorical.from_codes(lookup[codes], dtype=dtype, validate=False)


# "" as a large_string: compared with a plain string scalar, pyarrow would cast the whole column.
EMPTY_TEXT = pa.scalar("", type=pa.large_string())
# What str.strip() removes from ASCII text, and an ASCII number as cell_number accepts it.
_ASCII_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
_ASCII_NUMBER = (
    r"^[ \t\n\r\x0b\x0c\x1c-\x1f]*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"[ \t\n\r\x0b\x0c\x1c-\x1f]*$"
)


def _arrow_text(values: pd.Series) -> pa.Array | None:
    """A column of text (missing cells allowed) as a pyarrow string array; None for other cells."""
    if isinstance(values.dtype, pd.StringDtype) or (
        values.dtype == object
        and pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")
    ):
        array = pa.array(values, type=pa.large_string(), from_pandas=True)
        return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    return None


def text_column(values: pd.Series, *, fold: bool = True) -> pa.Array:
    """:func:`cell_text` of every cell.

    ASCII text is trimmed by pyarrow, other cells once per distinct cell.
    """
    text = _arrow_text(values)
    if text is None:
        cell, cells = distinct_cells(values)
        return arrow([cell_text(v, fold=fold) for v in cells], cell)
    # NFKC leaves ASCII unchanged; a missing cell is "" whatever it is.
    ascii_text = pc.fill_null(pc.string_is_ascii(text), True)
    out = pc.utf8_trim(pc.fill_null(text, ""), characters=_ASCII_SPACE)
    slow = np.flatnonzero(~ascii_text.to_numpy(zero_copy_only=False))
    if len(slow) == 0:
        return out
    cell, cells = distinct_cells(values.iloc[slow])
    return pc.replace_with_mask(
        out, pc.invert(ascii_text), arrow([cell_text(v, fold=fold) for v in cells], cell)
    )


def cell_numbers(values: pd.Series) -> tuple[NDArray[np.float64], list[tuple[int, Any, str]]]:
    """:func:`cell_number` of every cell.

    The numbers, and (position, cell, reason) where there is none. Float columns and ASCII
    decimal text are converted by numpy and pyarrow; other cells once per distinct cell.
    """
    n = len(values)
    if isinstance(values.dtype, np.dtype) and values.dtype.kind == "f":
        numbers = values.to_numpy(dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(numbers))
        cells = values.iloc[bad].tolist()
        found: list[tuple[int, Any, str]] = [
            (int(i), v, "missing" if math.isnan(v) else "not a finite number")
            for i, v in zip(bad.tolist(), cells, strict=True)
        ]
        return np.where(np.isfinite(numbers), numbers, np.nan), found
    numbers = np.full(n, np.nan)
    text = _arrow_text(values)
    if text is None:
        slow = np.arange(n)
    else:
        try:  # pyarrow parses what float() parses, and "inf"/"nan", which are not finite
            parsed = pc.cast(pc.utf8_trim(text, characters=_ASCII_SPACE), pa.float64())
            ok = pc.fill_null(pc.is_finite(parsed), False).to_numpy(zero_copy_only=False)
            numbers[ok] = parsed.to_numpy(zero_copy_only=False)[ok]
        except pa.ArrowInvalid:  # some cell is no number to pyarrow: find the ASCII decimals
            fast = pc.fill_null(pc.match_substring_regex(text, _ASCII_NUMBER), False)
            ok = fast.to_numpy(zero_copy_only=False)
            trimmed = pc.utf8_trim(pc.filter(text, fast), characters=_ASCII_SPACE)
            numbers[ok] = pc.cast(trimmed, pa.float64()).to_numpy()
        slow = np.flatnonzero(~ok)
    found = []
    if len(slow):
        cell, cells = distinct_cells(values.iloc[slow])
        parsed = [cell_number(v) for v in cells]
        numbers[slow] = np.array([number for number, _ in parsed])[cell]
        for j, i in enumerate(slow.tolist()):
            reason = parsed[cell[j]][1]
            if reason is not None:
                found.append((i, cells[cell[j]], reason))
    return numbers, found


def arrow(names: Sequence[Any], codes: NDArray[np.integer]) -> pa.Array:
    """``names[codes]`` as a pyarrow string array (null where a code is -1)."""
    table = pa.array([*names, None], type=pa.large_string())
    return table.take(np.where(codes < 0, len(names), codes))


def pandas_text(text: pa.Array) -> Any:
    """A pyarrow string array as the text column pandas makes by default."""
    if TEXT_IS_OBJECT:
        return np.asarray(text.to_pylist(), dtype=object)
    return pd.array(text, dtype=TEXT_DTYPE)
