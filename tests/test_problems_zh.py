"""Issue #19: ``--lang zh`` and ``verify(lang="zh")`` word the reasons of input problems in Chinese.

The frequent reasons (a filer's row-level ones and the common file-level ones) are built from
:data:`pilotzone._messages.PROBLEMS`; English stays the text it always was.
"""

from __future__ import annotations

import copy
import pickle
import re
import string
from pathlib import Path

import pandas as pd
import pytest

from pilotzone import read_facilities, verify
from pilotzone._messages import ERRORS, PROBLEMS, Reason
from pilotzone.cli import main
from pilotzone.errors import InputError

AS_OF = "2025-06-01"

#: One filing with each frequent row problem: 9 invalid rows (the terminal lists up to 10).
ROWS = [
    "operator_id,facility_id,kind,tenure,services,lon,lat,crs",
    "A,reg,registration,owned,idc,121.5044,31.2397,wgs84",
    ",f1,idc,owned,idc,121.50,31.24,wgs84",  # missing operator
    "A,f2,idc,owned,idc,abc,31.24,wgs84",  # not a number
    "A,f3,idc,owned,idc,31.24,121.50,wgs84",  # out of range, swapped
    "A,f4,idcc,owned,idc,121.50,31.24,wgs84",  # unknown kind, close match
    "A,f5,idc,rentd,idc,121.50,31.24,wgs84",  # unknown tenure, close match
    "A,f6,idc,owned,IDC;CND,121.50,31.24,wgs84",  # unknown service, close match
    "A,f7,idc,owned,idc,121.50,31.24,wgs84",
    "A,f7,idc,owned,idc,121.50,31.24,wgs84",  # duplicate
    "A,f8,idc,owned,idc,121°30′E,31.24,wgs84",  # degrees sign
    "A,f9,idc,owned,idc,121.50,31.24,nosuch",  # unknown crs
]

#: Words of the English reasons of :data:`ROWS`: none may be left in the Chinese output.
ENGLISH = [
    "missing", "not a number", "outside", "swapped", "unknown", "did you mean", "duplicate",
    "same operator_id", "write decimal", "hemisphere", "coordinate system", "expected",
    "column '", "value ",
]  # fmt: skip


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def filing(tmp_path: Path) -> Path:
    path = tmp_path / "filing.csv"
    path.write_text("\n".join(ROWS) + "\n", encoding="utf-8")
    return path


def invalid_lines(out: str, heading: str) -> list[str]:
    """The lines the terminal lists under 'Rows that cannot be checked'."""
    block = out.split(heading, 1)[1].strip("\n:：").split("\n\n", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_cli_zh_words_each_frequent_row_problem_in_chinese(
    capsys: pytest.CaptureFixture[str], filing: Path
) -> None:
    _, out, _ = run(capsys, "verify", str(filing), "--as-of", AS_OF, "--lang", "zh")
    lines = invalid_lines(out, "无法核查的行")
    assert len(lines) == 9
    text = "\n".join(lines)
    for chinese in (
        "缺少数值", "不是数字", "纬度超出 [-90, 90]（经度与纬度是否填反？）",
        "未知的设施类型", "是否应为 'idc'", "未知的使用方式", "是否应为 'rented'",
        "未知的业务种类", "是否应为 'cdn'", "与第 9 行重复", "请写十进制度数", "此处为 121.5",
        "未知的坐标系",
    ):  # fmt: skip
        assert chinese in text
    lowered = text.lower()
    assert [word for word in ENGLISH if word in lowered] == []


def test_cli_en_row_problems_are_unchanged(
    capsys: pytest.CaptureFixture[str], filing: Path
) -> None:
    _, out, _ = run(capsys, "verify", str(filing), "--as-of", AS_OF)
    text = "\n".join(invalid_lines(out, "Rows that cannot be checked"))
    for english in (
        "column 'operator_id': missing",
        "column 'lon': not a number ('abc')",
        "column 'lat': latitude outside [-90, 90] (longitude and latitude swapped?) (121.5)",
        "column 'kind': unknown kind, expected registration|idc|cdn|isp|server|other "
        "(did you mean 'idc'?) ('idcc')",
        "unknown tenure, expected owned|rented|purchased (did you mean 'rented'?)",
        "(did you mean 'cdn'?) ('CND')",
        "duplicate of row 9 (same operator_id and facility_id)",
        "write decimal degrees, west and south negative, without ° or a hemisphere (here 121.5)",
        "unknown coordinate system, expected wgs84|cgcs2000|gcj02|bd09",
    ):
        assert english in text


def test_verify_zh_message_of_an_invalid_row_is_chinese(filing: Path) -> None:
    result = verify(filing, as_of=AS_OF, lang="zh")
    invalid = result[result["status"] == "invalid"]
    assert len(invalid) == 9
    for message, problems in zip(invalid["message"], invalid["problems"], strict=True):
        assert message.startswith("无法核查：")
        assert problems and problems not in message  # the English is not quoted
        assert [word for word in ENGLISH if word in message.lower()] == []
    simple = invalid[invalid["source_row"].isin([3, 4, 5, 10])]["message"].tolist()
    for message in simple:  # no code list in these: nothing but the filed names is Latin
        bare = re.sub(r"'[^']*'|\[-?\d+, \d+\]", "", message)
        assert not re.search(r"[A-Za-z]", bare), message
    assert simple[0] == "无法核查：列 'operator_id'：缺少数值。"


def test_verify_en_message_quotes_the_problems_as_before(filing: Path) -> None:
    result = verify(filing, as_of=AS_OF)
    row = result[result["source_row"] == 4].iloc[0]
    assert row["problems"] == "column 'lon': not a number ('abc')"
    assert row["message"] == "Cannot be checked: column 'lon': not a number ('abc')."


def test_read_facilities_keeps_the_chinese_of_each_problems_text(filing: Path) -> None:
    sites = read_facilities(filing)
    zh = sites.attrs["problems_zh"]
    assert zh["column 'lon': not a number ('abc')"] == "列 'lon'：不是数字（值 'abc'）"
    assert copy.deepcopy(sites.attrs)["problems_zh"] is zh  # pandas' copies share it
    assert (
        "problems_zh"
        not in read_facilities(
            pd.DataFrame({"operator_id": ["A"], "kind": ["idc"], "lon": [121.5], "lat": [31.2]}),
            crs="wgs84",
        ).attrs
    )


@pytest.mark.parametrize(
    ("name", "content", "chinese", "english"),
    [
        ("f.csv", "operator_id,lon,lat\nA,121.5,31.2\n", "缺少必需的列", "missing required"),
        ("f.csv", "operator_id,kind,lon,lat\nA,idc,121.5,31.2\n", "没有坐标系", "add a 'crs'"),
        ("f.xls", "x", "pilotzone 读取 .xlsx 工作簿", "Excel 97-2003"),
        ("f.txt", "x", "未知的文件类型", "unknown file type"),
        ("f.csv", "\n\n", "文件为空", "the file is empty"),
    ],
)
def test_cli_zh_words_frequent_file_problems_in_chinese(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    name: str,
    content: str,
    chinese: str,
    english: str,
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    status, _, err = run(capsys, "verify", str(path), "--as-of", AS_OF, "--lang", "zh")
    assert status == 2
    assert chinese in err and english not in err
    status, _, err = run(capsys, "verify", str(path), "--as-of", AS_OF)
    assert status == 2 and english in err


def test_cli_zh_names_flags_in_the_chinese_reason(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "f.csv"
    path.write_text("operator_id,kind,lon,lat\nA,idc,121.5,31.2\n", encoding="utf-8")
    _, _, err = run(capsys, "verify", str(path), "--as-of", AS_OF, "--lang", "zh")
    assert "--crs gcj02" in err and "crs=" not in err


def test_raised_problems_describe_in_chinese(filing: Path) -> None:
    with pytest.raises(InputError) as caught:
        read_facilities(filing, errors="raise")
    error = caught.value
    assert str(error.problems[0]) == "filing.csv, row 3, column 'operator_id': missing"
    chinese = error.describe(ERRORS["zh"], lang="zh")
    assert "filing.csv，第 3 行，列 'operator_id'：缺少数值" in chinese
    assert "not a number" in str(error) and "not a number" not in chinese


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(PROBLEMS["en"]))
def test_each_reason_fills_in_the_same_fields_in_both_languages(key: str) -> None:
    # Chinese may leave out an English word (the kind of an old spreadsheet), never add a field.
    assert fields(PROBLEMS["zh"][key]) <= fields(PROBLEMS["en"][key])


def test_a_reason_is_its_english_text_and_survives_pickling() -> None:
    reason = Reason("not_number_hint", {"hint": Reason("degrees_value", {"shown": "121.5"})})
    assert isinstance(reason, str)
    assert reason == (
        "not a number: write decimal degrees, west and south negative, without ° "
        "or a hemisphere (here 121.5)"
    )
    for copied in (pickle.loads(pickle.dumps(reason)), copy.deepcopy(reason)):
        assert copied == reason
        assert (
            copied.text("zh")
            == reason.text("zh")
            == ("不是数字：请写十进制度数，西经和南纬为负数，不带 ° 或东西南北（此处为 121.5）")
        )


GEOJSON = (
    '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": '
    '"Point", "coordinates": [121.5, 31.2]}, "properties": {"operator_id": "A", "kind": "idc", '
    '"lon": 120.0, "lat": 31.2}}]}'
)


@pytest.mark.parametrize(
    ("name", "content", "chinese", "english"),
    [
        (
            "f.csv",
            "operator_id,kind,lon,lat,crs\nA,idc,121.5,31.2,wgs84,x\n",
            "无法核查：该行有 6 个单元格，而表头有 5 个。",
            "the row has 6 cells but the header has 5",
        ),
        (
            "f.geojson",
            GEOJSON,
            "无法核查：列 'lon'：与点几何不一致（121.5）（值 120.0）。",
            "column 'lon': differs from the point geometry (121.5) (120.0)",
        ),
    ],
)
def test_verify_zh_words_other_row_problems_in_chinese(
    tmp_path: Path, name: str, content: str, chinese: str, english: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert verify(path, as_of=AS_OF, lang="zh")["message"].tolist() == [chinese]
    assert verify(path, as_of=AS_OF)["problems"].tolist() == [english]


@pytest.mark.parametrize(
    ("header", "chinese", "english"),
    [
        (
            "operator_id,运营者,kind,lon,lat,crs",
            "列 'operator_id' 与 '运营者' 含义相同（均为 'operator_id'）：请只保留一列",
            "columns 'operator_id' and '运营者' both mean 'operator_id'; keep one",
        ),
        (
            "operator_id,kind,lon,lat,crs,note,note",
            "该列名出现了 2 次",
            "the column name appears 2 times",
        ),
    ],
)
def test_cli_zh_words_column_problems_in_chinese(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, header: str, chinese: str, english: str
) -> None:
    path = tmp_path / "f.csv"
    path.write_text(f"{header}\n" + ",".join(["A"] * header.count(",")) + ",A\n", "utf-8")
    _, _, err = run(capsys, "verify", str(path), "--as-of", AS_OF, "--lang", "zh")
    assert chinese in err and english not in err
    _, _, err = run(capsys, "verify", str(path), "--as-of", AS_OF)
    assert english in err


def test_cli_zh_words_unsaved_formulas_in_chinese(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["operator_id", "kind", "lon", "lat", "crs"])
    sheet.append(["A", "idc", "=120+1.5", 31.2, "wgs84"])
    path = tmp_path / "f.xlsx"
    book.save(path)
    _, _, err = run(capsys, "verify", str(path), "--as-of", AS_OF, "--lang", "zh")
    assert "1 个公式单元格没有保存的计算结果" in err
    assert "单元格 C2 含有公式但没有保存的计算结果" in err
    assert "formula" not in err
    _, _, err = run(capsys, "verify", str(path), "--as-of", AS_OF)
    assert "1 formula cell has no saved result: open the workbook" in err
    assert "cell C2 holds a formula with no saved result" in err


def test_verify_dask_zh_words_problems_in_chinese_across_partitions() -> None:
    dd = pytest.importorskip("dask.dataframe")
    from pilotzone.parallel import verify_dask

    frame = pd.DataFrame(
        {
            "operator_id": ["A", "A", "A", "A"],
            "facility_id": ["r", "f1", "f2", "f1"],
            "kind": ["registration", "idc", "idc", "idc"],
            "lon": ["121.5044", "abc", "121.5", "121.5"],
            "lat": [31.2397, 31.2, 31.2, 31.2],
            "crs": "wgs84",
        }
    )
    data = dd.from_pandas(frame, npartitions=2)  # the repeat of f1 is in the other partition
    out = verify_dask(data, as_of=AS_OF, lang="zh").compute()
    messages = dict(zip(out["source_row"], out["message"], strict=True))
    assert messages[2] == "无法核查：列 'lon'：不是数字（值 'abc'）。"
    assert messages[4] == (
        "无法核查：列 'facility_id'：与第 2 行重复（运营者与设施编号相同）（值 'f1'）。"
    )


def test_cli_zh_words_an_unknown_crs_flag_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "locate", "121.5", "31.2", "--crs", "", "--lang", "zh")
    assert status == 2
    assert "'' 不是 pilotzone 认识的坐标系（坐标系为空）。请使用 'wgs84', 'cgcs2000'" in err
    assert "is not a coordinate system" not in err and "EPSG 代码" in err
    _, _, err = run(capsys, "locate", "121.5", "31.2", "--crs", "")
    assert "'' is not a coordinate system pilotzone knows (the coordinate system is empty)" in err
