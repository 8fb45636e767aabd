"""`read_table(..., header_synonyms=...)`: the header found below a title, two-row headers, totals rows."""

import io

import pytest
import xlsxwriter

from hearth.core.errors import DomainError
from hearth.core.spreadsheet import HEADER_SEARCH_ROWS, Row, map_headers, read_table

SYNONYMS = {
    "name": ["姓名", "名字"],
    "id_number": ["公民身份号码", "身份证号", "身份证号码"],
    "sex": ["性别"],
    "birth_date": ["出生日期", "出生年月"],
    "hukou": ["户籍地", "户籍所在地"],
    "phone": ["联系电话", "电话", "手机"],
    "address": ["现住址", "居住地址"],
    "notes": ["备注"],
}

ID1 = "410103197503020012"
ID2 = "410103198010100021"


def workbook(build) -> bytes:
    """An xlsx written by `build(book, sheet)`, as communities' files are: merged titles and headers."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("登记表")
    build(book, sheet)
    book.close()
    return out.getvalue()


def rows_of(table) -> list[tuple[int, list[str]]]:
    return [(r.number, r.cells) for r in table.rows]


# ------------------------------------------------------------------------------------ title and preamble


def _register_with_title(book, sheet) -> None:
    sheet.merge_range("A1:G1", "二七区流动人口登记表")
    sheet.merge_range("A2:G2", "填报单位：祥和社区  填报日期：2026年3月")
    # Row 3 left blank, as people leave a gap before the table.
    sheet.write_row(3, 0, ["序号", "姓　名", " 身份证号 ", "性别", "出生年月", "联系电话", "备注（选填）"])
    sheet.write_row(4, 0, [1, "张三", ID1, "男", 1975.03, 13800000000])
    sheet.write_row(6, 0, [2, "李 四", ID2, "女", "1980.10", "0371-6666", "租户"])
    sheet.write_row(7, 0, ["合 计", "2人"])


def test_title_and_report_rows_above_the_header_are_the_preamble():
    table = read_table(workbook(_register_with_title), "登记表.xlsx", header_synonyms=SYNONYMS)
    assert table.preamble == [
        Row(number=1, cells=["二七区流动人口登记表"]),
        Row(number=2, cells=["填报单位：祥和社区  填报日期：2026年3月"]),
    ]
    assert table.header_number == 4
    assert table.header == ["序号", "姓名", "身份证号", "性别", "出生年月", "联系电话", "备注(选填)"]
    assert table.header_cells == [
        "序号",
        "姓　名",
        "身份证号",
        "性别",
        "出生年月",
        "联系电话",
        "备注（选填）",
    ]
    # Numbers stored as numbers come back as text; the blank row 6 is gone; numbering is the sheet's.
    assert rows_of(table) == [
        (5, ["1", "张三", ID1, "男", "1975.03", "13800000000"]),
        (7, ["2", "李 四", ID2, "女", "1980.10", "0371-6666", "租户"]),
    ]
    assert table.skipped == [(8, "合计行")]
    assert map_headers(table.header, SYNONYMS, required=["name", "id_number"]) == {
        "name": 1,
        "id_number": 2,
        "sex": 3,
        "birth_date": 4,
        "phone": 5,
        "notes": 6,
    }


def test_without_synonyms_the_first_row_is_still_the_header():
    table = read_table(workbook(_register_with_title), "登记表.xlsx")
    assert table.header == ["二七区流动人口登记表"]
    assert table.header_cells == ["二七区流动人口登记表"]
    assert table.header_number == 1
    assert table.preamble == [] and table.skipped == []
    assert [r.number for r in table.rows] == [2, 4, 5, 7, 8]
    assert table.rows[-1].cells == ["合 计", "2人"]


def test_csv_with_title_report_row_full_width_headers_and_totals():
    text = (
        "二七区流动人口登记表,,,,\r\n"
        "填报单位：祥和社区,,填报日期：2026年3月,,\r\n"
        ",,,,\r\n"
        "姓　名,公民身份号码（必填）,性 别,现住址,ＢＺ\r\n"
        "王五,410103199001010015,男,3-2-501,\r\n"
        "小计,1,,,\r\n"
        ",,,,\r\n"
        "赵六,410103199202020026,女,3号楼2单元502,\r\n"
        ",总 计,2,,\r\n"
    )
    table = read_table(text.encode("gbk"), "登记表.csv", header_synonyms=SYNONYMS)
    assert table.format == "csv"
    assert [(r.number, r.cells) for r in table.preamble] == [
        (1, ["二七区流动人口登记表"]),
        (2, ["填报单位：祥和社区", "", "填报日期：2026年3月"]),
    ]
    assert table.header_number == 4
    assert table.header == ["姓名", "公民身份号码(必填)", "性别", "现住址", "BZ"]
    assert table.header_cells == ["姓　名", "公民身份号码（必填）", "性 别", "现住址", "ＢＺ"]
    assert rows_of(table) == [
        (5, ["王五", "410103199001010015", "男", "3-2-501"]),
        (8, ["赵六", "410103199202020026", "女", "3号楼2单元502"]),
    ]
    # The first non-blank cell decides, even when the first column is empty.
    assert table.skipped == [(6, "合计行"), (9, "合计行")]


def test_a_row_named_like_a_total_further_right_is_data():
    text = "姓名,身份证号,备注\n合计,410103199001010015,\n张三,410103197503020012,合计2人\n"
    table = read_table(text.encode(), "a.csv", header_synonyms=SYNONYMS)
    # A first cell starting 合计 is a totals row even if it carries more; a 合计 in a later cell is data.
    assert table.skipped == [(2, "合计行")]
    assert rows_of(table) == [(3, ["张三", "410103197503020012", "合计2人"])]


def test_the_row_naming_most_fields_wins_and_ties_go_to_the_first():
    text = (
        "姓名说明,性别说明\n"  # names nothing
        "姓名,备注\n"  # two fields
        "姓名,身份证号,性别\n"  # three fields: the header
        "张三,410103197503020012,男\n"
        "姓名,身份证号,性别\n"  # a repeated header further down is a data row like any other
    )
    table = read_table(text.encode(), "a.csv", header_synonyms=SYNONYMS)
    assert table.header_number == 3
    assert [r.number for r in table.preamble] == [1, 2]
    assert [r.number for r in table.rows] == [4, 5]
    tie = read_table("姓名,备注\n姓名,性别\n张三,男\n".encode(), "a.csv", header_synonyms=SYNONYMS)
    assert tie.header_number == 1 and tie.header == ["姓名", "备注"]
    assert [r.number for r in tie.rows] == [2, 3]


def test_one_field_is_not_enough_and_the_first_row_is_the_header():
    # Only 姓名 is known: no row has two matches, so today's behaviour holds, without a two-row header.
    text = "花名册\n姓名,工号,部门\n,张三,1\n"
    table = read_table(text.encode(), "a.csv", header_synonyms=SYNONYMS)
    assert table.header == ["花名册"]
    assert table.header_number == 1
    assert table.preamble == []
    assert rows_of(table) == [(2, ["姓名", "工号", "部门"]), (3, ["", "张三", "1"])]


def test_header_is_looked_for_in_the_first_twenty_non_blank_rows_only():
    notes = "".join(f"说明第{i}行\n\n" for i in range(1, HEADER_SEARCH_ROWS))
    found = read_table((notes + "姓名,性别\n张三,男\n").encode(), "a.csv", header_synonyms=SYNONYMS)
    assert HEADER_SEARCH_ROWS == 20
    assert found.header == ["姓名", "性别"]
    assert found.header_number == 2 * HEADER_SEARCH_ROWS - 1
    assert len(found.preamble) == HEADER_SEARCH_ROWS - 1
    assert rows_of(found) == [(2 * HEADER_SEARCH_ROWS, ["张三", "男"])]
    too_deep = read_table(
        ("说明第0行\n" + notes + "姓名,性别\n张三,男\n").encode(), "a.csv", header_synonyms=SYNONYMS
    )
    assert too_deep.header == ["说明第0行"]
    assert too_deep.preamble == []
    assert len(too_deep.rows) == HEADER_SEARCH_ROWS + 1


# ---------------------------------------------------------------------------------- two-row headers


def _two_row_header(book, sheet) -> None:
    sheet.merge_range("A1:I1", "流动人口登记表")
    # Columns without sub-headers are merged down over both header rows; parents merged across.
    sheet.merge_range("A2:A3", "序号")
    sheet.merge_range("B2:B3", "姓名")
    sheet.merge_range("C2:C3", "身份证号")
    sheet.merge_range("D2:F2", "户籍地")
    sheet.merge_range("G2:H2", "联系方式")
    sheet.merge_range("I2:I3", "出生日期")
    sheet.write_row(2, 3, ["省", "市", "县（区）", "手机", "固定电话"])
    sheet.write_row(
        3, 0, [1, "张三", ID1, "河南省", "郑州市", "二七区", 13800000000, "0371-6666", "1975-03-02"]
    )
    sheet.write_row(4, 0, [2, "李四", ID2, "河南省", "开封市", "", "", "", "1980-10-10"])
    sheet.write_row(5, 0, ["总计", 2])


def test_two_row_header_with_merged_parents_is_combined():
    table = read_table(workbook(_two_row_header), "a.xlsx", header_synonyms=SYNONYMS)
    assert table.preamble == [Row(number=1, cells=["流动人口登记表"])]
    assert table.header_number == 2
    # A sub-header the synonyms know stands alone (手机); the others are prefixed with their parent.
    assert table.header_cells == [
        "序号",
        "姓名",
        "身份证号",
        "户籍地省",
        "户籍地市",
        "户籍地县（区）",
        "手机",
        "联系方式固定电话",
        "出生日期",
    ]
    assert table.header[5] == "户籍地县(区)"
    assert rows_of(table) == [
        (4, ["1", "张三", ID1, "河南省", "郑州市", "二七区", "13800000000", "0371-6666", "1975-03-02"]),
        (5, ["2", "李四", ID2, "河南省", "开封市", "", "", "", "1980-10-10"]),
    ]
    assert table.skipped == [(6, "合计行")]
    assert map_headers(table.header, SYNONYMS, required=["name"]) == {
        "name": 1,
        "id_number": 2,
        "phone": 6,
        "birth_date": 8,
    }


def test_two_row_header_in_a_csv_file():
    text = "姓名,身份证号,户籍地,,\n,,省,市,\n张三,410103197503020012,河南省,郑州市,\n"
    table = read_table(text.encode(), "a.csv", header_synonyms=SYNONYMS)
    assert table.header == ["姓名", "身份证号", "户籍地省", "户籍地市"]
    assert rows_of(table) == [(3, ["张三", "410103197503020012", "河南省", "郑州市"])]


def test_sub_header_under_a_blank_leading_column_keeps_its_own_text():
    # The header row's first cell is empty (序号 written only in the lower row).
    text = ",姓名,性别\n序号,,\n1,张三,男\n"
    table = read_table(text.encode(), "a.csv", header_synonyms=SYNONYMS)
    assert table.header == ["序号", "姓名", "性别"]
    assert rows_of(table) == [(3, ["1", "张三", "男"])]


def test_a_data_row_is_never_taken_for_a_sub_header():
    # The first data row has values under ordinary columns, and one beyond the header (no header text).
    text = "姓名,身份证号,户籍地,\n张三,410103197503020012,河南省,多写的一格\n"
    table = read_table(text.encode(), "a.csv", header_synonyms=SYNONYMS)
    assert table.header == ["姓名", "身份证号", "户籍地"]
    assert rows_of(table) == [(2, ["张三", "410103197503020012", "河南省", "多写的一格"])]


def test_a_parent_merged_over_nothing_stays_as_it_is():
    def build(book, sheet):
        sheet.write_row(0, 0, ["姓名", "身份证号"])
        sheet.merge_range("C1:D1", "出生日期")
        sheet.write_row(1, 0, ["张三", ID1, "1975-03-02", "备注"])

    table = read_table(workbook(build), "a.xlsx", header_synonyms=SYNONYMS)
    assert table.header == ["姓名", "身份证号", "出生日期"]
    assert rows_of(table) == [(2, ["张三", ID1, "1975-03-02", "备注"])]


def test_a_sub_header_must_be_the_very_next_row():
    text = "姓名,身份证号,户籍地,\n\n,,省,市\n"
    table = read_table(text.encode(), "a.csv", header_synonyms=SYNONYMS)
    assert table.header == ["姓名", "身份证号", "户籍地"]
    assert rows_of(table) == [(3, ["", "", "省", "市"])]


# ------------------------------------------------------------------------------------------- limits


def test_limits_still_apply_and_totals_do_not_count_as_rows():
    text = "标题\n姓名,性别\n" + "张三,男\n" * 3 + "合计,3\n"
    table = read_table(text.encode(), "a.csv", header_synonyms=SYNONYMS, max_rows=3)
    assert len(table.rows) == 3 and table.skipped == [(6, "合计行")]
    with pytest.raises(DomainError) as exc:
        read_table(text.encode(), "a.csv", header_synonyms=SYNONYMS, max_rows=2)
    assert exc.value.code == "spreadsheet.too_many_rows"
    with pytest.raises(DomainError) as exc:
        read_table("标题\n姓名,性别,a,b\n".encode(), "a.csv", header_synonyms=SYNONYMS, max_columns=3)
    assert exc.value.code == "spreadsheet.too_many_columns"
    with pytest.raises(DomainError) as exc:
        read_table(b"\n,,\n", "a.csv", header_synonyms=SYNONYMS)
    assert exc.value.code == "spreadsheet.no_header"


def test_header_alone_has_no_rows():
    table = read_table("说明\n姓名,性别\n".encode(), "a.csv", header_synonyms=SYNONYMS)
    assert table.header == ["姓名", "性别"] and table.rows == [] and table.skipped == []
