import csv
import datetime as dt
import io
import os
import re
import struct
import zipfile

import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st

from hearth.core import spreadsheet
from hearth.core.errors import DomainError
from hearth.core.spreadsheet import map_headers, normalize_header, read_table


def xlsx(rows_by_sheet: dict[str, dict[tuple[int, int], object]]) -> bytes:
    """A workbook; each sheet is {(row, col): value} with 0-based coordinates."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, cells in rows_by_sheet.items():
        sheet = book.add_worksheet(name)
        for (r, c), value in cells.items():
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c, value, date_format)
            else:
                sheet.write(r, c, value)
    book.close()
    return out.getvalue()


def grid(rows: list[list[object]], top: int = 0) -> dict[tuple[int, int], object]:
    return {(top + r, c): v for r, row in enumerate(rows) for c, v in enumerate(row) if v is not None}


def code_of(*args, **kwargs) -> str:
    with pytest.raises(DomainError) as exc:
        read_table(*args, **kwargs)
    return exc.value.code


def rezip(data: bytes, change) -> bytes:
    """Rewrite a zip entry by entry: change(name, content) -> content."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, change(info.filename, src.read(info.filename)))
    return out.getvalue()


@pytest.fixture
def no_calamine(monkeypatch):
    """A hostile file must be refused before calamine opens it (calamine would abort the process)."""

    def refuse(*args, **kwargs):
        raise AssertionError("calamine opened a file the checks should have refused")

    monkeypatch.setattr(spreadsheet, "_read_workbook", refuse)


# ------------------------------------------------------------------------------------------ xlsx


def test_xlsx_first_sheet_header_numbers_dates_and_row_numbers():
    data = xlsx(
        {
            "地区": grid(
                [
                    ["姓　名", " 代码 ", "日期", "数"],
                    ["张三", 410103001001, dt.date(2024, 1, 2), 3.0],
                    [None, None, None, None],
                    ["李四", "007", None, 2.5],
                    ["   ", None, None, None],
                ],
                top=2,
            ),
            "other": {(0, 0): "不读"},
        }
    )
    table = read_table(data, "a.xlsx")
    assert table.format == "xlsx"
    assert table.header == ["姓名", "代码", "日期", "数"]
    assert table.header_number == 3
    assert [(r.number, r.cells) for r in table.rows] == [
        (4, ["张三", "410103001001", "2024-01-02", "3"]),
        (6, ["李四", "007", "", "2.5"]),
    ]
    assert table.rows[1].get(2) == "" and table.rows[1].get(99) == "" and table.rows[1].get(None) == ""


def test_xlsx_from_a_path(tmp_path):
    path = tmp_path / "upload.xlsx"
    path.write_bytes(xlsx({"s": grid([["名称"], ["一号楼"]])}))
    table = read_table(path)
    assert table.rows[0].cells == ["一号楼"]


def test_xlsx_without_cell_references_is_scanned_exactly_and_read():
    data = rezip(
        xlsx({"s": grid([["名称", "代码"], ["甲", "1"], ["乙", "2"]])}),
        lambda name, body: re.sub(rb'(<c) r="[A-Z]+[0-9]+"', rb"\1", body) if "worksheets" in name else body,
    )
    assert b' r="A1"' not in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    table = read_table(data, "a.xlsx")
    assert [r.cells for r in table.rows] == [["甲", "1"], ["乙", "2"]]


# -------------------------------------------------------------------------------------------- csv


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings(encoding):
    text = "上级,类型,名称\r\n祥和社区,楼院,3号楼\r\n"
    table = read_table(text.encode(encoding), "a.csv")
    assert table.header == ["上级", "类型", "名称"]
    assert table.rows[0].cells == ["祥和社区", "楼院", "3号楼"]


def test_csv_gb18030_only_character():
    # 𠀀 is outside GBK, inside GB18030 (four bytes).
    table = read_table("名称\n𠀀村\n".encode("gb18030"), "a.csv")
    assert table.rows[0].cells == ["𠀀村"]


def test_tab_separated_unicode_text_from_excel():
    table = read_table("名称\t门牌\n甲\t501室\n".encode("utf-16"), "a.txt")
    assert table.rows[0].cells == ["甲", "501室"]


def test_csv_blank_rows_spaces_and_record_numbers():
    text = '\n\n 姓 名 ,联系　电话,ＩＤ\u200b\n\n"多\n行",  13800000000  ,\n,,\n　,\t,\n乙,,\n'
    table = read_table(text.encode("utf-8"), "a.csv")
    assert table.header == ["姓名", "联系电话", "ID"]
    assert table.header_number == 3
    # Record numbers, as Excel numbers the rows when it opens the file (a quoted newline stays in its cell).
    assert [(r.number, r.cells) for r in table.rows] == [(5, ["多\n行", "13800000000"]), (8, ["乙"])]


def test_text_extension_with_zip_content_is_read_as_a_workbook():
    table = read_table(xlsx({"s": grid([["名称"], ["甲"]])}), "renamed.csv")
    assert table.format == "xlsx"


# ------------------------------------------------------------------------------------ refusals


def test_refusals_for_unreadable_files():
    assert code_of(b"", "a.csv") == "spreadsheet.empty"
    assert code_of(b"\n\n,,\n", "a.csv") == "spreadsheet.no_header"
    assert code_of("名称\n甲\n".encode(), "a.xlsx") == "spreadsheet.format"
    assert code_of(b"\xff\xfe\x00\x00" + os.urandom(64) + b"\x00", "a.csv") == "spreadsheet.encoding"
    assert code_of(b"\x81\x00\x82\x00", "a.csv") == "spreadsheet.encoding"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("readme.txt", "not a workbook")
    assert code_of(out.getvalue(), "a.xlsx") == "spreadsheet.format"
    broken = xlsx({"s": grid([["名称"], ["甲"]])})[:-200]
    assert code_of(broken, "a.xlsx") == "spreadsheet.format"
    assert code_of('名称\n"甲\n'.encode() + b"x" * 200_000, "a.csv") == "spreadsheet.csv"


def test_limits_on_size_rows_and_columns(tmp_path):
    body = ("名称\n" + "甲\n" * 10).encode()
    assert code_of(body, "a.csv", max_bytes=len(body) - 1) == "spreadsheet.too_large"
    path = tmp_path / "a.csv"
    path.write_bytes(body)
    assert code_of(path, max_bytes=10) == "spreadsheet.too_large"
    assert len(read_table(body, "a.csv", max_rows=10).rows) == 10
    assert code_of(body, "a.csv", max_rows=9) == "spreadsheet.too_many_rows"
    wide = (",".join(f"c{i}" for i in range(6)) + "\n").encode()
    assert code_of(wide, "a.csv", max_columns=5) == "spreadsheet.too_many_columns"
    assert code_of(("a,b\n" * 20).encode(), "a.csv", max_cells=30) == "spreadsheet.too_many_cells"
    data = xlsx({"s": grid([["名称"]] + [["甲"]] * 10)})
    assert code_of(data, "a.xlsx", max_rows=9) == "spreadsheet.too_many_rows"


def test_default_limits_are_sane():
    assert spreadsheet.MAX_BYTES == 20 * 1024 * 1024
    assert spreadsheet.MAX_ROWS == 200_000


# ----------------------------------------------------------------------------- hostile workbooks


def _bomb(size: int = 30 * 1024 * 1024) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * size)
    return out.getvalue()


def test_zip_bomb_by_declared_ratio(no_calamine):
    data = _bomb()
    assert len(data) < 100_000
    assert code_of(data, "bomb.xlsx") == "spreadsheet.zip_bomb"


def test_zip_bomb_with_forged_sizes(no_calamine):
    """Headers claiming 1 KB for 30 MB of zeros: the real stream is measured, not the claim."""
    data = bytearray(_bomb())
    name = b"xl/worksheets/sheet1.xml"
    for sig, size_at, name_len_at, header in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        pos = 0
        while (pos := data.find(sig, pos)) != -1:
            (n,) = struct.unpack("<H", data[pos + name_len_at : pos + name_len_at + 2])
            if bytes(data[pos + header : pos + header + n]) == name:
                data[pos + size_at : pos + size_at + 4] = struct.pack("<I", 1024)
            pos += 4
    infos = {i.filename: i for i in zipfile.ZipFile(io.BytesIO(bytes(data))).infolist()}
    assert infos["xl/worksheets/sheet1.xml"].file_size == 1024
    assert code_of(bytes(data), "bomb.xlsx") == "spreadsheet.zip_bomb"


def test_absolute_uncompressed_limit(monkeypatch, no_calamine):
    monkeypatch.setattr(spreadsheet, "MAX_UNZIPPED", 1024 * 1024)
    monkeypatch.setattr(spreadsheet, "MAX_ZIP_RATIO", 10**9)
    assert code_of(_bomb(2 * 1024 * 1024), "bomb.xlsx") == "spreadsheet.zip_bomb"


def test_sparse_grid_is_refused_before_calamine(no_calamine):
    # Two cells, 5 KB: calamine would ask for 16384 × 1048576 cells and abort the process.
    data = xlsx({"s": {(0, 0): "名称", (1_048_575, 16_383): "x"}})
    assert code_of(data, "sparse.xlsx") == "spreadsheet.grid"
    data = xlsx({"s": {(0, 0): "名称", (150_000, 60): "x"}})
    assert code_of(data, "tall.xlsx") == "spreadsheet.grid"


def test_sparse_grid_hidden_from_the_fast_scan_is_found_by_the_exact_one(no_calamine):
    def hide(name, body):
        if "worksheets" not in name:
            return body
        # `r` not first, a decoy `r` inside another attribute's value and a `>` in a value.
        return body.replace(b'<c r="XFD1048576"', b'<c foo=\'x r="A1" >\' r="XFD1048576"')

    data = rezip(xlsx({"s": {(0, 0): "名称", (1_048_575, 16_383): "x"}}), hide)
    assert b"foo=" in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert code_of(data, "sparse.xlsx") == "spreadsheet.grid"


def test_row_reference_moves_cells_without_references(no_calamine):
    def strip_refs(name, body):
        if "worksheets" not in name:
            return body
        body = re.sub(rb'(<c) r="[A-Z]+[0-9]+"', rb"\1", body)
        return body.replace(b'<row r="2"', b'<row r="1048576"')

    data = rezip(xlsx({"s": grid([["名称"] * 30, ["x"] * 30])}), strip_refs)
    assert code_of(data, "moved.xlsx") == "spreadsheet.grid"


def _ods(body: str) -> bytes:
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content'
        ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="S">{body}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest'
        ' xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/"'
        ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        z.writestr("META-INF/manifest.xml", manifest)
        z.writestr("content.xml", content)
    return out.getvalue()


def _cell(text: str, repeat: int = 1) -> str:
    extra = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    return f'<table:table-cell office:value-type="string"{extra}><text:p>{text}</text:p></table:table-cell>'


def test_ods_with_libreoffice_trailing_repeats_is_read():
    data = _ods(
        f"<table:table-row>{_cell('名称')}{_cell('代码')}</table:table-row>"
        f'<table:table-row>{_cell("甲")}<table:table-cell office:value-type="float" office:value="3"/>'
        "</table:table-row>"
        '<table:table-row table:number-rows-repeated="1048574">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    )
    table = read_table(data, "a.ods")
    assert table.format == "ods"
    assert [r.cells for r in table.rows] == [["甲", "3"]]


def test_ods_repeated_content_is_refused(no_calamine):
    data = _ods(f'<table:table-row table:number-rows-repeated="200000">{_cell("x", 300)}</table:table-row>')
    assert len(data) < 2000
    assert code_of(data, "bomb.ods") == "spreadsheet.grid"


# ------------------------------------------------------------------------------------------ headers

SYNONYMS = {"parent": ["上级", "上级地区"], "kind": ["类型"], "name": ["名称"], "code": ["代码", "区划代码"]}


def test_map_headers_synonyms_notes_and_optional_columns():
    header = ["名称", "上级地区", "备注", "类型（必填）", "区划代码*"]
    assert map_headers(header, SYNONYMS) == {"name": 0, "parent": 1, "kind": 3, "code": 4}
    assert map_headers(["名称", "上级", "类型"], SYNONYMS, required=["parent", "kind", "name"]) == {
        "name": 0,
        "parent": 1,
        "kind": 2,
    }


def test_map_headers_names_missing_and_duplicate_columns():
    with pytest.raises(DomainError) as exc:
        map_headers(["名称", "备注"], SYNONYMS, required=["parent", "kind", "name"])
    assert exc.value.code == "spreadsheet.missing_columns"
    assert "上级" in str(exc.value.message) and "类型" in str(exc.value.message)
    assert "代码" not in str(exc.value.message)
    with pytest.raises(DomainError) as exc:
        map_headers(["上级", "上级地区", "类型", "名称"], SYNONYMS, required=["parent"])
    assert exc.value.code == "spreadsheet.duplicate_column"


# --------------------------------------------------------------------------------------- properties

_cell_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Co", "Cn", "Zs", "Zl", "Zp"))
    | st.sampled_from([" ", ",", '"', "\n", "　"]),
    max_size=12,
)
_header = st.lists(
    st.text(alphabet="上级类型名称代码地区门牌", min_size=1, max_size=4), min_size=1, max_size=5, unique=True
)


@settings(max_examples=150, deadline=None)
@given(
    _header, st.lists(st.lists(_cell_text, max_size=6), max_size=8), st.sampled_from(["utf-8", "utf-8-sig"])
)
def test_csv_round_trips_text_cells(header, rows, encoding):
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    table = read_table(out.getvalue().encode(encoding), "a.csv")
    assert table.header == header
    expected = []
    for number, row in enumerate(rows, start=2):
        cells = [c.strip() for c in row]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            expected.append((number, cells))
    assert [(r.number, r.cells) for r in table.rows] == expected


@given(st.integers(min_value=-(2**53), max_value=2**53))
def test_whole_floats_read_as_integers(n):
    assert spreadsheet.cell_text(float(n)) == str(n)


@given(
    st.text(alphabet="姓名联系电话ＡＢ12", min_size=1, max_size=6),
    st.lists(st.sampled_from([" ", "　", "\t"])),
)
def test_header_spaces_never_matter(word, spaces):
    spaced = "".join(ch + (spaces[i] if i < len(spaces) else "") for i, ch in enumerate(word))
    assert normalize_header(spaced) == normalize_header(word)
    assert map_headers([f" {spaced} "], {"f": [word]}) == {"f": 0}


# ------------------------------------------------------------------------------------------ staging


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def test_staging_belongs_to_its_owner(var_dir):
    token = spreadsheet.stage_upload(b"abc", owner_id=7, meta={"kind": "places", "filename": "a.csv"})
    data, meta = spreadsheet.load_staged(token, owner_id=7)
    assert data == b"abc" and meta["kind"] == "places"
    assert oct((var_dir / "uploads" / f"{token}.bin").stat().st_mode & 0o777) == "0o600"
    spreadsheet.update_staged(token, owner_id=7, meta={"errors": [[2, "x"]]})
    assert spreadsheet.load_staged(token, owner_id=7)[1]["errors"] == [[2, "x"]]
    for bad_owner, bad_token in ((8, token), (7, "../../etc/passwd"), (7, "x" * 43)):
        with pytest.raises(DomainError) as exc:
            spreadsheet.load_staged(bad_token, owner_id=bad_owner)
        assert exc.value.code == "upload.missing"
    spreadsheet.discard_staged(token)
    with pytest.raises(DomainError):
        spreadsheet.load_staged(token, owner_id=7)
    assert list((var_dir / "uploads").iterdir()) == []


def test_staged_files_expire_and_are_swept(var_dir, monkeypatch):
    old = spreadsheet.stage_upload(b"old", owner_id=1, meta={})
    later = spreadsheet.time.time() + spreadsheet.STAGE_MAX_AGE + 60
    monkeypatch.setattr(spreadsheet.time, "time", lambda: later)
    with pytest.raises(DomainError):
        spreadsheet.load_staged(old, owner_id=1)
    spreadsheet.stage_upload(b"new", owner_id=1, meta={})
    assert not (var_dir / "uploads" / f"{old}.bin").exists()


def test_an_id_typed_into_a_number_cell_reads_as_excel_shows_it():
    # 410103199001011234 as a float has already lost its last digits; never pass it on as a number.
    assert spreadsheet.cell_text(410103199001011234.0) == "4.10103E+17"
