"""The reader's fast paths give exactly what the plain definitions give: cells (`cell_text`), totals rows
(`normalize_header`) and the worksheet grid (the exact tag-by-tag scan)."""

import datetime as dt
import io

import pytest
import xlsxwriter
from hypothesis import example, given
from hypothesis import strategies as st

from hearth.core import spreadsheet
from hearth.core.errors import DomainError
from hearth.core.spreadsheet import Row, cell_text, normalize_header, read_table

# Zero-width marks and spaces around text, the cases `_clean` strips in more than one pass.
_MARKS = ["\u200b", "\ufeff", " ", "\u3000", "\t", "\u00a0", "\u2060", "\u200c"]
texts = st.lists(st.sampled_from([*_MARKS, "张", "三", "合计", "a"]), max_size=6).map("".join) | st.text(
    max_size=8
)
cell_values = st.one_of(
    texts,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([410103199001011234.0, 15783643440.0, 2.0**53, 2.0**53 + 2, -(2.0**60), 1.5, 0.0]),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.timedeltas(),
)


@given(st.lists(cell_values, max_size=12))
@example(
    ["\u200b \u200bA", " 甲 ", 1.0]
)  # `_clean` is not idempotent here: it must run once, on the raw text
@example(["\ufeff姓名", "", None, True, 410103199001011234.0, dt.date(1975, 3, 2)])
def test_row_text_is_cell_text_of_every_cell(raw):
    assert spreadsheet._row_text(raw) == [cell_text(v) for v in raw]


def test_each_kind_of_cell_reads_as_before_through_a_workbook():
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    clock = book.add_format({"num_format": "hh:mm"})
    header = ["文本", "零宽", "整数", "小数", "大数", "布尔", "日期", "时间戳", "午夜", "钟点", "空", "尾"]
    for col, text in enumerate(header):
        sheet.write_string(0, col, text)
    sheet.write_string(1, 0, "  张三\u3000")
    sheet.write_string(1, 1, "\u200b 李四 \ufeff")
    sheet.write_number(1, 2, 410103)
    sheet.write_number(1, 3, 1.25)
    sheet.write_number(1, 4, 410103199001011234)
    sheet.write_boolean(1, 5, True)
    sheet.write_datetime(1, 6, dt.date(1975, 3, 2), day)
    sheet.write_datetime(1, 7, dt.datetime(2026, 3, 1, 14, 30), stamp)
    sheet.write_datetime(1, 8, dt.datetime(2026, 3, 1), stamp)
    sheet.write_number(1, 9, 0.5, clock)
    sheet.write_string(1, 11, "x")
    sheet.write_string(2, 0, "\u200b\u200b")  # only zero-width marks: a blank row
    sheet.write_string(3, 0, "王五")
    sheet.write_string(3, 3, " ")  # trailing space-only cells are trimmed
    book.close()

    table = read_table(out.getvalue(), "kinds.xlsx")
    assert [(r.number, r.cells) for r in table.rows] == [
        (
            2,
            [
                "张三",
                "李四",
                "410103",
                "1.25",
                "4.10103E+17",
                "TRUE",
                "1975-03-02",
                "2026-03-01 14:30:00",
                "2026-03-01",
                "12:00:00",
                "",
                "x",
            ],
        ),
        (4, ["王五"]),
    ]


def test_zero_width_marks_in_csv_are_cleaned_as_before():
    data = "名称,代码\n\u200b 甲 \u200b, \ufeff1\n丙,\u200b\n".encode()
    assert [r.cells for r in read_table(data, "a.csv").rows] == [["甲", "1"], ["丙"]]


@given(texts)
@example("合计")
@example("合 计")
@example("⼩计")  # KANGXI RADICAL SMALL: NFKC makes it 小
@example("\u2060合计")  # a format mark before it, removed by normalize_header
@example("總計")  # traditional: not 总计 after NFKC
@example("e\u0301")
def test_totals_shortcut_agrees_with_normalize_header(text):
    row = Row(number=9, cells=["", text, "2人"])
    first = text or "2人"
    assert spreadsheet._is_totals(row) == normalize_header(first).startswith(spreadsheet._TOTALS)


def test_totals_rows_behind_odd_characters_are_still_skipped():
    rows = "姓名,公民身份号码\n张三,1\n⼩计,1人\n\u2060合计,2人\n總計,3人\n"
    table = read_table(rows.encode(), "a.csv", header_synonyms={"name": ["姓名"], "id": ["公民身份号码"]})
    assert [r.cells[0] for r in table.rows] == ["张三", "總計"]
    assert [number for number, _ in table.skipped] == [3, 4]


# ---------------------------------------------------------------------------------------- grid scan


def _fast(buf: bytes, max_columns: int = 200, max_cells: int = 5_000_000):
    grid = spreadsheet._XlsxGrid(max_columns, max_cells)
    grid._fast(buf)
    return grid.height, grid.width


def _exact(buf: bytes, max_columns: int = 200, max_cells: int = 5_000_000):
    grid = spreadsheet._XlsxGrid(max_columns, max_cells, exact=True)
    grid._exact(buf)
    return grid.height, grid.width


def test_fast_scan_counts_openings_once_cells_are_all_referenced():
    cells = b'<row r="1"><c r="A1"/><c r="c7" s="1"><v>1</v></c></row><row r="70000"><c r="B70000"/></row>'
    assert _fast(cells) == (70000, 3)
    # `<cols>`, `<col>` and `<cfRule>` also start with `<c` but open no cell: still the fast scan.
    assert _fast(b'<cols><col min="1" max="3"/></cols><cfRule type="x"/>' + cells) == (70000, 3)
    for opening in (b"<c>", b"<c/>", b'<c\tr="A2"/>', b'<c s="1" r="A2"/>', b'<c r="A012345678"/>'):
        with pytest.raises(spreadsheet._SlowScan):
            _fast(b'<cols><col min="1"/></cols>' + cells + opening)
        with pytest.raises(spreadsheet._SlowScan):
            _fast(cells + opening)


def test_fast_scan_takes_the_largest_column_and_row_of_any_case_and_order():
    assert _fast(b'<c r="zz3"/><c r="A1048576"/><c r="Ab09"/>', 16384, 10**12) == (1048576, 702)
    with pytest.raises(DomainError) as exc:
        _fast(b'<c r="A1"/><c r="B3000000"/>')  # 2 × 3,000,000 cells
    assert exc.value.code == "spreadsheet.grid"


_TAGS = [
    b'<c r="A1"/>',
    b'<c r="C3" t="s"><v>0</v></c>',
    b'<c r="ab12"/>',
    b'<c r="Z0000009"/>',
    b'<c r="XFD1048576"/>',
    b'<c r="GR40"/>',
    b'<c r="A01"/>',
    b"<c/>",
    b"<c><v>1</v></c>",
    b'<c s="2" r="B5"/>',
    b'<c r="ABCD1"/>',
    b'<row r="5">',
    b"<row>",
    b"</row>",
    b'<cols><col min="1" max="2"/></cols>',
    b'<cfRule type="expression"/>',
    b"<t>text</t>",
]


@given(
    st.lists(st.sampled_from(_TAGS), max_size=15),
    st.sampled_from([(200, 5_000_000), (3, 40), (16384, 10**13)]),
)
def test_fast_scan_agrees_with_the_exact_scan_whenever_it_answers(tags, limits):
    buf = b"".join(tags)

    def outcome(scan):
        try:
            return scan(buf, *limits)
        except DomainError as exc:
            return exc.code

    try:
        fast = outcome(_fast)
    except spreadsheet._SlowScan:
        assert any(t in buf for t in (b"<c/>", b"<c>", b'<c s="2"', b'<c r="ABCD1"'))
        return
    assert fast == outcome(_exact)
