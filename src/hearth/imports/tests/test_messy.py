"""The messy spreadsheet generator: layout, every kind of mess where it says it put it, formats, determinism."""

import io
import re
import unicodedata
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from hearth.core import citizen_id
from hearth.core.spreadsheet import cell_text, normalize_header, read_table
from hearth.imports.messy import KINDS, messy_workbook, sample_people

PEOPLE = sample_people(400, seed=11)
CLEAN_HEADER = ["姓名", "身份证号", "性别", "出生日期", "民族", "现住址", "户籍地", "联系电话", "备注"]
SEX = {"M": "男", "F": "女"}
NAME, ID, SEX_COL, BIRTH, ETHNICITY, ADDRESS, HUKOU, PHONE, NOTES = range(9)


def grid(data: bytes) -> list[list]:
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
    return sheet.to_python(skip_empty_area=False)


def merged(data: bytes) -> list:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).merged_cell_ranges


def test_sample_people_are_valid_and_distinct():
    assert len(PEOPLE) == 400
    assert len({p.id_number for p in PEOPLE}) == 400
    for p in PEOPLE:
        parsed = citizen_id.parse(p.id_number)
        assert (parsed.birth_date, parsed.sex) == (p.birth_date, p.sex)
    assert sample_people(5, seed=3) == sample_people(5, seed=3)


def test_layout_with_one_header_row():
    f = messy_workbook(PEOPLE[:30], seed=1, two_row_header=False)
    g = grid(f.data)
    assert g[0][0] == "祥和社区常住人口登记表"
    assert g[0][1:] == [""] * 8
    assert (g[1][0], g[1][6]) == ("填报单位：祥和社区", "填报日期：2026年3月")
    assert merged(f.data) == [((0, 0), (0, 8))]
    assert f.header_rows == (3,)
    assert f.two_row_header is False
    header = [normalize_header(c) for c in g[2]]
    assert header[0] == "姓名"
    assert header[1] in {"身份证号", "公民身份号码"}
    assert header[3] in {"出生日期", "出生年月"}
    assert header[2:3] + header[4:] == ["性别", "民族", "现住址", "户籍地", "联系电话", "备注"]
    # Then the people (and blank rows), then the totals row as the last row of the sheet.
    assert f.totals_row == len(g)
    assert g[f.totals_row - 1][:2] == ["合计", "30人"]
    assert len(f.rows) == 30
    assert sorted(f.rows) == [n for n in range(4, f.totals_row) if n not in f.kinds["blank"]]
    assert [f.rows[n] for n in sorted(f.rows)] == PEOPLE[:30]
    for n in f.kinds["blank"]:
        assert g[n - 1] == [""] * 9


def test_two_row_header_merges_parents_over_nothing():
    f = messy_workbook(PEOPLE[:10], seed=1, two_row_header=True)
    g = grid(f.data)
    assert f.header_rows == (3, 4)
    assert merged(f.data) == [
        ((0, 0), (0, 8)),
        ((2, 0), (2, 4)),  # 基本信息 over the five personal columns
        ((2, 5), (3, 5)),  # 现住址, 户籍地, 联系电话, 备注: merged down both header rows
        ((2, 6), (3, 6)),
        ((2, 7), (3, 7)),
        ((2, 8), (3, 8)),
    ]
    top = [normalize_header(c) for c in g[2]]
    bottom = [normalize_header(c) for c in g[3]]
    assert top == ["基本信息", "", "", "", "", "现住址", "户籍地", "联系电话", "备注"]
    assert bottom[5:] == ["", "", "", ""]
    assert bottom[0] == "姓名"
    assert bottom[1] in {"身份证号", "公民身份号码"}
    assert min(f.rows) == 5 + (1 if 5 in f.kinds["blank"] else 0)


def test_ids_written_as_numbers_are_number_cells():
    f = messy_workbook(PEOPLE, seed=7)
    g = grid(f.data)
    assert f.spreadsheet_numbers == f.kinds["id.spreadsheet_number"]
    assert len(f.spreadsheet_numbers) > 0
    number_cells = [n for n in f.rows if isinstance(g[n - 1][ID], float)]
    assert number_cells == f.spreadsheet_numbers
    for n in f.spreadsheet_numbers:
        value, number = g[n - 1][ID], f.rows[n].id_number
        # Excel keeps 15 significant digits: the last ones are gone, which is why a reader must refuse it.
        assert abs(value - int(number)) < 1000
        assert cell_text(value) != number
    assert all(isinstance(g[n - 1][ID], str) for n in f.rows if n not in f.spreadsheet_numbers)


def test_every_kind_of_mess_is_where_the_file_says():
    f = messy_workbook(PEOPLE, seed=7)
    g = grid(f.data)
    assert set(f.kinds) == set(KINDS)
    assert all(f.kinds[k] for k in KINDS), [k for k in KINDS if not f.kinds[k]]
    at = {n: {k for k in KINDS if n in set(f.kinds[k])} for n in f.rows}
    for n, person in f.rows.items():
        row, kinds = g[n - 1], at[n]
        number, born = person.id_number, person.birth_date
        # 身份证号
        if "id.legacy15" in kinds:
            assert row[ID] == number[:6] + number[8:17]
            assert 1900 <= born.year <= 1999
            assert citizen_id.parse(row[ID]).number == number
        elif "id.spaced" in kinds:
            assert re.fullmatch(r"\d{6}([ -])\d{8}\1\d{3}[\dX]", row[ID])
            assert citizen_id.normalise(row[ID]) == number
        elif "id.lower_x" in kinds:
            assert row[ID] == number[:-1] + "x"
        elif "id.spreadsheet_number" not in kinds:
            assert row[ID] == number
        # 出生日期
        expected_birth = {
            "birth.dotted": f"{born:%Y.%m.%d}",
            "birth.cjk": f"{born.year}年{born.month}月{born.day}日",
            "birth.date_cell": born,
            "birth.serial": float((born - date(1899, 12, 30)).days),
            "birth.year_month": f"{born:%Y.%m}",
        }
        birth_kinds = kinds & set(expected_birth)
        assert len(birth_kinds) <= 1
        assert row[BIRTH] == (expected_birth[birth_kinds.pop()] if birth_kinds else born.isoformat())
        # 姓名, 性别, 民族
        if "name.space" in kinds:
            assert row[NAME] != person.name
            assert re.sub(r"[ \u3000]", "", row[NAME]) == person.name
        else:
            assert row[NAME] == person.name
        assert row[SEX_COL] == ("" if "sex.blank" in kinds else SEX[person.sex])
        assert row[ETHNICITY] == "汉族"
        # 现住址
        address = unicodedata.normalize("NFKC", row[ADDRESS])
        assert ("address.fullwidth" in kinds) == (address != row[ADDRESS])
        b, u, r = re.search(r"(\d+)号楼(\d+)单元(\d+)室", person.address).groups()
        if "address.dong" in kinds:
            assert address == f"{b}栋{u}单元{r}"
        elif "address.dashed" in kinds:
            assert address == f"{b}-{u}-{r}"
        else:
            assert address == person.address
        # 户籍地, 联系电话, 备注
        assert row[HUKOU] == (float(person.hukou) if "hukou.number" in kinds else person.hukou)
        if "phone.number" in kinds:
            assert row[PHONE] == float(person.phone)
        elif "phone.spaced" in kinds:
            assert re.sub(r"[ -]", "", row[PHONE]) == person.phone
            assert row[PHONE] != person.phone
        else:
            assert row[PHONE] == person.phone
        assert row[NOTES] == ""


def test_mess_zero_is_clean_text_everywhere():
    f = messy_workbook(PEOPLE[:50], seed=7, mess=0)
    g = grid(f.data)
    assert all(rows == [] for rows in f.kinds.values())
    assert f.two_row_header is False
    assert g[2] == CLEAN_HEADER
    assert sorted(f.rows) == list(range(4, 54))
    for n, p in f.rows.items():
        assert g[n - 1] == [
            p.name,
            p.id_number,
            SEX[p.sex],
            p.birth_date.isoformat(),
            "汉族",
            p.address,
            p.hukou,
            p.phone,
            "",
        ]
    assert f.totals_row == 54


def test_deterministic_per_seed():
    a = messy_workbook(PEOPLE[:80], seed=3)
    b = messy_workbook(PEOPLE[:80], seed=3)
    assert a.data == b.data
    assert a.kinds == b.kinds
    assert messy_workbook(PEOPLE[:80], seed=4).data != a.data
    # Forcing the header shape leaves every row's mess as the seed made it.
    forced = messy_workbook(PEOPLE[:80], seed=3, two_row_header=not a.two_row_header)
    offset = 1 if forced.two_row_header else -1
    assert {k: [n - offset for n in v] for k, v in forced.kinds.items()} == a.kinds


def test_read_table_reads_it_with_the_title_as_header():
    f = messy_workbook(PEOPLE[:40], seed=2, two_row_header=False)
    table = read_table(f.data, "登记表.xlsx")
    assert table.format == "xlsx"
    assert table.header_number == 1
    assert table.header[0] == "祥和社区常住人口登记表"
    # 填报 row, the header row, 40 people, the totals row; blank rows skipped.
    assert len(table.rows) == 1 + 1 + 40 + 1
    assert [r.number for r in table.rows[2:-1]] == sorted(f.rows)
    assert table.rows[-1].number == f.totals_row
    assert table.rows[-1].cells[:2] == ["合计", "40人"]


@pytest.mark.parametrize(("fmt", "encoding"), [("csv", "gbk"), ("csv-utf8", "utf-8-sig")])
def test_csv_carries_the_same_mess_as_excel_saves_it(fmt, encoding):
    f = messy_workbook(PEOPLE, seed=7, fmt=fmt)
    xlsx = messy_workbook(PEOPLE, seed=7)
    assert f.kinds == xlsx.kinds
    assert f.rows == xlsx.rows
    if fmt == "csv-utf8":
        assert f.data.startswith(b"\xef\xbb\xbf")
    lines = f.data.decode(encoding).split("\r\n")
    assert lines[0] == "祥和社区常住人口登记表,,,,,,,,"
    table = read_table(f.data, "登记表.csv")
    assert table.header[0] == "祥和社区常住人口登记表"
    by_number = {r.number: r for r in table.rows}
    assert by_number[f.totals_row].cells[:2] == ["合计", "400人"]
    for n in f.spreadsheet_numbers:
        assert re.fullmatch(r"4\.\d{1,5}E\+17", by_number[n].get(ID))
    for n in f.kinds["birth.date_cell"]:
        born = f.rows[n].birth_date
        assert by_number[n].get(BIRTH) == f"{born.year}/{born.month}/{born.day}"
    for n in f.kinds["birth.serial"]:
        assert by_number[n].get(BIRTH) == str((f.rows[n].birth_date - date(1899, 12, 30)).days)
    for n in f.kinds["phone.number"]:
        assert by_number[n].get(PHONE) == f.rows[n].phone


def test_refuses_unknown_format_and_negative_mess():
    with pytest.raises(ValueError):
        messy_workbook(PEOPLE[:1], fmt="ods")
    with pytest.raises(ValueError):
        messy_workbook(PEOPLE[:1], mess=-0.1)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32), mess=st.floats(0, 3), fmt=st.sampled_from(["xlsx", "csv"]))
def test_every_row_reads_back_to_its_person(seed, mess, fmt):
    people = PEOPLE[:25]
    f = messy_workbook(people, seed=seed, mess=mess, fmt=fmt)
    table = read_table(f.data, f"t.{fmt}")
    by_number = {r.number: r for r in table.rows}
    assert [f.rows[n] for n in sorted(f.rows)] == people
    assert by_number[f.totals_row].cells[0] == "合计"
    for n, person in f.rows.items():
        row = by_number[n]
        assert re.sub(r"\s", "", row.get(NAME)) == person.name
        if n in f.spreadsheet_numbers:
            continue
        assert citizen_id.parse(row.get(ID)).number == person.id_number
